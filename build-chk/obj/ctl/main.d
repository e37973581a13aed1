build-chk/obj/ctl/main.o: ctl/main.c ctl/args.h ctl/ctl.h \
 build-chk/gen/vl_names.h ctl/verbs.h
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/verbs.h:
