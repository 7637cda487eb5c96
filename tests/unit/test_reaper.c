/* tests/unit/test_reaper.c: the reaper's queue and its bound, with a fake
 * destroy that blocks until the test lets it finish: at most N retired VMs
 * in flight, then the retiring thread waits; synchronous retires; drain and
 * stop.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/vm/reaper.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned started, finished, released;
static bool blocking;
static pthread_t destroyer[64];

static void fake_destroy(struct reaper_vm *rv)
{
	pthread_mutex_lock(&mu);
	destroyer[started % 64] = pthread_self();
	started++;
	pthread_cond_broadcast(&cv);
	while (blocking && released == 0)
		pthread_cond_wait(&cv, &mu);
	if (blocking)
		released--;
	finished++;
	plan_free(&rv->plan);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void release(unsigned n)
{
	pthread_mutex_lock(&mu);
	released += n;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void wait_started(unsigned n)
{
	pthread_mutex_lock(&mu);
	while (started < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static struct reaper_vm *job(void)
{
	struct reaper_vm *rv = calloc(1, sizeof(*rv));

	cr_assert_not_null(rv);
	rv->heap = true;
	return rv;
}

static struct reaper R;

static void setup(void)
{
	started = finished = released = 0;
	blocking = false;
}

TestSuite(reaper, .init = setup);

Test(reaper, sync_without_threads)
{
	struct reaper_vm local = { 0 };

	reaper_init(&R, 2, fake_destroy);
	reaper_retire(&R, job(), true);          /* no thread runs: at once */
	reaper_retire(&R, &local, false);        /* on the stack: not freed */
	cr_assert_eq(finished, 2);
	cr_assert(pthread_equal(destroyer[0], pthread_self()));
	reaper_drain(&R);
	reaper_stop(&R);
	reaper_fini(&R);
}

Test(reaper, async_runs_on_a_reaper_thread)
{
	reaper_init(&R, 2, fake_destroy);
	cr_assert_eq(reaper_start(&R, 1), 0);
	reaper_retire(&R, job(), true);
	reaper_drain(&R);
	cr_assert_eq(finished, 1);
	cr_assert(!pthread_equal(destroyer[0], pthread_self()));
	reaper_retire(&R, job(), false);         /* asked for synchronously */
	cr_assert_eq(finished, 2);
	cr_assert(pthread_equal(destroyer[1], pthread_self()));
	reaper_stop(&R);
	reaper_fini(&R);
}

struct retirer {
	atomic_uint done;
};

static void *retire_thread(void *arg)
{
	struct retirer *t = arg;

	reaper_retire(&R, job(), true);
	atomic_fetch_add(&t->done, 1);
	return NULL;
}

static void nap_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

Test(reaper, at_most_max_pending_then_the_caller_waits)
{
	enum { MAX = 3 };
	struct retirer t = { 0 };
	pthread_t th;

	blocking = true;
	reaper_init(&R, MAX, fake_destroy);
	cr_assert_eq(reaper_start(&R, 1), 0);
	for (unsigned i = 0; i < MAX; i++)
		reaper_retire(&R, job(), true);   /* all in flight: none waits */
	wait_started(1);
	cr_assert_eq(R.pending, MAX);

	cr_assert_eq(pthread_create(&th, NULL, retire_thread, &t), 0);
	nap_ms(100);
	cr_assert_eq(atomic_load(&t.done), 0, "a retire beyond the bound must wait");
	cr_assert_eq(finished, 0);

	release(1);                               /* one VM destroyed: room for one */
	pthread_join(th, NULL);
	cr_assert_eq(atomic_load(&t.done), 1);
	cr_assert_leq(R.pending, MAX);

	release(MAX);
	reaper_drain(&R);
	cr_assert_eq(finished, MAX + 1);
	cr_assert_eq(R.pending, 0);
	reaper_stop(&R);
	reaper_fini(&R);
}

static void *retire_big_thread(void *arg)
{
	struct retirer *t = arg;
	struct reaper_vm *rv = job();

	cr_assert_not_null(plan_alloc(&rv->plan, 3u << 20));
	reaper_retire(&R, rv, true);
	atomic_fetch_add(&t->done, 1);
	return NULL;
}

Test(reaper, plan_bytes_bound_the_queue_too)
{
	struct retirer t = { 0 };
	pthread_t th;
	struct reaper_vm *big = job();

	blocking = true;
	reaper_init(&R, REAPER_MAX_PENDING, fake_destroy);
	R.max_bytes = 4u << 20;
	cr_assert_eq(reaper_start(&R, 1), 0);
	/* larger than the bound alone: taken, nothing else is pending */
	cr_assert_not_null(plan_alloc(&big->plan, 5u << 20));
	reaper_retire(&R, big, true);
	wait_started(1);                          /* the reaper holds it */
	cr_assert_eq(R.pending_bytes, 5u << 20);

	cr_assert_eq(pthread_create(&th, NULL, retire_big_thread, &t), 0);
	nap_ms(100);
	cr_assert_eq(atomic_load(&t.done), 0, "3 MiB more with 5 of 4 MiB pending must wait");
	release(1);                               /* the 5 MiB plan is gone */
	pthread_join(th, NULL);
	cr_assert_eq(atomic_load(&t.done), 1);
	cr_assert_leq(R.pending_bytes, R.max_bytes);

	cr_assert_eq(R.pending_bytes, 3u << 20);
	release(1);
	reaper_drain(&R);
	cr_assert_eq(finished, 2);
	cr_assert_eq(R.pending_bytes, 0);
	reaper_stop(&R);
	reaper_fini(&R);
}

Test(reaper, stop_finishes_the_queue)
{
	reaper_init(&R, REAPER_MAX_PENDING, fake_destroy);
	cr_assert_eq(reaper_start(&R, REAPER_THREADS), 0);
	cr_assert_eq(R.nthreads, REAPER_THREADS);
	for (unsigned i = 0; i < REAPER_MAX_PENDING; i++)
		reaper_retire(&R, job(), true);
	reaper_stop(&R);
	cr_assert_eq(finished, REAPER_MAX_PENDING);
	cr_assert_eq(R.nthreads, 0);
	reaper_retire(&R, job(), true);           /* stopped: synchronous again */
	cr_assert_eq(finished, REAPER_MAX_PENDING + 1);
	reaper_fini(&R);
}

Test(reaper, deferred_threads_start_at_the_first_async_retire)
{
	reaper_init(&R, REAPER_MAX_PENDING, fake_destroy);
	reaper_start_deferred(&R, 2);
	cr_assert_eq(R.nthreads, 0, "deferred: no thread before a VM is retired");
	reaper_retire(&R, job(), false);          /* synchronous: still none */
	cr_assert_eq(R.nthreads, 0);
	cr_assert(pthread_equal(destroyer[0], pthread_self()));
	reaper_retire(&R, job(), true);
	cr_assert_eq(R.nthreads, 2);
	reaper_drain(&R);
	cr_assert_eq(finished, 2);
	cr_assert(!pthread_equal(destroyer[1], pthread_self()));
	reaper_retire(&R, job(), true);           /* started once, not again */
	cr_assert_eq(R.nthreads, 2);
	reaper_stop(&R);
	cr_assert_eq(finished, 3);
	reaper_fini(&R);
}

Test(reaper, deferred_start_races_between_two_retirers)
{
	struct retirer t = { 0 };
	pthread_t th[4];

	reaper_init(&R, REAPER_MAX_PENDING, fake_destroy);
	reaper_start_deferred(&R, REAPER_THREADS);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, retire_thread, &t), 0);
	for (unsigned i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&t.done), 4);
	cr_assert_eq(R.nthreads, REAPER_THREADS, "one start, whoever came first");
	reaper_drain(&R);
	cr_assert_eq(finished, 4);
	reaper_stop(&R);
	reaper_fini(&R);
}

Test(reaper, no_deferred_start_after_stop)
{
	reaper_init(&R, REAPER_MAX_PENDING, fake_destroy);
	reaper_start_deferred(&R, 2);
	reaper_stop(&R);
	reaper_retire(&R, job(), true);           /* stopped before any reset */
	cr_assert_eq(R.nthreads, 0);
	cr_assert_eq(finished, 1);
	cr_assert(pthread_equal(destroyer[0], pthread_self()));
	reaper_fini(&R);
}

Test(reaper, destroy_vm_tolerates_an_empty_entry)
{
	struct reaper_vm rv = { 0 };

	reaper_destroy_vm(&rv);                   /* nothing built: only the plan */
}
