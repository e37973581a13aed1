/* libFuzzer target: migrated.conf files. */
#include <stdint.h>

#include "config.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file("migrated.conf", data, size);
	struct config cfg;
	char err[1024];

	if (path != NULL && config_load(path, &cfg, err, sizeof(err)) == 0)
		config_free(&cfg);
	return 0;
}
