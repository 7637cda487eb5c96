/* tests/unit/test_spare.c: the spare VM's life cycle (vmm/vm/spare.c) over a
 * fake hypervisor that counts the VMs and vCPUs it creates and destroys, with
 * the real reaper retiring what the spare discards: a spare is built on
 * request, used by a take for its firmware, kept across a take for other
 * firmware, discarded on invalidation (config change, generation bump) and
 * at stop, never used stale, and never leaked, also through a reset storm.
 * Owns: only these tests. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/vm/spare.h"

/* ---- a hypervisor that only counts ---- */

struct hv_vm { int dummy; };
struct hv_vcpu { int dummy; };

static atomic_uint vms_made, vms_gone, vcpus_made, vcpus_gone;

static int f_vm_create(struct hv *hv, const struct hv_vm_params *p, struct hv_vm **out)
{
	*out = calloc(1, sizeof(**out));
	atomic_fetch_add(&vms_made, 1);
	return 0;
}

static void f_vm_destroy(struct hv_vm *vm)
{
	free(vm);
	atomic_fetch_add(&vms_gone, 1);
}

static int f_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out)
{
	*out = calloc(1, sizeof(**out));
	atomic_fetch_add(&vcpus_made, 1);
	return 0;
}

static void f_vcpu_destroy(struct hv_vcpu *v)
{
	free(v);
	atomic_fetch_add(&vcpus_gone, 1);
}

static const struct hv_ops fake_ops = {
	.name = "fake", .vm_create = f_vm_create, .vm_destroy = f_vm_destroy,
	.vcpu_create = f_vcpu_create, .vcpu_destroy = f_vcpu_destroy,
};

/* ---- the callbacks a VM would give ---- */

#define NVCPUS 2

static struct reaper R;
static struct spare S;
static uint8_t fw_a[48], fw_b[48];
static const uint8_t *building_for = fw_a;
static atomic_bool fail_next;
/* gate: a build waits while closed (to invalidate one in flight) */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed, in_build;

static int t_build(void *opaque, struct spare_vm *sv)
{
	pthread_mutex_lock(&gate_mu);
	in_build = true;
	pthread_cond_broadcast(&gate_cv);
	while (gate_closed)
		pthread_cond_wait(&gate_cv, &gate_mu);
	in_build = false;
	pthread_mutex_unlock(&gate_mu);
	if (atomic_exchange(&fail_next, false))
		return -EIO;
	sv->rv.heap = true;
	sv->rv.ops = &fake_ops;
	cr_assert_eq(fake_ops.vm_create(NULL, NULL, &sv->rv.hvvm), 0);
	sv->rv.nvcpus = NVCPUS;
	for (unsigned i = 0; i < NVCPUS; i++)
		cr_assert_eq(fake_ops.vcpu_create(sv->rv.hvvm, i, &sv->rv.vcpu[i]), 0);
	memcpy(sv->sha384, building_for, 48);
	return 0;
}

static void t_retire(void *opaque, struct spare_vm *sv)
{
	reaper_retire(&R, &sv->rv, true);
}

/* An installed spare is retired like any current VM, at the next reset. */
static void retire_installed(struct spare_vm *sv)
{
	reaper_retire(&R, &sv->rv, true);
}

static void nap_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Until the thread has nothing left to do: no request pending, no build in
 * flight, no stale spare held. */
static void wait_idle(void)
{
	for (;;) {
		pthread_mutex_lock(&S.lock);
		bool idle = !S.want && !S.building;

		for (unsigned i = 0; i < S.nheld; i++)
			idle = idle && S.held[i]->gen == atomic_load(&S.gen);
		pthread_mutex_unlock(&S.lock);
		if (idle)
			return;
		nap_ms(1);
	}
}

static void setup(void)
{
	atomic_store(&vms_made, 0);
	atomic_store(&vms_gone, 0);
	atomic_store(&vcpus_made, 0);
	atomic_store(&vcpus_gone, 0);
	atomic_store(&fail_next, false);
	memset(fw_a, 0xaa, 48);
	memset(fw_b, 0xbb, 48);
	building_for = fw_a;
	gate_closed = false;
	reaper_init(&R, REAPER_MAX_PENDING, reaper_destroy_vm);
	cr_assert_eq(reaper_start(&R, 2), 0);
	spare_init(&S, t_build, t_retire, NULL);
	S.depth = 1;       /* the tests below count one spare; depth 2 at the end */
}

/* Everything made was destroyed; the statistics add up. */
static void teardown(void)
{
	spare_stop(&S, true);
	reaper_stop(&R);
	cr_assert_eq(S.nheld, 0);
	cr_assert_eq(S.built, S.used + S.discarded, "built %llu used %llu discarded %llu",
		     (unsigned long long)S.built, (unsigned long long)S.used,
		     (unsigned long long)S.discarded);
	cr_assert_eq(atomic_load(&vms_made), atomic_load(&vms_gone), "VMs %u made, %u destroyed",
		     atomic_load(&vms_made), atomic_load(&vms_gone));
	cr_assert_eq(atomic_load(&vcpus_made), atomic_load(&vcpus_gone));
	spare_fini(&S);
	reaper_fini(&R);
}

TestSuite(spare, .init = setup, .fini = teardown);

Test(spare, nothing_without_a_request)
{
	cr_assert_null(spare_take(&S, fw_a));
	cr_assert_eq(atomic_load(&vms_made), 0);
}

Test(spare, built_then_used_for_its_firmware)
{
	spare_request(&S);
	wait_idle();
	cr_assert_eq(S.built, 1);
	struct spare_vm *sv = spare_take(&S, fw_a);

	cr_assert_not_null(sv);
	cr_assert_eq(S.used, 1);
	cr_assert_eq(sv->rv.nvcpus, NVCPUS);
	cr_assert_null(spare_take(&S, fw_a), "one spare is used once");
	retire_installed(sv);
}

Test(spare, another_firmware_leaves_it_for_the_host_reset)
{
	spare_request(&S);
	wait_idle();
	cr_assert_null(spare_take(&S, fw_b));      /* a guest image's reset */
	cr_assert_eq(S.discarded, 0);
	struct spare_vm *sv = spare_take(&S, fw_a);  /* back to the host's */

	cr_assert_not_null(sv);
	retire_installed(sv);
}

Test(spare, config_change_discards_it)
{
	spare_request(&S);
	wait_idle();
	spare_invalidate(&S);      /* what a policy change over the socket calls */
	wait_idle();
	cr_assert_eq(S.discarded, 1);
	cr_assert_null(spare_take(&S, fw_a));
	reaper_drain(&R);
	cr_assert_eq(atomic_load(&vms_gone), 1);
}

Test(spare, generation_bump_during_the_build_is_never_used)
{
	pthread_mutex_lock(&gate_mu);
	gate_closed = true;
	pthread_mutex_unlock(&gate_mu);
	spare_request(&S);
	pthread_mutex_lock(&gate_mu);
	while (!in_build)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	spare_invalidate(&S);      /* e.g. the vCPU count or memory changed */
	pthread_mutex_lock(&gate_mu);
	gate_closed = false;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	/* a take waits for the build in flight, finds it stale */
	cr_assert_null(spare_take(&S, fw_a));
	wait_idle();
	cr_assert_eq(S.built, 1);
	cr_assert_eq(S.discarded, 1);
	cr_assert_eq(S.used, 0);
	/* a new request after the change builds a current one */
	spare_request(&S);
	wait_idle();
	struct spare_vm *sv = spare_take(&S, fw_a);

	cr_assert_not_null(sv);
	retire_installed(sv);
}

Test(spare, a_failed_build_leaves_nothing)
{
	atomic_store(&fail_next, true);
	spare_request(&S);
	wait_idle();
	cr_assert_eq(S.failed, 1);
	cr_assert_eq(S.built, 0);
	cr_assert_null(spare_take(&S, fw_a));
}

Test(spare, stop_retires_the_held_spare)
{
	spare_request(&S);
	wait_idle();
	spare_stop(&S, true);
	cr_assert_eq(S.discarded, 1);
	reaper_drain(&R);
	cr_assert_eq(atomic_load(&vms_gone), 1);
	spare_request(&S);         /* after stop: nothing */
	cr_assert_eq(S.built, 1);
}

Test(spare, disabled_builds_nothing)
{
	atomic_store(&S.enabled, false);
	spare_request(&S);
	cr_assert(!S.running);
	cr_assert_null(spare_take(&S, fw_a));
	cr_assert_eq(atomic_load(&vms_made), 0);
}

/* A reset storm: every reset takes the spare if one is there (or waits
 * for the one in flight), retires the VM it replaces, asks for the next;
 * config changes and guest-image resets come in between.  At the end every
 * VM ever made is destroyed exactly once. */
static void reset_storm(unsigned seed)
{
	struct spare_vm *current = NULL;
	unsigned used = 0;

	for (unsigned i = 0; i < 400; i++) {
		unsigned dice = rand_r(&seed) % 10;
		const uint8_t *fw = dice == 0 ? fw_b : fw_a;
		struct spare_vm *sv;

		if (dice == 1)
			spare_invalidate(&S);
		if (dice == 2)
			atomic_store(&fail_next, true);
		sv = spare_take(&S, fw);
		if (sv) {
			cr_assert_eq(memcmp(sv->sha384, fw, 48), 0);
			used++;
		}
		if (current)
			retire_installed(current);
		current = sv;      /* NULL: the reset built its own (not counted here) */
		spare_request(&S);
	}
	if (current)
		retire_installed(current);
	cr_assert_eq(S.used, used);
	cr_assert_gt(used, 0);
}

Test(spare, reset_storm_never_leaks)
{
	reset_storm(1);
}

/* ---- two spares (SPARE_DEPTH, what a VM uses) ---- */

Test(spare, two_are_held_and_used_in_order)
{
	S.depth = SPARE_DEPTH;
	spare_request(&S);
	wait_idle();
	cr_assert_eq(S.built, 2);
	cr_assert_eq(S.nheld, 2);
	struct spare_vm *first = S.held[0], *a = spare_take(&S, fw_a), *b;

	cr_assert_eq(a, first, "the oldest first");
	b = spare_take(&S, fw_a);                  /* the second covers the next reset */
	cr_assert_not_null(b);
	cr_assert_null(spare_take(&S, fw_a), "two spares, two takes");
	cr_assert_eq(S.used, 2);
	retire_installed(a);
	retire_installed(b);
	spare_request(&S);                        /* tops the pool up again */
	wait_idle();
	cr_assert_eq(S.nheld, 2);
	cr_assert_eq(S.built, 4);
}

Test(spare, two_invalidated_are_both_discarded)
{
	S.depth = SPARE_DEPTH;
	spare_request(&S);
	wait_idle();
	spare_invalidate(&S);
	wait_idle();
	cr_assert_eq(S.discarded, 2);
	cr_assert_eq(S.nheld, 0);
	cr_assert_null(spare_take(&S, fw_a));
	spare_request(&S);
	wait_idle();
	struct spare_vm *sv = spare_take(&S, fw_a);

	cr_assert_not_null(sv);
	cr_assert_eq(sv->gen, atomic_load(&S.gen), "a current one, never a stale one");
	retire_installed(sv);
}

Test(spare, stop_retires_both)
{
	S.depth = SPARE_DEPTH;
	spare_request(&S);
	wait_idle();
	spare_stop(&S, true);
	cr_assert_eq(S.discarded, 2);
	reaper_drain(&R);
	cr_assert_eq(atomic_load(&vms_gone), 2);
}

Test(spare, reset_storm_with_two_never_leaks)
{
	S.depth = SPARE_DEPTH;
	reset_storm(7);
}
