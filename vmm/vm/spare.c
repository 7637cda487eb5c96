/* vmm/vm/spare.c: the spare hypervisor VM (see spare.h). */
#include "vmm/vm/spare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/clock.h"
#include "vmm/base/log.h"
#include "vmm/base/thread.h"
#include "vmm/launch/launch.h"
#include "vmm/vm/vm_internal.h"

/* ---------------- the life cycle ---------------- */

void spare_init(struct spare *s, spare_build_fn *build, spare_retire_fn *retire, void *opaque)
{
	*s = (struct spare){ .build = build, .retire = retire, .opaque = opaque, .enabled = true,
			     .depth = SPARE_DEPTH };
	atomic_init(&s->gen, 0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
}

/* Take held[@i] out of the pool (lock held). */
static struct spare_vm *spare_remove_locked(struct spare *s, unsigned i)
{
	struct spare_vm *sv = s->held[i];

	memmove(&s->held[i], &s->held[i + 1], (s->nheld - i - 1) * sizeof(s->held[0]));
	s->nheld--;
	return sv;
}

/* Called with the lock held; drops it around the retire. */
static void spare_discard_locked(struct spare *s, struct spare_vm *sv)
{
	s->discarded++;
	pthread_mutex_unlock(&s->lock);
	s->retire(s->opaque, sv);
	pthread_mutex_lock(&s->lock);
}

/* Retire one stale held spare, if there is one (lock held): true if so. */
static bool spare_discard_stale_locked(struct spare *s)
{
	for (unsigned i = 0; i < s->nheld; i++)
		if (s->held[i]->gen != atomic_load(&s->gen)) {
			spare_discard_locked(s, spare_remove_locked(s, i));
			return true;
		}
	return false;
}

static void *spare_main(void *arg)
{
	struct spare *s = arg;

	/* Normal priority: a reset waits for a build in flight, and a build
	 * starved at nice 19 on a loaded host made that wait longer than
	 * building anew (docs/performance.md).  A build is about 0.5 ms of CPU. */
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->quit)
			break;
		if (spare_discard_stale_locked(s))
			continue;
		if (!s->want || s->nheld >= s->depth) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		s->building = true;
		unsigned gen = atomic_load(&s->gen);
		pthread_mutex_unlock(&s->lock);

		struct spare_vm *sv = calloc(1, sizeof(*sv));
		int r = sv ? s->build(s->opaque, sv) : -ENOMEM;

		pthread_mutex_lock(&s->lock);
		s->building = false;
		pthread_cond_broadcast(&s->cond);
		if (r) {
			s->failed++;
			s->want = false;     /* the next request tries again */
			free(sv);
			log_debug("spare: not built: %s", strerror(-r));
			continue;
		}
		sv->gen = gen;
		s->built++;
		s->held[s->nheld++] = sv;   /* stale (gen moved on, or quit): retired above */
		if (s->nheld >= s->depth)
			s->want = false;       /* full: the next request tops it up */
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int spare_start(struct spare *s)
{
	int e;

	if (s->running)
		return 0;
	if (s->quit)
		return -ECANCELED;   /* stopped for good */
	e = thread_start_blocked(&s->thread, NULL, spare_main, s);
	if (e)
		return -e;
	s->running = true;
	return 0;
}

void spare_request(struct spare *s)
{
	if (!s->enabled || (!s->running && spare_start(s)))
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->quit) {
		s->want = true;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
}

void spare_invalidate(struct spare *s)
{
	pthread_mutex_lock(&s->lock);
	atomic_fetch_add(&s->gen, 1);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

struct spare_vm *spare_take(struct spare *s, const uint8_t sha384[48])
{
	struct spare_vm *sv = NULL;

	pthread_mutex_lock(&s->lock);
	/* a build in flight (or asked for) is nearer its end than a new one */
	while (s->running && !s->quit && !s->nheld && (s->building || s->want))
		pthread_cond_wait(&s->cond, &s->lock);
	while (spare_discard_stale_locked(s))
		;
	if (s->nheld && !memcmp(s->held[0]->sha384, sha384, 48)) {
		sv = spare_remove_locked(s, 0);
		s->used++;
	}
	/* none, or current ones for other firmware (a guest image's reset):
	 * kept for the reset that goes back to the host firmware */
	pthread_mutex_unlock(&s->lock);
	return sv;
}

void spare_stop(struct spare *s, bool wait)
{
	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (!wait)
		return;
	pthread_join(s->thread, NULL);
	s->running = false;
	pthread_mutex_lock(&s->lock);
	while (s->nheld)
		spare_discard_locked(s, spare_remove_locked(s, 0));
	pthread_mutex_unlock(&s->lock);
}

void spare_fini(struct spare *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

/* ---------------- vm.c's side ---------------- */

/* A plan a spare can be built for while the guest runs: plain, and made of
 * ROM regions only (a data region is copied into guest RAM by the build,
 * which must not happen under a running guest). */
static bool spare_plan_fits(const struct launch_plan *p)
{
	if (p->platform != PLAN_PLAIN)
		return false;
	for (size_t i = 0; i < p->nregions; i++)
		if (!(p->regions[i].flags & (PLAN_F_ALIAS | PLAN_F_READONLY)))
			return false;
	return true;
}

static void spare_vm_retire(void *opaque, struct spare_vm *sv)
{
	struct vm *vm = opaque;

	gm_fini(&sv->gm);
	reaper_retire(&vm->reaper, &sv->rv, true);
}

/* The spare thread: the host firmware's plan, the memory map a boot of it
 * would make (a copy of the VM's, the BIOS area at power-on), a VM from it. */
static int spare_vm_build(void *opaque, struct spare_vm *sv)
{
	struct vm *vm = opaque;
	struct launch_slot own[BOARD_OWN_SLOTS];
	struct swap_choice ch;
	struct launch_vm lv;
	unsigned nown;
	int r;

	memset(&ch, 0, sizeof(ch));
	r = swap_host(&vm->swap, &ch);
	if (r)
		return r < 0 ? r : -EINVAL;
	if (!spare_plan_fits(&ch.plan)) {
		vm->spare.enabled = false;   /* the host firmware does not change */
		plan_free(&ch.plan);
		return -EOPNOTSUPP;
	}
	gm_copy(&sv->gm, &vm->gm);
	r = pam_map_bios_area(&sv->pam, &sv->gm, vm->ram, &ch.plan);
	if (!r) {
		nown = board_own_slots(vm->dev, &sv->pam, true, own);
		r = launch_build(&(struct launch_build_args){
					 .ops = vm->ops, .hv = vm->hv, .plan = &ch.plan, .gm = &sv->gm,
					 .nvcpus = vm->nvcpus, .split_irqchip = vm->split_irqchip,
					 .coco = &vm->coco_cfg,
					 .own = own, .nown = nown,
					 .own_lo = PAM_START, .own_hi = LAYOUT_1M,
				 }, &lv);
	}
	if (r) {
		gm_fini(&sv->gm);
		plan_free(&ch.plan);
		return r;
	}
	sv->rv.heap = true;
	sv->rv.ops = vm->ops;
	sv->rv.hvvm = lv.hvvm;
	sv->rv.nvcpus = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		sv->rv.vcpu[i] = lv.vcpu[i];
	sv->rv.plan = ch.plan;
	memcpy(sv->sha384, ch.sha384, 48);
	return 0;
}

void spare_vm_init(struct vm *vm)
{
	spare_init(&vm->spare, spare_vm_build, spare_vm_retire, vm);
	vm->spare.enabled = vm->cfg->cc.type == CC_NONE && !getenv("FUKIVMM_NO_SPARE");
}

static bool pam_same(const struct pam *a, const struct pam *b)
{
	if (a->active != b->active || a->n != b->n)
		return false;
	for (unsigned k = 0; k < a->n; k++)
		if (a->c[k].gpa != b->c[k].gpa || a->c[k].size != b->c[k].size ||
		    a->c[k].host != b->c[k].host || a->c[k].readonly != b->c[k].readonly)
			return false;
	return true;
}

bool spare_use(struct vm *vm, struct swap_choice *ch)
{
	uint64_t t0 = clock_now_ns();
	struct spare_vm *sv;

	if (ch->guest || ch->sha_later || !vm->spare.enabled)
		return false;
	sv = spare_take(&vm->spare, ch->sha384);
	if (!sv)
		return false;
	/* the map this boot makes must be the one the spare's slots show */
	if (pam_map_bios_area(&vm->dev->pam, &vm->gm, vm->ram, &sv->rv.plan) ||
	    launch_map_plain(&vm->gm, &sv->rv.plan) || !gm_same(&vm->gm, &sv->gm) ||
	    !pam_same(&vm->dev->pam, &sv->pam)) {
		log_debug("spare: the memory map differs from the spare's: building");
		pthread_mutex_lock(&vm->spare.lock);
		vm->spare.used--;
		vm->spare.discarded++;
		pthread_mutex_unlock(&vm->spare.lock);
		spare_vm_retire(vm, sv);
		return false;
	}
	vm->hvvm = sv->rv.hvvm;
	vm->coco = NULL;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpu[i] = sv->rv.vcpu[i];
	irqroute_on_new_vm(&vm->irqr, vm->hvvm);
	vm->plan = sv->rv.plan;
	/* the entry goes on to free the plan this reset made, off the path */
	gm_fini(&sv->gm);
	sv->rv = (struct reaper_vm){ .heap = true, .ops = vm->ops, .plan = ch->plan };
	memset(&ch->plan, 0, sizeof(ch->plan));
	reaper_retire(&vm->reaper, &sv->rv, true);
	vm->last_build_ns = clock_now_ns() - t0;
	log_debug("spare: installed in %.3f ms", vm->last_build_ns / 1e6);
	return true;
}
