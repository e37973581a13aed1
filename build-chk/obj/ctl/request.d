build-chk/obj/ctl/request.o: ctl/request.c ctl/request.h ctl/args.h \
 ctl/ctl.h build-chk/gen/vl_names.h
ctl/request.h:
ctl/args.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
