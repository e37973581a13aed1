build-chk/obj/daemon/batch.o: daemon/batch.c daemon/batch.h daemon/step.h \
 daemon/config.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h daemon/metrics.h
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
daemon/metrics.h:
