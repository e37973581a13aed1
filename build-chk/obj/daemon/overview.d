build-chk/obj/daemon/overview.o: daemon/overview.c daemon/overview.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h daemon/catalog.h \
 daemon/config.h daemon/plan.h daemon/sql_params.h daemon/daemon.h \
 daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/log.h \
 daemon/rates.h daemon/scheduler.h daemon/store.h \
 build-chk/gen/vl_names.h
daemon/overview.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/daemon.h:
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pg.h:
daemon/log.h:
daemon/rates.h:
daemon/scheduler.h:
daemon/store.h:
build-chk/gen/vl_names.h:
