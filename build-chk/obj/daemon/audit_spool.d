build-chk/obj/daemon/audit_spool.o: daemon/audit_spool.c \
 daemon/audit_spool.h daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/log.h daemon/worker.h
daemon/audit_spool.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/log.h:
daemon/worker.h:
