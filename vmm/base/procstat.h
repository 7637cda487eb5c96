/* vmm/base/procstat.h: the process's own resource use (open descriptors,
 * resident set, heap in use), for the lifecycle events and the soak tests. */
#ifndef FUKI_PROCSTAT_H
#define FUKI_PROCSTAT_H

#include <stdint.h>

struct procstat {
	uint64_t fds;        /* open file descriptors */
	uint64_t rss_kib;    /* resident set */
	uint64_t heap_kib;   /* malloc'd bytes in use, all arenas */
};

void procstat_read(struct procstat *ps);

#endif
