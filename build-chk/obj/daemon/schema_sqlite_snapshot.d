build-chk/obj/daemon/schema_sqlite_snapshot.o: \
 daemon/schema_sqlite_snapshot.c daemon/schema_sqlite_snapshot.h \
 daemon/schema_diff.h daemon/schema_sqlite_history.h \
 daemon/schema_files.h daemon/sql_lex.h
daemon/schema_sqlite_snapshot.h:
daemon/schema_diff.h:
daemon/schema_sqlite_history.h:
daemon/schema_files.h:
daemon/sql_lex.h:
