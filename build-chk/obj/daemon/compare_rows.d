build-chk/obj/daemon/compare_rows.o: daemon/compare_rows.c \
 daemon/compare_rows.h daemon/plan.h daemon/sql_params.h
daemon/compare_rows.h:
daemon/plan.h:
daemon/sql_params.h:
