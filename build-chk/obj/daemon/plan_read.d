build-chk/obj/daemon/plan_read.o: daemon/plan_read.c daemon/plan_read.h \
 daemon/plan.h daemon/sql_params.h daemon/inifile.h
daemon/plan_read.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/inifile.h:
