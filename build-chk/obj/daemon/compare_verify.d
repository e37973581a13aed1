build-chk/obj/daemon/compare_verify.o: daemon/compare_verify.c \
 daemon/compare.h daemon/catalog.h daemon/config.h daemon/plan.h \
 daemon/sql_params.h daemon/control.h proto/vl_message.h daemon/checks.h \
 daemon/pg.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h daemon/compare_rows.h \
 daemon/daemon.h daemon/dbcall.h daemon/log.h build-chk/gen/vl_names.h
daemon/compare.h:
daemon/catalog.h:
daemon/config.h:
daemon/plan.h:
daemon/sql_params.h:
daemon/control.h:
proto/vl_message.h:
daemon/checks.h:
daemon/pg.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
daemon/compare_rows.h:
daemon/daemon.h:
daemon/dbcall.h:
daemon/log.h:
build-chk/gen/vl_names.h:
