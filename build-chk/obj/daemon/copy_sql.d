build-chk/obj/daemon/copy_sql.o: daemon/copy_sql.c daemon/copy_sql.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h
daemon/copy_sql.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/plan.h:
daemon/sql_params.h:
