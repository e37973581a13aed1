build-chk/obj/daemon/submit.o: daemon/submit.c daemon/submit.h \
 daemon/plan.h daemon/sql_params.h
daemon/submit.h:
daemon/plan.h:
daemon/sql_params.h:
