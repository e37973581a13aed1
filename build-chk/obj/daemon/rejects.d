build-chk/obj/daemon/rejects.o: daemon/rejects.c daemon/rejects.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h daemon/daemon.h \
 daemon/config.h daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/params.h \
 build-chk/gen/vl_names.h
daemon/rejects.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/daemon.h:
daemon/config.h:
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pg.h:
daemon/params.h:
build-chk/gen/vl_names.h:
