/* vmm/base/fileio.h: whole-file reading and writing for the command-line tools.
 * Owns: mapping an input file read-only with size limits and one-line
 * errors, and writing an output file completely.  Nothing else. */
#ifndef FUKI_FILEIO_H
#define FUKI_FILEIO_H

#include <stddef.h>
#include <stdint.h>

struct file_map {
	uint8_t *buf;
	size_t len;
};

/* Map @path read-only: a non-empty regular file of at most @max bytes.
 * 0, or -EINVAL with one line in @err. */
int file_map(const char *path, uint64_t max, struct file_map *m, char *err, size_t errlen);
void file_unmap(struct file_map *m);
/* Create or truncate @path and write all of @buf.  0 or -EIO. */
int file_write(const char *path, const void *buf, size_t len);

#endif
