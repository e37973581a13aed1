build-chk/obj/daemon/schema_diff.o: daemon/schema_diff.c \
 daemon/schema_diff.h
daemon/schema_diff.h:
