build-chk/obj/proto/vl_frame.o: proto/vl_frame.c proto/vl_frame.h
proto/vl_frame.h:
