#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <arpa/inet.h>
#include <libpq-fe.h>

#include "duration.h"
#include "inifile.h"

/* field is a member name for offsetof, so it cannot be parenthesized. */
#define KEY(sec, nm, ty, df, lo, hi, rl, field, hl)                            \
	{                                                                      \
		.section = (sec), .name = (nm), .type = (ty), .def = (df),     \
		.min = (lo), .max = (hi), .reloadable = (rl),                  \
		.offset = offsetof(struct config, field), .help = (hl)         \
	}

/* A key of [database NAME]: no default, no bounds, always reloadable. */
#define DBKEY(nm, ty, field, hl)                                               \
	{                                                                      \
		.section = "database", .name = (nm), .type = (ty),             \
		.def = NULL, .reloadable = true,                               \
		.offset = offsetof(struct config_database, field),             \
		.help = (hl)                                                   \
	}

/* A key of [schema NAME]: reloadable; def applied when the section starts. */
#define SCKEY(nm, ty, df, field, hl)                                           \
	{                                                                      \
		.section = "schema", .name = (nm), .type = (ty), .def = (df),  \
		.reloadable = true,                                            \
		.offset = offsetof(struct config_schema, field), .help = (hl)  \
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
        /* control socket limits (control.h) */
        KEY("daemon", "max_clients", CONFIG_INT, "4096", 1, 1000000, true,
            max_clients,
            "Clients connected at once, in all; more are turned away with "
            "TooManyClients."),
        KEY("daemon", "max_clients_per_uid", CONFIG_INT, "1024", 1, 1000000,
            true, max_clients_per_uid,
            "Clients connected at once with the same user id."),
        KEY("daemon", "client_output_max", CONFIG_INT, "67108864", 17825792,
            4294967296, true, client_output_max,
            "Bytes of replies a client may leave unread before it is "
            "dropped."),
        /* audit entries made while the database is down (audit_spool.h) */
        KEY("daemon", "audit_spool", CONFIG_STRING,
            "/var/lib/migrated/audit.spool", 0, 0, false, audit_spool,
            "File where audit entries wait while the database is down. "
            "Empty: they are only logged."),
        KEY("target", "conninfo", CONFIG_CONNINFO, "", 0, 0, false,
            target_conninfo,
            "libpq connection string or service=NAME of the target database. "
            "Empty: libpq defaults and PG* environment variables."),
        /* [metrics] */
        KEY("metrics", "listen", CONFIG_LISTEN, "", 0, 0, false, metrics_listen,
            "ADDRESS:PORT (numeric) of the Prometheus endpoint, GET /metrics. "
            "Empty: no endpoint."),
        DBKEY("conninfo", CONFIG_CONNINFO, conninfo,
              "libpq connection string or service=NAME of a PostgreSQL "
              "database. Set this or sqlite."),
        DBKEY("sqlite", CONFIG_STRING, sqlite,
              "Path of a SQLite database file (copy sources read it read-only). Set this "
              "or conninfo."),
        SCKEY("database", CONFIG_STRING, "target", database,
              "Where the set's files are applied: target, or the NAME of a "
              "[database NAME] section (PostgreSQL or a SQLite file)."),
        SCKEY("dir", CONFIG_STRING, NULL, dir,
              "Directory holding the set's NNN_name.sql files (and their "
              "NNN_name.down.sql). Required."),
        KEY("daemon", "batch_target", CONFIG_DURATION, "0", 0, 0, true,
            batch_target_ms,
            "Duration each batch should take (e.g. 500ms): batch sizes adapt "
            "within batch_min and batch_max. 0: fixed sizes."),
        KEY("daemon", "batch_min", CONFIG_INT, "1", 1, 1000000, true, batch_min,
            "Smallest adaptive batch size."),
        KEY("daemon", "batch_max", CONFIG_INT, "100000", 1, 1000000, true,
            batch_max, "Largest adaptive batch size."),
        KEY("throttle", "query", CONFIG_STRING, "", 0, 0, true, throttle_query,
            "SQL returning one number, run on the target every interval; or "
            "replication_lag: the largest replay lag of the target's "
            "standbys, in seconds. Empty: no load query."),
        KEY("throttle", "interval", CONFIG_DURATION, "1s", 0, 0, true,
            throttle_interval_ms, "How often the load query runs."),
        KEY("throttle", "timeout", CONFIG_DURATION, "5s", 0, 0, true,
            throttle_timeout_ms,
            "Longest the load query may run; a slower one counts as failed."),
        KEY("throttle", "max", CONFIG_NUMBER, "0", 0, 0, true, throttle_max,
            "Jobs wait between batches while the load value is above this. "
            "0: never."),
        KEY("throttle", "critical", CONFIG_NUMBER, "0", 0, 0, true,
            throttle_critical,
            "Running jobs are paused while the load value is above this. "
            "0: never."),
        KEY("throttle", "max_rows_per_second", CONFIG_INT, "0", 0, 1000000000,
            true, max_rows_per_second,
            "Rows per second all jobs of this daemon may do together. 0: no "
            "cap."),
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

/* Checks a connection string the way libpq will read it. */
static int
check_conninfo(const char *value, const char *where, const char *name,
               char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &msg);
	size_t len;

	if (opts != NULL) {
		PQconninfoFree(opts);
		return 0;
	}
	if (msg == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* libpq's messages end with a newline */
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	snprintf(err, errlen, "%s%s: %s", where, name, msg);
	PQfreemem(msg);
	return -1;
}

/*
 * Stores value for key into the struct at base (struct config, or a struct
 * config_database); on error writes a message to err, after where (the
 * section, for keys of sections that can appear more than once).
 */
static int
set_value(void *base, const struct config_key *key, const char *where,
          const char *value, char *err, size_t errlen)
{
	void *p = (char *)base + key->offset;
	long long n;

	switch (key->type) {
	case CONFIG_CONNINFO:
	case CONFIG_LISTEN:
	case CONFIG_STRING: {
		if (key->type == CONFIG_CONNINFO &&
		    check_conninfo(value, where, key->name, err, errlen) < 0)
			return -1;
		if (key->type == CONFIG_LISTEN && value[0] != '\0') {
			char host[64], why[160];
			unsigned port;
			if (config_listen_split(value, host, sizeof(host),
			                        &port, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s%s: %s", where,
				         key->name, why);
				return -1;
			}
		}
		char *copy = strdup(value);
		if (copy == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)p);
		*(char **)p = copy;
		return 0;
	}
	case CONFIG_MODE:
		if (value[0] != '0' || parse_int(value, 8, &n) < 0 ||
		    n < key->min || n > key->max) {
			snprintf(
			        err, errlen,
			        "%s%s: '%s' is not an octal file mode like 0660",
			        where, key->name, value);
			return -1;
		}
		*(unsigned *)p = (unsigned)n;
		return 0;
	case CONFIG_INT:
		if (parse_int(value, 10, &n) < 0 || n < key->min ||
		    n > key->max) {
			snprintf(
			        err, errlen,
			        "%s%s: '%s' is not a whole number from %lld to %lld",
			        where, key->name, value, key->min, key->max);
			return -1;
		}
		*(long long *)p = n;
		return 0;
	case CONFIG_DURATION:
		if (duration_parse(value, &n) < 0 ||
		    (n == 0 && strcmp(key->name, "interval") == 0) ||
		    (n == 0 && strcmp(key->name, "timeout") == 0)) {
			snprintf(
			        err, errlen,
			        "%s%s: '%s' is not a duration like 500ms, 2s or "
			        "1m%s",
			        where, key->name, value,
			        key->def != NULL && strcmp(key->def, "0") == 0
			                ? " (or 0)"
			                : "");
			return -1;
		}
		*(long long *)p = n;
		return 0;
	case CONFIG_NUMBER: {
		char *end;
		double d;
		errno = 0;
		d = strtod(value, &end);
		if (errno != 0 || end == value || *end != '\0' || d < 0 ||
		    d != d) {
			snprintf(err, errlen,
			         "%s%s: '%s' is not a number of 0 or more",
			         where, key->name, value);
			return -1;
		}
		*(double *)p = d;
		return 0;
	}
	case CONFIG_LEVEL:
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]);
		     i++) {
			if (strcmp(levels[i].name, value) == 0) {
				*(long long *)p = levels[i].level;
				return 0;
			}
		}
		snprintf(
		        err, errlen,
		        "%s%s: '%s' is not one of debug, info, notice, warning, "
		        "error",
		        where, key->name, value);
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

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

struct load_state {
	struct config *cfg;
	const struct section *sect; /* the current one; NULL before any */
	int line;                   /* of its header */
	char where[CONFIG_DATABASE_NAME_MAX + 32]; /* "[database NAME] " */
	bool seen[NKEYS]; /* [daemon] and [target]: over the whole file */
};

/*
 * A kind of section. Its keys are the rows of config_keys with its name;
 * named sections ([database NAME]) may appear once per NAME, the others
 * any number of times (their keys once in all).
 */
struct section {
	const char *name;
	const char *header; /* as the known sections are listed */
	bool named;
	/* Where its keys' values go. */
	void *(*record)(struct load_state *st);
	/* A header of this kind, with NAME (NULL for unnamed kinds). */
	int (*begin)(struct load_state *st, const char *name, char *err,
	             size_t errlen);
	/* After key was stored: what the key alone cannot say. */
	int (*key)(struct load_state *st, const struct config_key *key,
	           char *err, size_t errlen);
	/* The section ended: what needs all its keys. Sets *line. */
	int (*end)(struct load_state *st, int *line, char *err, size_t errlen);
};

static void *
config_record(struct load_state *st)
{
	return st->cfg;
}

static void *
database_record(struct load_state *st)
{
	return &st->cfg->databases[st->cfg->ndatabases - 1];
}

static bool
valid_database_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONFIG_DATABASE_NAME_MAX)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int
database_begin(struct load_state *st, const char *name, char *err,
               size_t errlen)
{
	struct config *cfg = st->cfg;
	const struct config_database *first;
	struct config_database *dbs;

	if (name[0] == '\0') {
		snprintf(err, errlen,
		         "[database] needs a name: [database NAME]");
		return -1;
	}
	if (!valid_database_name(name)) {
		snprintf(err, errlen,
		         "[database %s]: a database name is 1 to %d letters, "
		         "digits, '_' or '-'",
		         name, CONFIG_DATABASE_NAME_MAX);
		return -1;
	}
	if (strcmp(name, "target") == 0) {
		snprintf(err, errlen,
		         "[database target]: the name 'target' is reserved for "
		         "the [target] section");
		return -1;
	}
	first = config_database(cfg, name);
	if (first != NULL) {
		snprintf(err, errlen,
		         "[database %s] is defined twice (first at line %u)",
		         name, first->line);
		return -1;
	}
	dbs = realloc(cfg->databases,
	              (cfg->ndatabases + 1) * sizeof(*cfg->databases));
	if (dbs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->databases = dbs;
	memset(&dbs[cfg->ndatabases], 0, sizeof(*dbs));
	dbs[cfg->ndatabases].name = strdup(name);
	dbs[cfg->ndatabases].line = (unsigned)st->line;
	cfg->ndatabases++;
	if (dbs[cfg->ndatabases - 1].name == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(st->where, sizeof(st->where), "[database %s] ", name);
	return 0;
}

static int
database_key(struct load_state *st, const struct config_key *key, char *err,
             size_t errlen)
{
	const struct config_database *db = database_record(st);
	const char *value = *(char *const *)((const char *)db + key->offset);

	if (db->conninfo != NULL && db->sqlite != NULL) {
		snprintf(err, errlen,
		         "[database %s]: conninfo and sqlite are both set; a "
		         "database is either PostgreSQL (conninfo) or SQLite "
		         "(sqlite)",
		         db->name);
		return -1;
	}
	if (value[0] == '\0') {
		snprintf(
		        err, errlen, "%s%s: empty; %s", st->where, key->name,
		        key->type == CONFIG_CONNINFO
		                ? "give a libpq connection string or service=NAME"
		                : "give the path of a SQLite file");
		return -1;
	}
	return 0;
}

static int
database_end(struct load_state *st, int *line, char *err, size_t errlen)
{
	const struct config_database *db = database_record(st);

	if (db->conninfo != NULL || db->sqlite != NULL)
		return 0;
	*line = (int)db->line;
	snprintf(err, errlen,
	         "[database %s]: set conninfo (PostgreSQL) or sqlite (a SQLite "
	         "file)",
	         db->name);
	return -1;
}

static void *
schema_record(struct load_state *st)
{
	return &st->cfg->schemas[st->cfg->nschemas - 1];
}

static int
schema_begin(struct load_state *st, const char *name, char *err, size_t errlen)
{
	struct config *cfg = st->cfg;
	const struct config_schema *first;
	struct config_schema *sets;

	if (name[0] == '\0') {
		snprintf(err, errlen, "[schema] needs a name: [schema NAME]");
		return -1;
	}
	if (!valid_database_name(name)) {
		snprintf(err, errlen,
		         "[schema %s]: a schema set's name is 1 to %d letters, "
		         "digits, '_' or '-'",
		         name, CONFIG_DATABASE_NAME_MAX);
		return -1;
	}
	if (strcmp(name, "migrated") == 0) {
		snprintf(
		        err, errlen,
		        "[schema migrated]: the name 'migrated' is reserved for "
		        "the daemon's own schema");
		return -1;
	}
	first = config_schema(cfg, name);
	if (first != NULL) {
		snprintf(err, errlen,
		         "[schema %s] is defined twice (first at line %u)",
		         name, first->line);
		return -1;
	}
	sets = realloc(cfg->schemas, (cfg->nschemas + 1) * sizeof(*sets));
	if (sets == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->schemas = sets;
	memset(&sets[cfg->nschemas], 0, sizeof(*sets));
	sets[cfg->nschemas].line = (unsigned)st->line;
	cfg->nschemas++;
	sets[cfg->nschemas - 1].name = strdup(name);
	if (sets[cfg->nschemas - 1].name == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(st->where, sizeof(st->where), "[schema %s] ", name);
	/* the keys with a default get it now; the file may override it */
	for (const struct config_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->section, "schema") == 0 && k->def != NULL &&
		    set_value(schema_record(st), k, st->where, k->def, err,
		              errlen) < 0)
			return -1;
	return 0;
}

static int
schema_key(struct load_state *st, const struct config_key *key, char *err,
           size_t errlen)
{
	const struct config_schema *set = schema_record(st);
	const char *value = *(char *const *)((const char *)set + key->offset);

	if (value[0] == '\0') {
		snprintf(err, errlen, "%s%s: empty; %s", st->where, key->name,
		         strcmp(key->name, "dir") == 0
		                 ? "give the directory of the set's files"
		                 : "give target or the NAME of a [database "
		                   "NAME]");
		return -1;
	}
	return 0;
}

static int
schema_end(struct load_state *st, int *line, char *err, size_t errlen)
{
	const struct config_schema *set = schema_record(st);

	if (set->dir != NULL)
		return 0;
	*line = (int)set->line;
	snprintf(err, errlen,
	         "[schema %s]: set dir, the directory of the set's "
	         "NNN_name.sql files",
	         set->name);
	return -1;
}

/*
 * After the whole file: each set's database names the target or a
 * [database NAME], PostgreSQL or SQLite (which may come after the set in
 * the file).
 */
static int
check_schemas(const struct config *cfg, int *line, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nschemas; i++) {
		const struct config_schema *set = &cfg->schemas[i];
		const struct config_database *db;

		if (strcmp(set->database, "target") == 0)
			continue;
		*line = (int)set->line;
		db = config_database(cfg, set->database);
		if (db == NULL) {
			snprintf(err, errlen,
			         "[schema %s] database: no [database %s] "
			         "section; name one, or use target",
			         set->name, set->database);
			return -1;
		}
		/* PostgreSQL (conninfo) or a SQLite file (sqlite): both */
	}
	return 0;
}

static const struct section sections[] = {
        {.name = "daemon", .header = "[daemon]", .record = config_record},
        {.name = "target", .header = "[target]", .record = config_record},
        {.name = "metrics", .header = "[metrics]", .record = config_record},
        {.name = "database",
         .header = "[database NAME]",
         .named = true,
         .record = database_record,
         .begin = database_begin,
         .key = database_key,
         .end = database_end},
        {.name = "schema",
         .header = "[schema NAME]",
         .named = true,
         .record = schema_record,
         .begin = schema_begin,
         .key = schema_key,
         .end = schema_end},
        {.name = "throttle", .header = "[throttle]", .record = config_record},
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static bool
section_named(const char *name)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(sections[i].name, name) == 0)
			return sections[i].named;
	return false;
}

/* The kind of a header's text ("daemon", "database NAME"), and its NAME. */
static const struct section *
find_section(const char *text, const char **name)
{
	for (size_t i = 0; i < NSECTIONS; i++) {
		const struct section *sec = &sections[i];
		size_t len = strlen(sec->name);

		if (strncmp(text, sec->name, len) != 0)
			continue;
		if (!sec->named && text[len] == '\0') {
			*name = NULL;
			return sec;
		}
		if (sec->named && (text[len] == '\0' || text[len] == ' ' ||
		                   text[len] == '\t')) {
			*name = text + len + strspn(text + len, " \t");
			return sec;
		}
	}
	return NULL;
}

static void
unknown_section(const char *text, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "unknown section [%s] (known: ", text);

	for (size_t i = 0; i < NSECTIONS && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, "%s%s",
		              i > 0 ? ", " : "", sections[i].header);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
}

/* The current section ended; -1 with its message and line. */
static int
end_section(struct load_state *st, int *line, char *err, size_t errlen)
{
	if (st->sect == NULL || st->sect->end == NULL)
		return 0;
	return st->sect->end(st, line, err, errlen);
}

static int
on_header(struct load_state *st, struct inifile_pos *pos, const char *text,
          char *err, size_t errlen)
{
	const struct section *sec;
	const char *name;
	int line = 0;

	if (end_section(st, &line, err, errlen) < 0) {
		pos->error_line = line;
		return -1;
	}
	st->sect = NULL;
	sec = find_section(text, &name);
	if (sec == NULL) {
		unknown_section(text, err, errlen);
		return -1;
	}
	st->line = pos->line;
	st->where[0] = '\0';
	if (sec->named) /* each [database NAME] has keys of its own */
		for (size_t i = 0; i < NKEYS - 1; i++)
			if (strcmp(config_keys[i].section, sec->name) == 0)
				st->seen[i] = false;
	if (sec->begin != NULL && sec->begin(st, name, err, errlen) < 0)
		return -1;
	st->sect = sec;
	return 0;
}

static int
on_key(void *user, struct inifile_pos *pos, const char *section,
       const char *name, const char *value, char *err, size_t errlen)
{
	struct load_state *st = user;
	const struct config_key *key;

	if (name == NULL)
		return on_header(st, pos, section, err, errlen);
	if (section[0] == '\0' || st->sect == NULL) {
		snprintf(err, errlen, "'%s' is outside any section", name);
		return -1;
	}
	key = find_key(st->sect->name, name);
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
	if (set_value(st->sect->record(st), key, st->where, value, err,
	              errlen) < 0)
		return -1;
	/* the group is looked up later: its messages name this line */
	if (strcmp(key->section, "daemon") == 0 &&
	    strcmp(key->name, "admin_group") == 0)
		st->cfg->admin_group_line = pos->line;
	return st->sect->key != NULL ? st->sect->key(st, key, err, errlen) : 0;
}

/* One line per setting: no key takes a value over several lines. */
static const struct inifile_options config_ini = {
        .multiline = false,
        .sections = "[daemon], [target], [metrics], [database NAME], "
                    "[schema NAME] or [throttle]",
};

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct load_state st = {.cfg = cfg};
	struct inifile_error ierr;
	int line = 0;

	memset(cfg, 0, sizeof(*cfg));
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (section_named(k->section))
			continue;
		if (set_value(cfg, k, "", k->def, err, errlen) < 0) {
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
	if (end_section(&st, &line, ierr.msg, sizeof(ierr.msg)) < 0 ||
	    check_schemas(cfg, &line, ierr.msg, sizeof(ierr.msg)) < 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line, ierr.msg);
		config_free(cfg);
		return -1;
	}
	return 0;
}

int
config_listen_split(const char *value, char *host, size_t hostlen,
                    unsigned *port, char *err, size_t errlen)
{
	const char *colon = strrchr(value, ':');
	const char *addr = value;
	size_t alen;
	unsigned char bin[16];
	long long n;
	int family = AF_INET;

	if (colon == NULL || parse_int(colon + 1, 10, &n) < 0 || n < 1 ||
	    n > 65535) {
		snprintf(err, errlen,
		         "'%s' is not ADDRESS:PORT with a port from 1 to 65535 "
		         "(like 127.0.0.1:9187)",
		         value);
		return -1;
	}
	alen = (size_t)(colon - value);
	if (alen >= 2 && value[0] == '[' && value[alen - 1] == ']') {
		addr++;
		alen -= 2;
		family = AF_INET6;
	}
	if (alen == 0 || alen >= hostlen) {
		snprintf(err, errlen, "'%s': no address before the port",
		         value);
		return -1;
	}
	memcpy(host, addr, alen);
	host[alen] = '\0';
	if (inet_pton(family, host, bin) != 1) {
		snprintf(err, errlen,
		         "'%s': '%s' is not a numeric %s address (host names "
		         "are not looked up)",
		         value, host, family == AF_INET ? "IPv4" : "[IPv6]");
		return -1;
	}
	*port = (unsigned)n;
	return 0;
}

const struct config_schema *
config_schema(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nschemas; i++)
		if (strcmp(cfg->schemas[i].name, name) == 0)
			return &cfg->schemas[i];
	return NULL;
}

const struct config_database *
config_database(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ndatabases; i++)
		if (strcmp(cfg->databases[i].name, name) == 0)
			return &cfg->databases[i];
	return NULL;
}

void
config_format(const struct config *cfg, const struct config_key *key, char *buf,
              size_t len)
{
	if (section_named(key->section)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_LISTEN:
	case CONFIG_CONNINFO: {
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
	case CONFIG_DURATION:
		duration_format(*(const long long *)cfield(cfg, key), buf, len);
		return;
	case CONFIG_NUMBER:
		snprintf(buf, len, "%.17g", *(const double *)cfield(cfg, key));
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
		if (k->reloadable || section_named(k->section))
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

	if (section_named(key->section)) /* not kept in cfg itself */
		return 0;
	config_format(old, key, value, sizeof(value));
	return set_value(cfg, key, "", value, err, sizeof(err));
}

void
config_free(struct config *cfg)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		bool string = k->type == CONFIG_STRING ||
		              k->type == CONFIG_CONNINFO ||
		              k->type == CONFIG_LISTEN;
		if (!string)
			continue;
		if (!section_named(k->section)) {
			free(*(char **)field(cfg, k));
			continue;
		}
		if (strcmp(k->section, "schema") == 0) {
			for (size_t i = 0; i < cfg->nschemas; i++)
				free(*(char **)((char *)&cfg->schemas[i] +
				                k->offset));
			continue;
		}
		for (size_t i = 0; i < cfg->ndatabases; i++)
			free(*(char **)((char *)&cfg->databases[i] +
			                k->offset));
	}
	for (size_t i = 0; i < cfg->ndatabases; i++)
		free(cfg->databases[i].name);
	free(cfg->databases);
	for (size_t i = 0; i < cfg->nschemas; i++)
		free(cfg->schemas[i].name);
	free(cfg->schemas);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

int
config_check_sqlite(const struct config *cfg, FILE *out)
{
	int bad = 0;

	for (size_t i = 0; i < cfg->ndatabases; i++) {
		const struct config_database *db = &cfg->databases[i];
		char head[16];
		FILE *f;
		size_t n;

		if (db->sqlite == NULL)
			continue;
		f = fopen(db->sqlite, "rb");
		if (f == NULL) {
			fprintf(out, "%s:%u: [database %s]: sqlite = %s: %s\n",
			        cfg->file, db->line, db->name, db->sqlite,
			        strerror(errno));
			bad++;
			continue;
		}
		n = fread(head, 1, sizeof(head), f);
		fclose(f);
		/* an empty file is a database SQLite has not written yet */
		if (n != 0 && (n < sizeof(head) ||
		               memcmp(head, "SQLite format 3", 16) != 0)) {
			fprintf(out,
			        "%s:%u: [database %s]: sqlite = %s is not a "
			        "SQLite database file\n",
			        cfg->file, db->line, db->name, db->sqlite);
			bad++;
		}
	}
	return bad;
}
