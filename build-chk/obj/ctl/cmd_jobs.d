build-chk/obj/ctl/cmd_jobs.o: ctl/cmd_jobs.c ctl/cmd.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h ctl/session.h ctl/client.h \
 proto/vl_message.h ctl/output.h ctl/request.h ctl/watch.h ctl/progress.h
ctl/cmd.h:
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/session.h:
ctl/client.h:
proto/vl_message.h:
ctl/output.h:
ctl/request.h:
ctl/watch.h:
ctl/progress.h:
