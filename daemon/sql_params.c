/*
 * Named parameters in SQL text and the other readings of SQL that need a
 * lexer (sql_lex.c): the :name compiler, the output columns of a SELECT,
 * $k replacement and splitting a script into statements.
 */
#include "sql_params.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_lex.h"

/* A growing string. */
struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const char *s, size_t n)
{
	/* len + n + 1 > cap, written so that it cannot wrap around */
	if (n >= b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void
sql_join_names(const char *const *names, size_t n, char *out, size_t len)
{
	size_t used = 0;

	snprintf(out, len, "none");
	for (size_t i = 0; i < n && used < len; i++) {
		int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "",
		                 names[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int
unknown_param(struct sql_lexer *lx, const struct sql_token *t,
              const char *const *allowed, size_t nallowed)
{
	char known[512];
	size_t n = t->len - 1;

	if (nallowed == 0)
		return sql_lex_fail(
		        lx, t->line,
		        "unknown parameter :%.*s (this SQL takes no "
		        "parameters)",
		        (int)(n > 63 ? 63 : n), lx->s + t->start + 1);
	sql_join_names(allowed, nallowed, known, sizeof known);
	return sql_lex_fail(lx, t->line, "unknown parameter :%.*s (known: %s)",
	                    (int)(n > 63 ? 63 : n), lx->s + t->start + 1,
	                    known);
}

static bool
span_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* The number (from 1) of the parameter in t, adding it to out if new. */
static size_t
param_number(struct sql_stmt *out, const char *name, size_t n)
{
	char **names;

	for (size_t i = 0; i < out->nparams; i++)
		if (span_is(name, n, out->names[i]))
			return i + 1;
	names = realloc(out->names, (out->nparams + 1) * sizeof *names);
	if (names == NULL)
		return 0;
	out->names = names;
	names[out->nparams] = strndup(name, n);
	if (names[out->nparams] == NULL)
		return 0;
	return ++out->nparams;
}

static int
add_param(struct sql_lexer *lx, const struct sql_token *t,
          const char *const *allowed, size_t nallowed, struct sql_stmt *out,
          struct buf *b)
{
	const char *name = lx->s + t->start + 1;
	size_t n = t->len - 1, num;
	bool known = false;
	char ref[24];

	for (size_t i = 0; i < nallowed && !known; i++)
		known = span_is(name, n, allowed[i]);
	if (!known)
		return unknown_param(lx, t, allowed, nallowed);
	num = param_number(out, name, n);
	snprintf(ref, sizeof ref, "$%zu", num);
	if (num == 0 || buf_add(b, ref, strlen(ref)) == -1)
		return sql_lex_fail(lx, t->line, "out of memory");
	return 0;
}

int
sql_compile(const char *sql, const char *const *allowed, size_t nallowed,
            struct sql_stmt *out, unsigned *errline, char *err, size_t errlen)
{
	struct sql_lexer lx;
	struct sql_token t;
	struct buf b = {0};
	size_t copied = 0;

	*out = (struct sql_stmt){0};
	sql_lex_init(&lx, sql, errline, err, errlen);
	do {
		if (sql_lex_next(&lx, &t) == -1)
			goto fail;
		if (t.kind != SQL_TOK_PARAM && t.kind != SQL_TOK_END)
			continue;
		if (buf_add(&b, sql + copied, t.start - copied) == -1) {
			sql_lex_fail(&lx, t.line, "out of memory");
			goto fail;
		}
		copied = t.start + t.len;
		if (t.kind == SQL_TOK_PARAM &&
		    add_param(&lx, &t, allowed, nallowed, out, &b) == -1)
			goto fail;
	} while (t.kind != SQL_TOK_END);
	out->text = b.p;
	return 0;
fail:
	free(b.p);
	sql_stmt_free(out);
	return -1;
}

int
sql_replace_params(const char *text, const char *const *repl, size_t nrepl,
                   char **out)
{
	struct sql_lexer lx;
	struct sql_token t;
	struct buf b = {0};
	size_t copied = 0;
	char err[256];

	*out = NULL;
	sql_lex_init(&lx, text, NULL, err, sizeof(err));
	lx.positional = true;
	do {
		size_t k;

		if (sql_lex_next(&lx, &t) == -1)
			goto fail;
		if (t.kind != SQL_TOK_PARAM && t.kind != SQL_TOK_END)
			continue;
		if (buf_add(&b, text + copied, t.start - copied) == -1)
			goto fail;
		copied = t.start + t.len;
		if (t.kind == SQL_TOK_END)
			break;
		k = (size_t)strtoul(text + t.start + 1, NULL, 10);
		if (k == 0 || k > nrepl ||
		    buf_add(&b, repl[k - 1], strlen(repl[k - 1])) == -1)
			goto fail;
	} while (t.kind != SQL_TOK_END);
	if (b.p == NULL && buf_add(&b, "", 0) == -1)
		goto fail;
	*out = b.p;
	return 0;
fail:
	free(b.p);
	return -1;
}

void
sql_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void
sql_stmt_free(struct sql_stmt *stmt)
{
	free(stmt->text);
	sql_names_free(stmt->names, stmt->nparams);
	*stmt = (struct sql_stmt){0};
}

/* --- output column names of a SELECT ----------------------------------- */

/* What we know about one item of a select list. */
struct item {
	unsigned ntok;         /* top-level tokens so far */
	bool ref;              /* so far an identifier chain a.b.c */
	bool want_ident;       /* the chain expects an identifier next */
	bool star;             /* the item ended with * */
	bool after_as;         /* the previous token was AS */
	bool labelled;         /* the last token is the label after AS */
	struct sql_token name; /* label, or last identifier of the chain */
	unsigned line;         /* of the first token */
};

static bool
word_is(const struct sql_lexer *lx, const struct sql_token *t, const char *w)
{
	return t->kind == SQL_TOK_WORD && strlen(w) == t->len &&
	       strncasecmp(lx->s + t->start, w, t->len) == 0;
}

static bool
word_in(const struct sql_lexer *lx, const struct sql_token *t,
        const char *const *words)
{
	for (size_t i = 0; words[i] != NULL; i++)
		if (word_is(lx, t, words[i]))
			return true;
	return false;
}

/* Reserved words that end a select list. */
static const char *const list_enders[] = {
        "from",   "into",   "where",     "group",  "having",
        "window", "union",  "intersect", "except", "order",
        "limit",  "offset", "fetch",     "for",    NULL};

/* Words that look like column references but are constants. */
static const char *const constants[] = {"true", "false", "null", NULL};

static void
item_reset(struct item *it)
{
	*it = (struct item){.ref = true, .want_ident = true};
}

static void
item_feed(const struct sql_lexer *lx, struct item *it,
          const struct sql_token *t)
{
	bool ident = t->kind == SQL_TOK_QIDENT ||
	             (t->kind == SQL_TOK_WORD && !word_in(lx, t, constants));

	if (it->ntok++ == 0)
		it->line = t->line;
	it->star = false;
	it->labelled = false;
	if (it->after_as) {
		it->after_as = false;
		it->labelled =
		        t->kind == SQL_TOK_WORD || t->kind == SQL_TOK_QIDENT;
		it->name = *t;
		it->ref = false;
	} else if (word_is(lx, t, "as")) {
		it->after_as = true;
		it->ref = false;
	} else if (it->ref && it->want_ident && ident) {
		it->name = *t;
		it->want_ident = false;
	} else if (it->ref && it->want_ident && t->kind == SQL_TOK_STAR) {
		it->star = true;
		it->ref = false;
	} else if (it->ref && !it->want_ident && t->kind == SQL_TOK_DOT) {
		it->want_ident = true;
	} else {
		it->ref = false;
	}
}

/* The column name a token stands for, folded or unquoted. */
static char *
token_name(const struct sql_lexer *lx, const struct sql_token *t)
{
	const char *s = lx->s + t->start;
	char *name = malloc(t->len + 1);
	size_t n = 0;

	if (name == NULL)
		return NULL;
	if (t->kind == SQL_TOK_WORD) {
		for (size_t i = 0; i < t->len; i++)
			name[n++] = (s[i] >= 'A' && s[i] <= 'Z')
			                    ? s[i] - 'A' + 'a'
			                    : s[i];
	} else {
		for (size_t i = 1; i + 1 < t->len; i++) {
			name[n++] = s[i];
			if (s[i] == '"')
				i++;
		}
	}
	name[n] = '\0';
	return name;
}

static int
item_name(struct sql_lexer *lx, const struct item *it, size_t col,
          unsigned line, char **name)
{
	*name = NULL;
	if (it->ntok == 0)
		return sql_lex_fail(lx, line, "column %zu is empty", col);
	if (it->star)
		return sql_lex_fail(lx, line,
		                    "column %zu is *; list the columns by name",
		                    col);
	if (!it->labelled && !(it->ref && !it->want_ident))
		return sql_lex_fail(
		        lx, line, "column %zu has no name; give it one with AS",
		        col);
	*name = token_name(lx, &it->name);
	if (*name == NULL)
		return sql_lex_fail(lx, line, "out of memory");
	return 0;
}

/* Skips to the first top-level SELECT and past DISTINCT [ON (..)] or ALL. */
static int
find_select_list(struct sql_lexer *lx, struct sql_token *t)
{
	do {
		if (sql_lex_next(lx, t) == -1)
			return -1;
		if (t->kind == SQL_TOK_END)
			return sql_lex_fail(lx, 1, "not a SELECT");
	} while (t->depth > 0 || !word_is(lx, t, "select"));
	if (sql_lex_next(lx, t) == -1)
		return -1;
	if (word_is(lx, t, "all"))
		return sql_lex_next(lx, t);
	if (!word_is(lx, t, "distinct"))
		return 0;
	if (sql_lex_next(lx, t) == -1)
		return -1;
	if (!word_is(lx, t, "on"))
		return 0;
	do {
		if (sql_lex_next(lx, t) == -1)
			return -1;
	} while (t->kind != SQL_TOK_END &&
	         !(t->kind == SQL_TOK_RPAREN && t->depth == 0));
	return sql_lex_next(lx, t);
}

static bool
ends_list(const struct sql_lexer *lx, const struct sql_token *t,
          const struct item *it)
{
	if (t->kind == SQL_TOK_END)
		return true;
	if (t->depth > 0)
		return false;
	return t->kind == SQL_TOK_SEMICOLON ||
	       (!it->after_as && word_in(lx, t, list_enders));
}

static int
push_name(char ***names, size_t *n, char *name)
{
	char **p = realloc(*names, (*n + 1) * sizeof *p);

	if (p == NULL) {
		free(name);
		return -1;
	}
	p[(*n)++] = name;
	*names = p;
	return 0;
}

int
sql_select_columns(const char *sql, char ***names, size_t *n, unsigned *errline,
                   char *err, size_t errlen)
{
	struct sql_lexer lx;
	struct sql_token t;
	struct item it;
	char *name;

	*names = NULL;
	*n = 0;
	sql_lex_init(&lx, sql, errline, err, errlen);
	if (find_select_list(&lx, &t) == -1)
		goto fail;
	item_reset(&it);
	for (;;) {
		bool end = ends_list(&lx, &t, &it);

		if (end || (t.kind == SQL_TOK_COMMA && t.depth == 0)) {
			unsigned line = it.ntok ? it.line : t.line;

			if (item_name(&lx, &it, *n + 1, line, &name) == -1)
				goto fail;
			if (push_name(names, n, name) == -1) {
				sql_lex_fail(&lx, line, "out of memory");
				goto fail;
			}
			if (end)
				return 0;
			item_reset(&it);
		} else if (t.depth == 0) {
			item_feed(&lx, &it, &t);
		}
		if (sql_lex_next(&lx, &t) == -1)
			goto fail;
	}
fail:
	sql_names_free(*names, *n);
	*names = NULL;
	*n = 0;
	return -1;
}

/* --- splitting a script into statements -------------------------------- */

/* Adds the statement from start to end (exclusive), unless it is empty. */
static int
push_span(struct sql_span **spans, size_t *n, size_t start, size_t end,
          unsigned line)
{
	struct sql_span *p;

	if (end <= start)
		return 0;
	p = realloc(*spans, (*n + 1) * sizeof(**spans));
	if (p == NULL)
		return -1;
	*spans = p;
	p[*n] = (struct sql_span){
	        .start = start, .len = end - start, .line = line};
	(*n)++;
	return 0;
}

int
sql_split(const char *sql, struct sql_span **spans, size_t *n,
          unsigned *errline, char *err, size_t errlen)
{
	struct sql_lexer lx;
	struct sql_token t, prev = {.kind = SQL_TOK_END};
	size_t start = 0, last_end = 0;
	unsigned line = 1;
	unsigned atomic = 0, cases = 0; /* BEGIN ATOMIC .. END, CASE .. END */
	bool in_stmt = false;

	*spans = NULL;
	*n = 0;
	sql_lex_init(&lx, sql, errline, err, errlen);
	lx.positional = true;
	lx.lenient = true;
	for (;;) {
		if (sql_lex_next(&lx, &t) == -1)
			goto fail;
		if (t.kind == SQL_TOK_END || (t.kind == SQL_TOK_SEMICOLON &&
		                              t.depth == 0 && atomic == 0)) {
			if (in_stmt &&
			    push_span(spans, n, start, last_end, line) == -1) {
				sql_lex_fail(&lx, t.line, "out of memory");
				goto fail;
			}
			in_stmt = false;
			if (t.kind == SQL_TOK_END)
				return 0;
			prev = t;
			continue;
		}
		if (!in_stmt) {
			in_stmt = true;
			start = t.start;
			line = t.line;
		}
		last_end = t.start + t.len;
		if (word_is(&lx, &t, "atomic") && word_is(&lx, &prev, "begin"))
			atomic++;
		else if (atomic > 0 && word_is(&lx, &t, "case"))
			cases++;
		else if (atomic > 0 && word_is(&lx, &t, "end")) {
			if (cases > 0)
				cases--;
			else
				atomic--;
		}
		prev = t;
	}
fail:
	free(*spans);
	*spans = NULL;
	*n = 0;
	return -1;
}

void
sql_position(const char *text, size_t start, long pos, unsigned *line,
             unsigned *col)
{
	size_t at = start;
	unsigned l = 1, c = 1;

	for (long n = 1; n < pos && text[at] != '\0'; n++) {
		at++;
		while (((unsigned char)text[at] & 0xC0) == 0x80)
			at++;
	}
	for (size_t k = 0; k < at && text[k] != '\0'; k++) {
		unsigned char ch = (unsigned char)text[k];

		if (ch == '\n' || (ch == '\r' && text[k + 1] != '\n')) {
			l++;
			c = 1;
		} else if (ch != '\r' && (ch & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}
