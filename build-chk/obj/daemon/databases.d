build-chk/obj/daemon/databases.o: daemon/databases.c daemon/databases.h \
 daemon/config.h daemon/log.h daemon/metrics.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/sqlite_worker.h \
 daemon/store.h
daemon/databases.h:
daemon/config.h:
daemon/log.h:
daemon/metrics.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/sqlite_worker.h:
daemon/store.h:
