/* Helpers for fuzz targets whose input is a file on disk. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to a file named name in a private directory; returns its
 * path (static storage) or NULL. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

#endif
