build-chk/obj/daemon/sqlite_worker.o: daemon/sqlite_worker.c \
 daemon/sqlite_worker.h
daemon/sqlite_worker.h:
