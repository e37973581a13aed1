build-chk/obj/ctl/progress.o: ctl/progress.c ctl/progress.h ctl/table.h \
 ctl/value.h
ctl/progress.h:
ctl/table.h:
ctl/value.h:
