build-chk/obj/ctl/report.o: ctl/report.c ctl/report.h ctl/table.h \
 ctl/value.h
ctl/report.h:
ctl/table.h:
ctl/value.h:
