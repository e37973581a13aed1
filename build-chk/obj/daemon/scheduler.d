build-chk/obj/daemon/scheduler.o: daemon/scheduler.c daemon/scheduler.h \
 daemon/daemon.h daemon/config.h daemon/log.h daemon/metrics.h \
 build-chk/gen/vl_names.h daemon/notify.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/runner.h daemon/store.h
daemon/scheduler.h:
daemon/daemon.h:
daemon/config.h:
daemon/log.h:
daemon/metrics.h:
build-chk/gen/vl_names.h:
daemon/notify.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/runner.h:
daemon/store.h:
