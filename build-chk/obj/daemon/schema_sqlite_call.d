build-chk/obj/daemon/schema_sqlite_call.o: daemon/schema_sqlite_call.c \
 daemon/schema_sqlite_call.h daemon/config.h daemon/sqlite_worker.h \
 daemon/log.h daemon/schema_sqlite_history.h daemon/schema_files.h
daemon/schema_sqlite_call.h:
daemon/config.h:
daemon/sqlite_worker.h:
daemon/log.h:
daemon/schema_sqlite_history.h:
daemon/schema_files.h:
