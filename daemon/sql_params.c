/*
 * Named parameters in SQL text: a lexer that knows just enough PostgreSQL
 * syntax to tell a :name parameter from the same characters inside a
 * literal, a quoted identifier, a comment or a :: cast.
 */
#include "sql_params.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_kind {
	TOK_END,
	TOK_WORD,   /* unquoted identifier or keyword */
	TOK_QIDENT, /* "quoted identifier" */
	TOK_STRING, /* '..', E'..', $tag$..$tag$ */
	TOK_NUMBER,
	TOK_PARAM, /* :name */
	TOK_CAST,  /* :: */
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_DOT,
	TOK_STAR,
	TOK_SEMICOLON,
	TOK_OTHER, /* any other operator or punctuation character */
};

struct token {
	enum tok_kind kind;
	size_t start, len; /* in the SQL text */
	unsigned line;
	unsigned depth; /* parenthesis depth outside this token */
};

struct lexer {
	const char *s;
	size_t pos;
	unsigned line;
	unsigned depth;
	unsigned open_line; /* line of the '(' that last opened depth 1 */
	unsigned *errline;
	char *err;
	size_t errlen;
	bool positional; /* $n is a parameter (compiled text), not an error */
	bool lenient; /* splitting: odd ':' and ')' are the server's to judge */
};

/* A growing string. */
struct buf {
	char *p;
	size_t len, cap;
};

static void
lx_init(struct lexer *lx, const char *s, unsigned *errline, char *err,
        size_t errlen)
{
	*lx = (struct lexer){.s = s,
	                     .line = 1,
	                     .errline = errline,
	                     .err = err,
	                     .errlen = errlen};
}

static int __attribute__((format(printf, 3, 4)))
lx_fail(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errlen, fmt, ap);
	va_end(ap);
	if (lx->errline != NULL)
		*lx->errline = line;
	return -1;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ascii_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* As in PostgreSQL's scanner, bytes >= 0x80 may appear in identifiers. */
static bool
is_ident_start(unsigned char c)
{
	return is_ascii_alpha(c) || c == '_' || c >= 0x80;
}

static bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

/* Moves n bytes on, counting lines. */
static void
lx_advance(struct lexer *lx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lx->s[lx->pos + i] == '\n')
			lx->line++;
	lx->pos += n;
}

static char
lx_peek(const struct lexer *lx, size_t ahead)
{
	/* Never reads past the terminating NUL. */
	for (size_t i = 0; i < ahead; i++)
		if (lx->s[lx->pos + i] == '\0')
			return '\0';
	return lx->s[lx->pos + ahead];
}

static int
skip_block_comment(struct lexer *lx)
{
	unsigned start = lx->line;
	size_t nest = 0;

	do {
		char c = lx_peek(lx, 0);

		if (c == '\0')
			return lx_fail(
			        lx, start,
			        "unterminated /* comment (started at line %u)",
			        start);
		if (c == '/' && lx_peek(lx, 1) == '*') {
			nest++;
			lx_advance(lx, 2);
		} else if (c == '*' && lx_peek(lx, 1) == '/') {
			nest--;
			lx_advance(lx, 2);
		} else {
			lx_advance(lx, 1);
		}
	} while (nest > 0);
	return 0;
}

/* Skips white space and comments. */
static int
skip_blank(struct lexer *lx)
{
	for (;;) {
		char c = lx_peek(lx, 0);

		if (is_space((unsigned char)c)) {
			lx_advance(lx, 1);
		} else if (c == '-' && lx_peek(lx, 1) == '-') {
			while (lx_peek(lx, 0) != '\0' && lx_peek(lx, 0) != '\n')
				lx_advance(lx, 1);
		} else if (c == '/' && lx_peek(lx, 1) == '*') {
			if (skip_block_comment(lx) == -1)
				return -1;
		} else {
			return 0;
		}
	}
}

/*
 * Scans a quoted run starting at the opening quote q; a doubled quote stands
 * for itself, and with backslash a backslash escapes the next character.
 */
static int
scan_quoted(struct lexer *lx, char q, bool backslash, const char *what)
{
	unsigned start = lx->line;

	lx_advance(lx, 1);
	for (;;) {
		char c = lx_peek(lx, 0);

		if (c == '\0')
			return lx_fail(lx, start,
			               "unterminated %s (started at line %u)",
			               what, start);
		if (backslash && c == '\\' && lx_peek(lx, 1) != '\0') {
			lx_advance(lx, 2);
		} else if (c == q && lx_peek(lx, 1) == q) {
			lx_advance(lx, 2);
		} else if (c == q) {
			lx_advance(lx, 1);
			return 0;
		} else {
			lx_advance(lx, 1);
		}
	}
}

/* Length of the $tag$ delimiter at the current '$', or 0 if there is none. */
static size_t
dollar_tag_len(const struct lexer *lx)
{
	const char *p = lx->s + lx->pos + 1;
	size_t n = 0;

	if (p[0] != '$' && !is_ident_start((unsigned char)p[0]))
		return 0;
	while (p[n] != '\0' && p[n] != '$' &&
	       is_ident_char((unsigned char)p[n]))
		n++;
	return p[n] == '$' ? n + 2 : 0;
}

static int
scan_dollar_quoted(struct lexer *lx, size_t taglen)
{
	unsigned start = lx->line;
	const char *tag = lx->s + lx->pos;
	const char *close;

	close = memmem(tag + taglen, strlen(tag + taglen), tag, taglen);
	if (close == NULL)
		return lx_fail(
		        lx, start,
		        "unterminated dollar-quoted string %.*s (started at "
		        "line %u)",
		        (int)taglen, tag, start);
	lx_advance(lx, (size_t)(close - tag) + taglen);
	return 0;
}

/* At '$': a dollar-quoted string, a refused $n, or a lone '$'. */
static int
scan_dollar(struct lexer *lx, struct token *t)
{
	size_t taglen;

	if (is_digit((unsigned char)lx_peek(lx, 1))) {
		size_t n = 1;

		while (is_digit((unsigned char)lx->s[lx->pos + n]) && n < 12)
			n++;
		if (lx->positional) {
			t->kind = TOK_PARAM;
			lx_advance(lx, n);
			return 0;
		}
		return lx_fail(lx, lx->line,
		               "positional parameter %.*s is not allowed; use "
		               "named parameters such as :tenant",
		               (int)n, lx->s + lx->pos);
	}
	taglen = dollar_tag_len(lx);
	if (taglen == 0) {
		t->kind = TOK_OTHER;
		lx_advance(lx, 1);
		return 0;
	}
	t->kind = TOK_STRING;
	return scan_dollar_quoted(lx, taglen);
}

/* At ':': a cast, a :name parameter or an operator character. */
static int
scan_colon(struct lexer *lx, struct token *t)
{
	size_t n = 1;

	if (lx_peek(lx, 1) == ':') {
		t->kind = TOK_CAST;
		lx_advance(lx, 2);
		return 0;
	}
	if (!is_ident_start((unsigned char)lx_peek(lx, 1)) || lx->lenient) {
		t->kind = TOK_OTHER;
		lx_advance(lx, 1);
		return 0;
	}
	while (is_ident_char((unsigned char)lx->s[lx->pos + n]))
		n++;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)lx->s[lx->pos + i];

		if (!is_ascii_alpha(c) && !is_digit(c) && c != '_')
			return lx_fail(lx, lx->line,
			               "bad parameter name :%.*s; use letters, "
			               "digits and _",
			               (int)(n - 1 > 63 ? 63 : n - 1),
			               lx->s + lx->pos + 1);
	}
	t->kind = TOK_PARAM;
	lx_advance(lx, n);
	return 0;
}

/* An identifier or keyword, or an E'..' string. */
static int
scan_word(struct lexer *lx, struct token *t)
{
	size_t n = 0;

	while (is_ident_char((unsigned char)lx->s[lx->pos + n]))
		n++;
	if (n == 1 && (lx->s[lx->pos] == 'E' || lx->s[lx->pos] == 'e') &&
	    lx->s[lx->pos + 1] == '\'') {
		t->kind = TOK_STRING;
		lx_advance(lx, 1);
		return scan_quoted(lx, '\'', true, "E'' string");
	}
	t->kind = TOK_WORD;
	lx_advance(lx, n);
	return 0;
}

static void
scan_number(struct lexer *lx, struct token *t)
{
	size_t n = 0;

	for (;;) {
		unsigned char c = (unsigned char)lx->s[lx->pos + n];

		if (!is_digit(c) && !is_ascii_alpha(c) && c != '_' && c != '.')
			break;
		n++;
	}
	t->kind = TOK_NUMBER;
	lx_advance(lx, n);
}

static int
scan_paren(struct lexer *lx, struct token *t, char c)
{
	if (c == '(') {
		t->kind = TOK_LPAREN;
		if (lx->depth == 0)
			lx->open_line = lx->line;
		lx->depth++;
	} else if (lx->depth == 0 && lx->lenient) {
		t->kind = TOK_RPAREN;
	} else {
		if (lx->depth == 0)
			return lx_fail(lx, lx->line, "unbalanced ')'");
		t->kind = TOK_RPAREN;
		lx->depth--;
		t->depth = lx->depth;
	}
	lx_advance(lx, 1);
	return 0;
}

static enum tok_kind
punct_kind(char c)
{
	switch (c) {
	case ',':
		return TOK_COMMA;
	case '.':
		return TOK_DOT;
	case '*':
		return TOK_STAR;
	case ';':
		return TOK_SEMICOLON;
	default:
		return TOK_OTHER;
	}
}

/* Reads the next token into *t; returns -1 on a lexical error. */
static int
lx_next(struct lexer *lx, struct token *t)
{
	char c;
	int r = 0;

	if (skip_blank(lx) == -1)
		return -1;
	*t = (struct token){
	        .start = lx->pos, .line = lx->line, .depth = lx->depth};
	c = lx_peek(lx, 0);
	if (c == '\0') {
		if (lx->depth > 0 && !lx->lenient)
			return lx_fail(lx, lx->open_line,
			               "unbalanced '(' (opened at line %u)",
			               lx->open_line);
		t->kind = TOK_END;
	} else if (c == '\'') {
		t->kind = TOK_STRING;
		r = scan_quoted(lx, '\'', false, "quoted string");
	} else if (c == '"') {
		t->kind = TOK_QIDENT;
		r = scan_quoted(lx, '"', false, "quoted identifier");
	} else if (c == '$') {
		r = scan_dollar(lx, t);
	} else if (c == ':') {
		r = scan_colon(lx, t);
	} else if (is_ident_start((unsigned char)c)) {
		r = scan_word(lx, t);
	} else if (is_digit((unsigned char)c) ||
	           (c == '.' && is_digit((unsigned char)lx_peek(lx, 1)))) {
		scan_number(lx, t);
	} else if (c == '(' || c == ')') {
		r = scan_paren(lx, t, c);
	} else {
		t->kind = punct_kind(c);
		lx_advance(lx, 1);
	}
	t->len = lx->pos - t->start;
	return r;
}

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

/* Writes "a, b, c" (or "none") into out. */
static void
join_names(const char *const *names, size_t n, char *out, size_t len)
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
unknown_param(struct lexer *lx, const struct token *t,
              const char *const *allowed, size_t nallowed)
{
	char known[512];
	size_t n = t->len - 1;

	if (nallowed == 0)
		return lx_fail(lx, t->line,
		               "unknown parameter :%.*s (this SQL takes no "
		               "parameters)",
		               (int)(n > 63 ? 63 : n), lx->s + t->start + 1);
	join_names(allowed, nallowed, known, sizeof known);
	return lx_fail(lx, t->line, "unknown parameter :%.*s (known: %s)",
	               (int)(n > 63 ? 63 : n), lx->s + t->start + 1, known);
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
add_param(struct lexer *lx, const struct token *t, const char *const *allowed,
          size_t nallowed, struct sql_stmt *out, struct buf *b)
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
		return lx_fail(lx, t->line, "out of memory");
	return 0;
}

int
sql_compile(const char *sql, const char *const *allowed, size_t nallowed,
            struct sql_stmt *out, unsigned *errline, char *err, size_t errlen)
{
	struct lexer lx;
	struct token t;
	struct buf b = {0};
	size_t copied = 0;

	*out = (struct sql_stmt){0};
	lx_init(&lx, sql, errline, err, errlen);
	do {
		if (lx_next(&lx, &t) == -1)
			goto fail;
		if (t.kind != TOK_PARAM && t.kind != TOK_END)
			continue;
		if (buf_add(&b, sql + copied, t.start - copied) == -1) {
			lx_fail(&lx, t.line, "out of memory");
			goto fail;
		}
		copied = t.start + t.len;
		if (t.kind == TOK_PARAM &&
		    add_param(&lx, &t, allowed, nallowed, out, &b) == -1)
			goto fail;
	} while (t.kind != TOK_END);
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
	struct lexer lx;
	struct token t;
	struct buf b = {0};
	size_t copied = 0;
	char err[256];

	*out = NULL;
	lx_init(&lx, text, NULL, err, sizeof(err));
	lx.positional = true;
	do {
		size_t k;

		if (lx_next(&lx, &t) == -1)
			goto fail;
		if (t.kind != TOK_PARAM && t.kind != TOK_END)
			continue;
		if (buf_add(&b, text + copied, t.start - copied) == -1)
			goto fail;
		copied = t.start + t.len;
		if (t.kind == TOK_END)
			break;
		k = (size_t)strtoul(text + t.start + 1, NULL, 10);
		if (k == 0 || k > nrepl ||
		    buf_add(&b, repl[k - 1], strlen(repl[k - 1])) == -1)
			goto fail;
	} while (t.kind != TOK_END);
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
	unsigned ntok;     /* top-level tokens so far */
	bool ref;          /* so far an identifier chain a.b.c */
	bool want_ident;   /* the chain expects an identifier next */
	bool star;         /* the item ended with * */
	bool after_as;     /* the previous token was AS */
	bool labelled;     /* the last token is the label after AS */
	struct token name; /* label, or last identifier of the chain */
	unsigned line;     /* of the first token */
};

static bool
word_is(const struct lexer *lx, const struct token *t, const char *w)
{
	return t->kind == TOK_WORD && strlen(w) == t->len &&
	       strncasecmp(lx->s + t->start, w, t->len) == 0;
}

static bool
word_in(const struct lexer *lx, const struct token *t, const char *const *words)
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
item_feed(const struct lexer *lx, struct item *it, const struct token *t)
{
	bool ident = t->kind == TOK_QIDENT ||
	             (t->kind == TOK_WORD && !word_in(lx, t, constants));

	if (it->ntok++ == 0)
		it->line = t->line;
	it->star = false;
	it->labelled = false;
	if (it->after_as) {
		it->after_as = false;
		it->labelled = t->kind == TOK_WORD || t->kind == TOK_QIDENT;
		it->name = *t;
		it->ref = false;
	} else if (word_is(lx, t, "as")) {
		it->after_as = true;
		it->ref = false;
	} else if (it->ref && it->want_ident && ident) {
		it->name = *t;
		it->want_ident = false;
	} else if (it->ref && it->want_ident && t->kind == TOK_STAR) {
		it->star = true;
		it->ref = false;
	} else if (it->ref && !it->want_ident && t->kind == TOK_DOT) {
		it->want_ident = true;
	} else {
		it->ref = false;
	}
}

/* The column name a token stands for, folded or unquoted. */
static char *
token_name(const struct lexer *lx, const struct token *t)
{
	const char *s = lx->s + t->start;
	char *name = malloc(t->len + 1);
	size_t n = 0;

	if (name == NULL)
		return NULL;
	if (t->kind == TOK_WORD) {
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
item_name(struct lexer *lx, const struct item *it, size_t col, unsigned line,
          char **name)
{
	*name = NULL;
	if (it->ntok == 0)
		return lx_fail(lx, line, "column %zu is empty", col);
	if (it->star)
		return lx_fail(lx, line,
		               "column %zu is *; list the columns by name",
		               col);
	if (!it->labelled && !(it->ref && !it->want_ident))
		return lx_fail(lx, line,
		               "column %zu has no name; give it one with AS",
		               col);
	*name = token_name(lx, &it->name);
	if (*name == NULL)
		return lx_fail(lx, line, "out of memory");
	return 0;
}

/* Skips to the first top-level SELECT and past DISTINCT [ON (..)] or ALL. */
static int
find_select_list(struct lexer *lx, struct token *t)
{
	do {
		if (lx_next(lx, t) == -1)
			return -1;
		if (t->kind == TOK_END)
			return lx_fail(lx, 1, "not a SELECT");
	} while (t->depth > 0 || !word_is(lx, t, "select"));
	if (lx_next(lx, t) == -1)
		return -1;
	if (word_is(lx, t, "all"))
		return lx_next(lx, t);
	if (!word_is(lx, t, "distinct"))
		return 0;
	if (lx_next(lx, t) == -1)
		return -1;
	if (!word_is(lx, t, "on"))
		return 0;
	do {
		if (lx_next(lx, t) == -1)
			return -1;
	} while (t->kind != TOK_END &&
	         !(t->kind == TOK_RPAREN && t->depth == 0));
	return lx_next(lx, t);
}

static bool
ends_list(const struct lexer *lx, const struct token *t, const struct item *it)
{
	if (t->kind == TOK_END)
		return true;
	if (t->depth > 0)
		return false;
	return t->kind == TOK_SEMICOLON ||
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
	struct lexer lx;
	struct token t;
	struct item it;
	char *name;

	*names = NULL;
	*n = 0;
	lx_init(&lx, sql, errline, err, errlen);
	if (find_select_list(&lx, &t) == -1)
		goto fail;
	item_reset(&it);
	for (;;) {
		bool end = ends_list(&lx, &t, &it);

		if (end || (t.kind == TOK_COMMA && t.depth == 0)) {
			unsigned line = it.ntok ? it.line : t.line;

			if (item_name(&lx, &it, *n + 1, line, &name) == -1)
				goto fail;
			if (push_name(names, n, name) == -1) {
				lx_fail(&lx, line, "out of memory");
				goto fail;
			}
			if (end)
				return 0;
			item_reset(&it);
		} else if (t.depth == 0) {
			item_feed(&lx, &it, &t);
		}
		if (lx_next(&lx, &t) == -1)
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
	struct lexer lx;
	struct token t, prev = {.kind = TOK_END};
	size_t start = 0, last_end = 0;
	unsigned line = 1;
	unsigned atomic = 0, cases = 0; /* BEGIN ATOMIC .. END, CASE .. END */
	bool in_stmt = false;

	*spans = NULL;
	*n = 0;
	lx_init(&lx, sql, errline, err, errlen);
	lx.positional = true;
	lx.lenient = true;
	for (;;) {
		if (lx_next(&lx, &t) == -1)
			goto fail;
		if (t.kind == TOK_END ||
		    (t.kind == TOK_SEMICOLON && t.depth == 0 && atomic == 0)) {
			if (in_stmt &&
			    push_span(spans, n, start, last_end, line) == -1) {
				lx_fail(&lx, t.line, "out of memory");
				goto fail;
			}
			in_stmt = false;
			if (t.kind == TOK_END)
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
