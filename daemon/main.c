/* migrated: runs tenant data migrations on PostgreSQL as resumable jobs. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "audit_spool.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "databases.h"
#include "jobends.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "overview.h"
#include "nss_cache.h"
#include "catalog.h"
#include "schema_adopt.h"
#include "schema_files.h"
#include "schema_scratch.h"
#include "schema_sums.h"
#include "scheduler.h"
#include "store.h"
#include "throttle.h"

#define EXIT_CONFIG 1
#define EXIT_USAGE 2

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: migrated [-c FILE] [-n] [-d]\n"
	        "       migrated -V | -h\n"
	        "\n"
	        "Runs tenant data migrations on PostgreSQL in resumable "
	        "batches.\n"
	        "\n"
	        "  -c, --config FILE  configuration file (default %s)\n"
	        "  -n, --check        check the configuration and plans, then "
	        "exit\n"
	        "  -d, --debug        log debug messages\n"
	        "  -V, --version      print the version and exit\n"
	        "  -h, --help         print this help and exit\n"
	        "\n"
	        "See migrated(8), migrated.conf(5) and migrated.plan(5).\n",
	        CONFIG_DEFAULT_FILE);
}

/*
 * Resolves admin_group here and now (blocking: the check mode, and the
 * start before the loop runs, for the socket's group); -1 with a message
 * when the group does not exist.
 */
static int
admin_gid(const struct config *cfg, gid_t *gid, char *err, size_t errlen)
{
	bool found;

	*gid = (gid_t)-1;
	if (cfg->admin_group[0] == '\0')
		return 0;
	if (nss_group_lookup(cfg->admin_group, &found, gid) < 0) {
		snprintf(err, errlen, "%s:%d: admin_group: out of memory",
		         cfg->file, cfg->admin_group_line);
		return -1;
	}
	if (!found) {
		snprintf(err, errlen, "%s:%d: admin_group: no group named '%s'",
		         cfg->file, cfg->admin_group_line, cfg->admin_group);
		return -1;
	}
	return 0;
}

/* The running daemon's admin_group, once the worker looked it up: one
 * warning when it does not exist (then only root and the daemon's user may
 * mutate; methods.c decides on the cache's entry). */
static void
on_admin_group_known(void *arg, const struct nss_group *g)
{
	const struct daemon *d = arg;

	if (g != NULL && !g->found && strcmp(g->name, d->cfg.admin_group) == 0)
		log_warning("%s:%d: admin_group: no group named '%s'; only "
		            "root and the daemon's own user may call mutating "
		            "methods",
		            d->cfg.file, d->cfg.admin_group_line, g->name);
}

/* Starts the lookup of admin_group on the name-service worker. */
static void
look_up_admin_group(struct daemon *d)
{
	if (d->cfg.admin_group[0] != '\0' &&
	    nss_cache_wait_group(d->cfg.admin_group, on_admin_group_known, d) <
	            0)
		log_warning("admin_group: out of memory");
}

/*
 * Loads every schema set's directory (through sums when not NULL, which
 * then holds their checksums); the problems go to out (when not NULL) and
 * the first one to err. Returns the number of sets that do not load.
 */
static int
check_schema_sets(const struct config *cfg, struct schema_sums *sums, FILE *out,
                  char *err, size_t errlen)
{
	int bad = 0;

	for (size_t i = 0; i < cfg->nschemas; i++) {
		char msg[1024];
		const char *path = cfg->schemas[i].dir;
		struct schema_dir *dir =
		        sums != NULL
		                ? schema_dir_scan(path, sums, msg, sizeof(msg))
		                : schema_dir_load(path, msg, sizeof(msg));

		if (dir != NULL) {
			schema_dir_free(dir);
			continue;
		}
		if (out != NULL)
			fprintf(out, "%s\n", msg);
		if (bad++ == 0)
			snprintf(err, errlen, "[schema %s]: %s",
			         cfg->schemas[i].name, msg);
	}
	return bad;
}

static int
check_only(const char *file)
{
	struct config cfg;
	struct catalog *plans;
	char err[1024];
	gid_t gid;
	int rc = 0, bad;

	if (config_load(file, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	if (admin_gid(&cfg, &gid, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rc = EXIT_CONFIG;
	}
	plans = catalog_load(&cfg, stderr, &bad, err, sizeof(err));
	if (plans == NULL) {
		fprintf(stderr, "%s\n", err);
		rc = EXIT_CONFIG;
	} else if (bad > 0) {
		rc = EXIT_CONFIG;
	}
	if (check_schema_sets(&cfg, NULL, stderr, err, sizeof(err)) > 0)
		rc = EXIT_CONFIG;
	if (config_check_sqlite(&cfg, stderr) > 0)
		rc = EXIT_CONFIG;
	if (rc == 0)
		printf("%s: configuration, %zu database(s), %d plan(s) and %zu "
		       "schema set(s) are valid\n",
		       file, cfg.ndatabases, catalog_count(plans),
		       cfg.nschemas);
	catalog_unref(plans);
	config_free(&cfg);
	return rc;
}

static void
set_control_limits(const struct config *cfg)
{
	control_set_limits(&(struct control_limits){
	        .clients = cfg->max_clients,
	        .clients_per_uid = cfg->max_clients_per_uid,
	        .output_max = cfg->client_output_max});
}

int
daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct config cfg;
	struct catalog *plans;
	const struct config_key *fixed;
	char dberr[512];
	bool group_changed;
	int bad;

	if (config_load(d->cfg.file, &cfg, err, errlen) < 0)
		return -1;
	/* all or nothing: a bad plan keeps the old configuration and plans */
	plans = catalog_load(&cfg, NULL, &bad, err, errlen);
	if (plans == NULL || bad > 0) {
		if (plans != NULL)
			snprintf(err, errlen,
			         "%d plan(s) do not load (see above)", bad);
		catalog_unref(plans);
		config_free(&cfg);
		return -1;
	}
	/* and a schema set whose files do not load, likewise */
	if ((bad = check_schema_sets(&cfg, d->sums, NULL, err, errlen)) > 0) {
		catalog_unref(plans);
		config_free(&cfg);
		return -1;
	}
	while ((fixed = config_restart_needed(&d->cfg, &cfg)) != NULL) {
		log_warning("reload: [%s] %s changed; it takes effect at the "
		            "next start",
		            fixed->section, fixed->name);
		if (config_keep(&cfg, &d->cfg, fixed) < 0) {
			snprintf(err, errlen, "%s:0: out of memory", cfg.file);
			config_free(&cfg);
			catalog_unref(plans);
			return -1;
		}
	}
	/* the last step that can fail: new connections before the swap */
	if (databases_reload(d->dbs, &cfg, dberr, sizeof(dberr)) < 0) {
		snprintf(err, errlen, "%s:0: %s", cfg.file, dberr);
		config_free(&cfg);
		catalog_unref(plans);
		return -1;
	}
	/* a changed group is looked up on the worker; calls wait for it */
	group_changed = strcmp(cfg.admin_group, d->cfg.admin_group) != 0;
	config_free(&d->cfg);
	d->cfg = cfg;
	if (group_changed)
		look_up_admin_group(d);
	catalog_unref(d->plans);
	d->plans = plans;
	log_set_level(d->debug ? LOG_DEBUG : (int)d->cfg.log_level);
	set_control_limits(&d->cfg);
	store_set_backoff_max(d->store, d->cfg.reconnect_max_ms);
	scheduler_set_backoff_max(d->sched, d->cfg.reconnect_max_ms);
	jobends_set_backoff_max(d->ends, d->cfg.reconnect_max_ms);
	log_info("reloaded %s: %zu database(s), %d plan(s), %zu schema set(s)",
	         d->cfg.file, databases_count(d->dbs), catalog_count(d->plans),
	         d->cfg.nschemas);
	return 0;
}

static void
on_store_ready(void *arg, bool ready)
{
	struct daemon *d = arg;

	scheduler_set_ready(d->sched, ready);
	if (ready)
		audit_store_ready(d);
	if (ready && !d->ready) {
		d->ready = true;
		notify_ready();
		log_info("ready: listening on %s", d->cfg.socket);
	}
	if (!ready)
		notify_status("database unavailable: %s",
		              store_error(d->store) != NULL
		                      ? store_error(d->store)
		                      : "connecting");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char err[1024];

	(void)what;
	if (sig == SIGHUP) {
		notify_reloading();
		if (daemon_reload(d, err, sizeof(err)) < 0)
			log_error("reload failed: %s; keeping the previous "
			          "configuration",
			          err);
		/* ready again only if it was: before the database first
		 * answered, READY=1 comes from on_store_ready */
		if (d->ready)
			notify_ready();
		return;
	}
	log_info("received %s; stopping",
	         sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	event_base_loopbreak(d->base);
}

/*
 * Drops the scratch databases (schema diff of files:SET, squash) that
 * this host's killed daemons left on the servers of the schema sets.
 */
static int
sweep_scratch(struct daemon *d)
{
	const char **conninfos = calloc(d->cfg.nschemas + 1, sizeof(char *));
	size_t n = 0;

	if (conninfos == NULL)
		return -1;
	for (size_t i = 0; i < d->cfg.nschemas; i++) {
		const char *db = d->cfg.schemas[i].database;
		const struct config_database *cd;

		if (strcmp(db, "target") == 0)
			conninfos[n++] = d->cfg.target_conninfo != NULL
			                         ? d->cfg.target_conninfo
			                         : "";
		else if ((cd = config_database(&d->cfg, db)) != NULL &&
		         cd->conninfo != NULL)
			conninfos[n++] = cd->conninfo;
	}
	d->sweep =
	        n > 0 ? schema_scratch_sweep_new(d->base, conninfos, n) : NULL;
	free(conninfos);
	return n > 0 && d->sweep == NULL ? -1 : 0;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_debug("cannot raise the file limit: %s",
			          strerror(errno));
	}
}

static int
run(const char *file, bool debug)
{
	struct daemon d = {.started = time(NULL)};
	struct event *sigs[3] = {NULL, NULL, NULL};
	const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
	char err[1024];
	gid_t socket_gid;
	int rc = EXIT_CONFIG, bad;

	log_init();
	if (config_load(file, &d.cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	d.debug = debug;
	log_set_level(debug ? LOG_DEBUG : (int)d.cfg.log_level);
	/* before the loop runs: blocking is fine; a group that does not exist
	 * is warned about once the worker's lookup says so */
	if (admin_gid(&d.cfg, &socket_gid, err, sizeof(err)) < 0)
		socket_gid = (gid_t)-1;
	d.plans = catalog_load(&d.cfg, NULL, &bad, err, sizeof(err));
	if (d.plans == NULL) {
		log_error("%s", err);
		goto out;
	}
	/* the sets' checksums, read once here rather than at the first call */
	d.sums = schema_sums_new();
	if (d.sums == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (check_schema_sets(&d.cfg, d.sums, NULL, err, sizeof(err)) > 0)
		log_warning("%s", err);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	d.base = event_base_new();
	if (d.base == NULL) {
		log_error("cannot create the event loop");
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signos[i], on_signal, &d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) < 0) {
			log_error("cannot watch signals");
			goto out;
		}
	}
	if (notify_init(d.base) < 0)
		goto out;
	if (nss_cache_init(d.base) < 0) {
		log_error("cannot start the name-service lookup thread");
		goto out;
	}
	look_up_admin_group(&d);
	set_control_limits(&d.cfg);
	if (control_open(d.base, d.cfg.socket, d.cfg.socket_mode, socket_gid,
	                 methods_dispatch, &d, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	d.throttle = throttle_new(&d);
	if (metrics_http_open(d.base, d.cfg.metrics_listen, err, sizeof(err)) <
	    0) {
		log_error("%s:0: %s", d.cfg.file, err);
		goto out;
	}
	d.audit_spool = audit_spool_new(d.base, d.cfg.audit_spool);
	if (d.audit_spool == NULL && d.cfg.audit_spool[0] != '\0') {
		log_error("cannot set up the audit spool %s",
		          d.cfg.audit_spool);
		goto out;
	}
	d.sched = scheduler_new(&d);
	d.store = store_new(d.base, d.cfg.target_conninfo, on_store_ready, &d);
	if (d.throttle == NULL || d.sched == NULL || d.store == NULL) {
		log_error("out of memory");
		goto out;
	}
	store_set_backoff_max(d.store, d.cfg.reconnect_max_ms);
	d.ends = jobends_new(d.base, d.cfg.target_conninfo);
	if (d.ends == NULL) {
		log_error("out of memory");
		goto out;
	}
	jobends_set_backoff_max(d.ends, d.cfg.reconnect_max_ms);
	d.overview = overview_new(&d);
	if (d.overview == NULL) {
		log_error("out of memory");
		goto out;
	}
	d.dbs = databases_new(d.base, &d.cfg, err, sizeof(err));
	if (d.dbs == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (sweep_scratch(&d) < 0) {
		log_error("out of memory");
		goto out;
	}
	log_info("migrated %s starting: socket %s, %lld worker(s), %zu "
	         "database(s), %d plan(s)",
	         MIGRATED_VERSION, d.cfg.socket, d.cfg.workers,
	         databases_count(d.dbs), catalog_count(d.plans));
	notify_status("connecting to the database");
	event_base_dispatch(d.base);
	rc = 0;
out:
	/* Adopts still under way first (their connections roll back; the
	 * calls they answer are still there). Then in reverse order of
	 * start: the scratch sweep, the databases' monitor connections
	 * (no queries, nothing waits on them); then the store: its pending
	 * queries fail, and their callbacks still find the scheduler and the
	 * requests they answer. Calls waiting for a user lookup end first. */
	nss_cache_fini();
	schema_adopt_stop();
	schema_scratch_sweep_free(d.sweep);
	databases_free(d.dbs);
	store_free(d.store);
	overview_free(d.overview);
	/* after the store: entries its failing queries spool are written */
	audit_spool_free(d.audit_spool);
	scheduler_free(d.sched);
	throttle_free(d.throttle); /* after the batches that joined it */
	metrics_http_close();
	metrics_reset();
	control_close();
	/* after the watches, which control_close ends */
	jobends_free(d.ends);
	notify_finish();
	for (int i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (d.base != NULL)
		event_base_free(d.base);
	catalog_unref(d.plans);
	schema_sums_free(d.sums);
	config_free(&d.cfg);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check", no_argument, NULL, 'n'},
	        {"debug", no_argument, NULL, 'd'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *file = CONFIG_DEFAULT_FILE;
	bool check = false, debug = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:ndVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("migrated %s\n", MIGRATED_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "migrated: unexpected argument '%s'\n",
		        argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (check)
		return check_only(file);
	return run(file, debug);
}
