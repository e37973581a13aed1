build-chk/obj/daemon/schema_methods.o: daemon/schema_methods.c \
 daemon/schema_methods.h daemon/config.h daemon/control.h \
 proto/vl_message.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h proto/vl_dispatch.h \
 daemon/nss_cache.h daemon/daemon.h daemon/databases.h daemon/dbcall.h \
 daemon/log.h daemon/schema_files.h daemon/schema_history.h \
 daemon/schema_sqlite_call.h daemon/sqlite_worker.h \
 daemon/schema_sqlite_history.h daemon/store.h build-chk/gen/vl_names.h
daemon/schema_methods.h:
daemon/config.h:
daemon/control.h:
proto/vl_message.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
proto/vl_dispatch.h:
daemon/nss_cache.h:
daemon/daemon.h:
daemon/databases.h:
daemon/dbcall.h:
daemon/log.h:
daemon/schema_files.h:
daemon/schema_history.h:
daemon/schema_sqlite_call.h:
daemon/sqlite_worker.h:
daemon/schema_sqlite_history.h:
daemon/store.h:
build-chk/gen/vl_names.h:
