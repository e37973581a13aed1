build-chk/obj/ctl/value.o: ctl/value.c ctl/value.h
ctl/value.h:
