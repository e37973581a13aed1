build-chk/obj/daemon/sql_lex.o: daemon/sql_lex.c daemon/sql_lex.h
daemon/sql_lex.h:
