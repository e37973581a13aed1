build-chk/obj/daemon/store.o: daemon/store.c daemon/store.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/log.h daemon/metrics.h \
 daemon/schema_apply_file.h daemon/schema_apply_plan.h \
 daemon/schema_files.h daemon/schema_history.h
daemon/store.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/log.h:
daemon/metrics.h:
daemon/schema_apply_file.h:
daemon/schema_apply_plan.h:
daemon/schema_files.h:
daemon/schema_history.h:
