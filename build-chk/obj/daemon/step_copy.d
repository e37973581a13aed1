build-chk/obj/daemon/step_copy.o: daemon/step_copy.c daemon/copy_sql.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/plan.h \
 daemon/sql_params.h daemon/copy_sqlite.h daemon/sqlite_convert.h \
 daemon/sqlite_worker.h daemon/step.h daemon/config.h daemon/log.h
daemon/copy_sql.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/copy_sqlite.h:
daemon/sqlite_convert.h:
daemon/sqlite_worker.h:
daemon/step.h:
daemon/config.h:
daemon/log.h:
