build-chk/obj/daemon/schema_jobs.o: daemon/schema_jobs.c \
 daemon/schema_jobs.h daemon/control.h proto/vl_message.h \
 proto/vl_dispatch.h daemon/nss_cache.h daemon/daemon.h daemon/config.h \
 daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/log.h \
 daemon/scheduler.h daemon/schema_files.h daemon/schema_history.h \
 daemon/schema_methods.h daemon/schema_sqlite_call.h \
 daemon/sqlite_worker.h build-chk/gen/vl_names.h
daemon/schema_jobs.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/nss_cache.h:
daemon/daemon.h:
daemon/config.h:
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pg.h:
daemon/log.h:
daemon/scheduler.h:
daemon/schema_files.h:
daemon/schema_history.h:
daemon/schema_methods.h:
daemon/schema_sqlite_call.h:
daemon/sqlite_worker.h:
build-chk/gen/vl_names.h:
