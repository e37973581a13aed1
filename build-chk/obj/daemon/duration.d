build-chk/obj/daemon/duration.o: daemon/duration.c daemon/duration.h
daemon/duration.h:
