build-chk/obj/daemon/schema_adopt_tools.o: daemon/schema_adopt_tools.c \
 daemon/schema_adopt_tools.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
daemon/schema_adopt_tools.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
