build-chk/obj/daemon/driver.o: daemon/driver.c daemon/driver.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/catalog.h daemon/config.h \
 daemon/plan.h daemon/sql_params.h daemon/log.h daemon/pg.h \
 daemon/throttle.h daemon/pacing.h
daemon/driver.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/log.h:
daemon/pg.h:
daemon/throttle.h:
daemon/pacing.h:
