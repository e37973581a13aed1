build-chk/obj/ctl/cmd_schema.o: ctl/cmd_schema.c ctl/cmd.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/output.h ctl/request.h ctl/table.h ctl/value.h \
 ctl/watch.h ctl/progress.h
ctl/cmd.h:
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/output.h:
ctl/request.h:
ctl/table.h:
ctl/value.h:
ctl/watch.h:
ctl/progress.h:
