build-chk/obj/daemon/validate.o: daemon/validate.c daemon/validate.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h daemon/catalog.h \
 daemon/config.h daemon/plan.h daemon/sql_params.h daemon/checks.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/compare.h daemon/daemon.h \
 daemon/dbcall.h daemon/params.h daemon/store.h build-chk/gen/vl_names.h
daemon/validate.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/checks.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/compare.h:
daemon/daemon.h:
daemon/dbcall.h:
daemon/params.h:
daemon/store.h:
build-chk/gen/vl_names.h:
