build-chk/obj/ctl/session.o: ctl/session.c ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/ctl.h build-chk/gen/vl_names.h ctl/errors.h \
 ctl/output.h
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/errors.h:
ctl/output.h:
