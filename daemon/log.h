/* Logging: journal fields under systemd, "migrated[pid]: level: msg" else. */
#ifndef LOG_H
#define LOG_H

#include <syslog.h>

/* Context a message is about; any field may be NULL or 0. */
struct log_ctx {
	long long job;
	const char *plan;
	const char *tenant;
	const char *step;
};

/* Picks the journal when stderr is connected to it (JOURNAL_STREAM). */
void log_init(void);
void log_set_level(int level);

void log_msg(int prio, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Logs with job context: journal fields JOB_ID, PLAN, TENANT, STEP. */
void log_ctx(int prio, const struct log_ctx *ctx, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
