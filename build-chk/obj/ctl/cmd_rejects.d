build-chk/obj/ctl/cmd_rejects.o: ctl/cmd_rejects.c ctl/cmd.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/output.h ctl/request.h ctl/table.h
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
