build-chk/obj/daemon/plan_step.o: daemon/plan_step.c daemon/plan_read.h \
 daemon/plan.h daemon/sql_params.h daemon/plan_order.h
daemon/plan_read.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/plan_order.h:
