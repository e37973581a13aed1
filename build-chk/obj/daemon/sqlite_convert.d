build-chk/obj/daemon/sqlite_convert.o: daemon/sqlite_convert.c \
 daemon/sqlite_convert.h
daemon/sqlite_convert.h:
