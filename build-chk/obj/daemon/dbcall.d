build-chk/obj/daemon/dbcall.o: daemon/dbcall.c daemon/dbcall.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/control.h \
 proto/vl_message.h daemon/pg.h daemon/daemon.h daemon/config.h \
 daemon/log.h daemon/store.h build-chk/gen/vl_names.h
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/control.h:
proto/vl_message.h:
daemon/pg.h:
daemon/daemon.h:
daemon/config.h:
daemon/log.h:
daemon/store.h:
build-chk/gen/vl_names.h:
