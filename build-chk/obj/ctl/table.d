build-chk/obj/ctl/table.o: ctl/table.c ctl/table.h ctl/value.h
ctl/table.h:
ctl/value.h:
