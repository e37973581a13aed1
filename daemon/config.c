#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "inifile.h"

/* field is a member name for offsetof, so it cannot be parenthesized. */
#define KEY(sec, nm, ty, df, lo, hi, rl, field, hl)                            \
	{                                                                      \
		.section = (sec), .name = (nm), .type = (ty), .def = (df),     \
		.min = (lo), .max = (hi), .reloadable = (rl),                  \
		.offset = offsetof(struct config, field), .help = (hl)         \
	}

const struct config_key config_keys[] = {
        KEY("daemon", "socket", CONFIG_STRING, "/run/migrated/io.migrated", 0,
            0, false, socket, "Path of the Varlink control socket."),
        KEY("daemon", "socket_mode", CONFIG_MODE, "0660", 0, 0777, false,
            socket_mode, "Permissions of the control socket (octal)."),
        KEY("daemon", "plan_dir", CONFIG_STRING, "/etc/migrated/plans", 0, 0,
            true, plan_dir, "Directory holding the NAME.plan files."),
        KEY("daemon", "workers", CONFIG_INT, "4", 1, 64, false, workers,
            "Jobs run at once, each on its own database connection."),
        KEY("daemon", "batch_size", CONFIG_INT, "1000", 1, 1000000, true,
            batch_size,
            "Rows per batch for steps that set no batch of their own."),
        KEY("daemon", "admin_group", CONFIG_STRING, "", 0, 0, true, admin_group,
            "Group whose members may call mutating methods, besides root and the "
            "daemon's own user. Empty: nobody else."),
        KEY("daemon", "log_level", CONFIG_LEVEL, "info", 0, 0, true, log_level,
            "Least important messages logged: debug, info, notice, warning or "
            "error."),
        KEY("daemon", "reconnect_max_ms", CONFIG_INT, "5000", 100, 600000, true,
            reconnect_max_ms,
            "Longest wait between attempts to reconnect to the database (ms)."),
        KEY("target", "conninfo", CONFIG_STRING, "", 0, 0, false,
            target_conninfo,
            "libpq connection string or service=NAME of the target database. "
            "Empty: libpq defaults and PG* environment variables."),
        {.name = NULL},
};

static const struct {
	const char *name;
	int level;
} levels[] = {
        {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
        {"warning", LOG_WARNING}, {"error", LOG_ERR},
};

static void *
field(struct config *cfg, const struct config_key *key)
{
	return (char *)cfg + key->offset;
}

static const void *
cfield(const struct config *cfg, const struct config_key *key)
{
	return (const char *)cfg + key->offset;
}

static int
parse_int(const char *value, int base, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(value, &end, base);
	if (errno != 0 || end == value || *end != '\0')
		return -1;
	return 0;
}

/* Stores value for key into cfg; on error writes a message to err. */
static int
set_value(struct config *cfg, const struct config_key *key, const char *value,
          char *err, size_t errlen)
{
	long long n;

	switch (key->type) {
	case CONFIG_STRING: {
		char *copy = strdup(value);
		if (copy == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field(cfg, key));
		*(char **)field(cfg, key) = copy;
		return 0;
	}
	case CONFIG_MODE:
		if (value[0] != '0' || parse_int(value, 8, &n) < 0 ||
		    n < key->min || n > key->max) {
			snprintf(err, errlen,
			         "%s: '%s' is not an octal file mode like 0660",
			         key->name, value);
			return -1;
		}
		*(unsigned *)field(cfg, key) = (unsigned)n;
		return 0;
	case CONFIG_INT:
		if (parse_int(value, 10, &n) < 0 || n < key->min ||
		    n > key->max) {
			snprintf(
			        err, errlen,
			        "%s: '%s' is not a whole number from %lld to %lld",
			        key->name, value, key->min, key->max);
			return -1;
		}
		*(long long *)field(cfg, key) = n;
		return 0;
	case CONFIG_LEVEL:
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]);
		     i++) {
			if (strcmp(levels[i].name, value) == 0) {
				*(long long *)field(cfg, key) = levels[i].level;
				return 0;
			}
		}
		snprintf(err, errlen,
		         "%s: '%s' is not one of debug, info, notice, warning, "
		         "error",
		         key->name, value);
		return -1;
	}
	snprintf(err, errlen, "%s: unknown type", key->name);
	return -1;
}

static const struct config_key *
find_key(const char *section, const char *name)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->section, section) == 0 &&
		    strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static bool
known_section(const char *section)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->section, section) == 0)
			return true;
	return false;
}

/* One line per setting: no key takes a value over several lines. */
static const struct inifile_options config_ini = {.multiline = false};

struct load_state {
	struct config *cfg;
	bool seen[sizeof(config_keys) / sizeof(config_keys[0])];
};

static int
on_key(void *user, struct inifile_pos *pos, const char *section,
       const char *name, const char *value, char *err, size_t errlen)
{
	struct load_state *st = user;
	const struct config_key *key;

	if (name == NULL) {
		if (known_section(section))
			return 0;
		snprintf(err, errlen,
		         "unknown section [%s] (known: [daemon], [target])",
		         section);
		return -1;
	}
	if (section[0] == '\0') {
		snprintf(err, errlen, "'%s' is outside any section", name);
		return -1;
	}
	if (!known_section(section)) {
		/* report it where the section starts, not at its first key */
		snprintf(err, errlen,
		         "unknown section [%s] (known: [daemon], [target])",
		         section);
		pos->error_line = pos->section_line;
		return -1;
	}
	key = find_key(section, name);
	if (key == NULL) {
		snprintf(err, errlen, "unknown key '%s' in [%s]", name,
		         section);
		return -1;
	}
	if (st->seen[key - config_keys]) {
		snprintf(err, errlen, "'%s' is set twice in [%s]", name,
		         section);
		return -1;
	}
	st->seen[key - config_keys] = true;
	return set_value(st->cfg, key, value, err, errlen);
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct load_state st = {.cfg = cfg};
	struct inifile_error ierr;

	memset(cfg, 0, sizeof(*cfg));
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (set_value(cfg, k, k->def, err, errlen) < 0) {
			config_free(cfg);
			return -1;
		}
	}
	cfg->file = strdup(path);
	if (cfg->file == NULL) {
		snprintf(err, errlen, "%s:0: out of memory", path);
		config_free(cfg);
		return -1;
	}
	if (inifile_parse(path, &config_ini, on_key, &st, &ierr) < 0) {
		snprintf(err, errlen, "%s:%d: %s", path, ierr.line, ierr.msg);
		config_free(cfg);
		return -1;
	}
	return 0;
}

void
config_format(const struct config *cfg, const struct config_key *key, char *buf,
              size_t len)
{
	switch (key->type) {
	case CONFIG_STRING: {
		const char *s = *(char *const *)cfield(cfg, key);
		snprintf(buf, len, "%s", s != NULL ? s : "");
		return;
	}
	case CONFIG_MODE:
		snprintf(buf, len, "%04o", *(const unsigned *)cfield(cfg, key));
		return;
	case CONFIG_INT:
		snprintf(buf, len, "%lld",
		         *(const long long *)cfield(cfg, key));
		return;
	case CONFIG_LEVEL:
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]);
		     i++) {
			if (levels[i].level ==
			    *(const long long *)cfield(cfg, key)) {
				snprintf(buf, len, "%s", levels[i].name);
				return;
			}
		}
		snprintf(buf, len, "?");
		return;
	}
}

const struct config_key *
config_restart_needed(const struct config *old, const struct config *new_cfg)
{
	char a[1024], b[1024];

	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (k->reloadable)
			continue;
		config_format(old, k, a, sizeof(a));
		config_format(new_cfg, k, b, sizeof(b));
		if (strcmp(a, b) != 0)
			return k;
	}
	return NULL;
}

int
config_keep(struct config *cfg, const struct config *old,
            const struct config_key *key)
{
	char value[4096];
	char err[256];

	config_format(old, key, value, sizeof(value));
	return set_value(cfg, key, value, err, sizeof(err));
}

void
config_free(struct config *cfg)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (k->type == CONFIG_STRING)
			free(*(char **)field(cfg, k));
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

const struct config_database *
config_database(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ndatabases; i++)
		if (strcmp(cfg->databases[i].name, name) == 0)
			return &cfg->databases[i];
	return NULL;
}
