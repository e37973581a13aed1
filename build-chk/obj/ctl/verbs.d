build-chk/obj/ctl/verbs.o: ctl/verbs.c ctl/verbs.h ctl/ctl.h \
 build-chk/gen/vl_names.h ctl/args.h ctl/cmd.h ctl/session.h ctl/client.h \
 proto/vl_message.h
ctl/verbs.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/args.h:
ctl/cmd.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
