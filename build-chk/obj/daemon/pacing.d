build-chk/obj/daemon/pacing.o: daemon/pacing.c daemon/pacing.h
daemon/pacing.h:
