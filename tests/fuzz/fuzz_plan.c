/* libFuzzer target: plan files (and the SQL parameter compiler in them). */
#include <stdint.h>

#include "fuzz_file.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file("fuzz.plan", data, size);
	char err[1024];
	struct plan *plan;

	if (path == NULL)
		return 0;
	plan = plan_load(path, err, sizeof(err));
	plan_free(plan);
	return 0;
}
