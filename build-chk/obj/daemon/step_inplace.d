build-chk/obj/daemon/step_inplace.o: daemon/step_inplace.c daemon/step.h \
 daemon/config.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h
daemon/step.h:
daemon/config.h:
daemon/log.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/plan.h:
daemon/sql_params.h:
