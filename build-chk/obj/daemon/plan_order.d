build-chk/obj/daemon/plan_order.o: daemon/plan_order.c \
 daemon/plan_order.h daemon/plan.h daemon/sql_params.h daemon/plan_read.h
daemon/plan_order.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/plan_read.h:
