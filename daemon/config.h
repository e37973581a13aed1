/*
 * migrated.conf: one key table drives parsing, defaults and docs; one
 * section table says what each kind of [section] holds and checks.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_FILE MIGRATED_SYSCONFDIR "/migrated/migrated.conf"

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_MODE,
	CONFIG_LEVEL,
	CONFIG_CONNINFO, /* a string libpq's PQconninfoParse accepts */
	CONFIG_DURATION, /* 250ms, 2s, 5m, 1h (duration.h): long long ms */
	CONFIG_NUMBER,   /* a decimal number: double */
	CONFIG_LISTEN,   /* "" or ADDRESS:PORT, see config_listen_split */
};

/* Longest NAME of a [database NAME] section. */
#define CONFIG_DATABASE_NAME_MAX 63

/* [database NAME]: a PostgreSQL (conninfo) or a SQLite file (sqlite). */
struct config_database {
	char *name;
	char *conninfo; /* PostgreSQL; NULL for SQLite */
	char *sqlite;   /* path of a SQLite file; NULL for PostgreSQL */
	unsigned line;  /* of the section header */
};

/* [schema NAME]: versioned SQL files applied to one database. */
struct config_schema {
	char *name;
	char *database; /* "target" or the name of a [database NAME] */
	char *dir;      /* holding NNN_name.sql (and NNN_name.down.sql) */
	unsigned line;  /* of the section header */
};

struct config {
	char *file; /* the file this was read from */
	char *socket;
	unsigned socket_mode;
	char *plan_dir;
	long long workers;
	long long batch_size;
	char *admin_group;
	int admin_group_line; /* of its key; 0 when not set in the file */
	long long log_level;  /* syslog priority */
	char *target_conninfo;
	long long reconnect_max_ms;
	char *metrics_listen; /* [metrics] listen; "" when off */
	long long max_clients, max_clients_per_uid, client_output_max;
	char *audit_spool;
	struct config_database *databases; /* in file order */
	size_t ndatabases;
	struct config_schema *schemas; /* in file order */
	size_t nschemas;
	/* pacing defaults for plans that set none (0: off) */
	long long batch_target_ms;
	long long batch_min, batch_max;
	/* [throttle] */
	char *throttle_query; /* SQL, "replication_lag", or "" (none) */
	long long throttle_interval_ms;
	long long throttle_timeout_ms;
	double throttle_max;           /* 0: no max */
	double throttle_critical;      /* 0: no critical */
	long long max_rows_per_second; /* daemon-wide; 0: no cap */
};

/*
 * Splits a [metrics] listen value: a numeric IPv4 address or a bracketed
 * IPv6 one, a colon and a port from 1 to 65535 ("127.0.0.1:9187",
 * "[::1]:9187"); no host names, which would need a lookup. -1 with a
 * message in err.
 */
int config_listen_split(const char *value, char *host, size_t hostlen,
                        unsigned *port, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The [schema NAME] called name, or NULL. */
const struct config_schema *config_schema(const struct config *cfg,
                                          const char *name);

/*
 * Checks that the file of every SQLite [database NAME] exists, can be read
 * and is a SQLite database; prints one "file:line: what" per problem to
 * out and returns their number (migrated -n).
 */
int config_check_sqlite(const struct config *cfg, FILE *out);

/* The [database NAME] called name, or NULL. */
const struct config_database *config_database(const struct config *cfg,
                                              const char *name);

/*
 * One key. Keys of [daemon] and [target] live in struct config; keys of
 * [database NAME] (section "database") live in each struct
 * config_database, have no default, and are absent (NULL) when not set;
 * keys of [schema NAME] (section "schema") live in each struct
 * config_schema, set to their default (if any) when the section starts.
 */
struct config_key {
	const char *section;
	const char *name;
	const char *def; /* default, as it would be written in the file */
	const char *help;
	long long min, max; /* CONFIG_INT bounds */
	size_t offset;      /* into struct config, or struct config_database */
	enum config_type type;
	bool reloadable;
};

/* The key table, ended by an entry with a NULL name. */
extern const struct config_key config_keys[];

/*
 * Reads path into *cfg (defaults first). On failure returns -1, leaves *cfg
 * empty and writes "file:line: message" to err.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Names the first key that differs between old and new and cannot change
 * without a restart, or NULL. [database NAME] sections may all change.
 */
const struct config_key *config_restart_needed(const struct config *old,
                                               const struct config *new_cfg);

/* Copies the value of key from old into cfg (a key reload cannot change). */
int config_keep(struct config *cfg, const struct config *old,
                const struct config_key *key)
        __attribute__((warn_unused_result));

/*
 * Writes the value of key in cfg as it would appear in the file; a key of
 * [database NAME], which belongs to no single place in cfg, as "".
 */
void config_format(const struct config *cfg, const struct config_key *key,
                   char *buf, size_t len);

void config_free(struct config *cfg);

#endif
