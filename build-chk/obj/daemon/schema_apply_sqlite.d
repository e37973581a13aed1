build-chk/obj/daemon/schema_apply_sqlite.o: daemon/schema_apply_sqlite.c \
 daemon/schema_apply_sqlite.h daemon/log.h daemon/schema_apply_file.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/schema_apply_plan.h \
 daemon/schema_files.h daemon/schema_sqlite_call.h daemon/config.h \
 daemon/sqlite_worker.h daemon/schema_sqlite_file.h \
 daemon/schema_sqlite_history.h
daemon/schema_apply_sqlite.h:
daemon/log.h:
daemon/schema_apply_file.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/schema_apply_plan.h:
daemon/schema_files.h:
daemon/schema_sqlite_call.h:
daemon/config.h:
daemon/sqlite_worker.h:
daemon/schema_sqlite_file.h:
daemon/schema_sqlite_history.h:
