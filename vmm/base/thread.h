/* vmm/base/thread.h: starting fukivmm's own threads.  Owns: a thread
 * start with every signal blocked (a signal meant for the process, which
 * the main loop takes through a signalfd, never lands on a helper), and
 * the short-lived helpers of the start-up and measure paths, started on
 * another CPU than the caller's and joined once, by whoever needs their
 * result first.  Why another CPU: a new thread tends to start on its
 * creator's CPU and to preempt it there, moving to an idle CPU only later,
 * when a helper of a fraction of a millisecond has mostly run serially. */
#ifndef FUKI_THREAD_H
#define FUKI_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/* pthread_create with every signal blocked in the new thread (@attr may be
 * NULL): 0 or a positive error number. */
int thread_start_blocked(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg);
/* The same on another CPU than the caller's; with one CPU allowed the
 * thread runs wherever the scheduler puts it. */
int thread_start_beside(pthread_t *t, void *(*fn)(void *), void *arg);

/* A helper whose work is joined once, from any thread. */
struct helper {
	pthread_mutex_t lock;
	pthread_t thread;
	bool pending;                /* started and not joined yet */
};

/* Run @fn(@arg) on a thread beside the caller, or here and now when no
 * thread can be started. */
void helper_start(struct helper *h, void *(*fn)(void *), void *arg);
/* Wait until @fn has returned (at once after the first time). */
void helper_join(struct helper *h);
/* Join, and free what helper_start set up. */
void helper_fini(struct helper *h);

#endif
