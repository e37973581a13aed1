build-chk/obj/daemon/worker.o: daemon/worker.c daemon/worker.h
daemon/worker.h:
