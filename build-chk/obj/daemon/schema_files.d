build-chk/obj/daemon/schema_files.o: daemon/schema_files.c \
 daemon/schema_files.h daemon/schema_sums.h
daemon/schema_files.h:
daemon/schema_sums.h:
