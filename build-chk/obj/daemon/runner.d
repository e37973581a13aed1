build-chk/obj/daemon/runner.o: daemon/runner.c daemon/runner.h \
 daemon/batch.h daemon/step.h daemon/config.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h daemon/catalog.h daemon/checks.h daemon/claim.h \
 daemon/jobrow.h daemon/clear.h daemon/compare.h daemon/control.h \
 proto/vl_message.h daemon/daemon.h daemon/schema_apply.h
daemon/runner.h:
daemon/batch.h:
daemon/step.h:
daemon/config.h:
daemon/log.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/catalog.h:
daemon/checks.h:
daemon/claim.h:
daemon/jobrow.h:
daemon/clear.h:
daemon/compare.h:
daemon/control.h:
proto/vl_message.h:
daemon/daemon.h:
daemon/schema_apply.h:
