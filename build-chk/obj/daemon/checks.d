build-chk/obj/daemon/checks.o: daemon/checks.c daemon/checks.h \
 daemon/catalog.h daemon/config.h daemon/plan.h daemon/sql_params.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
daemon/checks.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
