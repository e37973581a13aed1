build-chk/obj/ctl/client.o: ctl/client.c ctl/client.h proto/vl_message.h \
 proto/vl_frame.h
ctl/client.h:
proto/vl_message.h:
proto/vl_frame.h:
