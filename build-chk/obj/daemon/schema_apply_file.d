build-chk/obj/daemon/schema_apply_file.o: daemon/schema_apply_file.c \
 daemon/schema_apply_file.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/schema_apply_plan.h \
 daemon/schema_files.h daemon/sql_params.h
daemon/schema_apply_file.h:
daemon/log.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/schema_apply_plan.h:
daemon/schema_files.h:
daemon/sql_params.h:
