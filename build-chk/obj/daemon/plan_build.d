build-chk/obj/daemon/plan_build.o: daemon/plan_build.c daemon/plan_read.h \
 daemon/plan.h daemon/sql_params.h
daemon/plan_read.h:
daemon/plan.h:
daemon/sql_params.h:
