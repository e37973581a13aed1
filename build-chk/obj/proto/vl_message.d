build-chk/obj/proto/vl_message.o: proto/vl_message.c proto/vl_message.h
proto/vl_message.h:
