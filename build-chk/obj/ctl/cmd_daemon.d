build-chk/obj/ctl/cmd_daemon.o: ctl/cmd_daemon.c ctl/cmd.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/output.h ctl/detailed.h ctl/report.h \
 ctl/request.h
ctl/cmd.h:
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/output.h:
ctl/detailed.h:
ctl/report.h:
ctl/request.h:
