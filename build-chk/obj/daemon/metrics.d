build-chk/obj/daemon/metrics.o: daemon/metrics.c daemon/metrics.h
daemon/metrics.h:
