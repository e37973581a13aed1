build-chk/obj/daemon/schema_adopt.o: daemon/schema_adopt.c \
 daemon/nss_cache.h daemon/schema_adopt.h daemon/control.h \
 proto/vl_message.h proto/vl_dispatch.h daemon/config.h daemon/daemon.h \
 daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/log.h \
 daemon/schema_adopt_match.h daemon/schema_adopt_tools.h \
 daemon/schema_files.h daemon/schema_history.h \
 daemon/schema_sqlite_adopt.h daemon/schema_sqlite_call.h \
 daemon/sqlite_worker.h build-chk/gen/vl_names.h
daemon/nss_cache.h:
daemon/schema_adopt.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/config.h:
daemon/daemon.h:
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pg.h:
daemon/log.h:
daemon/schema_adopt_match.h:
daemon/schema_adopt_tools.h:
daemon/schema_files.h:
daemon/schema_history.h:
daemon/schema_sqlite_adopt.h:
daemon/schema_sqlite_call.h:
daemon/sqlite_worker.h:
build-chk/gen/vl_names.h:
