build-chk/obj/daemon/driver_plan.o: daemon/driver_plan.c daemon/batch.h \
 daemon/pacing.h daemon/step.h daemon/config.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h daemon/throttle.h daemon/catalog.h daemon/checks.h \
 daemon/claim.h daemon/clear.h daemon/compare.h daemon/control.h \
 proto/vl_message.h daemon/driver.h daemon/jobrow.h
daemon/batch.h:
daemon/pacing.h:
daemon/step.h:
daemon/config.h:
daemon/log.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/throttle.h:
daemon/catalog.h:
daemon/checks.h:
daemon/claim.h:
daemon/clear.h:
daemon/compare.h:
daemon/control.h:
proto/vl_message.h:
daemon/driver.h:
daemon/jobrow.h:
