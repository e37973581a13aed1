build-chk/obj/daemon/throttle.o: daemon/throttle.c daemon/throttle.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/pacing.h daemon/daemon.h \
 daemon/config.h daemon/log.h daemon/metrics.h daemon/pg.h daemon/store.h
daemon/throttle.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/pacing.h:
daemon/daemon.h:
daemon/config.h:
daemon/log.h:
daemon/metrics.h:
daemon/pg.h:
daemon/store.h:
