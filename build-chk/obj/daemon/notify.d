build-chk/obj/daemon/notify.o: daemon/notify.c daemon/notify.h \
 daemon/log.h
daemon/notify.h:
daemon/log.h:
