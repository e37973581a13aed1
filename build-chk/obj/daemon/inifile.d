build-chk/obj/daemon/inifile.o: daemon/inifile.c daemon/inifile.h
daemon/inifile.h:
