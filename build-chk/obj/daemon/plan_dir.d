build-chk/obj/daemon/plan_dir.o: daemon/plan_dir.c daemon/plan.h \
 daemon/sql_params.h daemon/plan_read.h
daemon/plan.h:
daemon/sql_params.h:
daemon/plan_read.h:
