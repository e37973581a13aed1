/*
 * The builder of [step NAME] (plan_read.h). A step without source is an
 * in-place step: table, key, where, apply. With source = NAME it is a copy
 * step: select on that database, into a table of the target, merged by
 * upsert (with defaults) or by a free apply. Either may have batch, after,
 * backup and clear. Once all are built, plan_order.c sorts them.
 */
#include "plan_read.h"

#include <stdlib.h>
#include <string.h>

#include "plan_order.h"

enum {
	K_TABLE,
	K_KEY,
	K_WHERE,
	K_APPLY,
	K_BATCH,
	K_AFTER,
	K_BACKUP,
	K_SOURCE,
	K_SELECT,
	K_INTO,
	K_UPSERT,
	K_DEFAULTS,
	K_CLEAR,
	K_REJECTS,
	K_STEP_KEYS
};
static const char *const step_keys[] = {
        "table",  "key",      "where",  "apply",   "batch",
        "after",  "backup",   "source", "select",  "into",
        "upsert", "defaults", "clear",  "rejects", NULL};

_Static_assert(sizeof step_keys / sizeof step_keys[0] == K_STEP_KEYS + 1 &&
                       K_STEP_KEYS <= PLAN_KEYS_MAX,
               "one name per [step] key");

/* --- values ----------------------------------------------------------------- */

static int
build_relation(struct loader *ld, const struct value *v, struct plan_step *step)
{
	const char *dot = strchr(v->text, '.');
	char shown_buf[64];
	int r;

	if (dot == NULL)
		r = plan_ident(v->text, strlen(v->text), &step->table);
	else if ((r = plan_ident(v->text, (size_t)(dot - v->text),
	                         &step->schema)) == 0)
		r = plan_ident(dot + 1, strlen(dot + 1), &step->table);
	if (r == -1)
		return fail(ld, v->lines[0],
		            "bad table \"%s\": expected name or schema.name "
		            "(letters, digits, _; at most %d each)",
		            plan_shown(v->text, shown_buf, sizeof shown_buf),
		            PLAN_NAME_MAX);
	return 0;
}

static int
build_key(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char shown_buf[64];

	if (plan_ident(v->text, strlen(v->text), &step->key) == -1)
		return fail(
		        ld, v->lines[0],
		        "bad key \"%s\": expected one column name (letters, "
		        "digits, _)",
		        plan_shown(v->text, shown_buf, sizeof shown_buf));
	return 0;
}

static int
build_batch(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char shown_buf[64];
	long n = 0;
	size_t i;

	for (i = 0; v->text[i] >= '0' && v->text[i] <= '9' && i < 8; i++)
		n = n * 10 + (v->text[i] - '0');
	if (i == 0 || v->text[i] != '\0' || n < 1 || n > PLAN_BATCH_MAX)
		return fail(ld, v->lines[0],
		            "bad batch \"%s\": expected a number from 1 to %d",
		            plan_shown(v->text, shown_buf, sizeof shown_buf),
		            PLAN_BATCH_MAX);
	step->batch = n;
	return 0;
}

/* "a, b,c" into step->after; names are resolved later (plan_order.c). */
static int
build_after(struct loader *ld, const struct value *v, struct plan_step *step)
{
	return plan_list(ld, v, "after", "step", false, &step->after,
	                 &step->nafter);
}

static bool
uses(const struct sql_stmt *stmt, const char *name)
{
	for (size_t i = 0; i < stmt->nparams; i++)
		if (strcmp(stmt->names[i], name) == 0)
			return true;
	return false;
}

static bool
is_column(const struct plan_step *step, const char *name)
{
	for (size_t i = 0; i < step->ncolumns; i++)
		if (strcmp(step->columns[i], name) == 0)
			return true;
	for (size_t i = 0; i < step->ndefaults; i++)
		if (strcmp(step->default_cols[i], name) == 0)
			return true;
	return false;
}

/* "a, b" or "a, b nothing" into step->upsert. */
static int
build_upsert(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char *text = strdup(v->text), *end;
	struct value cut = *v;
	int r;

	if (text == NULL)
		return oom(ld);
	end = text + strlen(text);
	while (end > text && plan_is_blank(end[-1]))
		*--end = '\0';
	if (end - text > 7 && strcmp(end - 7, "nothing") == 0 &&
	    plan_is_blank(end[-8])) {
		step->upsert_nothing = true;
		end[-8] = '\0';
	}
	cut.text = text;
	r = plan_list(ld, &cut, "upsert", "column", true, &step->upsert,
	              &step->nupsert);
	free(text);
	return r;
}

/* Adds one column of defaults and its expression, both taken over. */
static int
add_default(struct plan_step *step, char *name, char *expr)
{
	size_t n = step->ndefaults;
	char **cols = NULL, **exprs = NULL;

	if (name != NULL && expr != NULL &&
	    (cols = realloc(step->default_cols, (n + 1) * sizeof *cols)) !=
	            NULL)
		step->default_cols = cols;
	if (cols != NULL && (exprs = realloc(step->default_exprs,
	                                     (n + 1) * sizeof *exprs)) != NULL)
		step->default_exprs = exprs;
	if (exprs == NULL) {
		free(name);
		free(expr);
		return -1;
	}
	cols[n] = name;
	exprs[n] = expr;
	step->ndefaults = n + 1;
	return 0;
}

/* One "column = expression" per line; expressions take no parameters. */
static int
build_defaults(struct loader *ld, const struct value *v, struct plan_step *step)
{
	const struct names none = {NULL, 0};
	const char *line = v->text;

	for (unsigned k = 0; *line != '\0'; k++) {
		size_t len = strcspn(line, "\n");
		const char *eq = memchr(line, '=', len), *p;
		unsigned here = plan_value_line(v, k + 1);
		char *name = NULL, *expr;
		struct plan_sql sql = {0};
		struct value one = {NULL, &here, 1};
		size_t nlen;

		if (eq == NULL)
			return fail(ld, here,
			            "defaults: expected column = expression, "
			            "one per line");
		p = plan_skip_blank(line);
		nlen = (size_t)(eq - p);
		while (nlen > 0 && plan_is_blank(p[nlen - 1]))
			nlen--;
		if (plan_ident(p, nlen, &name) == -1)
			return fail(ld, here,
			            "defaults: bad column name before =");
		expr = strndup(eq + 1, len - (size_t)(eq + 1 - line));
		if (add_default(step, name, expr) == -1)
			return oom(ld);
		one.text = expr;
		if (plan_compile(ld, &one, &none, &sql) == -1)
			return -1;
		sql_stmt_free(&sql.stmt);
		line += len;
		if (*line == '\n')
			line++;
	}
	return 0;
}

/*
 * With backup = yes, clear must be "DELETE FROM <table> [[AS] alias] ..."
 * without RETURNING: the runner appends RETURNING alias to keep the rows.
 */
static int
build_clear_ref(struct loader *ld, const struct value *v,
                struct plan_step *step)
{
	const char *p = plan_skip_blank(v->text), *w, *dot, *name;
	size_t n;

	if (strncasecmp(p, "delete", 6) != 0 || !plan_is_blank(p[6]))
		goto bad;
	p = plan_skip_blank(p + 6);
	if (strncasecmp(p, "from", 4) != 0 || !plan_is_blank(p[4]))
		goto bad;
	p = plan_skip_blank(p + 4);
	if (strncasecmp(p, "only", 4) == 0 && plan_is_blank(p[4]))
		p = plan_skip_blank(p + 4);
	for (n = 0; plan_is_ident_char(p[n], n == 0) || (n > 0 && p[n] == '.');
	     n++)
		;
	w = p + n;
	dot = memchr(p, '.', n);
	name = dot != NULL ? dot + 1 : p;
	if (n == 0 || (size_t)(w - name) != strlen(step->table) ||
	    strncasecmp(name, step->table, strlen(step->table)) != 0)
		goto bad;
	p = plan_skip_blank(w);
	if (strncasecmp(p, "as", 2) == 0 && plan_is_blank(p[2]))
		p = plan_skip_blank(p + 2);
	for (n = 0; plan_is_ident_char(p[n], n == 0); n++)
		;
	if (n > 0 && !(n == 5 && strncasecmp(p, "using", 5) == 0) &&
	    !(n == 5 && strncasecmp(p, "where", 5) == 0))
		step->clear_ref = strndup(p, n);
	else
		step->clear_ref = strdup(step->table);
	if (step->clear_ref == NULL)
		return oom(ld);
	if (strcasestr(v->text, "returning") != NULL)
		return fail(ld, v->lines[0],
		            "clear: with backup = yes, leave RETURNING out "
		            "(the daemon adds it to back the rows up)");
	return 0;
bad:
	return fail(ld, v->lines[0],
	            "clear: with backup = yes, clear must be DELETE FROM %s "
	            "... so the deleted rows can be backed up",
	            step->table);
}

/* --- in-place and copy steps ------------------------------------------------ */

/* Keys only one kind of step takes, refused in the other kind. */
static int
refuse_keys(struct loader *ld, const struct section *sec, const int *keys,
            size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		const struct value *v = &sec->values[keys[i]];

		if (v->text != NULL)
			return fail(ld, v->lines[0], "%s %s",
			            sec->type->keys[keys[i]], why);
	}
	return 0;
}

static int
build_sql_keys(struct loader *ld, const struct section *sec,
               const struct names *where, const struct names *apply,
               struct plan_step *step)
{
	static char true_text[] = "true";
	unsigned line = sec->line;
	const struct value all = {true_text, &line, 1};
	const struct value *v;

	if (plan_optional(ld, sec, K_WHERE, &v) == -1 ||
	    plan_compile(ld, v ? v : &all, where, &step->where) == -1)
		return -1;
	if (plan_required(ld, sec, K_APPLY, &v) == -1 ||
	    plan_compile(ld, v, apply, &step->apply) == -1)
		return -1;
	if (!uses(&step->apply.stmt, "lo") || !uses(&step->apply.stmt, "hi"))
		return fail(ld, v->lines[0],
		            "apply must use :lo and :hi to stay within the "
		            "batch's key range (e.g. id > :lo AND id <= :hi)");
	return 0;
}

static int
build_inplace(struct loader *ld, const struct section *sec,
              const struct names *where, const struct names *apply,
              struct plan_step *step)
{
	static const int copy_only[] = {K_SELECT, K_INTO, K_UPSERT, K_DEFAULTS};
	const struct value *v;

	step->kind = PLAN_STEP_INPLACE;
	if (refuse_keys(ld, sec, copy_only, 4,
	                "is for copy steps (those with source = NAME)") == -1)
		return -1;
	if (plan_required(ld, sec, K_TABLE, &v) == -1 ||
	    build_relation(ld, v, step) == -1)
		return -1;
	if (plan_required(ld, sec, K_KEY, &v) == -1 ||
	    build_key(ld, v, step) == -1)
		return -1;
	return build_sql_keys(ld, sec, where, apply, step);
}

/* A copy step's apply: free SQL reading staged, instead of upsert. */
static int
build_copy_apply(struct loader *ld, const struct section *sec,
                 const struct value *apply, const struct names *names,
                 struct plan_step *step)
{
	if (plan_compile(ld, apply, names, &step->apply) == -1)
		return -1;
	if (refuse_keys(ld, sec, (const int[]){K_DEFAULTS}, 1,
	                "goes with upsert; a free apply sets its own "
	                "columns") == -1)
		return -1;
	if (step->backup)
		return fail(ld, sec->values[K_BACKUP].lines[0],
		            "backup = yes needs upsert: the daemon cannot "
		            "know which rows a free apply changes");
	return 0;
}

/* source = NAME: whether a [database NAME] has it is catalog.c's check. */
static int
build_copy(struct loader *ld, const struct section *sec,
           const struct names *names, struct plan_step *step)
{
	static const int inplace_only[] = {K_TABLE, K_WHERE};
	const struct value *v, *key, *upsert, *apply;
	char msg[512];
	unsigned line = 0;

	step->kind = PLAN_STEP_COPY;
	v = &sec->values[K_SOURCE];
	if (!plan_valid_name(v->text, strlen(v->text)))
		return fail(ld, v->lines[0],
		            "bad source: name a [database NAME]");
	if ((step->source = strdup(v->text)) == NULL)
		return oom(ld);
	step->source_line = v->lines[0];
	if (refuse_keys(ld, sec, inplace_only, 2,
	                "is for in-place steps: a copy step filters in "
	                "select and names its target table with into") == -1)
		return -1;
	if (plan_required(ld, sec, K_SELECT, &v) == -1 ||
	    plan_compile(ld, v, names, &step->select) == -1)
		return -1;
	if (sql_select_columns(v->text, &step->columns, &step->ncolumns, &line,
	                       msg, sizeof msg) == -1)
		return fail(ld, plan_value_line(v, line), "select: %s", msg);
	if (plan_required(ld, sec, K_KEY, &key) == -1 ||
	    build_key(ld, key, step) == -1)
		return -1;
	if (!is_column(step, step->key))
		return fail(ld, key->lines[0],
		            "key %s is not a column of select", step->key);
	if (plan_required(ld, sec, K_INTO, &v) == -1 ||
	    build_relation(ld, v, step) == -1)
		return -1;
	if (plan_optional(ld, sec, K_UPSERT, &upsert) == -1 ||
	    plan_optional(ld, sec, K_APPLY, &apply) == -1)
		return -1;
	if ((upsert == NULL) == (apply == NULL))
		return fail(ld, sec->line,
		            "copy step %s needs either upsert = COLUMNS (merge "
		            "by natural key) or apply (SQL reading staged)",
		            step->name);
	if (apply != NULL)
		return build_copy_apply(ld, sec, apply, names, step);
	if (plan_optional(ld, sec, K_DEFAULTS, &v) == -1 ||
	    (v != NULL && build_defaults(ld, v, step) == -1) ||
	    build_upsert(ld, upsert, step) == -1)
		return -1;
	for (size_t i = 0; i < step->nupsert; i++)
		if (!is_column(step, step->upsert[i]))
			return fail(ld, upsert->lines[0],
			            "upsert column %s is neither a column of "
			            "select nor one of defaults",
			            step->upsert[i]);
	return 0;
}

static int
build_step(struct loader *ld, const struct section *sec,
           const struct names *where, const struct names *apply,
           struct plan_step *step)
{
	const struct value *v;

	step->line = sec->line;
	if ((step->name = strdup(sec->name)) == NULL)
		return oom(ld);
	if (plan_optional(ld, sec, K_BACKUP, &v) == -1 ||
	    (v != NULL &&
	     plan_choice(ld, v, "backup", "no", "yes", &step->backup) == -1))
		return -1;
	if (plan_optional(ld, sec, K_REJECTS, &v) == -1 ||
	    (v != NULL && plan_choice(ld, v, "rejects", "fail", "keep",
	                              &step->keep_rejects) == -1))
		return -1;
	if (plan_optional(ld, sec, K_SOURCE, &v) == -1)
		return -1;
	if (v != NULL ? build_copy(ld, sec, where, step) == -1
	              : build_inplace(ld, sec, where, apply, step) == -1)
		return -1;
	if (plan_optional(ld, sec, K_BATCH, &v) == -1 ||
	    (v != NULL && build_batch(ld, v, step) == -1))
		return -1;
	if (plan_optional(ld, sec, K_AFTER, &v) == -1 ||
	    (v != NULL && build_after(ld, v, step) == -1))
		return -1;
	if (plan_optional(ld, sec, K_CLEAR, &v) == -1)
		return -1;
	if (v != NULL) {
		step->has_clear = true;
		if (plan_compile(ld, v, where, &step->clear) == -1 ||
		    (step->backup && build_clear_ref(ld, v, step) == -1))
			return -1;
	}
	return 0;
}

/* --- the table row ---------------------------------------------------------- */

static int
begin_steps(struct plan_build *b, size_t n)
{
	struct plan *plan = b->plan;

	if (n == 0)
		return fail(b->ld, b->plan_line,
		            "plan has no steps; add a [step NAME] section");
	plan->steps = calloc(n, sizeof *plan->steps);
	b->after_line = calloc(n, sizeof *b->after_line);
	if (plan->steps == NULL || b->after_line == NULL)
		return oom(b->ld);
	plan->nsteps = n;
	return 0;
}

static int
build_one_step(struct plan_build *b, const struct section *sec)
{
	const struct value *after = &sec->values[K_AFTER];

	b->after_line[b->done] = after->text ? after->lines[0] : sec->line;
	return build_step(b->ld, sec, &b->where, &b->apply,
	                  &b->plan->steps[b->done++]);
}

static int
end_steps(struct plan_build *b)
{
	char msg[PLAN_MSG_MAX];
	unsigned line = 0;

	if (plan_order_steps(b->plan->steps, b->plan->nsteps, b->after_line,
	                     &line, msg, sizeof msg) == 0)
		return 0;
	return line == 0 ? oom(b->ld) : fail(b->ld, line, "%s", msg);
}

/* word, named, keys, begin, build, end */
const struct section_type plan_section_step = {
        "step", true, step_keys, begin_steps, build_one_step, end_steps};
