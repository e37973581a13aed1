build-chk/obj/daemon/catalog.o: daemon/catalog.c daemon/catalog.h \
 daemon/config.h daemon/plan.h daemon/sql_params.h daemon/log.h
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/log.h:
