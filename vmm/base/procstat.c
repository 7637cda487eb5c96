/* vmm/base/procstat.c: see procstat.h. */
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/base/procstat.h"

void procstat_read(struct procstat *ps)
{
	struct mallinfo2 mi = mallinfo2();
	DIR *d = opendir("/proc/self/fd");
	FILE *f;
	unsigned long long pages = 0, resident = 0;

	ps->fds = 0;
	ps->rss_kib = 0;
	ps->heap_kib = (mi.uordblks + mi.hblkhd) / 1024;
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				ps->fds++;
		closedir(d);
		ps->fds--;    /* the directory stream itself */
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &resident) == 2)
			ps->rss_kib = resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
		fclose(f);
	}
}
