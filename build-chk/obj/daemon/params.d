build-chk/obj/daemon/params.o: daemon/params.c daemon/params.h \
 proto/vl_dispatch.h
daemon/params.h:
proto/vl_dispatch.h:
