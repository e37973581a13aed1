#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

static int max_level = LOG_INFO;
static bool to_journal;

void
log_init(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = stream != NULL &&
	             sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
	             fstat(STDERR_FILENO, &st) == 0 &&
	             (unsigned long long)st.st_dev == dev &&
	             (unsigned long long)st.st_ino == ino;
}

void
log_set_level(int level)
{
	max_level = level;
}

static const char *
level_name(int prio)
{
	static const char *const names[] = {"emerg", "alert",   "crit",
	                                    "error", "warning", "notice",
	                                    "info",  "debug"};

	return prio >= 0 && prio <= LOG_DEBUG ? names[prio] : "log";
}

static void
emit(int prio, const struct log_ctx *ctx, const char *fmt, va_list ap)
{
	char msg[4096];
	char where[512] = "";

	if (prio > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one message, one line (libpq's texts carry newlines and tabs) */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	if (to_journal) {
		char job[32];
		snprintf(job, sizeof(job), "%lld", ctx != NULL ? ctx->job : 0);
		if (ctx == NULL) {
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
			                NULL);
			return;
		}
		sd_journal_send(
		        "MESSAGE=%s", msg, "PRIORITY=%d", prio, "JOB_ID=%s",
		        job, "PLAN=%s", ctx->plan != NULL ? ctx->plan : "",
		        "TENANT=%s", ctx->tenant != NULL ? ctx->tenant : "",
		        "STEP=%s", ctx->step != NULL ? ctx->step : "", NULL);
		return;
	}
	if (ctx != NULL) {
		int n = snprintf(where, sizeof(where), "job %lld", ctx->job);
		if (ctx->plan != NULL && n > 0 && (size_t)n < sizeof(where))
			n += snprintf(where + n, sizeof(where) - (size_t)n,
			              " plan %s", ctx->plan);
		if (ctx->tenant != NULL && n > 0 && (size_t)n < sizeof(where))
			n += snprintf(where + n, sizeof(where) - (size_t)n,
			              " tenant %s", ctx->tenant);
		if (ctx->step != NULL && n > 0 && (size_t)n < sizeof(where))
			snprintf(where + n, sizeof(where) - (size_t)n,
			         " step %s", ctx->step);
		fprintf(stderr, "migrated[%d]: %s: %s: %s\n", (int)getpid(),
		        level_name(prio), where, msg);
		return;
	}
	fprintf(stderr, "migrated[%d]: %s: %s\n", (int)getpid(),
	        level_name(prio), msg);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(prio, NULL, fmt, ap);
	va_end(ap);
}

void
log_ctx(int prio, const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(prio, ctx, fmt, ap);
	va_end(ap);
}
