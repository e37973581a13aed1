build-chk/obj/daemon/claim.o: daemon/claim.c daemon/claim.h \
 daemon/catalog.h daemon/config.h daemon/plan.h daemon/sql_params.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
daemon/claim.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
