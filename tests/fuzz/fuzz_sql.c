/* libFuzzer target: the SQL named-parameter compiler and column namer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {"tenant", "lo", "hi", "org"};
	char *sql = malloc(size + 1);
	struct sql_stmt stmt;
	char **names;
	size_t n;
	unsigned line;
	char err[512];

	if (sql == NULL)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	if (sql_compile(sql, allowed, 4, &stmt, &line, err, sizeof(err)) == 0)
		sql_stmt_free(&stmt);
	if (sql_select_columns(sql, &names, &n, &line, err, sizeof(err)) == 0)
		sql_names_free(names, n);
	free(sql);
	return 0;
}
