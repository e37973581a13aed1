build-chk/obj/daemon/nss_cache.o: daemon/nss_cache.c daemon/nss_cache.h \
 daemon/worker.h
daemon/nss_cache.h:
daemon/worker.h:
