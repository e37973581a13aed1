build-chk/obj/daemon/schema_apply_plan.o: daemon/schema_apply_plan.c \
 daemon/schema_apply_plan.h daemon/schema_files.h
daemon/schema_apply_plan.h:
daemon/schema_files.h:
