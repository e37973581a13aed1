/*
 * Unit tests for daemon/config.c and daemon/inifile.c: migrated.conf
 * parsing, [database NAME] sections, errors as "file:line: message", reload
 * helpers, and the agreement of conf/migrated.conf and man/migrated.conf.5
 * with the key table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"

/* The sample, relative to the repository root where `make unit` runs. */
#ifndef SAMPLE_CONF
#define SAMPLE_CONF "conf/migrated.conf"
#endif
#ifndef MAN_CONF
#define MAN_CONF "man/migrated.conf.5"
#endif

/* The keys of [database NAME] belong to each database, not to the config. */
static bool
per_database(const struct config_key *k)
{
	return strcmp(k->section, "database") == 0;
}

/* The keys of named sections ([database NAME], [schema NAME]). */
static bool
per_section(const struct config_key *k)
{
	return per_database(k) || strcmp(k->section, "schema") == 0;
}

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static int
make_tmpdir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
remove_tmpdir(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[PATH_MAX];

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (unlink(path) < 0 && rmdir(path) < 0)
			fprintf(stderr, "cannot remove %s\n", path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

static void
tmp_path(const char *name, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < size);
}

/* Writes len bytes of data to the temporary file name; returns its path. */
static const char *
write_file(const char *name, const void *data, size_t len)
{
	static char path[PATH_MAX];
	FILE *fp;

	tmp_path(name, path, sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static const char *
write_conf(const char *text)
{
	return write_file("test.conf", text, strlen(text));
}

static void
load_ok(const char *path, struct config *cfg)
{
	char err[1024] = "";

	if (config_load(path, cfg, err, sizeof(err)) != 0)
		fail_msg("config_load(%s) failed: %s", path, err);
	assert_string_equal(cfg->file, path);
}

static void
load_text(const char *text, struct config *cfg)
{
	load_ok(write_conf(text), cfg);
}

/* Loads path, expects a failure that leaves cfg empty; the error into err. */
static void
load_fails(const char *path, char *err, size_t errlen)
{
	static const struct config empty;
	struct config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	if (config_load(path, &cfg, err, errlen) == 0) {
		config_free(&cfg);
		fail_msg("config_load(%s) succeeded; an error was expected",
		         path);
	}
	assert_memory_equal(&cfg, &empty, sizeof(cfg));
}

/* Loads path and expects the error "path:line: msg". */
static void
expect_load_error(const char *path, int line, const char *msg)
{
	char err[1024] = "";
	char want[1024];

	load_fails(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	assert_string_equal(err, want);
}

static void
expect_error(const char *text, int line, const char *msg)
{
	expect_load_error(write_conf(text), line, msg);
}

static const struct config_key *
key_named(const char *name)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	fail_msg("no key %s in config_keys", name);
	abort(); /* not reached: fail_msg jumps out of the test */
}

static void
expect_formatted(const struct config *cfg, const char *name, const char *want)
{
	char buf[1024];

	config_format(cfg, key_named(name), buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Every key of cfg formats as its default. */
static void
expect_defaults(const struct config *cfg)
{
	char buf[1024];

	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (per_section(k))
			continue;
		config_format(cfg, k, buf, sizeof(buf));
		if (strcmp(buf, k->def) != 0)
			fail_msg("[%s] %s is '%s', default '%s'", k->section,
			         k->name, buf, k->def);
	}
}

/* The table matches the keys, sections and reload rules of the design. */
static void
test_key_table(void **state)
{
	static const struct {
		const char *section, *name;
		bool reloadable;
	} want[] = {
	        {"daemon", "socket", false},
	        {"daemon", "socket_mode", false},
	        {"daemon", "plan_dir", true},
	        {"daemon", "workers", false},
	        {"daemon", "batch_size", true},
	        {"daemon", "admin_group", true},
	        {"daemon", "log_level", true},
	        {"daemon", "reconnect_max_ms", true},
	        {"daemon", "max_clients", true},
	        {"daemon", "max_clients_per_uid", true},
	        {"daemon", "client_output_max", true},
	        {"daemon", "audit_spool", false},
	        {"target", "conninfo", false},
	        {"metrics", "listen", false},
	        {"database", "conninfo", true},
	        {"database", "sqlite", true},
	        {"schema", "database", true},
	        {"schema", "dir", true},
	        {"daemon", "batch_target", true},
	        {"daemon", "batch_min", true},
	        {"daemon", "batch_max", true},
	        {"throttle", "query", true},
	        {"throttle", "interval", true},
	        {"throttle", "timeout", true},
	        {"throttle", "max", true},
	        {"throttle", "critical", true},
	        {"throttle", "max_rows_per_second", true},
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	size_t i;

	(void)state;
	for (i = 0; config_keys[i].name != NULL; i++) {
		assert_true(i < n);
		assert_string_equal(config_keys[i].section, want[i].section);
		assert_string_equal(config_keys[i].name, want[i].name);
		assert_int_equal(config_keys[i].reloadable, want[i].reloadable);
		assert_non_null(config_keys[i].help);
		assert_true(config_keys[i].help[0] != '\0');
		/* a database's keys have no default: it must say */
		if (per_database(&config_keys[i]))
			assert_null(config_keys[i].def);
		else if (!per_section(&config_keys[i]))
			assert_non_null(config_keys[i].def);
	}
	assert_int_equal(i, n);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	load_text("", &cfg);
	assert_string_equal(cfg.socket, "/run/migrated/io.migrated");
	assert_int_equal(cfg.socket_mode, 0660);
	assert_string_equal(cfg.plan_dir, "/etc/migrated/plans");
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.batch_size, 1000);
	assert_string_equal(cfg.admin_group, "");
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.reconnect_max_ms, 5000);
	assert_string_equal(cfg.target_conninfo, "");
	assert_int_equal(cfg.ndatabases, 0);
	assert_null(cfg.databases);
	assert_null(config_database(&cfg, "legacy"));
	expect_defaults(&cfg);
	config_free(&cfg);
	assert_null(cfg.file);
	assert_null(cfg.socket);

	/* Comments, blank lines and empty sections change nothing. */
	load_text("# comment\n; comment\n\n[daemon]\n\n[target]\n", &cfg);
	expect_defaults(&cfg);
	config_free(&cfg);
}

static void
test_every_key_set(void **state)
{
	struct config cfg;

	(void)state;
	load_text("[daemon]\n"
	          "socket = /tmp/m.sock\n"
	          "socket_mode = 0600\n"
	          "plan_dir=/srv/plans\n"
	          "workers = 64\n"
	          "batch_size = 1000000\n"
	          "admin_group = migrators\n"
	          "log_level = debug\n"
	          "reconnect_max_ms = 100\n"
	          "[target]\n"
	          "conninfo = host=db port=5433 dbname=app\n",
	          &cfg);
	assert_string_equal(cfg.socket, "/tmp/m.sock");
	assert_int_equal(cfg.socket_mode, 0600);
	assert_string_equal(cfg.plan_dir, "/srv/plans");
	assert_int_equal(cfg.workers, 64);
	assert_int_equal(cfg.batch_size, 1000000);
	assert_string_equal(cfg.admin_group, "migrators");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.reconnect_max_ms, 100);
	assert_string_equal(cfg.target_conninfo,
	                    "host=db port=5433 dbname=app");
	config_free(&cfg);

	/* The other ends of the ranges; sections may be given in any order. */
	load_text("[target]\nconninfo = service=target\n"
	          "[daemon]\nworkers = 1\nbatch_size = 1\n"
	          "reconnect_max_ms = 600000\nsocket_mode = 0777\n",
	          &cfg);
	assert_string_equal(cfg.target_conninfo, "service=target");
	assert_int_equal(cfg.workers, 1);
	assert_int_equal(cfg.batch_size, 1);
	assert_int_equal(cfg.reconnect_max_ms, 600000);
	assert_int_equal(cfg.socket_mode, 0777);
	config_free(&cfg);
}

static void
test_log_levels(void **state)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
	        {"debug", LOG_DEBUG},   {"info", LOG_INFO},
	        {"notice", LOG_NOTICE}, {"warning", LOG_WARNING},
	        {"error", LOG_ERR},
	};
	struct config cfg;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "[daemon]\nlog_level = %s\n",
		         levels[i].name);
		load_text(text, &cfg);
		assert_int_equal(cfg.log_level, levels[i].level);
		expect_formatted(&cfg, "log_level", levels[i].name);
		config_free(&cfg);
	}
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_error("[daemon]\nworkers = 4\nsockets = /x\n", 3,
	             "unknown key 'sockets' in [daemon]");
	expect_error("[target]\nworkers = 4\n", 2,
	             "unknown key 'workers' in [target]");
	expect_error("[daemon]\nWorkers = 4\n", 2,
	             "unknown key 'Workers' in [daemon]");
}

#define KNOWN                                                                  \
	"(known: [daemon], [target], [metrics], [database NAME], "             \
	"[schema NAME], [throttle])"

static void
test_unknown_section(void **state)
{
	(void)state;
	/* Reported at the section header, not at its first key. */
	expect_error("[daemon]\nworkers = 4\n[deamon]\n# c\nworkers = 5\n", 3,
	             "unknown section [deamon] " KNOWN);
	expect_error("[Daemon]\nworkers = 4\n", 1,
	             "unknown section [Daemon] " KNOWN);
	expect_error("[daemon]\n  [ target ]\nconninfo = x\n", 2,
	             "unknown section [ target ] " KNOWN);
}

/* An unknown section is an error even when it holds no key. */
static void
test_unknown_empty_section(void **state)
{
	(void)state;
	expect_error("[daemon]\nworkers = 4\n[bogus]\n", 3,
	             "unknown section [bogus] " KNOWN);
}

static void
test_key_outside_section(void **state)
{
	(void)state;
	expect_error("workers = 4\n[daemon]\n", 1,
	             "'workers' is outside any section");
	expect_error("# comment\n\nbogus = 1\n", 3,
	             "'bogus' is outside any section");
}

static void
test_duplicate_key(void **state)
{
	(void)state;
	expect_error("[daemon]\nworkers = 4\nworkers = 4\n", 3,
	             "'workers' is set twice in [daemon]");
	expect_error("[daemon]\nworkers = 4\n[target]\nconninfo =\n"
	             "[daemon]\nbatch_size = 5\nworkers = 5\n",
	             7, "'workers' is set twice in [daemon]");
	expect_error("[target]\nconninfo = dbname=a\nconninfo = dbname=b\n", 3,
	             "'conninfo' is set twice in [target]");
}

static void
expect_bad_value(const char *name, const char *value, const char *msg)
{
	char text[256];

	snprintf(text, sizeof(text), "[daemon]\n# x\n%s = %s\n", name, value);
	expect_error(text, 3, msg);
}

static void
test_bad_integers(void **state)
{
	static const char *const bad[] = {
	        "0",  "65",   "abc", "-1",  "4.0",
	        "4x", "0x10", "",    "1e1", "99999999999999999999",
	};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
		         "workers: '%s' is not a whole number from 1 to 64",
		         bad[i]);
		expect_bad_value("workers", bad[i], msg);
	}
	expect_bad_value("batch_size", "0",
	                 "batch_size: '0' is not a whole number from 1 to "
	                 "1000000");
	expect_bad_value("batch_size", "1000001",
	                 "batch_size: '1000001' is not a whole number from 1 "
	                 "to 1000000");
	expect_bad_value(
	        "reconnect_max_ms", "99",
	        "reconnect_max_ms: '99' is not a whole number from 100 "
	        "to 600000");
	expect_bad_value(
	        "reconnect_max_ms", "600001",
	        "reconnect_max_ms: '600001' is not a whole number from "
	        "100 to 600000");
}

/* [metrics] listen: numeric ADDRESS:PORT only, checked at load. */
static void
test_metrics_listen(void **state)
{
	static const struct {
		const char *value, *msg;
	} bad[] = {
	        {"localhost:9187", "listen: 'localhost:9187': 'localhost' is "
	                           "not a numeric IPv4 address (host names "
	                           "are not looked up)"},
	        {"127.0.0.1", "listen: '127.0.0.1' is not ADDRESS:PORT with a "
	                      "port from 1 to 65535 (like 127.0.0.1:9187)"},
	        {"127.0.0.1:0", "listen: '127.0.0.1:0' is not ADDRESS:PORT "
	                        "with a port from 1 to 65535 (like "
	                        "127.0.0.1:9187)"},
	        {":9187", "listen: ':9187': no address before the port"},
	        {"[::1:9187", "listen: '[::1:9187': '[::1' is not a numeric "
	                      "IPv4 address (host names are not looked up)"},
	        {"[127.0.0.1]:9187", "listen: '[127.0.0.1]:9187': '127.0.0.1' "
	                             "is not a numeric [IPv6] address (host "
	                             "names are not looked up)"},
	};
	struct config cfg;
	char text[256], host[64], err[256];
	unsigned port;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[metrics]\n# x\nlisten = %s\n",
		         bad[i].value);
		expect_error(text, 3, bad[i].msg);
	}
	load_text("[metrics]\nlisten = [::1]:9187\n", &cfg);
	assert_string_equal(cfg.metrics_listen, "[::1]:9187");
	assert_int_equal(config_listen_split(cfg.metrics_listen, host,
	                                     sizeof(host), &port, err,
	                                     sizeof(err)),
	                 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9187);
	config_free(&cfg);
	load_text("[metrics]\nlisten =\n", &cfg);
	assert_string_equal(cfg.metrics_listen, "");
	config_free(&cfg);
}

static void
test_bad_modes(void **state)
{
	static const char *const bad[] = {
	        "660",   "0999",  "01777", "",
	        "0x1ff", "-0660", "0660x", "rw-rw----",
	};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(
		        msg, sizeof(msg),
		        "socket_mode: '%s' is not an octal file mode like 0660",
		        bad[i]);
		expect_bad_value("socket_mode", bad[i], msg);
	}
}

static void
test_bad_log_level(void **state)
{
	static const char *const bad[] = {"verbose", "INFO", "warn",
	                                  "err",     "",     "7"};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
		         "log_level: '%s' is not one of debug, info, notice, "
		         "warning, error",
		         bad[i]);
		expect_bad_value("log_level", bad[i], msg);
	}
}

static void
test_continuation_line(void **state)
{
	(void)state;
	expect_error("[daemon]\nsocket = /run/a\n  /b\n", 3,
	             "'socket' does not take a value over several lines");
	expect_error("[target]\nconninfo = host=a\n\tport=5\n", 3,
	             "'conninfo' does not take a value over several lines");
}

/* "[daemon]\nsocket = /" followed by 'a's, so that line 2 is n long. */
static const char *
write_long_line(size_t n)
{
	static const char head[] = "[daemon]\nsocket = /";
	size_t len = sizeof(head) - 1 + (n - 10) + 1;
	char *text = malloc(len);
	const char *path;

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'a', n - 10);
	text[len - 1] = '\n';
	path = write_file("long.conf", text, len);
	free(text);
	return path;
}

static void
test_line_too_long(void **state)
{
	struct config cfg;

	(void)state;
	expect_load_error(write_long_line(300), 2,
	                  "line too long (at most 199 characters)");
	expect_load_error(write_long_line(200), 2,
	                  "line too long (at most 199 characters)");
	load_ok(write_long_line(199), &cfg);
	assert_int_equal(strlen(cfg.socket), 199 - 9);
	config_free(&cfg);
}

static void
test_missing_or_unreadable(void **state)
{
	char path[PATH_MAX];

	(void)state;
	tmp_path("missing.conf", path, sizeof(path));
	expect_load_error(path, 0, "cannot open: No such file or directory");

	tmp_path("adir", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	expect_load_error(path, 0, "cannot read: Is a directory");

	/* root reads any file whatever its mode */
	if (geteuid() != 0) {
		const char *p = write_conf("[daemon]\n");
		assert_int_equal(chmod(p, 0), 0);
		expect_load_error(p, 0, "cannot open: Permission denied");
	}
}

static const char syntax_error[] =
        "syntax error (expected [section], key = value, or a comment)";

static void
test_syntax_errors(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\x01\x02IHDR\xff\xfe";

	(void)state;
	expect_load_error(write_file("png.conf", png, sizeof(png) - 1), 1,
	                  syntax_error);
	expect_error("[daemon]\nworkers\n", 2, syntax_error);
	expect_error("[daemon]\n# c\nworkers 4\n", 3, syntax_error);
}

/*
 * The first problem is the one reported: a broken line is not hidden by a
 * later complaint about the lines after it.
 */
static void
test_first_error_reported(void **state)
{
	(void)state;
	expect_error("[daemon\nworkers = 5\n", 1,
	             "section header without ']'; expected [daemon], [target], "
	             "[metrics], [database NAME], [schema NAME] or [throttle]");
	expect_error("[daemon]\nfoo\nworkers = abc\n", 2, syntax_error);
}

/* NUL bytes make a file binary: it is refused, not read up to the NUL. */
static void
test_nul_bytes_refused(void **state)
{
	static const char junk[] = "\0\x01\x02\xff\xfe\n";
	static const char nul_value[] = "[daemon]\nworkers = 8\0junk\n";
	char err[1024] = "";
	char want[PATH_MAX];
	const char *path;

	(void)state;
	/* The wording is the fixer's choice; the place is not. */
	path = write_file("junk.conf", junk, sizeof(junk) - 1);
	snprintf(want, sizeof(want), "%s:1: ", path);
	load_fails(path, err, sizeof(err));
	assert_memory_equal(err, want, strlen(want));

	path = write_file("nul.conf", nul_value, sizeof(nul_value) - 1);
	snprintf(want, sizeof(want), "%s:2: ", path);
	load_fails(path, err, sizeof(err));
	assert_memory_equal(err, want, strlen(want));
}

/* A valid value, other than the default, for every key. */
static const struct {
	const char *name, *value;
} samples[] = {
        {"socket", "/tmp/x/io.migrated"},
        {"socket_mode", "0600"},
        {"plan_dir", "/srv/migrated/plans"},
        {"workers", "12"},
        {"batch_size", "250"},
        {"admin_group", "migrators"},
        {"log_level", "warning"},
        {"reconnect_max_ms", "30000"},
        {"max_clients", "20000"},
        {"max_clients_per_uid", "50"},
        {"client_output_max", "33554432"},
        {"audit_spool", "/srv/migrated/audit.spool"},
        {"conninfo", "service=app"},
        {"batch_target", "500ms"},
        {"batch_min", "10"},
        {"batch_max", "5000"},
        {"query", "replication_lag"},
        {"interval", "2s"},
        {"timeout", "1500ms"},
        {"max", "2.5"},
        {"critical", "30"},
        {"max_rows_per_second", "5000"},
        {"listen", "[::1]:9187"},
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Loads a file setting only key name to value. */
static void
load_one(const char *name, const char *value, struct config *cfg)
{
	char text[2048];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n",
	         key_named(name)->section, name, value);
	load_text(text, cfg);
}

static void
test_format_round_trip(void **state)
{
	struct config cfg, again;
	size_t nkeys = 0;

	(void)state;
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		nkeys += !per_section(k);
	assert_int_equal(NSAMPLES, nkeys);

	for (size_t i = 0; i < NSAMPLES; i++) {
		char buf[1024];

		load_one(samples[i].name, samples[i].value, &cfg);
		config_format(&cfg, key_named(samples[i].name), buf,
		              sizeof(buf));
		assert_string_equal(buf, samples[i].value);
		/* What config_format writes reads back the same. */
		load_one(samples[i].name, buf, &again);
		expect_formatted(&again, samples[i].name, samples[i].value);
		config_free(&again);
		config_free(&cfg);
	}

	/* Values are written in one canonical spelling. */
	load_text("[daemon]\nsocket_mode = 00640\nworkers = 007\n", &cfg);
	expect_formatted(&cfg, "socket_mode", "0640");
	expect_formatted(&cfg, "workers", "7");
	config_free(&cfg);
	load_text("[daemon]\nsocket_mode = 0\n", &cfg);
	expect_formatted(&cfg, "socket_mode", "0000");
	config_free(&cfg);
}

static void
test_restart_needed(void **state)
{
	struct config old, cfg;

	(void)state;
	load_text("", &old);
	load_text("", &cfg);
	assert_null(config_restart_needed(&old, &cfg));
	config_free(&cfg);

	/* Only the keys a reload cannot change are named. */
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct config_key *k = key_named(samples[i].name);

		load_one(samples[i].name, samples[i].value, &cfg);
		if (k->reloadable)
			assert_null(config_restart_needed(&old, &cfg));
		else
			assert_ptr_equal(config_restart_needed(&old, &cfg), k);
		config_free(&cfg);
	}

	/* The first such key in table order. */
	load_text("[target]\nconninfo = dbname=x\n"
	          "[daemon]\nworkers = 2\nsocket = /x\n",
	          &cfg);
	assert_ptr_equal(config_restart_needed(&old, &cfg),
	                 key_named("socket"));
	config_free(&cfg);

	/* Another spelling of the same value is no change. */
	load_text("[daemon]\nsocket_mode = 00660\nworkers = 04\n", &cfg);
	assert_null(config_restart_needed(&old, &cfg));
	config_free(&cfg);
	config_free(&old);
}

static void
test_keep(void **state)
{
	struct config old, cfg;
	const struct config_key *k;

	(void)state;
	load_text("", &old);
	load_text("[daemon]\nsocket = /new\nsocket_mode = 0600\nworkers = 9\n"
	          "batch_size = 7\nlog_level = error\n"
	          "[target]\nconninfo = dbname=new\n",
	          &cfg);
	for (k = config_keys; k->name != NULL; k++)
		if (!k->reloadable)
			assert_int_equal(config_keep(&cfg, &old, k), 0);
	assert_null(config_restart_needed(&old, &cfg));
	assert_string_equal(cfg.socket, "/run/migrated/io.migrated");
	assert_int_equal(cfg.socket_mode, 0660);
	assert_int_equal(cfg.workers, 4);
	assert_string_equal(cfg.target_conninfo, "");
	/* Reloadable keys keep their new values. */
	assert_int_equal(cfg.batch_size, 7);
	assert_int_equal(cfg.log_level, LOG_ERR);

	/* Any key can be kept, a reloadable one included. */
	assert_int_equal(config_keep(&cfg, &old, key_named("log_level")), 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(config_keep(&cfg, &old, key_named("batch_size")), 0);
	assert_int_equal(cfg.batch_size, 1000);
	config_free(&cfg);
	config_free(&old);
}

/* --- [database NAME] ------------------------------------------------------ */

static void
test_databases(void **state)
{
	struct config cfg;
	const struct config_database *db;

	(void)state;
	load_text("[daemon]\nworkers = 2\n"
	          "[database legacy]\n"
	          "conninfo = host=old.example.com dbname=app user=ro\n"
	          "\n"
	          "[database Tumi_2-b]\n# a comment\nconninfo = service=tumi\n"
	          "[target]\nconninfo = dbname=new\n"
	          "[database uri]\nconninfo = postgresql://ro@db/app\n",
	          &cfg);
	assert_int_equal(cfg.workers, 2);
	assert_string_equal(cfg.target_conninfo, "dbname=new");
	assert_int_equal(cfg.ndatabases, 3);
	/* in file order, each with the line of its header */
	assert_string_equal(cfg.databases[0].name, "legacy");
	assert_string_equal(cfg.databases[0].conninfo,
	                    "host=old.example.com dbname=app user=ro");
	assert_null(cfg.databases[0].sqlite);
	assert_int_equal(cfg.databases[0].line, 3);
	assert_string_equal(cfg.databases[1].name, "Tumi_2-b");
	assert_string_equal(cfg.databases[1].conninfo, "service=tumi");
	assert_int_equal(cfg.databases[1].line, 6);
	assert_string_equal(cfg.databases[2].name, "uri");
	assert_int_equal(cfg.databases[2].line, 11);
	db = config_database(&cfg, "Tumi_2-b");
	assert_ptr_equal(db, &cfg.databases[1]);
	assert_null(config_database(&cfg, "tumi_2-b"));
	assert_null(config_database(&cfg, "target"));
	/* a database's key is not the config's */
	expect_formatted(&cfg, "conninfo", "dbname=new");
	config_free(&cfg);
	assert_null(cfg.databases);
	assert_int_equal(cfg.ndatabases, 0);

	/* 63 characters is the longest name */
	load_text(
	        "[database "
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	        "]\nconninfo = dbname=x\n",
	        &cfg);
	assert_int_equal(strlen(cfg.databases[0].name), 63);
	config_free(&cfg);

	/* the last section of the file */
	load_text("[database last]\nconninfo = dbname=x", &cfg);
	assert_int_equal(cfg.ndatabases, 1);
	config_free(&cfg);
}

static void
test_database_errors(void **state)
{
	(void)state;
	expect_error("[database legacy]\nconninfo = dbname=x\nhost = db\n", 3,
	             "unknown key 'host' in [database legacy]");
	expect_error("[database legacy]\nworkers = 2\n", 2,
	             "unknown key 'workers' in [database legacy]");
	expect_error("[database a]\nconninfo = dbname=x\nconninfo = dbname=y\n",
	             3, "'conninfo' is set twice in [database a]");
	/* each database has its own keys */
	expect_error("[database a]\nconninfo = dbname=x\n"
	             "[database b]\nconninfo = dbname=y\n[daemon]\n"
	             "workers = 1\nworkers = 2\n",
	             7, "'workers' is set twice in [daemon]");

	expect_error("[database legacy]\nconninfo = dbname=x\nsqlite = /x.db\n",
	             3,
	             "[database legacy]: conninfo and sqlite are both set; a "
	             "database is either PostgreSQL (conninfo) or SQLite "
	             "(sqlite)");
	/* neither: at the header, whether another section follows or not */
	expect_error("[daemon]\n[database legacy]\n# nothing\n[target]\n", 2,
	             "[database legacy]: set conninfo (PostgreSQL) or sqlite "
	             "(a SQLite file)");
	expect_error("[daemon]\n\n[database legacy]\n", 3,
	             "[database legacy]: set conninfo (PostgreSQL) or sqlite "
	             "(a SQLite file)");
	expect_error("[database a]\nconninfo = dbname=x\n[database b]\n"
	             "[database c]\nconninfo = dbname=x\n",
	             3,
	             "[database b]: set conninfo (PostgreSQL) or sqlite (a "
	             "SQLite file)");

	expect_error("[database legacy]\nconninfo =\n", 2,
	             "[database legacy] conninfo: empty; give a libpq "
	             "connection string or service=NAME");
	expect_error("[database legacy]\nsqlite =\n", 2,
	             "[database legacy] sqlite: empty; give the path of a "
	             "SQLite file");
}

static void
test_database_names(void **state)
{
	static const char *const bad[] = {
	        "le.gacy",
	        "a b",
	        "é",
	        "a/b",
	        "'x'",
	        "x;y",
	        "legacy ",
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
	};
	char text[256], msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		         "[daemon]\n[database %s]\nconninfo = dbname=x\n",
		         bad[i]);
		snprintf(msg, sizeof(msg),
		         "[database %s]: a database name is 1 to 63 letters, "
		         "digits, '_' or '-'",
		         bad[i]);
		expect_error(text, 2, msg);
	}
	expect_error("[database]\nconninfo = dbname=x\n", 1,
	             "[database] needs a name: [database NAME]");
	expect_error("[database  ]\nconninfo = dbname=x\n", 1,
	             "[database] needs a name: [database NAME]");
	expect_error("[database target]\nconninfo = dbname=x\n", 1,
	             "[database target]: the name 'target' is reserved for "
	             "the [target] section");
	expect_error("[databases x]\nconninfo = dbname=x\n", 1,
	             "unknown section [databases x] " KNOWN);
	expect_error("[daemon x]\n", 1, "unknown section [daemon x] " KNOWN);
	expect_error("[Database x]\n", 1,
	             "unknown section [Database x] " KNOWN);
	/* a duplicate names the first */
	expect_error("[database legacy]\nconninfo = dbname=x\n\n"
	             "[daemon]\nworkers = 2\n[database legacy]\n"
	             "conninfo = dbname=y\n",
	             6, "[database legacy] is defined twice (first at line 1)");
}

static void
test_malformed_conninfo(void **state)
{
	(void)state;
	/* libpq's own words, without its newline */
	expect_error("[database legacy]\nconninfo = host=db dbname\n", 2,
	             "[database legacy] conninfo: missing \"=\" after "
	             "\"dbname\" in connection info string");
	expect_error("[database legacy]\nconninfo = hots=db\n", 2,
	             "[database legacy] conninfo: invalid connection option "
	             "\"hots\"");
	expect_error("[database legacy]\nconninfo = host='db\n", 2,
	             "[database legacy] conninfo: unterminated quoted string "
	             "in connection info string");
	expect_error("[database legacy]\nconninfo = postgresql://db/app?x=1\n",
	             2,
	             "[database legacy] conninfo: invalid URI query parameter: "
	             "\"x\"");
	/* the target's too */
	expect_error("[target]\nconninfo = dbname\n", 2,
	             "conninfo: missing \"=\" after \"dbname\" in connection "
	             "info string");
}

/* Databases may all change on reload; none needs a restart. */
static void
test_databases_reloadable(void **state)
{
	struct config old, cfg;

	(void)state;
	load_text("[database a]\nconninfo = dbname=a\n", &old);
	load_text("[database b]\nconninfo = dbname=b\n"
	          "[database c]\nconninfo = dbname=c\n",
	          &cfg);
	assert_null(config_restart_needed(&old, &cfg));
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (!per_database(k))
			continue;
		assert_true(k->reloadable);
		assert_int_equal(config_keep(&cfg, &old, k), 0);
	}
	assert_int_equal(cfg.ndatabases, 2);
	config_free(&cfg);
	config_free(&old);
}

/* --- [schema NAME] -------------------------------------------------------- */

static void
test_schemas(void **state)
{
	struct config cfg, old;
	const struct config_schema *set;

	(void)state;
	load_text("[schema app]\ndir = /srv/schema/app\n"
	          "[schema legacy-app]\ndatabase = legacy\ndir = rel/dir\n"
	          "[database legacy]\nconninfo = dbname=legacy\n",
	          &cfg);
	assert_int_equal(cfg.nschemas, 2);
	set = config_schema(&cfg, "app");
	assert_non_null(set);
	assert_string_equal(set->database, "target");
	assert_string_equal(set->dir, "/srv/schema/app");
	assert_int_equal(set->line, 1);
	set = config_schema(&cfg, "legacy-app");
	assert_non_null(set);
	assert_string_equal(set->database, "legacy");
	assert_string_equal(set->dir, "rel/dir");
	assert_int_equal(set->line, 3);
	assert_null(config_schema(&cfg, "nope"));
	/* sets may all change on reload */
	load_text("", &old);
	assert_null(config_restart_needed(&old, &cfg));
	config_free(&old);
	config_free(&cfg);

	expect_error("[schema app]\n", 1,
	             "[schema app]: set dir, the directory of the set's "
	             "NNN_name.sql files");
	expect_error("[schema app]\ndatabase = target\n[daemon]\n", 1,
	             "[schema app]: set dir, the directory of the set's "
	             "NNN_name.sql files");
	expect_error("[schema app]\ndir =\n", 2,
	             "[schema app] dir: empty; give the directory of the "
	             "set's files");
	expect_error("[schema]\n", 1, "[schema] needs a name: [schema NAME]");
	expect_error("[schema a b]\n", 1,
	             "[schema a b]: a schema set's name is 1 to 63 letters, "
	             "digits, '_' or '-'");
	expect_error("[schema migrated]\ndir = x\n", 1,
	             "[schema migrated]: the name 'migrated' is reserved for "
	             "the daemon's own schema");
	expect_error("[schema a]\ndir = x\n[schema a]\ndir = y\n", 3,
	             "[schema a] is defined twice (first at line 1)");
	expect_error("[schema a]\ndir = x\ndir = y\n", 3,
	             "'dir' is set twice in [schema a]");
	expect_error("[schema a]\ndir = x\nconninfo = y\n", 3,
	             "unknown key 'conninfo' in [schema a]");
	expect_error("[daemon]\n[schema a]\ndatabase = nope\ndir = x\n", 2,
	             "[schema a] database: no [database nope] section; name "
	             "one, or use target");
}

/* --- the sample and the man page agree with the table ---------------------- */

/* One line of a file, trailing white space stripped. */
struct sample_line {
	char text[512];
	int number;
};

static size_t
read_lines(const char *path, struct sample_line *lines, size_t max)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;

	if (fp == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	while (n < max && fgets(lines[n].text, sizeof(lines[n].text), fp)) {
		char *t = lines[n].text;
		size_t len = strlen(t);

		while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == ' ' ||
		                   t[len - 1] == '\t' || t[len - 1] == '\r'))
			t[--len] = '\0';
		lines[n].number = (int)n + 1;
		n++;
	}
	assert_true(feof(fp));
	fclose(fp);
	return n;
}

static size_t
read_sample(struct sample_line *lines, size_t max)
{
	return read_lines(SAMPLE_CONF, lines, max);
}

/*
 * Recognises "NAME = ..." and "#NAME = ..." (or ";NAME"): the key name into
 * name, and whether the line is commented out.
 */
static bool
key_line(const char *line, char *name, size_t size, bool *commented)
{
	const char *p = line;
	size_t len = 0;

	*commented = (*p == '#' || *p == ';');
	if (*commented)
		p++;
	while ((p[len] >= 'a' && p[len] <= 'z') ||
	       (p[len] >= 'A' && p[len] <= 'Z') ||
	       (p[len] >= '0' && p[len] <= '9') || p[len] == '_')
		len++;
	if (len == 0 || len >= size)
		return false;
	memcpy(name, p, len);
	name[len] = '\0';
	p += len;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

/*
 * Recognises "[section]" and a commented-out "#[section]": the kind of
 * section ("database" for "[database NAME]") into kind.
 */
static bool
header_line(const char *line, char *kind, size_t size, bool *commented)
{
	bool hash = (line[0] == '#' || line[0] == ';');
	const char *p = line + hash;
	size_t len;

	if (*p != '[' || strchr(p, ']') == NULL)
		return false;
	p++;
	len = strcspn(p, " ]");
	assert_true(len < size);
	memcpy(kind, p, len);
	kind[len] = '\0';
	*commented = hash;
	return true;
}

static const struct config_key *
key_in(const char *section, const char *name)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->section, section) == 0 &&
		    strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

#define MAX_SAMPLE_LINES 1000
#define MAX_KEYS 64 /* more than config_keys holds */

static size_t
nkeys(void)
{
	size_t n = 0;

	while (config_keys[n].name != NULL)
		n++;
	assert_true(n < MAX_KEYS);
	return n;
}

/*
 * Every key of [daemon] and [target] appears once, in its section, at its
 * default; the keys of [database NAME] appear at most once each, commented
 * out under a commented-out example section (a database has no default).
 */
static void
test_sample_agrees_with_table(void **state)
{
	static struct sample_line lines[MAX_SAMPLE_LINES];
	size_t nlines = read_sample(lines, MAX_SAMPLE_LINES);
	int count[MAX_KEYS] = {0};
	char section[64] = "";
	bool section_commented = false;
	int database_headers = 0, schema_headers = 0;

	(void)state;
	(void)nkeys();
	assert_true(nlines < MAX_SAMPLE_LINES);
	for (size_t i = 0; i < nlines; i++) {
		const char *t = lines[i].text;
		char name[64], want[512];
		const struct config_key *k;
		bool commented;

		if (header_line(t, section, sizeof(section),
		                &section_commented)) {
			if (strcmp(section, "database") == 0)
				database_headers++;
			if (strcmp(section, "schema") == 0)
				schema_headers++;
			continue;
		}
		if (!key_line(t, name, sizeof(name), &commented))
			continue;
		k = key_in(section, name);
		if (k == NULL) {
			fail_msg("%s:%d: '%s' is not a key of [%s] in "
			         "config_keys",
			         SAMPLE_CONF, lines[i].number, name, section);
			return;
		}
		count[k - config_keys]++;
		if (per_section(k)) {
			if (!commented || !section_commented)
				fail_msg("%s:%d: '%s' and its [%s NAME] "
				         "should be commented out",
				         SAMPLE_CONF, lines[i].number, name,
				         k->section);
			continue;
		}
		if (section_commented)
			fail_msg("%s:%d: [%s] should not be commented out",
			         SAMPLE_CONF, lines[i].number, section);
		if (!commented)
			continue;
		snprintf(want, sizeof(want), "#%s =%s%s", k->name,
		         k->def[0] != '\0' ? " " : "", k->def);
		if (strcmp(t, want) != 0)
			fail_msg("%s:%d: '%s' should read '%s'", SAMPLE_CONF,
			         lines[i].number, t, want);
	}
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (per_section(k) ? count[k - config_keys] > 1
		                   : count[k - config_keys] != 1)
			fail_msg("%s: '%s' of [%s] appears %d times",
			         SAMPLE_CONF, k->name, k->section,
			         count[k - config_keys]);
	if (database_headers == 0)
		fail_msg("%s: no example of [database NAME]", SAMPLE_CONF);
	if (schema_headers == 0)
		fail_msg("%s: no example of [schema NAME]", SAMPLE_CONF);
}

static void
test_sample_loads_as_defaults(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(SAMPLE_CONF, &cfg);
	expect_defaults(&cfg);
	assert_int_equal(cfg.ndatabases, 0);
	config_free(&cfg);
}

/*
 * With every "#key = value" and "#[section]" uncommented, the sample still
 * means the defaults, plus its example databases.
 */
static void
test_sample_uncommented_is_defaults(void **state)
{
	static struct sample_line lines[MAX_SAMPLE_LINES];
	static char text[MAX_SAMPLE_LINES * 512];
	size_t nlines = read_sample(lines, MAX_SAMPLE_LINES);
	size_t len = 0;
	size_t keys = 0, database_keys = 0, databases = 0, schemas = 0;
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < nlines; i++) {
		const char *t = lines[i].text;
		char name[64];
		bool commented;

		if (header_line(t, name, sizeof(name), &commented)) {
			t += commented;
			databases += strcmp(name, "database") == 0;
			schemas += strcmp(name, "schema") == 0;
		} else if (key_line(t, name, sizeof(name), &commented)) {
			t += commented;
			keys++;
		}
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n",
		                        t);
	}
	load_ok(write_file("sample.conf", text, len), &cfg);
	expect_defaults(&cfg);
	assert_int_equal(cfg.ndatabases, databases);
	for (size_t i = 0; i < cfg.ndatabases; i++)
		database_keys += (cfg.databases[i].conninfo != NULL) +
		                 (cfg.databases[i].sqlite != NULL);
	assert_int_equal(cfg.nschemas, schemas);
	/* each example set names its database and dir */
	assert_int_equal(keys, NSAMPLES + database_keys + 2 * schemas);
	config_free(&cfg);
}

/*
 * man/migrated.conf.5 documents every key of the table, each once, in the
 * subsection of its section (".Ss Section [database NAME]" for a
 * database's), with what a reload does to it; and nothing else.
 */
static void
test_man_page_agrees_with_table(void **state)
{
	static struct sample_line lines[MAX_SAMPLE_LINES * 2];
	size_t nlines = read_lines(MAN_CONF, lines, MAX_SAMPLE_LINES * 2);
	int count[MAX_KEYS] = {0};
	char section[64] = "";
	const struct config_key *key = NULL;
	bool reload_said = true;

	(void)state;
	(void)nkeys();
	for (size_t i = 0; i < nlines; i++) {
		const char *t = lines[i].text;
		char name[64];
		bool commented;

		if (strncmp(t, ".Ss Section ", 12) == 0) {
			assert_true(header_line(t + 12, section,
			                        sizeof(section), &commented));
			continue;
		}
		if (strncmp(t, ".S", 2) == 0) { /* .Sh or another .Ss */
			section[0] = '\0';
			continue;
		}
		if (section[0] == '\0')
			continue;
		if (strncmp(t, ".It Cm ", 7) == 0) {
			size_t n = strcspn(t + 7, " ");
			if (!reload_said)
				fail_msg("%s: '%s' of [%s] does not say "
				         "\"Reload: ...\"",
				         MAN_CONF, key->name, key->section);
			assert_true(n < sizeof(name));
			memcpy(name, t + 7, n);
			name[n] = '\0';
			key = key_in(section, name);
			if (key == NULL) {
				fail_msg("%s:%d: '%s' is not a key of [%s] in "
				         "config_keys",
				         MAN_CONF, lines[i].number, name,
				         section);
				return;
			}
			count[key - config_keys]++;
			reload_said = false;
			continue;
		}
		if (key != NULL && !reload_said &&
		    strncmp(t, "Reload: ", 8) == 0) {
			bool applied = strncmp(t + 8, "applied", 7) == 0;
			if (applied != key->reloadable)
				fail_msg("%s:%d: '%s' of [%s] is %sreloadable "
				         "in config_keys",
				         MAN_CONF, lines[i].number, key->name,
				         key->section,
				         key->reloadable ? "" : "not ");
			reload_said = true;
		}
	}
	if (!reload_said)
		fail_msg("%s: '%s' of [%s] does not say \"Reload: ...\"",
		         MAN_CONF, key->name, key->section);
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (count[k - config_keys] != 1)
			fail_msg("%s: '%s' of [%s] is documented %d times, not "
			         "once",
			         MAN_CONF, k->name, k->section,
			         count[k - config_keys]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_key_table),
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_every_key_set),
	        cmocka_unit_test(test_log_levels),
	        cmocka_unit_test(test_unknown_key),
	        cmocka_unit_test(test_unknown_section),
	        cmocka_unit_test(test_unknown_empty_section),
	        cmocka_unit_test(test_key_outside_section),
	        cmocka_unit_test(test_duplicate_key),
	        cmocka_unit_test(test_bad_integers),
	        cmocka_unit_test(test_bad_modes),
	        cmocka_unit_test(test_metrics_listen),
	        cmocka_unit_test(test_bad_log_level),
	        cmocka_unit_test(test_continuation_line),
	        cmocka_unit_test(test_line_too_long),
	        cmocka_unit_test(test_missing_or_unreadable),
	        cmocka_unit_test(test_syntax_errors),
	        cmocka_unit_test(test_first_error_reported),
	        cmocka_unit_test(test_nul_bytes_refused),
	        cmocka_unit_test(test_format_round_trip),
	        cmocka_unit_test(test_restart_needed),
	        cmocka_unit_test(test_keep),
	        cmocka_unit_test(test_databases),
	        cmocka_unit_test(test_database_errors),
	        cmocka_unit_test(test_database_names),
	        cmocka_unit_test(test_malformed_conninfo),
	        cmocka_unit_test(test_databases_reloadable),
	        cmocka_unit_test(test_schemas),
	        cmocka_unit_test(test_sample_agrees_with_table),
	        cmocka_unit_test(test_sample_loads_as_defaults),
	        cmocka_unit_test(test_sample_uncommented_is_defaults),
	        cmocka_unit_test(test_man_page_agrees_with_table),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
