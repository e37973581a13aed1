build-chk/obj/daemon/driver_schema.o: daemon/driver_schema.c \
 daemon/claim.h daemon/catalog.h daemon/config.h daemon/plan.h \
 daemon/sql_params.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/driver.h daemon/log.h \
 daemon/throttle.h daemon/pacing.h daemon/schema_apply.h
daemon/claim.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/driver.h:
daemon/log.h:
daemon/throttle.h:
daemon/pacing.h:
daemon/schema_apply.h:
