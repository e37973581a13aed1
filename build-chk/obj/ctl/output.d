build-chk/obj/ctl/output.o: ctl/output.c ctl/output.h ctl/progress.h \
 ctl/table.h ctl/value.h build-chk/gen/vl_names.h
ctl/output.h:
ctl/progress.h:
ctl/table.h:
ctl/value.h:
build-chk/gen/vl_names.h:
