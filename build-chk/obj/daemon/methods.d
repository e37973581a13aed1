build-chk/obj/daemon/methods.o: daemon/methods.c daemon/methods.h \
 daemon/control.h proto/vl_message.h daemon/daemon.h daemon/config.h \
 daemon/jobs.h proto/vl_dispatch.h daemon/log.h daemon/rollback.h \
 daemon/overview.h daemon/audit.h daemon/backups.h daemon/rejects.h \
 daemon/catalog.h daemon/plan.h daemon/sql_params.h daemon/databases.h \
 daemon/scheduler.h daemon/schema_adopt.h daemon/schema_jobs.h \
 daemon/nss_cache.h daemon/schema_methods.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/schema_inspect.h \
 daemon/store.h daemon/validate.h daemon/dbcall.h \
 build-chk/gen/vl_names.h
daemon/methods.h:
daemon/control.h:
proto/vl_message.h:
daemon/daemon.h:
daemon/config.h:
daemon/jobs.h:
proto/vl_dispatch.h:
daemon/log.h:
daemon/rollback.h:
daemon/overview.h:
daemon/audit.h:
daemon/backups.h:
daemon/rejects.h:
daemon/catalog.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/databases.h:
daemon/scheduler.h:
daemon/schema_adopt.h:
daemon/schema_jobs.h:
daemon/nss_cache.h:
daemon/schema_methods.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/schema_inspect.h:
daemon/store.h:
daemon/validate.h:
daemon/dbcall.h:
build-chk/gen/vl_names.h:
