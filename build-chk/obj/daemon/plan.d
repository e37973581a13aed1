build-chk/obj/daemon/plan.o: daemon/plan.c daemon/plan.h \
 daemon/sql_params.h daemon/plan_order.h daemon/plan_read.h
daemon/plan.h:
daemon/sql_params.h:
daemon/plan_order.h:
daemon/plan_read.h:
