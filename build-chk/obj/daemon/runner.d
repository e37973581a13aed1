build-chk/obj/daemon/runner.o: daemon/runner.c daemon/runner.h \
 daemon/claim.h daemon/catalog.h daemon/config.h daemon/plan.h \
 daemon/sql_params.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/daemon.h daemon/driver.h \
 daemon/log.h daemon/throttle.h daemon/pacing.h daemon/jobrow.h \
 daemon/step.h
daemon/runner.h:
daemon/claim.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/daemon.h:
daemon/driver.h:
daemon/log.h:
daemon/throttle.h:
daemon/pacing.h:
daemon/jobrow.h:
daemon/step.h:
