build-chk/obj/daemon/schema_snapshot.o: daemon/schema_snapshot.c \
 daemon/schema_snapshot.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
daemon/schema_snapshot.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
