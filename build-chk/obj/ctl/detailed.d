build-chk/obj/ctl/detailed.o: ctl/detailed.c ctl/detailed.h ctl/output.h \
 ctl/progress.h ctl/table.h ctl/value.h
ctl/detailed.h:
ctl/output.h:
ctl/progress.h:
ctl/table.h:
ctl/value.h:
