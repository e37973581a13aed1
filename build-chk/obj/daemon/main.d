build-chk/obj/daemon/main.o: daemon/main.c daemon/audit.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h \
 daemon/audit_spool.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/config.h daemon/daemon.h \
 daemon/databases.h daemon/jobends.h daemon/log.h daemon/methods.h \
 daemon/metrics.h daemon/metrics_http.h daemon/notify.h daemon/overview.h \
 daemon/nss_cache.h daemon/catalog.h daemon/plan.h daemon/sql_params.h \
 daemon/schema_adopt.h daemon/schema_files.h daemon/schema_scratch.h \
 daemon/schema_sums.h daemon/scheduler.h daemon/store.h
daemon/audit.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/audit_spool.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/config.h:
daemon/daemon.h:
daemon/databases.h:
daemon/jobends.h:
daemon/log.h:
daemon/methods.h:
daemon/metrics.h:
daemon/metrics_http.h:
daemon/notify.h:
daemon/overview.h:
daemon/nss_cache.h:
daemon/catalog.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/schema_adopt.h:
daemon/schema_files.h:
daemon/schema_scratch.h:
daemon/schema_sums.h:
daemon/scheduler.h:
daemon/store.h:
