build-chk/obj/daemon/sql_params.o: daemon/sql_params.c \
 daemon/sql_params.h daemon/sql_lex.h
daemon/sql_params.h:
daemon/sql_lex.h:
