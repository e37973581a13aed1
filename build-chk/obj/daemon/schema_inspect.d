build-chk/obj/daemon/schema_inspect.o: daemon/schema_inspect.c \
 daemon/schema_inspect.h daemon/control.h proto/vl_message.h \
 proto/vl_dispatch.h daemon/schema_files.h daemon/daemon.h \
 daemon/config.h daemon/dbcall.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pg.h daemon/log.h \
 daemon/schema_diff.h daemon/schema_dump.h daemon/schema_scratch.h \
 daemon/schema_snapshot.h daemon/schema_sqlite_call.h \
 daemon/sqlite_worker.h daemon/schema_sqlite_file.h \
 daemon/schema_apply_plan.h daemon/schema_sqlite_history.h \
 daemon/schema_sqlite_snapshot.h build-chk/gen/vl_names.h
daemon/schema_inspect.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/schema_files.h:
daemon/daemon.h:
daemon/config.h:
daemon/dbcall.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pg.h:
daemon/log.h:
daemon/schema_diff.h:
daemon/schema_dump.h:
daemon/schema_scratch.h:
daemon/schema_snapshot.h:
daemon/schema_sqlite_call.h:
daemon/sqlite_worker.h:
daemon/schema_sqlite_file.h:
daemon/schema_apply_plan.h:
daemon/schema_sqlite_history.h:
daemon/schema_sqlite_snapshot.h:
build-chk/gen/vl_names.h:
