build-chk/obj/daemon/schema_apply.o: daemon/schema_apply.c \
 daemon/schema_apply.h daemon/config.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/log.h \
 daemon/schema_apply_file.h daemon/schema_apply_plan.h \
 daemon/schema_files.h daemon/schema_apply_sqlite.h \
 daemon/schema_history.h
daemon/schema_apply.h:
daemon/config.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/log.h:
daemon/schema_apply_file.h:
daemon/schema_apply_plan.h:
daemon/schema_files.h:
daemon/schema_apply_sqlite.h:
daemon/schema_history.h:
