/* vmm/vm/vm.c: VM lifecycle: create, boot from a launch plan, run, rebuild on
 * reset, tear down.
 * Owns: guest RAM and its memory map, the order of every build step, the
 * VM's state and the main event loop (requests, signals, disks, serial
 * input).  Devices (board.c), RAM and the vCPU threads (vcpu.c) outlive
 * hypervisor VMs; a reset builds a new hypervisor VM from a plan and hands
 * the old one to the reaper (reaper.c). */
#include "vmm/vm/vm_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/clock.h"
#include "vmm/base/events.h"
#include "vmm/base/exitcode.h"
#include "vmm/base/log.h"
#include "vmm/base/procstat.h"
#include "vmm/launch/launch.h"
#include "vmm/vm/console.h"

/* ---------------- state and requests ---------------- */

static const char *const vm_state_names[] = {
	[VM_STATE_STARTING] = "starting", [VM_STATE_RUNNING] = "running",
	[VM_STATE_RESETTING] = "resetting", [VM_STATE_STOPPED] = "stopped",
};

const char *vm_state_name(enum vm_state s)
{
	return vm_state_names[s <= VM_STATE_STOPPED ? s : VM_STATE_STOPPED];
}

/* starting -> running <-> resetting; any -> stopped */
static bool vm_state_valid(enum vm_state from, enum vm_state to)
{
	switch (to) {
	case VM_STATE_RUNNING:
		return from == VM_STATE_STARTING || from == VM_STATE_RESETTING;
	case VM_STATE_RESETTING:
		return from == VM_STATE_RUNNING;
	case VM_STATE_STOPPED:
		return true;
	default:
		return false;
	}
}

/* Only the main thread changes the state. */
static void vm_set_state(struct vm *vm, enum vm_state to)
{
	enum vm_state from = atomic_load(&vm->state);

	if (!vm_state_valid(from, to)) {
		log_err("vm: no transition from %s to %s", vm_state_name(from), vm_state_name(to));
		return;
	}
	atomic_store(&vm->state, to);
}

void vm_post(struct vm *vm, enum vm_pending what, int status)
{
	uint64_t one = 1;
	ssize_t n;

	if (what == VM_PENDING_RESET)
		atomic_store(&vm->reset_reason, status);
	if (what == VM_PENDING_EXIT) {
		int expected = -1;

		uint64_t none = 0;

		/* the first exit status wins; its time is what stop_ms counts from */
		atomic_compare_exchange_strong(&vm->exit_status, &expected, status);
		atomic_compare_exchange_strong(&vm->exit_req_ns, &none, clock_now_ns());
	}
	atomic_fetch_or(&vm->pending, what);
	vcpu_pool_request_stop(&vm->vcpus);
	n = write(vm->req_fd, &one, sizeof(one));
	(void)n;
}

static void vm_req_cb(void *opaque, enum vm_req req, int status)
{
	struct vm *vm = opaque;

	switch (req) {
	case VM_REQ_RESET:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_GUEST);
		break;
	case VM_REQ_POWEROFF:
		vm_post(vm, VM_PENDING_EXIT, FUKI_EXIT_OK);
		break;
	case VM_REQ_EXIT:
		vm_post(vm, VM_PENDING_EXIT, status);
		break;
	}
}

/* ---------------- the vCPU pool's sink ---------------- */

static void vm_vcpu_request(void *opaque, enum vcpu_event ev)
{
	struct vm *vm = opaque;

	switch (ev) {
	case VCPU_EV_FAILED:
		vm_post(vm, VM_PENDING_EXIT, FUKI_EXIT_FAILURE);
		break;
	case VCPU_EV_TRIPLE_FAULT:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_TRIPLE_FAULT);
		break;
	case VCPU_EV_RESET:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_HYPERVISOR);
		break;
	case VCPU_EV_POWEROFF:
		vm_post(vm, VM_PENDING_EXIT, FUKI_EXIT_OK);
		break;
	}
}

static void vm_vcpu_ioapic_eoi(void *opaque, uint8_t vector)
{
	struct vm *vm = opaque;

	irqroute_ioapic_eoi(&vm->irqr, vector);
}

/* The confidential exits go to the current build's platform state (set
 * while the vCPUs run it). */
static enum coco_exit_action vm_vcpu_exit(void *opaque, struct hv_vcpu *v, struct hv_exit *ex)
{
	struct vm *vm = opaque;

	return vm->coco ? coco_handle_exit(vm->coco, v, ex) : COCO_EXIT_STOP;
}

/* ---------------- stopping the vCPUs ---------------- */

/* Stop every vCPU thread.  One that has not come back from the kernel
 * within VCPU_STOP_DEADLINE_NS of the kick (an uninterruptible sleep: a
 * hung disk or page fault) cannot be waited for: the VMM says so in one
 * line and exits with FUKI_EXIT_STUCK at once, without tearing anything
 * down (that thread may still use the VM; the kernel frees it all). */
static void vm_pause_vcpus(struct vm *vm)
{
	unsigned stuck = 0;

	if (!vcpu_pool_pause_within(&vm->vcpus, VCPU_STOP_DEADLINE_NS, &stuck))
		return;
	if (vm->con)
		console_close(vm->con);
	log_err("vCPU %u did not come back from the kernel within %llu s of the stop request: "
		"exiting with status %d without tearing the VM down", stuck,
		(unsigned long long)(VCPU_STOP_DEADLINE_NS / 1000000000ULL), FUKI_EXIT_STUCK);
	_exit(FUKI_EXIT_STUCK);
}

/* ---------------- memory ---------------- */

static int vm_map_ram(struct vm *vm)
{
	uint64_t b = vm->below_4g;
	int r;

	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return -errno;
	}
	/* guest RAM is not needed by any child process */
	madvise(vm->ram, vm->ram_size, MADV_DONTFORK);

	gm_init(&vm->gm);
	/* [0, 640K) and [768K, 1M) minus the BIOS alias; [1M, below_4g); [4G, ...)
	 * The BIOS alias regions are added per plan (they change with the image). */
	r = gm_add(&vm->gm, 0, LAYOUT_VGA_START, vm->ram, GM_RAM, "ram-low");
	if (!r)
		r = gm_add(&vm->gm, LAYOUT_1M, b - LAYOUT_1M, vm->ram + LAYOUT_1M, GM_RAM, "ram");
	if (!r && vm->above_4g)
		r = gm_add(&vm->gm, LAYOUT_4G, vm->above_4g, vm->ram + b, GM_RAM, "ram-high");
	return r;
}

/* The memory map every plan starts from (pam_map_bios_area; the doorbell's
 * dry run starts from the same). */
static int vm_map_bios_area(struct vm *vm, const struct launch_plan *p)
{
	return pam_map_bios_area(&vm->dev->pam, &vm->gm, vm->ram, p);
}

/* ---------------- build and retire ---------------- */

/* Build a hypervisor VM for @plan (@host_fw: the host's firmware, whose
 * variable store is mapped) and install it as current; the plan is moved
 * into vm->plan. */
static int vm_build(struct vm *vm, struct launch_plan *plan, bool host_fw)
{
	struct launch_slot own[BOARD_OWN_SLOTS];
	struct pam *pam = &vm->dev->pam;
	struct launch_vm lv;
	uint64_t t0 = clock_now_ns();
	unsigned nown;
	int r;

	r = vm_map_bios_area(vm, plan);
	if (r) {
		log_err("plan region does not fit the memory map: %s", strerror(-r));
		log_err("memory map for the plan: %s", strerror(-r));
		return r;
	}
	nown = board_own_slots(vm->dev, pam, host_fw, own);
	r = launch_build(&(struct launch_build_args){
				 .ops = vm->ops, .hv = vm->hv, .plan = plan, .gm = &vm->gm,
				 .nvcpus = vm->nvcpus, .split_irqchip = vm->split_irqchip,
				 .coco = &vm->coco_cfg,
				 .own = own, .nown = nown,
				 .own_lo = PAM_START, .own_hi = LAYOUT_1M,
			 }, &lv);
	if (r)
		return r;
	vm->hvvm = lv.hvvm;
	vm->coco = lv.coco;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpu[i] = lv.vcpu[i];
	irqroute_on_new_vm(&vm->irqr, lv.hvvm);
	vm->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	vm->last_build_ns = clock_now_ns() - t0;
	return 0;
}

/* Hand the current hypervisor VM (and the plan its slots use) to the reaper. */
static void vm_retire_current(struct vm *vm, bool async)
{
	struct reaper_vm *rv = calloc(1, sizeof(*rv)), local;

	if (rv) {
		rv->heap = true;
	} else {
		/* no memory for the queue entry: destroy synchronously */
		memset(&local, 0, sizeof(local));
		rv = &local;
		async = false;
	}
	irqroute_on_retire(&vm->irqr);
	rv->ops = vm->ops;
	rv->hvvm = vm->hvvm;
	vm->hvvm = NULL;
	rv->coco = vm->coco;
	vm->coco = NULL;
	rv->nvcpus = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		rv->vcpu[i] = vm->vcpu[i];
		vm->vcpu[i] = NULL;
	}
	rv->plan = vm->plan;
	memset(&vm->plan, 0, sizeof(vm->plan));
	reaper_retire(&vm->reaper, rv, async);
}

/* ---------------- boot and rebuild ---------------- */

/* When the steps of a reset ended, for the rebuilt event. */
struct vm_reset_times {
	uint64_t t0, stop, plan, retire;
};

/* The launch measurement of the plan just built (vm->plan), SEV-SNP / TDX
 * only.  Each plan is measured once: a guest image's at its doorbell
 * validation, the host firmware's at the first boot; a known one is reused.
 * *@check: it was measured from the validation's plan, not from this one
 * (vm_check_measurement measures the launched plan once its vCPUs run).
 * A plan nobody measured yet is measured now. */
static void vm_measurement(struct vm *vm, const struct swap_choice *ch,
			   struct launch_measurement *m, bool *check)
{
	struct swap_measured k;
	char err[160];

	memset(m, 0, sizeof(*m));
	*check = false;
	if (vm->plan.platform == PLAN_PLAIN)
		return;
	if (swap_measurement_get(&vm->swap, ch, &k)) {
		*m = k.m;
		*check = !k.launched;
		return;
	}
	if (launch_measure(&vm->plan, NULL, m, err, sizeof(err)))
		log_err("launch measurement: %s", err);
	swap_measurement_put(&vm->swap, ch, m);
}

/* Measure the plan that was launched and compare it with what was expected
 * of it (@expected, from the doorbell's validation): a difference is a bug,
 * reported as a measurement-mismatch event; status then reports what was
 * launched.  Runs after the vCPUs resume, off the rebuild's critical path. */
static void vm_check_measurement(struct vm *vm, const struct swap_choice *ch,
				 const struct launch_measurement *expected)
{
	struct launch_measurement m;
	char err[160];

	if (launch_measure(&vm->plan, NULL, &m, err, sizeof(err))) {
		log_err("launch measurement of the rebuilt plan: %s", err);
		return;
	}
	swap_measurement_put(&vm->swap, ch, &m);
	if (m.has == expected->has && !memcmp(m.value, expected->value, LAUNCH_MEASUREMENT_LEN)) {
		log_debug("reset %llu: launched plan measured in %.3f ms, as expected",
			  (unsigned long long)vm->resets, m.ns / 1e6);
		return;
	}
	pthread_mutex_lock(&vm->info_lock);
	vm->cur_m = m;
	pthread_mutex_unlock(&vm->info_lock);
	if (!expected->has)
		return;   /* nothing was expected: the validation could not measure */
	log_err("reset %llu: the launched plan's measurement differs from the one expected at "
		"the doorbell's validation", (unsigned long long)vm->resets);
	EVENTS_EMIT("measurement-mismatch", EVF_U64("n", vm->resets),
		    EVF_STR("firmware", ch->guest ? "guest" : "host"),
		    EVF_BYTES("sha384", ch->sha384, 48),
		    EVF_BYTES("expected", expected->value, LAUNCH_MEASUREMENT_LEN),
		    EVF_BYTES("measurement", m.value, LAUNCH_MEASUREMENT_LEN));
}

/* The measurement fields of a booted event, written at @f: the launch
 * measurement, what computing it cost and, for a TDVF plan, the RTMR[0]
 * event digests fukivmm determines.  None for a plain plan (or one that
 * could not be measured). */
#define VM_MEASUREMENT_FIELDS 4
static unsigned vm_measurement_fields(const struct launch_measurement *m, struct event_field *f)
{
	unsigned n = 0;

	if (!m->has)
		return 0;
	f[n++] = (struct event_field)EVF_BYTES("measurement", m->value, LAUNCH_MEASUREMENT_LEN);
	f[n++] = (struct event_field)EVF_F64("measure_ms", m->ns / 1e6);
	if (m->has_rtmr0_events) {
		f[n++] = (struct event_field)EVF_BYTES("rtmr0_td_hob", m->td_hob, 48);
		f[n++] = (struct event_field)EVF_BYTES("rtmr0_cfv", m->cfv, 48);
	}
	return n;
}

/* The one way to boot, at start-up (@rt NULL) and after every reset (@rt its
 * timings): build a hypervisor VM from @ch's plan, point the doorbell at the
 * new firmware, report, and let the vCPU threads run it.  A reset reports
 * before the vCPUs run, so "booted" precedes anything the new firmware does;
 * the first boot reports once they run.  On failure the plan is freed. */
static int vm_boot(struct vm *vm, struct swap_choice *ch, const struct vm_reset_times *rt)
{
	struct procstat ps;
	struct launch_measurement lm;
	struct event_field bf[9 + VM_MEASUREMENT_FIELDS];
	bool check = false;
	uint64_t dt = 0;
	int r;

	/* the variable store belongs to the host's firmware */
	if (vm->dev->pflash)
		pflash_set_active(vm->dev->pflash, !ch->guest);
	/* spare.c: a reset to the spare's firmware switches to it */
	r = spare_use(vm, ch) ? 0 : vm_build(vm, &ch->plan, !ch->guest);

	if (r) {
		plan_free(&ch->plan);
		return r;
	}
	memset(&lm, 0, sizeof(lm));
	if (rt)
		vm_measurement(vm, ch, &lm, &check);
	doorbell_set_fw_region(vm->dev->doorbell, vm->plan.fw_gpa, vm->plan.fw_size);
	if (rt)
		doorbell_on_rebuilt(vm->dev->doorbell, 0);
	board_first_output_arm(vm->dev);
	if (ch->sha_later) {
		/* the first boot's: hashed while the VM was built */
		memcpy(ch->sha384, swap_host_sha384(&vm->swap), 48);
		ch->sha_later = false;
	}
	pthread_mutex_lock(&vm->info_lock);
	memcpy(vm->cur_fw_sha384, ch->sha384, 48);
	vm->cur_m = lm;
	pthread_mutex_unlock(&vm->info_lock);
	if (rt)
		dt = clock_now_ns() - rt->t0;
	/* the vCPUs first, the build's report after them: reading /proc and
	 * writing the events is 0.1 ms here (p90 0.5), off the reset's path
	 * this way; the first-output event waits for them (board.h) */
	vm_set_state(vm, VM_STATE_RUNNING);
	vcpu_pool_resume(&vm->vcpus, vm->vcpu);
	if (rt) {
		procstat_read(&ps);
		EVENTS_EMIT("rebuilt", EVF_U64("n", vm->resets), EVF_F64("ms", dt / 1e6),
			    EVF_F64("vm_ms", vm->last_build_ns / 1e6),
			    EVF_F64("stop_ms", (rt->stop - rt->t0) / 1e6),
			    EVF_F64("plan_ms", (rt->plan - rt->stop) / 1e6),
			    EVF_F64("retire_ms", (rt->retire - rt->plan) / 1e6),
			    EVF_STR("firmware", ch->guest ? "guest" : "host"),
			    EVF_STR("format", swap_format_name(ch->format)),
			    EVF_U64("size", ch->len),
			    EVF_BYTES("sha384", ch->sha384, 48),
			    EVF_STR("fwid", ch->guest ? swap_uki_fwid(&vm->swap, ch->sha384) : ""),
			    EVF_BYTES("measurement", lm.has ? lm.value : NULL,
				      lm.has ? LAUNCH_MEASUREMENT_LEN : 0),
			    EVF_U64("fds", ps.fds), EVF_U64("rss_kib", ps.rss_kib),
			    EVF_U64("heap_kib", ps.heap_kib));
		const struct event_field b[] = {
			EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			EVF_STR("firmware", ch->guest ? "guest" : "host"), EVF_U64("size", ch->len),
			EVF_BYTES("sha384", ch->sha384, 48),
			EVF_F64("build_ms", vm->last_build_ns / 1e6),
		};
		unsigned n = sizeof(b) / sizeof(b[0]);

		memcpy(bf, b, sizeof(b));
		events_emit("booted", bf, n + vm_measurement_fields(&lm, bf + n));
		board_first_output_release(vm->dev);
		spare_request(&vm->spare);   /* spare.c: the next reset's VM */
		log_debug("reset %llu: rebuilt in %.3f ms (hypervisor VM %.3f ms)",
			  (unsigned long long)vm->resets, dt / 1e6, vm->last_build_ns / 1e6);
		if (check)
			vm_check_measurement(vm, ch, &lm);
	} else {
		/* the first boot's plan is measured once its vCPUs run */
		vm_measurement(vm, ch, &lm, &check);
		pthread_mutex_lock(&vm->info_lock);
		vm->cur_m = lm;
		pthread_mutex_unlock(&vm->info_lock);
		procstat_read(&ps);
		const struct event_field b[] = {
			EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			EVF_STR("firmware", ch->guest ? "guest" : "host"), EVF_U64("size", ch->len),
			EVF_BYTES("sha384", ch->sha384, 48),
			EVF_F64("build_ms", vm->last_build_ns / 1e6),
			EVF_U64("fds", ps.fds), EVF_U64("rss_kib", ps.rss_kib),
			EVF_U64("heap_kib", ps.heap_kib),
		};
		unsigned n = sizeof(b) / sizeof(b[0]);

		memcpy(bf, b, sizeof(b));
		events_emit("booted", bf, n + vm_measurement_fields(&lm, bf + n));
		board_first_output_release(vm->dev);
	}
	return 0;
}

static const char *const vm_reset_reasons[] = {
	[VM_RESET_GUEST] = "guest",
	[VM_RESET_TRIPLE_FAULT] = "triple-fault",
	[VM_RESET_HYPERVISOR] = "hypervisor",
	[VM_RESET_HOST] = "host",
};

/* The one reset path: stop, choose the firmware (the doorbell's pending
 * image, the host's, or the current one), retire the old VM off the
 * critical path, reset the devices, boot the new plan. */
static int vm_rebuild_now(struct vm *vm)
{
	struct swap_choice ch;
	struct vm_reset_times rt = { .t0 = clock_now_ns() };
	int reason = atomic_exchange(&vm->reset_reason, VM_RESET_GUEST);
	uint64_t exits;
	int r;

	vm_set_state(vm, VM_STATE_RESETTING);
	vm_pause_vcpus(vm);
	rt.stop = clock_now_ns();
	atomic_fetch_add(&vm->resets, 1);
	exits = vcpu_pool_exits(&vm->vcpus);
	EVENTS_EMIT("reset", EVF_U64("n", vm->resets),
		    EVF_STR("reason", vm_reset_reasons[reason >= 0 && reason <= VM_RESET_HOST ? reason : 0]),
		    EVF_U64("exits", exits - vm->exits_at_build));
	vm->exits_at_build = exits;
	r = swap_choose(&vm->swap, vm->dev->doorbell, &ch);
	if (r)
		return r;   /* the host's own firmware has no plan */
	rt.plan = clock_now_ns();
	vm_retire_current(vm, true);
	rt.retire = clock_now_ns();
	board_reset(vm->dev);
	r = vm_boot(vm, &ch, &rt);
	if (r && ch.guest) {
		/* a guest image that does not build falls back to the host
		 * firmware: the VMM keeps running, the doorbell reads LOAD_FAIL */
		swap_failed(&vm->swap, vm->dev->doorbell, &ch, "build", r, NULL);
		r = swap_host(&vm->swap, &ch);
		if (!r)
			r = vm_boot(vm, &ch, &rt);
	}
	if (r)
		log_err("rebuild after reset failed: %s", strerror(-r));
	return r;
}

/* A reset, its events past the reset rate limit kept out of the log
 * (subscribers still get every one; the shutdown event counts them all). */
static int vm_rebuild(struct vm *vm)
{
	uint32_t rate = vm->cfg->log_reset_rate;
	uint64_t suppressed = 0;
	bool quiet = rate && !ratelimit_allow(&vm->reset_log_rl, &suppressed);
	int r;

	if (suppressed)
		log_warn("the events of %llu resets were not logged (rate limit: %u a second; "
			 "control-socket subscribers got them)", (unsigned long long)suppressed, rate);
	events_log_quiet(quiet);
	r = vm_rebuild_now(vm);
	events_log_quiet(false);
	return r;
}

/* ---------------- create ---------------- */

struct vm *vm_create(const struct vm_config *cfg, const struct hv_ops *ops,
		     char *err, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vm->cfg = cfg;
	vm->ops = ops;
	vm->nvcpus = cfg->vcpus;
	vm->ram_size = cfg->memory;
	vm->split_irqchip = cfg->irqchip == IRQCHIP_SPLIT || cfg->cc.type == CC_TDX;
	vm->below_4g = layout_below_4g(cfg->memory);
	vm->above_4g = layout_above_4g(cfg->memory);
	vm->req_fd = -1;
	atomic_init(&vm->exit_status, -1);
	atomic_init(&vm->state, VM_STATE_STARTING);
	vcpu_pool_init(&vm->vcpus, vm->nvcpus, ops, &vm->pio, &vm->mmio,
		       &(struct vcpu_sink){ .request = vm_vcpu_request,
					    .ioapic_eoi = vm_vcpu_ioapic_eoi,
					    .exit = vm_vcpu_exit, .opaque = vm });
	irqroute_init(&vm->irqr, ops, vm->split_irqchip);
	pthread_mutex_init(&vm->info_lock, NULL);
	reaper_init(&vm->reaper, REAPER_MAX_PENDING, reaper_destroy_vm);
	ratelimit_init(&vm->reset_log_rl, VM_RESET_LOG_BURST, cfg->log_reset_rate);
	spare_vm_init(vm);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	vm->irq = irqroute_irq_chip(&vm->irqr);
	vm->req = (struct vm_req_sink){ .request = vm_req_cb, .opaque = vm };

	r = ops->open(&vm->hv, err, errlen);
	if (r)
		goto fail;
	vm->coco_cfg.quote_socket = cfg->cc.quote_socket;
	vm->coco_cfg.snp_certs = cfg->cc.snp_certs;
	if (cfg->cc.type != CC_NONE) {
		struct hv_coco_caps caps;
		enum plan_platform pf = cfg->cc.type == CC_SNP ? PLAN_SNP : PLAN_TDX;

		/* the host must have the platform: say which piece is missing */
		if (!ops->coco) {
			snprintf(err, errlen, "the %s backend has no confidential-VM support", ops->name);
			goto fail;
		}
		if (ops->coco->probe(vm->hv, pf, &caps, err, errlen))
			goto fail;
	}
	r = swap_open(&vm->swap, cfg, err, errlen);
	if (r)
		goto fail;
	vm->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->req_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = vm_map_ram(vm);
	if (r) {
		snprintf(err, errlen, "guest memory (%llu bytes): %s",
			 (unsigned long long)vm->ram_size, strerror(-r));
		goto fail;
	}
	swap_set_memory(&vm->swap, &vm->gm, vm->ram);
	r = board_create(vm, err, errlen);
	if (r)
		goto fail;
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

/* The vCPU threads start with every signal blocked (they unblock the
 * kick); the reaper's threads at the first reset. */
static int vm_start_threads(struct vm *vm)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = vcpu_pool_start(&vm->vcpus);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* retired VMs appear at the first reset */
	reaper_start_deferred(&vm->reaper, REAPER_THREADS);
	return r;
}

/* ---------------- the main loop ---------------- */

struct vm_loop;

/* One source in the epoll set: epoll's data.ptr points here. */
struct vm_src {
	void (*ready)(struct vm_loop *l, struct vm_src *self);
	int fd;
	unsigned index;                /* the disk */
};

struct vm_loop {
	struct vm *vm;
	int epfd;
	struct console con;
	struct vm_src req, sig, in;
	/* serial output: the ring's wake-up, and the sink while it is full
	 * (EPOLLOUT); a regular file cannot be polled: drained at every turn
	 * while the ring holds bytes */
	struct vm_src ser_wake, ser_out;
	bool ser_pollable, ser_armed, ser_dead, ser_again;
	struct vm_src disk_done[CFG_MAX_DISKS];     /* io_uring completions */
	struct vm_src disk_notify[CFG_MAX_DISKS];   /* the guest's notifications */
};

static void vm_req_ready(struct vm_loop *l, struct vm_src *self)
{
	uint64_t cnt;

	if (read(self->fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_warn("request eventfd: %s", strerror(errno));
}

static void vm_sig_ready(struct vm_loop *l, struct vm_src *self)
{
	struct signalfd_siginfo si;

	if (read(self->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: stopping the VM", si.ssi_signo);
		vm_post(l->vm, VM_PENDING_EXIT, FUKI_EXIT_OK);
	}
}

static void vm_stdin_ready(struct vm_loop *l, struct vm_src *self)
{
	if (console_input(&l->con, l->vm->dev->serial) == CONSOLE_QUIT)
		vm_post(l->vm, VM_PENDING_EXIT, FUKI_EXIT_OK);
}

/* Move the UART's ring to its sink without blocking; watch the sink for
 * EPOLLOUT while bytes wait.  A sink that fails (EPIPE: its reader went
 * away) is not watched again: later output is dropped and counted. */
static void vm_serial_service(struct vm_loop *l)
{
	struct board *b = l->vm->dev;
	bool want = false;
	long n;

	l->ser_again = false;
	if (l->ser_dead || b->serial_fd < 0)
		return;
	n = board_serial_drain(b);
	if (n < 0) {
		log_warn("serial output: %s: later output is dropped", strerror((int)-n));
		l->ser_dead = true;
	} else {
		want = serial_pending(b->serial) > 0;
	}
	if (l->ser_pollable && want != l->ser_armed) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &l->ser_out };

		if (!epoll_ctl(l->epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, b->serial_fd, &ev))
			l->ser_armed = want;
	}
	l->ser_again = !l->ser_pollable && want;
}

static void vm_serial_ready(struct vm_loop *l, struct vm_src *self)
{
	vm_serial_service(l);
}

static void vm_disk_done_ready(struct vm_loop *l, struct vm_src *self)
{
	virtio_blk_process(l->vm->dev->disk[self->index]);
}

static void vm_disk_notify_ready(struct vm_loop *l, struct vm_src *self)
{
	virtio_blk_notify_event(l->vm->dev->disk[self->index]);
	l->vm->dev->notify_eventfd++;
}

static int vm_watch_as(struct vm_loop *l, struct vm_src *src, int fd, uint32_t events,
		       void (*ready)(struct vm_loop *, struct vm_src *), unsigned index)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	*src = (struct vm_src){ .ready = ready, .fd = fd, .index = index };
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int vm_watch(struct vm_loop *l, struct vm_src *src, int fd,
		    void (*ready)(struct vm_loop *, struct vm_src *), unsigned index)
{
	return vm_watch_as(l, src, fd, EPOLLIN, ready, index);
}

/* The request eventfd, the signals and the disks in @l's epoll set. */
static int vm_loop_open(struct vm_loop *l, int sfd)
{
	struct board *b = l->vm->dev;

	vm_watch(l, &l->req, l->vm->req_fd, vm_req_ready, 0);
	vm_watch(l, &l->sig, sfd, vm_sig_ready, 0);
	if (b->serial_fd >= 0) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &l->ser_out };

		if (vm_watch(l, &l->ser_wake, b->serial_wake_fd, vm_serial_ready, 0) < 0) {
			log_err("serial: cannot watch its output: %s", strerror(errno));
			return -1;
		}
		l->ser_out = (struct vm_src){ .ready = vm_serial_ready, .fd = b->serial_fd };
		/* epoll refuses regular files (EPERM): those never block */
		l->ser_pollable = !epoll_ctl(l->epfd, EPOLL_CTL_ADD, b->serial_fd, &ev);
		l->ser_armed = l->ser_pollable;
	}
	/* virtio-blk completions: io_uring signals an eventfd per disk; the
	 * guest's notifications arrive on another (KVM_IOEVENTFD).  Both
	 * edge-triggered, never read: each write is an event of its own, and
	 * a round trip of the guest's request costs two read(2) less */
	for (unsigned i = 0; i < b->ndisks; i++) {
		int nfd = virtio_blk_notify_fd(b->disk[i]);

		if (vm_watch_as(l, &l->disk_done[i], virtio_blk_event_fd(b->disk[i]),
				EPOLLIN | EPOLLET, vm_disk_done_ready, i) < 0) {
			log_err("disk %u: cannot watch its completions: %s", i, strerror(errno));
			return -1;
		}
		if (nfd >= 0 && vm_watch_as(l, &l->disk_notify[i], nfd, EPOLLIN | EPOLLET,
					    vm_disk_notify_ready, i) < 0) {
			log_err("disk %u: cannot watch its notifications: %s", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Serve the epoll set until the VM exits: the exit status. */
static int vm_loop_run(struct vm_loop *l)
{
	struct vm *vm = l->vm;

	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(l->epfd, evs, 4, l->ser_again ? 0 : console_timeout_ms(&l->con));

		console_tick(&l->con, vm->dev->serial);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			return FUKI_EXIT_FAILURE;
		}
		for (int i = 0; i < n; i++) {
			struct vm_src *src = evs[i].data.ptr;

			src->ready(l, src);
		}
		if (l->ser_again)
			vm_serial_service(l);
		unsigned pend = atomic_exchange(&vm->pending, 0);

		if (pend & VM_PENDING_EXIT)
			return atomic_load(&vm->exit_status);
		if (pend & VM_PENDING_RESET) {
			if (vm_rebuild(vm))
				return FUKI_EXIT_FAILURE;
			/* a request posted while rebuilding is still in pending */
			if (atomic_load(&vm->pending)) {
				uint64_t one = 1;
				ssize_t w = write(vm->req_fd, &one, sizeof(one));

				(void)w;
			}
		}
	}
}

int vm_run(struct vm *vm)
{
	struct vm_loop loop = { .vm = vm, .epfd = -1 }, *l = &loop;
	struct swap_choice ch;
	sigset_t sigs;
	int sfd = -1, status = FUKI_EXIT_FAILURE;

	vm->start_ns = clock_now_ns();
	/* a reader that goes away is an EPIPE for whoever writes, never a kill */
	signal(SIGPIPE, SIG_IGN);
	if (vcpu_signals_init() < 0) {
		log_err("cannot install the vCPU kick handler");
		return FUKI_EXIT_FAILURE;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || l->epfd < 0) {
		log_err("signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	if (vm_loop_open(l, sfd))
		goto out;
	l->in = (struct vm_src){ .ready = vm_stdin_ready, .fd = STDIN_FILENO };
	console_open(&l->con, vm->cfg->serial != SERIAL_NONE && isatty(STDIN_FILENO), l->epfd,
		     &l->in);
	vm->con = &l->con;

	if (vm->cfg->api.socket) {
		char err[256];

		vm->api = api_start(vm->cfg->api.socket, vm->cfg->api.uids, vm->cfg->api.nuids,
				    &vm_api_ops, vm, err, sizeof(err));
		if (!vm->api) {
			log_err("control socket: %s", err);
			status = FUKI_EXIT_USAGE;
			goto out;
		}
	}
	if (vm_start_threads(vm)) {
		log_err("could not start vCPU threads");
		goto out;
	}
	if (swap_host_first(&vm->swap, &ch))
		goto out;
	if (vm_boot(vm, &ch, NULL)) {
		log_err("could not build the VM");
		goto out;
	}
	status = vm_loop_run(l);
out:
	vm_set_state(vm, VM_STATE_STOPPED);
	vm_pause_vcpus(vm);
	/* the guest's last variable writes, on disk before the exit */
	if (vm->dev && vm->dev->pflash)
		pflash_sync(vm->dev->pflash);
	console_close(&l->con);
	vm->con = NULL;
	/* what the guest wrote last, as far as the sink takes it now */
	for (int i = 0; i < 4 && vm->dev && vm->dev->serial_fd >= 0 && !l->ser_dead &&
			serial_pending(vm->dev->serial); i++)
		if (board_serial_drain(vm->dev) <= 0)
			break;
	/* the retired VMs' teardown only delays the exit: waited for only when
	 * a clean exit was asked for (then the fds below are exact) */
	spare_stop(&vm->spare, vm->clean_exit);
	if (vm->clean_exit)
		reaper_drain(&vm->reaper);
	{
		struct procstat ps;
		uint64_t msi_irqfd = 0, msi_signal = 0, notify_eventfd = 0, serial_lost = 0;

		procstat_read(&ps);
		if (vm->dev) {
			irqroute_stats(&vm->irqr, &msi_irqfd, &msi_signal);
			notify_eventfd = vm->dev->notify_eventfd;
			serial_lost = serial_dropped(vm->dev->serial);
		}
		EVENTS_EMIT("shutdown", EVF_I64("status", status < 0 ? FUKI_EXIT_FAILURE : status),
			    EVF_U64("resets", vm->resets), EVF_U64("exits", vcpu_pool_exits(&vm->vcpus)),
			    EVF_U64("fds", ps.fds),
			    EVF_U64("rss_kib", ps.rss_kib), EVF_U64("heap_kib", ps.heap_kib),
			    EVF_U64("notify_eventfd", notify_eventfd),
			    EVF_U64("msi_irqfd", msi_irqfd), EVF_U64("msi_signal", msi_signal),
			    EVF_U64("serial_dropped", serial_lost),
			    EVF_F64("stop_ms", atomic_load(&vm->exit_req_ns) ?
				    (clock_now_ns() - atomic_load(&vm->exit_req_ns)) / 1e6 : 0.0),
			    EVF_U64("doorbell_events_suppressed", swap_events_suppressed(&vm->swap)),
			    EVF_U64("resets_unlogged", ratelimit_total_suppressed(&vm->reset_log_rl)));
	}
	if (vm->api) {
		api_stop(vm->api);   /* closes clients, removes the socket file */
		vm->api = NULL;
	}
	if (sfd >= 0)
		close(sfd);
	if (l->epfd >= 0)
		close(l->epfd);
	return status < 0 ? FUKI_EXIT_FAILURE : status;
}

void vm_set_clean_exit(struct vm *vm, bool clean)
{
	vm->clean_exit = clean;
}

/* ---------------- destroy ---------------- */

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vcpu_pool_stop(&vm->vcpus);
	spare_stop(&vm->spare, true);
	reaper_stop(&vm->reaper);
	vm_retire_current(vm, false);
	irqroute_set_ioapic(&vm->irqr, NULL);
	board_destroy(vm->dev);
	vm->dev = NULL;
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->req_fd >= 0)
		close(vm->req_fd);
	if (vm->hv)
		vm->ops->close(vm->hv);
	swap_close(&vm->swap);
	vcpu_pool_fini(&vm->vcpus);
	irqroute_destroy(&vm->irqr);
	pthread_mutex_destroy(&vm->info_lock);
	reaper_fini(&vm->reaper);
	spare_fini(&vm->spare);
	free(vm);
}
