/* vmm/base/thread.c: see thread.h. */
#include "vmm/base/thread.h"

#include <sched.h>
#include <signal.h>

int thread_start_blocked(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(t, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

int thread_start_beside(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int cpu = sched_getcpu(), e;

	pthread_attr_init(&attr);
	if (cpu >= 0 && !sched_getaffinity(0, sizeof(cpus), &cpus) && CPU_COUNT(&cpus) > 1) {
		CPU_CLR(cpu, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	e = thread_start_blocked(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return e;
}

void helper_start(struct helper *h, void *(*fn)(void *), void *arg)
{
	pthread_mutex_init(&h->lock, NULL);
	h->pending = thread_start_beside(&h->thread, fn, arg) == 0;
	if (!h->pending)
		fn(arg);
}

void helper_join(struct helper *h)
{
	pthread_mutex_lock(&h->lock);
	if (h->pending) {
		pthread_join(h->thread, NULL);
		h->pending = false;
	}
	pthread_mutex_unlock(&h->lock);
}

void helper_fini(struct helper *h)
{
	helper_join(h);
	pthread_mutex_destroy(&h->lock);
}
