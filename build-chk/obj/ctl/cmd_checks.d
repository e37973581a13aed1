build-chk/obj/ctl/cmd_checks.o: ctl/cmd_checks.c ctl/cmd.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/report.h ctl/request.h
ctl/cmd.h:
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/report.h:
ctl/request.h:
