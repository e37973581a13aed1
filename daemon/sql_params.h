/*
 * Named parameters in SQL text.
 *
 * Plans write values as :name; PostgreSQL only knows positional $n
 * parameters. sql_compile() runs a small SQL lexer over the text, finds each
 * :name outside string literals ('..', E'..', $tag$..$tag$), quoted
 * identifiers, comments (--, nested slash-star) and :: casts, and rewrites
 * it to $1, $2, ... so every value is sent as a bound parameter and never
 * spliced into the SQL. The lexer assumes standard_conforming_strings = on
 * (the default since PostgreSQL 9.1): a backslash is an ordinary character
 * in '..' and an escape only in E'..'.
 */
#ifndef SQL_PARAMS_H
#define SQL_PARAMS_H

#include <stddef.h>

/* One compiled statement. */
struct sql_stmt {
	char *text;     /* the SQL with $1..$nparams in place of :name */
	size_t nparams; /* distinct parameters */
	char **names;   /* names[i] (without ':') is bound to $(i+1) */
};

/*
 * Compiles sql into *out. A parameter may only be one of the nallowed names
 * in allowed (compared exactly); the same name always gets the same number,
 * numbers follow first use. Refuses unknown parameters, positional $n
 * parameters, unbalanced parentheses and unterminated literals, quoted
 * identifiers and comments. On failure returns -1, leaves *out empty, writes
 * the message to err (e.g. "unknown parameter :orgg (known: tenant, lo, hi,
 * org)") and, when errline is not NULL, the 1-based line within sql that
 * the message is about.
 */
int sql_compile(const char *sql, const char *const *allowed, size_t nallowed,
                struct sql_stmt *out, unsigned *errline, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/* Frees what sql_compile() allocated and empties *stmt. */
void sql_stmt_free(struct sql_stmt *stmt);

/*
 * Names the output columns of the top-level SELECT in sql: the select list
 * between SELECT [DISTINCT [ON (..)] | ALL] and the top-level FROM (or
 * WHERE, GROUP, ORDER, LIMIT, UNION, ..., or the end), split on top-level
 * commas. A column's name is the label after AS, or the last part of a bare
 * (qualified) column reference; unquoted names are folded to lower case as
 * PostgreSQL does, quoted ones kept as written. Anything else, and *, is
 * refused ("column 2 has no name; give it one with AS"). On success
 * *names (free with sql_names_free()) holds *n names in column order.
 * On failure returns -1 and fills err and, if not NULL, errline.
 */
int sql_select_columns(const char *sql, char ***names, size_t *n,
                       unsigned *errline, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Copies text compiled by sql_compile() with each $k (outside literals,
 * quoted identifiers and comments) replaced by repl[k - 1]. For SQL that
 * cannot take bound parameters (COPY): the replacements are expressions
 * that read values bound elsewhere, never values. -1 on a bad $k or out of
 * memory.
 */
int sql_replace_params(const char *text, const char *const *repl, size_t nrepl,
                       char **out) __attribute__((warn_unused_result));

void sql_names_free(char **names, size_t n);

/* "a, b, c" (or "none") into out: the known names in a message. */
void sql_join_names(const char *const *names, size_t n, char *out, size_t len);

/* One statement of a script: bytes start..start+len, from line line. */
struct sql_span {
	size_t start, len;
	unsigned line; /* 1-based, of its first token */
};

/*
 * Splits a script at top-level semicolons (not inside literals, quoted
 * identifiers, comments, parentheses or a BEGIN ATOMIC .. END body), as
 * psql would send it statement by statement. Comments before a statement
 * and the semicolon are left out of its span; empty statements are
 * dropped. *spans (free()) holds *n spans in order. -1 with err and
 * errline on an unterminated literal, quoted identifier or comment.
 */
int sql_split(const char *sql, struct sql_span **spans, size_t *n,
              unsigned *errline, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * The line and column (1-based; columns in characters, UTF-8) in text of
 * the pos-th character (1-based, as PostgreSQL's error positions count) of
 * the statement that starts at byte start. CRLF and CR end lines too.
 */
void sql_position(const char *text, size_t start, long pos, unsigned *line,
                  unsigned *col);

#endif
