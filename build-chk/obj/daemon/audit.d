build-chk/obj/daemon/audit.o: daemon/audit.c daemon/audit.h \
 daemon/control.h proto/vl_message.h proto/vl_dispatch.h \
 daemon/nss_cache.h daemon/audit_spool.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/daemon.h daemon/config.h \
 daemon/dbcall.h daemon/log.h daemon/params.h daemon/store.h
daemon/audit.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/nss_cache.h:
daemon/audit_spool.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/daemon.h:
daemon/config.h:
daemon/dbcall.h:
daemon/log.h:
daemon/params.h:
daemon/store.h:
