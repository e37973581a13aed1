/*
 * The SQL lexer (sql_lex.h): tokens of PostgreSQL text, with literals,
 * quoted identifiers and comments skipped whole, lines counted and
 * parentheses balanced.
 */
#include "sql_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
sql_lex_init(struct sql_lexer *lx, const char *s, unsigned *errline, char *err,
             size_t errlen)
{
	*lx = (struct sql_lexer){.s = s,
	                         .line = 1,
	                         .errline = errline,
	                         .err = err,
	                         .errlen = errlen};
}

int
sql_lex_fail(struct sql_lexer *lx, unsigned line, const char *fmt, ...)
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
lx_advance(struct sql_lexer *lx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lx->s[lx->pos + i] == '\n')
			lx->line++;
	lx->pos += n;
}

static char
lx_peek(const struct sql_lexer *lx, size_t ahead)
{
	/* Never reads past the terminating NUL. */
	for (size_t i = 0; i < ahead; i++)
		if (lx->s[lx->pos + i] == '\0')
			return '\0';
	return lx->s[lx->pos + ahead];
}

static int
skip_block_comment(struct sql_lexer *lx)
{
	unsigned start = lx->line;
	size_t nest = 0;

	do {
		char c = lx_peek(lx, 0);

		if (c == '\0')
			return sql_lex_fail(
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
skip_blank(struct sql_lexer *lx)
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
scan_quoted(struct sql_lexer *lx, char q, bool backslash, const char *what)
{
	unsigned start = lx->line;

	lx_advance(lx, 1);
	for (;;) {
		char c = lx_peek(lx, 0);

		if (c == '\0')
			return sql_lex_fail(
			        lx, start,
			        "unterminated %s (started at line %u)", what,
			        start);
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
dollar_tag_len(const struct sql_lexer *lx)
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
scan_dollar_quoted(struct sql_lexer *lx, size_t taglen)
{
	unsigned start = lx->line;
	const char *tag = lx->s + lx->pos;
	const char *close;

	close = memmem(tag + taglen, strlen(tag + taglen), tag, taglen);
	if (close == NULL)
		return sql_lex_fail(
		        lx, start,
		        "unterminated dollar-quoted string %.*s (started at "
		        "line %u)",
		        (int)taglen, tag, start);
	lx_advance(lx, (size_t)(close - tag) + taglen);
	return 0;
}

/* At '$': a dollar-quoted string, a refused $n, or a lone '$'. */
static int
scan_dollar(struct sql_lexer *lx, struct sql_token *t)
{
	size_t taglen;

	if (is_digit((unsigned char)lx_peek(lx, 1))) {
		size_t n = 1;

		while (is_digit((unsigned char)lx->s[lx->pos + n]) && n < 12)
			n++;
		if (lx->positional) {
			t->kind = SQL_TOK_PARAM;
			lx_advance(lx, n);
			return 0;
		}
		return sql_lex_fail(
		        lx, lx->line,
		        "positional parameter %.*s is not allowed; use "
		        "named parameters such as :tenant",
		        (int)n, lx->s + lx->pos);
	}
	taglen = dollar_tag_len(lx);
	if (taglen == 0) {
		t->kind = SQL_TOK_OTHER;
		lx_advance(lx, 1);
		return 0;
	}
	t->kind = SQL_TOK_STRING;
	return scan_dollar_quoted(lx, taglen);
}

/* At ':': a cast, a :name parameter or an operator character. */
static int
scan_colon(struct sql_lexer *lx, struct sql_token *t)
{
	size_t n = 1;

	if (lx_peek(lx, 1) == ':') {
		t->kind = SQL_TOK_CAST;
		lx_advance(lx, 2);
		return 0;
	}
	if (!is_ident_start((unsigned char)lx_peek(lx, 1)) || lx->lenient) {
		t->kind = SQL_TOK_OTHER;
		lx_advance(lx, 1);
		return 0;
	}
	while (is_ident_char((unsigned char)lx->s[lx->pos + n]))
		n++;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)lx->s[lx->pos + i];

		if (!is_ascii_alpha(c) && !is_digit(c) && c != '_')
			return sql_lex_fail(
			        lx, lx->line,
			        "bad parameter name :%.*s; use letters, "
			        "digits and _",
			        (int)(n - 1 > 63 ? 63 : n - 1),
			        lx->s + lx->pos + 1);
	}
	t->kind = SQL_TOK_PARAM;
	lx_advance(lx, n);
	return 0;
}

/* An identifier or keyword, or an E'..' string. */
static int
scan_word(struct sql_lexer *lx, struct sql_token *t)
{
	size_t n = 0;

	while (is_ident_char((unsigned char)lx->s[lx->pos + n]))
		n++;
	if (n == 1 && (lx->s[lx->pos] == 'E' || lx->s[lx->pos] == 'e') &&
	    lx->s[lx->pos + 1] == '\'') {
		t->kind = SQL_TOK_STRING;
		lx_advance(lx, 1);
		return scan_quoted(lx, '\'', true, "E'' string");
	}
	t->kind = SQL_TOK_WORD;
	lx_advance(lx, n);
	return 0;
}

static void
scan_number(struct sql_lexer *lx, struct sql_token *t)
{
	size_t n = 0;

	for (;;) {
		unsigned char c = (unsigned char)lx->s[lx->pos + n];

		if (!is_digit(c) && !is_ascii_alpha(c) && c != '_' && c != '.')
			break;
		n++;
	}
	t->kind = SQL_TOK_NUMBER;
	lx_advance(lx, n);
}

static int
scan_paren(struct sql_lexer *lx, struct sql_token *t, char c)
{
	if (c == '(') {
		t->kind = SQL_TOK_LPAREN;
		if (lx->depth == 0)
			lx->open_line = lx->line;
		lx->depth++;
	} else if (lx->depth == 0 && lx->lenient) {
		t->kind = SQL_TOK_RPAREN;
	} else {
		if (lx->depth == 0)
			return sql_lex_fail(lx, lx->line, "unbalanced ')'");
		t->kind = SQL_TOK_RPAREN;
		lx->depth--;
		t->depth = lx->depth;
	}
	lx_advance(lx, 1);
	return 0;
}

static enum sql_tok_kind
punct_kind(char c)
{
	switch (c) {
	case ',':
		return SQL_TOK_COMMA;
	case '.':
		return SQL_TOK_DOT;
	case '*':
		return SQL_TOK_STAR;
	case ';':
		return SQL_TOK_SEMICOLON;
	default:
		return SQL_TOK_OTHER;
	}
}

int
sql_lex_next(struct sql_lexer *lx, struct sql_token *t)
{
	char c;
	int r = 0;

	if (skip_blank(lx) == -1)
		return -1;
	*t = (struct sql_token){
	        .start = lx->pos, .line = lx->line, .depth = lx->depth};
	c = lx_peek(lx, 0);
	if (c == '\0') {
		if (lx->depth > 0 && !lx->lenient)
			return sql_lex_fail(
			        lx, lx->open_line,
			        "unbalanced '(' (opened at line %u)",
			        lx->open_line);
		t->kind = SQL_TOK_END;
	} else if (c == '\'') {
		t->kind = SQL_TOK_STRING;
		r = scan_quoted(lx, '\'', false, "quoted string");
	} else if (c == '"') {
		t->kind = SQL_TOK_QIDENT;
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
