# migrated: tenant data migrations for PostgreSQL.
# Plain make; dependencies come from pkg-config.

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR   ?=

CC        ?= cc
PKGS       = libpq libevent libsystemd jansson inih libcrypto sqlite3
B         ?= build

WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align \
       -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
       -Wformat=2 -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough
# CFLAGS and LDFLAGS are the user's (make CFLAGS=...); the project's own
# flags are added on top in ALL_CFLAGS, so overriding CFLAGS keeps them.
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) -Iproto -I$(B)/gen \
           -DMIGRATED_VERSION='"$(VERSION)"' \
           -DMIGRATED_SYSCONFDIR='"$(SYSCONFDIR)"' \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -pthread -lm

PROTO_SRC  = proto/vl_frame.c proto/vl_message.c proto/vl_dispatch.c
PLAN_SRC   = daemon/plan.c daemon/plan_read.c daemon/plan_value.c \
             daemon/plan_build.c daemon/plan_step.c daemon/plan_order.c \
             daemon/plan_dir.c
DAEMON_LIB = daemon/compare_rows.c daemon/config.c daemon/inifile.c daemon/log.c daemon/params.c \
             $(PLAN_SRC) daemon/sql_lex.c daemon/sql_params.c daemon/submit.c \
             daemon/schema_files.c daemon/schema_history.c daemon/pg.c \
             daemon/schema_adopt_tools.c daemon/schema_adopt_match.c \
             daemon/schema_apply_plan.c
# The daemon is every daemon/*.c; DAEMON_LIB (the pure modules the unit
# tests link) is named one file a line so that additions merge cleanly.
DAEMON_SRC = $(sort $(wildcard daemon/*.c))
CTL_SRC    = $(sort $(wildcard ctl/*.c))
# Schema diff, drift, dump and squash (schema_diff.c is pure: unit-tested).
DAEMON_LIB += daemon/schema_diff.c
# Adaptive batch size and the rows/s budget (pure: unit-tested).
DAEMON_LIB += daemon/pacing.c
DAEMON_LIB += daemon/duration.c
# The metrics registry and its text page (metrics_http.c serves it).
DAEMON_LIB += daemon/metrics.c
# Rates from counters sampled at two times (status --detailed).
DAEMON_LIB += daemon/rates.c
# The thread for blocking calls (name service, audit spool).
DAEMON_LIB += daemon/worker.c
# Schema file checksums kept by stat (schema_files.c uses them).
DAEMON_LIB += daemon/schema_sums.c
# Schema sets on SQLite: the history and the snapshot (pure on a sqlite3 *).
DAEMON_LIB += daemon/schema_sqlite_history.c
DAEMON_LIB += daemon/schema_sqlite_snapshot.c
DAEMON_LIB += daemon/schema_sqlite_file.c
DAEMON_LIB += daemon/schema_sqlite_adopt.c
# SQLite off the loop: one worker thread per file (unit-tested on a loop).
DAEMON_LIB += daemon/sqlite_worker.c
# SQLite values to PostgreSQL types (pure: the rules of migrated.plan(5)).
DAEMON_LIB += daemon/sqlite_convert.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

all: $(B)/migrated $(B)/migratectl

$(B)/gen/interface.c: proto/io.migrated.varlink scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh migrated_interface $< > $@.tmp && mv $@.tmp $@

# The names of proto/io.migrated.varlink (errors, methods, job states) as
# C macros, for the daemon and migratectl alike. Every object waits for it;
# the .d files then track which ones include it.
GEN_H = $(B)/gen/vl_names.h
$(GEN_H): proto/io.migrated.varlink scripts/vlnames.sh
	@mkdir -p $(@D)
	sh scripts/vlnames.sh $< > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

SCHEMA_SQL = $(sort $(wildcard daemon/schema/*.sql))

$(B)/gen/schema.c: $(SCHEMA_SQL) scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh -a store_schema $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

$(B)/migrated: $(call obj,$(DAEMON_SRC) $(PROTO_SRC)) $(B)/obj/gen/interface.o \
    $(B)/obj/gen/schema.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/migratectl: $(call obj,$(CTL_SRC) $(PROTO_SRC))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests (cmocka): one binary per tests/unit/test_*.c, linked with the
# pure modules they exercise.
UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_LIBS  = $(call obj,$(PROTO_SRC) $(DAEMON_LIB)) $(B)/obj/gen/interface.o

$(B)/tests/%: tests/unit/%.c $(UNIT_LIBS) | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs cmocka)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

# The end-to-end tests spend most of their time waiting on PostgreSQL and
# the daemon, so they run on E2E_JOBS pytest-xdist workers, each with its
# own PostgreSQL cluster (E2E_JOBS=1 runs them one at a time).
E2E_JOBS ?= 3
PYTEST_E2E = /usr/bin/python3 -m pytest -q -n $(E2E_JOBS) tests/e2e

e2e: all
	$(PYTEST_E2E)

deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) lint-man lint-idl lint format-check
	sh scripts/check-units.sh
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) e2e

lint-man:
	mandoc -Tlint -Wwarning man/*.[0-9]

# The interface file must be valid Varlink IDL: varlink-go's generator
# parses it (and writes Go code we throw away).
lint-idl:
	@d=$$(mktemp -d) && cp proto/io.migrated.varlink $$d/ && \
	    (cd $$d && varlink-go-interface-generator io.migrated.varlink) && \
	    rm -rf $$d && echo "proto/io.migrated.varlink: valid Varlink IDL"

# The end-to-end tests with every daemon under valgrind.
check-valgrind: deps
	$(MAKE) all
	MIGRATED_VALGRIND=1 $(PYTEST_E2E)

# The unit and end-to-end tests on a build with AddressSanitizer and UBSan
# (build-asan). Any report fails the run. CI runs this after make check.
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
check-asan: deps
	$(MAKE) B=build-asan CFLAGS="-O1 -g $(SANITIZE)" \
	    LDFLAGS="$(SANITIZE)" all unit
	MIGRATED_BUILD=build-asan ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 $(PYTEST_E2E)

# Both: valgrind takes as long as the rest of CI, so it is a target of its
# own (docs/DECISIONS.md) rather than part of .ci/run.
check-sanitize: check-valgrind check-asan

bench: deps
	$(MAKE) all
	sh scripts/bench.sh
	sh scripts/bench-schema.sh

# SchemaDiff of two 500-table schemas (scripts/bench-schema.sh).
bench-schema: all
	sh scripts/bench-schema.sh

# libFuzzer targets (clang): framing and messages, config, plans, SQL.
# `make fuzz` runs each for FUZZ_SECONDS (check runs them briefly); new
# inputs go to build-fuzz/corpus, crashes to build-fuzz/crash-*.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS = frame config plan sql
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Iproto -Idaemon -Ibuild-fuzz \
              -Wall -Wextra -Werror \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              $(shell pkg-config --cflags $(PKGS))
FUZZ_SRC_frame  = proto/vl_frame.c proto/vl_message.c proto/vl_dispatch.c
FUZZ_SRC_config = daemon/config.c daemon/inifile.c tests/fuzz/fuzz_file.c \
                  daemon/duration.c
FUZZ_SRC_plan   = $(PLAN_SRC) daemon/sql_lex.c daemon/sql_params.c daemon/inifile.c \
                  tests/fuzz/fuzz_file.c daemon/duration.c
FUZZ_SRC_sql    = daemon/sql_lex.c daemon/sql_params.c

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard proto/*.c daemon/*.c daemon/*.h proto/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -DMIGRATED_SYSCONFDIR='"/etc"' -o $@ $< \
	    $(FUZZ_SRC_$*) $(LDLIBS)

fuzz-build: $(patsubst %,build-fuzz/fuzz_%,$(FUZZ_TARGETS))

fuzz: deps fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p build-fuzz/corpus/$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=build-fuzz/crash-$$t- -print_final_stats=1 \
	        build-fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | \
	        grep -E '^(stat::number_of_executed_units|==|INFO: Seed)|ERROR|SUMMARY' ; \
	done

# Static analysis with the checked-in configuration (.clang-tidy, lint/).
LINT_SRC = $(wildcard daemon/*.c proto/*.c ctl/*.c)
LINT_DEFS = -std=c11 -D_GNU_SOURCE -Iproto -Idaemon -I$(B)/gen \
            -DMIGRATED_VERSION='"$(VERSION)"' -DMIGRATED_SYSCONFDIR='"/etc"'
lint: deps $(B)/gen/interface.c $(GEN_H)
	cppcheck --quiet --enable=warning,performance,portability \
	    --error-exitcode=1 --inline-suppr --std=c11 -D_GNU_SOURCE \
	    -Iproto -Idaemon -I$(B)/gen --library=posix \
	    --library=lint/jansson.cfg \
	    --suppressions-list=lint/cppcheck-suppressions.txt \
	    daemon proto ctl tests/unit tests/fuzz
	@# one file per run: clang-tidy 14 reports false va_list errors when
	@# it analyses several files in one process
	@set -e; for f in $(LINT_SRC); do \
	    clang-tidy --quiet $$f -- $(LINT_DEFS) \
	        $(shell pkg-config --cflags $(PKGS)) 2>/dev/null; \
	done; echo "clang-tidy: $(words $(LINT_SRC)) files clean"

# SIGKILLs and PostgreSQL restarts during a run; checks exactly-once.
chaos: deps
	$(MAKE) all
	/usr/bin/python3 tests/chaos/chaos.py

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

FORMAT_SRC = $(wildcard daemon/*.[ch] proto/*.[ch] ctl/*.[ch] tests/unit/*.c \
               tests/fuzz/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/migrated/plans \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(B)/migrated $(DESTDIR)$(SBINDIR)/migrated
	install -m 0755 $(B)/migratectl $(DESTDIR)$(BINDIR)/migratectl
	install -m 0644 man/migratectl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/migrated.conf.5 man/migrated.plan.5 \
	    $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/migrated.8 $(DESTDIR)$(MANDIR)/man8/
	test -e $(DESTDIR)$(SYSCONFDIR)/migrated/migrated.conf || \
	    install -m 0644 conf/migrated.conf $(DESTDIR)$(SYSCONFDIR)/migrated/
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    units/migrated.service.in > $(DESTDIR)$(UNITDIR)/migrated.service
	install -m 0644 units/migrated.socket $(DESTDIR)$(UNITDIR)/
	install -m 0644 units/migrated-sysusers.conf \
	    $(DESTDIR)$(SYSUSERSDIR)/migrated.conf
	install -m 0644 units/migrated-tmpfiles.conf \
	    $(DESTDIR)$(TMPFILESDIR)/migrated.conf
	install -m 0644 completion/migratectl.bash \
	    $(DESTDIR)$(COMPLETIONDIR)/migratectl

# The Debian package (debian/). dpkg-buildpackage writes next to the tree,
# so it builds a copy of this tree (without build output) in DEB_OUT, a new
# temporary directory unless given; lintian then checks the result and any
# error fails the build. The last line printed is the .deb's path.
DEB_JOBS ?= 2
deb: deps
	@set -e; \
	out='$(DEB_OUT)'; \
	if [ -z "$$out" ]; then \
	    out=$$(mktemp -d "$${TMPDIR:-/tmp}/migrated-deb.XXXXXX"); \
	fi; \
	rm -rf "$$out/migrated"; mkdir -p "$$out/migrated"; \
	tar -cf - --exclude=./.git --exclude='./build*' . | \
	    tar -xf - -C "$$out/migrated"; \
	lint=; command -v lintian >/dev/null && lint=--check-command=lintian; \
	(cd "$$out/migrated" && dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) \
	    $$lint) >"$$out/build.log" 2>&1 || { \
	    tail -n 40 "$$out/build.log" >&2; \
	    echo "make deb: dpkg-buildpackage failed; log: $$out/build.log" >&2; \
	    exit 1; }; \
	if [ -n "$$lint" ]; then \
	    grep -E '^[EWIPX]: ' "$$out/build.log" || echo "lintian: no tags"; \
	else echo "lintian not installed: package not checked"; fi; \
	ls "$$out"/migrated_*.deb

clean:
	rm -rf $(B) build-asan build-fuzz

.PHONY: all unit e2e deps check check-sanitize check-valgrind check-asan bench bench-schema chaos fuzz fuzz-build \
        lint lint-man lint-idl demo deb format \
        format-check install clean

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
