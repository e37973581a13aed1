build-chk/obj/daemon/plan_value.o: daemon/plan_value.c daemon/plan_read.h \
 daemon/plan.h daemon/sql_params.h
daemon/plan_read.h:
daemon/plan.h:
daemon/sql_params.h:
