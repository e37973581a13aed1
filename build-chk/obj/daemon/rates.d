build-chk/obj/daemon/rates.o: daemon/rates.c daemon/rates.h
daemon/rates.h:
