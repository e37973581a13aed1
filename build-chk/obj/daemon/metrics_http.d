build-chk/obj/daemon/metrics_http.o: daemon/metrics_http.c \
 daemon/metrics_http.h daemon/config.h daemon/log.h daemon/metrics.h
daemon/metrics_http.h:
daemon/config.h:
daemon/log.h:
daemon/metrics.h:
