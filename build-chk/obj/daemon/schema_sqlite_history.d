build-chk/obj/daemon/schema_sqlite_history.o: \
 daemon/schema_sqlite_history.c daemon/schema_sqlite_history.h \
 daemon/schema_files.h daemon/schema_history.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
daemon/schema_sqlite_history.h:
daemon/schema_files.h:
daemon/schema_history.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
