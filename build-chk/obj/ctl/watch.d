build-chk/obj/ctl/watch.o: ctl/watch.c ctl/watch.h ctl/progress.h \
 ctl/session.h ctl/client.h proto/vl_message.h ctl/ctl.h \
 build-chk/gen/vl_names.h ctl/output.h ctl/table.h ctl/value.h
ctl/watch.h:
ctl/progress.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/output.h:
ctl/table.h:
ctl/value.h:
