build-chk/obj/proto/vl_dispatch.o: proto/vl_dispatch.c \
 proto/vl_dispatch.h
proto/vl_dispatch.h:
