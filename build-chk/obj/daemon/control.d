build-chk/obj/daemon/control.o: daemon/control.c daemon/control.h \
 proto/vl_message.h daemon/log.h daemon/metrics.h proto/vl_frame.h \
 build-chk/gen/vl_names.h
daemon/control.h:
proto/vl_message.h:
daemon/log.h:
daemon/metrics.h:
proto/vl_frame.h:
build-chk/gen/vl_names.h:
