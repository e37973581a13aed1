build-chk/obj/daemon/jobs.o: daemon/jobs.c daemon/jobs.h daemon/control.h \
 proto/vl_message.h proto/vl_dispatch.h daemon/daemon.h daemon/config.h \
 daemon/jobends.h daemon/log.h daemon/pg.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/catalog.h daemon/plan.h \
 daemon/sql_params.h daemon/scheduler.h daemon/store.h daemon/databases.h \
 daemon/dbcall.h daemon/params.h daemon/submit.h build-chk/gen/vl_names.h
daemon/jobs.h:
daemon/control.h:
proto/vl_message.h:
proto/vl_dispatch.h:
daemon/daemon.h:
daemon/config.h:
daemon/jobends.h:
daemon/log.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/catalog.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/scheduler.h:
daemon/store.h:
daemon/databases.h:
daemon/dbcall.h:
daemon/params.h:
daemon/submit.h:
build-chk/gen/vl_names.h:
