/*
 * The SQL lexer under the SQL modules (sql_params.c: the :name compiler,
 * sql_select_columns, sql_replace_params, sql_split). It knows just enough
 * PostgreSQL syntax to tell a :name parameter, a ';' or a ',' from the same
 * characters inside a literal ('..', E'..', $tag$..$tag$), a quoted
 * identifier, a comment (--, nested slash-star) or a :: cast, and tracks
 * lines and parenthesis depth. Internal to the SQL modules: users include
 * sql_params.h.
 */
#ifndef SQL_LEX_H
#define SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum sql_tok_kind {
	SQL_TOK_END,
	SQL_TOK_WORD,   /* unquoted identifier or keyword */
	SQL_TOK_QIDENT, /* "quoted identifier" */
	SQL_TOK_STRING, /* '..', E'..', $tag$..$tag$ */
	SQL_TOK_NUMBER,
	SQL_TOK_PARAM, /* :name */
	SQL_TOK_CAST,  /* :: */
	SQL_TOK_LPAREN,
	SQL_TOK_RPAREN,
	SQL_TOK_COMMA,
	SQL_TOK_DOT,
	SQL_TOK_STAR,
	SQL_TOK_SEMICOLON,
	SQL_TOK_OTHER, /* any other operator or punctuation character */
};

struct sql_token {
	enum sql_tok_kind kind;
	size_t start, len; /* in the SQL text */
	unsigned line;
	unsigned depth; /* parenthesis depth outside this token */
};

struct sql_lexer {
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

/* Starts lx at the beginning of s; errors go to err (and *errline). */
void sql_lex_init(struct sql_lexer *lx, const char *s, unsigned *errline,
                  char *err, size_t errlen);

/* Writes the message (and line) of a lexical or later error; returns -1. */
int sql_lex_fail(struct sql_lexer *lx, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Reads the next token into *t; returns -1 on a lexical error. */
int sql_lex_next(struct sql_lexer *lx, struct sql_token *t);

#endif
