build-chk/obj/daemon/schema_sums.o: daemon/schema_sums.c \
 daemon/schema_sums.h daemon/schema_files.h
daemon/schema_sums.h:
daemon/schema_files.h:
