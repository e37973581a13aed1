/*
 * Planning a schema run (schema_apply_plan.h): the set's history against
 * its directory. Pure: which files run, in which order, and the refusals
 * that come before anything runs.
 */
#include "schema_apply_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int __attribute__((format(printf, 2, 3)))
refuse(struct schema_plan *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* NNN_name of a file: its name without the directory and ".sql". */
static void
step_name(const struct schema_file *f, char *out, size_t len)
{
	const char *base = strrchr(f->path, '/');
	size_t n;

	base = base != NULL ? base + 1 : f->path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".sql") == 0)
		n -= 4;
	snprintf(out, len, "%.*s", (int)n, base);
}

static void
add_item(const struct schema_plan_in *in, struct schema_plan *p,
         const struct schema_file *f)
{
	struct schema_item *it = &p->items[p->nitems++];

	it->f = f;
	if (in->revert) {
		it->sql = f->down_sql;
		it->path = f->down_path;
		it->checksum = f->down_checksum;
		it->no_tx = false;
	} else {
		it->sql = f->sql;
		it->path = f->path;
		it->checksum = f->checksum;
		it->no_tx = f->no_transaction;
	}
	step_name(f, it->step, sizeof(it->step));
}

/* Refuses an apply while an applied file was edited or is missing. */
static int
plan_apply(const struct schema_plan_in *in, struct schema_plan *p,
           const struct schema_applied *a, size_t na)
{
	const struct schema_dir *dir = in->dir;

	for (size_t i = 0; i < na; i++) {
		const struct schema_file *f =
		        schema_dir_find(dir, a[i].version);

		if (f == NULL) {
			refuse(p,
			       "refused before running anything: version %lld (%s) "
			       "is recorded as applied to %s but has no file in %s "
			       "any more; put the file back, or record the decision "
			       "with \"migratectl schema repair %s %lld forget\"",
			       a[i].version, a[i].name, in->dbname,
			       in->dir_path, in->set, a[i].version);
			return -1;
		}
		if (a[i].checksum != NULL &&
		    strcmp(a[i].checksum, f->checksum) != 0) {
			refuse(p,
			       "refused before running anything: %s was edited "
			       "since it was applied (the history has sha256 "
			       "%.12s..., the file now %.12s...); undo the edit, or "
			       "accept it with \"migratectl schema repair %s %lld "
			       "accept\"",
			       f->path, a[i].checksum, f->checksum, in->set,
			       a[i].version);
			return -1;
		}
	}
	for (size_t i = 0; i < dir->n; i++) {
		const struct schema_file *f = &dir->files[i];
		bool done = false;

		if (in->to >= 0 && f->version > in->to)
			break;
		for (size_t k = 0; k < na && !done; k++)
			done = a[k].version == f->version;
		if (!done)
			add_item(in, p, f);
	}
	if (p->nitems > 0 && na > 0 &&
	    p->items[0].f->version < a[na - 1].version) {
		snprintf(
		        p->note, sizeof(p->note),
		        "version %lld is older than the newest applied (%lld); "
		        "applying it out of order",
		        p->items[0].f->version, a[na - 1].version);
	}
	return 0;
}

/* The newest applied versions above to (or the newest), newest first. */
static int
plan_revert(const struct schema_plan_in *in, struct schema_plan *p,
            const struct schema_applied *a, size_t na)
{
	for (size_t k = na; k-- > 0;) {
		const struct schema_file *f;

		if (in->to >= 0 ? a[k].version <= in->to : p->nitems > 0)
			break;
		f = schema_dir_find(in->dir, a[k].version);
		if (f == NULL) {
			refuse(p,
			       "refused before reverting anything: version %lld "
			       "(%s) has no files in %s any more, so no down file "
			       "to revert it with",
			       a[k].version, a[k].name, in->dir_path);
			return -1;
		}
		if (f->down_path == NULL) {
			char step[256];
			step_name(f, step, sizeof(step));
			refuse(p,
			       "refused before reverting anything: version %lld "
			       "(%s) has no down file (%s/%s.down.sql); write one, "
			       "or revert to a later version only",
			       f->version, f->name, in->dir_path, step);
			return -1;
		}
		if (strcmp(a[k].kind, "applied") == 0 && a[k].down != NULL &&
		    strncmp(a[k].down, SCHEMA_DOWN_PREFIX,
		            strlen(SCHEMA_DOWN_PREFIX)) == 0 &&
		    strcmp(a[k].down + strlen(SCHEMA_DOWN_PREFIX),
		           f->down_checksum) != 0) {
			refuse(p,
			       "refused before reverting anything: %s changed "
			       "since version %lld was applied (sha256 %.12s... "
			       "then, %.12s... now); restore the down file as it "
			       "was when the version was applied",
			       f->down_path, f->version,
			       a[k].down + strlen(SCHEMA_DOWN_PREFIX),
			       f->down_checksum);
			return -1;
		}
		add_item(in, p, f);
	}
	return 0;
}

int
schema_apply_plan(const struct schema_plan_in *in, struct schema_plan *p)
{
	p->nitems = 0;
	p->err[0] = '\0';
	p->note[0] = '\0';
	return in->revert ? plan_revert(in, p, in->applied, in->napplied)
	                  : plan_apply(in, p, in->applied, in->napplied);
}
