/* tests/unit/test_vcpu_stop.c: the vCPU pool's stop deadline, with a fake
 * backend whose vcpu_run either returns HV_EXIT_INTR on the kick (a
 * well-behaved KVM_RUN) or ignores kicks and signals until the test lets it
 * go (a thread stuck in the kernel).  A pause then returns -ETIMEDOUT after
 * the deadline and names the stuck vCPU; once the thread comes back a
 * pause succeeds.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "vmm/base/clock.h"
#include "vmm/vm/vcpu.h"

struct hv_vcpu {
	unsigned index;
	atomic_bool kicked;
	atomic_bool stuck;          /* ignore kicks until cleared */
	atomic_uint runs;
};

static struct hv_vcpu fake[2];

static int fake_run(struct hv_vcpu *v, struct hv_exit *ex)
{
	const struct timespec ms = { 0, 1000000 };

	atomic_fetch_add(&v->runs, 1);
	memset(ex, 0, sizeof(*ex));
	for (;;) {
		if (!atomic_load(&v->stuck) && atomic_exchange(&v->kicked, false))
			break;
		nanosleep(&ms, NULL);   /* EINTR from the kick signal changes nothing */
	}
	ex->reason = HV_EXIT_INTR;
	return 0;
}

static void fake_kick(struct hv_vcpu *v)
{
	atomic_store(&v->kicked, true);
}

static void fake_dump(struct hv_vcpu *v, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
}

static const struct hv_ops fake_ops = {
	.name = "fake",
	.vcpu_run = fake_run,
	.vcpu_kick = fake_kick,
	.vcpu_dump = fake_dump,
};

static void sink_request(void *opaque, enum vcpu_event ev)
{
	(void)opaque;
	(void)ev;
}

static struct vcpu_pool pool;
static struct bus pio, mmio;

static void setup(void)
{
	sigset_t all, old;

	memset(fake, 0, sizeof(fake));
	for (unsigned i = 0; i < 2; i++)
		fake[i].index = i;
	cr_assert_eq(vcpu_signals_init(), 0);
	bus_init(&pio);
	bus_init(&mmio);
	vcpu_pool_init(&pool, 2, &fake_ops, &pio, &mmio,
		       &(struct vcpu_sink){ .request = sink_request });
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	cr_assert_eq(vcpu_pool_start(&pool), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void teardown(void)
{
	atomic_store(&fake[0].stuck, false);
	atomic_store(&fake[1].stuck, false);
	vcpu_pool_stop(&pool);
	vcpu_pool_fini(&pool);
	bus_free(&pio);
	bus_free(&mmio);
}

static void resume_and_wait_running(void)
{
	struct hv_vcpu *v[2] = { &fake[0], &fake[1] };
	const struct timespec ms = { 0, 1000000 };
	unsigned r0 = atomic_load(&fake[0].runs), r1 = atomic_load(&fake[1].runs);

	vcpu_pool_resume(&pool, v);
	for (int i = 0; i < 5000 && (atomic_load(&fake[0].runs) == r0 ||
				     atomic_load(&fake[1].runs) == r1); i++)
		nanosleep(&ms, NULL);
	cr_assert_neq(atomic_load(&fake[0].runs), r0);
	cr_assert_neq(atomic_load(&fake[1].runs), r1);
}

TestSuite(vcpu_stop, .init = setup, .fini = teardown, .timeout = 30);

Test(vcpu_stop, well_behaved_threads_stop_at_once)
{
	uint64_t t0;
	unsigned stuck = 99;

	resume_and_wait_running();
	t0 = clock_now_ns();
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, &stuck), 0);
	cr_assert_lt(clock_now_ns() - t0, 1000000000ull, "a kicked vCPU stops well within 1 s");
	cr_assert_eq(stuck, 99, "nothing reported stuck");
	/* and they run again after a resume */
	resume_and_wait_running();
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, NULL), 0);
}

Test(vcpu_stop, stuck_thread_times_out_and_is_named)
{
	uint64_t t0, dt;
	unsigned stuck = 99;

	resume_and_wait_running();
	atomic_store(&fake[1].stuck, true);
	t0 = clock_now_ns();
	cr_assert_eq(vcpu_pool_pause_within(&pool, 200000000ull, &stuck), -ETIMEDOUT);
	dt = clock_now_ns() - t0;
	cr_assert_geq(dt, 200000000ull, "not before the deadline (%llu ns)", (unsigned long long)dt);
	cr_assert_lt(dt, 2000000000ull, "soon after it (%llu ns)", (unsigned long long)dt);
	cr_assert_eq(stuck, 1, "vCPU 1 is the stuck one, not %u", stuck);
	/* it comes back: the next pause succeeds */
	atomic_store(&fake[1].stuck, false);
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, &stuck), 0);
}

Test(vcpu_stop, zero_deadline_with_a_stuck_thread)
{
	unsigned stuck = 99;

	resume_and_wait_running();
	atomic_store(&fake[0].stuck, true);
	cr_assert_eq(vcpu_pool_pause_within(&pool, 0, &stuck), -ETIMEDOUT);
	cr_assert_eq(stuck, 0);
	atomic_store(&fake[0].stuck, false);
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, NULL), 0);
}

/* Every return from vcpu_run is an exit of vcpu_pool_exits, on either
 * vCPU, and the count carries on across resumes (a pause leaves no run
 * unreturned: each one the fake entered came back before the pause did). */
Test(vcpu_stop, exits_count_every_return)
{
	uint64_t first;

	cr_assert_eq(vcpu_pool_exits(&pool), 0);
	resume_and_wait_running();
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, NULL), 0);
	first = vcpu_pool_exits(&pool);
	cr_assert_eq(first, atomic_load(&fake[0].runs) + atomic_load(&fake[1].runs));
	cr_assert_geq(first, 2);
	resume_and_wait_running();
	cr_assert_eq(vcpu_pool_pause_within(&pool, VCPU_STOP_DEADLINE_NS, NULL), 0);
	cr_assert_eq(vcpu_pool_exits(&pool), atomic_load(&fake[0].runs) + atomic_load(&fake[1].runs));
	cr_assert_geq(vcpu_pool_exits(&pool), first + 2);
}
