build-chk/obj/daemon/schema_dump.o: daemon/schema_dump.c \
 daemon/schema_dump.h daemon/log.h daemon/schema_scratch.h
daemon/schema_dump.h:
daemon/log.h:
daemon/schema_scratch.h:
