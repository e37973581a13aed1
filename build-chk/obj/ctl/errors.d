build-chk/obj/ctl/errors.o: ctl/errors.c ctl/errors.h ctl/ctl.h \
 build-chk/gen/vl_names.h ctl/table.h ctl/value.h proto/vl_message.h
ctl/errors.h:
ctl/ctl.h:
build-chk/gen/vl_names.h:
ctl/table.h:
ctl/value.h:
proto/vl_message.h:
