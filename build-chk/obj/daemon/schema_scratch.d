build-chk/obj/daemon/schema_scratch.o: daemon/schema_scratch.c \
 daemon/schema_scratch.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/log.h daemon/pg.h
daemon/schema_scratch.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/log.h:
daemon/pg.h:
