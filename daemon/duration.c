#include "duration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *unit;
	long long ms;
} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};

int
duration_parse(const char *text, long long *ms)
{
	char *end;
	long long n;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || n > DURATION_MAX_MS)
		return -1;
	if (*end == '\0') {
		if (n != 0)
			return -1; /* a unit is needed: 5 of what? */
		*ms = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (n > DURATION_MAX_MS / units[i].ms)
			return -1;
		*ms = n * units[i].ms;
		return 0;
	}
	return -1;
}

void
duration_format(long long ms, char *buf, unsigned long len)
{
	if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%llds", ms / 1000);
	else if (ms == 0)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%lldms", ms);
}
