/* vmm/base/thread.c: see thread.h. */
#include "vmm/base/thread.h"

#include <sched.h>
#include <signal.h>

int thread_start_beside(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	sigset_t all, old;
	int cpu = sched_getcpu(), e;

	pthread_attr_init(&attr);
	if (cpu >= 0 && !sched_getaffinity(0, sizeof(cpus), &cpus) && CPU_COUNT(&cpus) > 1) {
		CPU_CLR(cpu, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return e;
}
