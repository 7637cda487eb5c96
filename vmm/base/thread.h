/* vmm/base/thread.h: the short-lived helper threads of the start-up and
 * measure paths.  Owns: starting one with every signal blocked (a signal
 * meant for the process never lands on it) on another CPU than the
 * caller's.  Why another CPU: a new thread tends to start on its
 * creator's CPU and to preempt it there, moving to an idle CPU only later,
 * when a helper of a fraction of a millisecond has mostly run serially. */
#ifndef FUKI_THREAD_H
#define FUKI_THREAD_H

#include <pthread.h>

/* 0 or a positive error number of pthread_create.  With one CPU allowed
 * the thread runs wherever the scheduler puts it. */
int thread_start_beside(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
