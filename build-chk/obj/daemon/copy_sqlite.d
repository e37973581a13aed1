build-chk/obj/daemon/copy_sqlite.o: daemon/copy_sqlite.c \
 daemon/copy_sqlite.h daemon/sqlite_convert.h
daemon/copy_sqlite.h:
daemon/sqlite_convert.h:
