build-chk/obj/ctl/args.o: ctl/args.c ctl/args.h ctl/ctl.h \
 build-chk/gen/vl_names.h ctl/output.h
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/output.h:
