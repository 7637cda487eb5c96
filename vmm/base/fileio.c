/* vmm/base/fileio.c: implementation of vmm/base/fileio.h. */
#include "vmm/base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int file_map(const char *path, uint64_t max, struct file_map *m, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	m->buf = NULL;
	m->len = 0;
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "'%s' is not a non-empty regular file of at most %" PRIu64 " bytes",
			 path, max);
		close(fd);
		return -EINVAL;
	}
	/* MAP_POPULATE: one read-ahead instead of a fault per page */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	m->buf = p;
	m->len = (size_t)st.st_size;
	return 0;
}

void file_unmap(struct file_map *m)
{
	if (m->buf)
		munmap(m->buf, m->len);
	m->buf = NULL;
	m->len = 0;
}

int file_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wbe");
	int ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}
