build-chk/obj/daemon/backups.o: daemon/backups.c daemon/backups.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h daemon/daemon.h \
 daemon/config.h daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/log.h \
 daemon/params.h build-chk/gen/vl_names.h
daemon/backups.h:
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
daemon/log.h:
daemon/params.h:
build-chk/gen/vl_names.h:
