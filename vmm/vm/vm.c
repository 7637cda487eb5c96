/* vmm/vm/vm.c: VM lifecycle: create, build from a launch plan, run, rebuild on
 * reset, tear down.
 * Owns: guest RAM and its memslots, the device set, the main event loop
 * (requests, signals, serial input) and the order of every build step.
 * Devices and RAM outlive hypervisor VMs; a reset builds a new hypervisor VM
 * from a plan and destroys the old one on a reaper thread. */
#include "vmm/vm/vm_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <dirent.h>
#include <malloc.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "devices/acpi.h"
#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/resetreg.h"
#include "devices/serial.h"
#include "loader/smbios.h"
#include "vmm/launch/linuxboot.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "vmm/api/api.h"
#include "vmm/base/events.h"
#include "vmm/base/layout.h"
#include "vmm/base/log.h"
#include "vmm/launch/planbuild.h"
#include "vmm/vm/board.h"
#include "vmm/vm/irqroute.h"
#include "vmm/vm/pam.h"
#include "vmm/vm/reaper.h"
#include "vmm/vm/swap.h"
#include "vmm/vm/vcpu.h"
#include "vmm/base/clock.h"

/* ---------------- requests ---------------- */

void vm_post(struct vm *vm, enum vm_pending what, int status)
{
	uint64_t one = 1;
	ssize_t n;

	if (what == VM_PENDING_RESET)
		atomic_store(&vm->reset_reason, status);
	if (what == VM_PENDING_EXIT) {
		int expected = -1;

		/* the first exit status wins */
		atomic_compare_exchange_strong(&vm->exit_status, &expected, status);
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
		vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
		break;
	case VM_REQ_EXIT:
		vm_post(vm, VM_PENDING_EXIT, status);
		break;
	}
}

/* What a vCPU thread asks for. */
static void vm_vcpu_request(void *opaque, enum vcpu_event ev)
{
	struct vm *vm = opaque;

	switch (ev) {
	case VCPU_EV_FAILED:
		vm_post(vm, VM_PENDING_EXIT, VM_EXIT_FAILURE);
		break;
	case VCPU_EV_TRIPLE_FAULT:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_TRIPLE_FAULT);
		break;
	case VCPU_EV_RESET:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_HYPERVISOR);
		break;
	case VCPU_EV_POWEROFF:
		vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
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

/* Lay the plan's regions into the guest-memory map of a plain guest:
 * read-only regions (the firmware ROM and its alias) become ROM mappings of
 * the plan's buffers; data regions (an IGVM file's pages) are copied into
 * RAM, or mapped read-only when they lie outside RAM. */
static int vm_gm_apply_plan(struct vm *vm, struct launch_plan *p)
{
	const struct plan_region *ar = pam_plan_alias(p);
	uint64_t alias = ar ? ar->gpa : LAYOUT_1M;
	int r = 0;

	/* the ROM regions and the [768K, alias) RAM piece depend on the image */
	gm_remove(&vm->gm, GM_ROM);
	vm->dev->pam.active = false;
	gm_remove_range(&vm->gm, PAM_START, LAYOUT_1M);
	if (p->platform == PLAN_PLAIN) {
		/* the BIOS area [768K, 1M) follows the PAM registers, at
		 * power-on state after a build */
		r = pam_layout(&vm->dev->pam, &vm->gm, vm->ram, ar);
		alias = PAM_START;
	}
	if (!r && alias > LAYOUT_VGA_END)
		r = gm_add(&vm->gm, LAYOUT_VGA_END, alias - LAYOUT_VGA_END,
			   vm->ram + LAYOUT_VGA_END, GM_RAM, "ram-c0000");
	/* a confidential plan's regions go to private memory through the
	 * platform launch (vmm/launch/coco.c), never through the shared view */
	for (size_t i = 0; !r && p->platform == PLAN_PLAIN && i < p->nregions; i++) {
		struct plan_region *pr = &p->regions[i];

		if (pr->flags & PLAN_F_ALIAS) {
			continue;   /* part of the PAM-managed BIOS area */
		} else if (pr->flags & PLAN_F_READONLY) {
			r = gm_add(&vm->gm, pr->gpa, pr->size, (void *)pr->data, GM_ROM, pr->what);
		} else if (gm_range_is_ram(&vm->gm, pr->gpa, pr->size)) {
			uint8_t *dst = gm_ptr(&vm->gm, pr->gpa, pr->size, GM_RAM);

			if (!dst) {
				r = -EINVAL;   /* spans two RAM regions: not for a plain guest */
				break;
			}
			if (pr->data_len)
				memcpy(dst, pr->data, pr->data_len);
			memset(dst + pr->data_len, 0, pr->size - pr->data_len);
		} else {
			/* outside RAM (e.g. below 4 GiB): a page-aligned buffer of its own */
			uint8_t *buf = plan_alloc(p, pr->size);

			if (!buf) {
				r = -ENOMEM;
				break;
			}
			if (pr->data_len)
				memcpy(buf, pr->data, pr->data_len);
			pr->data = buf;
			pr->data_len = pr->size;
			r = gm_add(&vm->gm, pr->gpa, pr->size, buf, GM_ROM, pr->what);
		}
	}
	if (r)
		log_err("plan region does not fit the memory map: %s", strerror(-r));
	return r;
}

static int vm_set_slots(struct vm *vm, struct hv_vm *hvvm)
{
	struct pam *pam = &vm->dev->pam;
	unsigned slot = 0;
	int r = 0;

	for (unsigned i = 0; !r && i < vm->gm.n; i++) {
		const struct gm_region *g = &vm->gm.r[i];

		if (pam->active && pam_covers(g->gpa))
			continue;   /* the BIOS area has slots per PAM chunk */
		r = vm->ops->vm_set_memory(hvvm, slot++, g->gpa, g->size, g->host,
					   (g->flags & GM_ROM) != 0);
	}
	for (unsigned k = 0; !r && pam->active && k < pam->n; k++) {
		const struct pam_chunk *c = &pam->c[k];

		r = vm->ops->vm_set_memory(hvvm, PAM_SLOT0 + k, c->gpa, c->size, c->host,
					   c->readonly);
	}
	return r;
}

/* ---------------- retire ---------------- */

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

/* ---------------- build ---------------- */

/* Build a hypervisor VM for @plan: memslots first (cheap before the
 * irqchip), then irqchip and PIT, then vCPUs.  On success the VM is
 * installed as current; the plan is moved into vm->plan. */
static int vm_build(struct vm *vm, struct launch_plan *plan)
{
	struct hv_vm_params hp = { .platform = plan->platform, .nvcpus = vm->nvcpus };
	struct hv_vm *hvvm = NULL;
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS] = { 0 };
	struct coco_vm *cv = NULL;
	uint64_t t0 = clock_now_ns();
	int r;

	r = vm_gm_apply_plan(vm, plan);
	if (r) {
		log_err("memory map for the plan: %s", strerror(-r));
		return r;
	}
	if (plan->platform != PLAN_PLAIN) {
		struct coco_build_args a = {
			.ops = vm->ops, .hv = vm->hv, .plan = plan, .gm = &vm->gm,
			.nvcpus = vm->nvcpus, .cfg = &vm->coco_cfg,
			.split_irqchip = vm->split_irqchip,
		};

		/* memory as guest_memfd, the platform launch, vCPUs; on failure
		 * coco_build has destroyed what it made */
		r = coco_build(&a, &cv, &hvvm, vcpu);
		if (r)
			return r;
		goto install;
	}
	r = vm->ops->vm_create(vm->hv, &hp, &hvvm);
	if (r)
		return r;
	r = vm_set_slots(vm, hvvm);
	if (!r && vm->split_irqchip)
		r = vm->ops->vm_create_split_irqchip ?
		    vm->ops->vm_create_split_irqchip(hvvm, LAYOUT_IOAPIC_PINS) : -EOPNOTSUPP;
	else if (!r)
		r = vm->ops->vm_create_irqchip(hvvm);
	for (unsigned i = 0; !r && i < vm->nvcpus; i++)
		r = vm->ops->vcpu_create(hvvm, i, &vcpu[i]);
	if (r) {
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (vcpu[i])
				vm->ops->vcpu_destroy(vcpu[i]);
		vm->ops->vm_destroy(hvvm);
		return r;
	}
install:
	vm->hvvm = hvvm;
	vm->coco = cv;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpu[i] = vcpu[i];
	irqroute_on_new_vm(&vm->irqr, hvvm);
	vm->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	vm->last_build_ns = clock_now_ns() - t0;
	return 0;
}

/* Open descriptors and resident memory of this process, for the rebuilt
 * event: an operator (and the tests) can see that swaps do not leak. */
static void vm_process_usage(uint64_t *fds, uint64_t *rss_kib, uint64_t *heap_kib)
{
	struct mallinfo2 mi = mallinfo2();
	DIR *d = opendir("/proc/self/fd");
	FILE *f;
	unsigned long long pages = 0, resident = 0;

	*fds = 0;
	*rss_kib = 0;
	*heap_kib = (mi.uordblks + mi.hblkhd) / 1024;   /* bytes in use, all arenas */
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				(*fds)++;
		closedir(d);
		(*fds)--;    /* the directory stream itself */
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &resident) == 2)
			*rss_kib = resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
		fclose(f);
	}
}

static const char *const vm_reset_reasons[] = {
	[VM_RESET_GUEST] = "guest",
	[VM_RESET_TRIPLE_FAULT] = "triple-fault",
	[VM_RESET_HYPERVISOR] = "hypervisor",
	[VM_RESET_HOST] = "host",
};

/* The one reset path: stop, choose the firmware (the doorbell's pending
 * image, the host's, or the current one), build a new VM from its plan, run
 * it, retire the old one off the critical path. */
static int vm_rebuild(struct vm *vm)
{
	struct swap_choice ch;
	uint64_t t0 = clock_now_ns(), t_stop, t_plan, t_retire;
	int reason = atomic_exchange(&vm->reset_reason, VM_RESET_GUEST);
	int r;

	atomic_store(&vm->run_state, VM_RS_RESETTING);
	vcpu_pool_pause(&vm->vcpus);
	t_stop = clock_now_ns();
	atomic_fetch_add(&vm->resets, 1);
	EVENTS_EMIT("reset", EVF_U64("n", vm->resets),
		    EVF_STR("reason", vm_reset_reasons[reason >= 0 && reason <= VM_RESET_HOST ? reason : 0]));
	r = swap_choose(&vm->swap, vm->dev->doorbell, &ch);
	if (r)
		return r;
	t_plan = clock_now_ns();
	vm_retire_current(vm, true);
	t_retire = clock_now_ns();
	board_reset(vm->dev);
	r = vm_build(vm, &ch.plan);
	if (r) {
		plan_free(&ch.plan);
		log_err("rebuild after reset failed: %s", strerror(-r));
		return r;
	}
	doorbell_set_fw_region(vm->dev->doorbell, vm->plan.fw_gpa, vm->plan.fw_size);
	doorbell_on_rebuilt(vm->dev->doorbell, 0);
	atomic_store(&vm->dev->first_output, true);
	pthread_mutex_lock(&vm->info_lock);
	memcpy(vm->cur_fw_sha384, ch.sha384, 48);
	pthread_mutex_unlock(&vm->info_lock);
	/* the events go out before the vCPUs run, so "booted" precedes
	 * anything the new firmware does */
	{
		uint64_t dt = clock_now_ns() - t0, fds, rss, heap;

		vm_process_usage(&fds, &rss, &heap);
		EVENTS_EMIT("rebuilt", EVF_U64("n", vm->resets), EVF_F64("ms", dt / 1e6),
			    EVF_F64("vm_ms", vm->last_build_ns / 1e6),
			    EVF_F64("stop_ms", (t_stop - t0) / 1e6),
			    EVF_F64("plan_ms", (t_plan - t_stop) / 1e6),
			    EVF_F64("retire_ms", (t_retire - t_plan) / 1e6),
			    EVF_STR("firmware", ch.guest ? "guest" : "host"),
			    EVF_STR("format", swap_format_name(ch.format)),
			    EVF_U64("size", ch.len),
			    EVF_BYTES("sha384", ch.sha384, 48),
			    EVF_STR("fwid", ch.guest ? swap_uki_fwid(&vm->swap, ch.sha384) : ""),
			    EVF_BYTES("measurement", NULL, 0),
			    EVF_U64("fds", fds), EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap));
		EVENTS_EMIT("booted", EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			    EVF_STR("firmware", ch.guest ? "guest" : "host"), EVF_U64("size", ch.len),
			    EVF_BYTES("sha384", ch.sha384, 48),
			    EVF_F64("build_ms", vm->last_build_ns / 1e6));
		atomic_store(&vm->run_state, VM_RS_RUNNING);
		vcpu_pool_resume(&vm->vcpus, vm->vcpu);
		log_debug("reset %llu: rebuilt in %.3f ms (hypervisor VM %.3f ms)",
			  (unsigned long long)vm->resets, dt / 1e6, vm->last_build_ns / 1e6);
	}
	return 0;
}

/* ---------------- the control socket ---------------- */

static int vm_api_status(void *opaque, struct api_status *st)
{
	static const char *const states[] = {
		[VM_RS_STARTING] = "starting", [VM_RS_RUNNING] = "running",
		[VM_RS_RESETTING] = "resetting", [VM_RS_STOPPED] = "stopped",
	};
	static const char *const platforms[] = {
		[CC_NONE] = "none", [CC_SNP] = "snp", [CC_TDX] = "tdx",
	};
	struct vm *vm = opaque;
	struct doorbell_stats ds;
	int rs = atomic_load(&vm->run_state);

	memset(st, 0, sizeof(*st));
	st->state = states[rs >= 0 && rs <= VM_RS_STOPPED ? rs : VM_RS_STOPPED];
	st->platform = platforms[vm->cfg->cc.type];
	st->name = vm->cfg->name;
	st->vcpus = vm->nvcpus;
	st->memory = vm->ram_size;
	st->uptime_s = (clock_now_ns() - vm->start_ns) / 1e9;
	pthread_mutex_lock(&vm->info_lock);
	memcpy(st->fw_sha384, vm->cur_fw_sha384, 48);
	pthread_mutex_unlock(&vm->info_lock);
	st->has_measurement = false;   /* plain guests have no launch measurement */
	doorbell_get_stats(vm->dev->doorbell, &ds);
	st->swaps_accepted = ds.accepted;
	st->swaps_rejected = ds.rejected;
	st->resets = atomic_load(&vm->resets);
	doorbell_get_policy(vm->dev->doorbell, &st->policy);
	return 0;
}

static int vm_api_policy_get(void *opaque, struct doorbell_policy *p)
{
	struct vm *vm = opaque;

	doorbell_get_policy(vm->dev->doorbell, p);
	return 0;
}

static int vm_api_policy_set(void *opaque, const struct doorbell_policy *p)
{
	struct vm *vm = opaque;
	int r = doorbell_set_policy(vm->dev->doorbell, p);

	if (!r)
		EVENTS_EMIT("policy", EVF_BOOL("enabled", p->enabled), EVF_BOOL("locked", p->locked),
			    EVF_U64("max_image_size", p->max_image_size),
			    EVF_U64("max_opaque_size", p->max_opaque_size),
			    EVF_U64("min_reset_interval_ns", p->min_reset_interval_ns));
	return r;
}

static int vm_api_reset(void *opaque)
{
	vm_post(opaque, VM_PENDING_RESET, VM_RESET_HOST);
	return 0;
}

static int vm_api_shutdown(void *opaque)
{
	vm_post(opaque, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
	return 0;
}

static int vm_api_measure_pending(void *opaque, uint8_t out[48], bool *has)
{
	struct vm *vm = opaque;
	uint8_t digest[48];

	if (!doorbell_pending_digest(vm->dev->doorbell, digest))
		return -ENOENT;
	/* a plain guest's launch is not measured by hardware */
	*has = false;
	memset(out, 0, 48);
	return 0;
}

static const struct api_ops vm_api_ops = {
	.status = vm_api_status,
	.policy_get = vm_api_policy_get,
	.policy_set = vm_api_policy_set,
	.reset = vm_api_reset,
	.shutdown = vm_api_shutdown,
	.measure_pending = vm_api_measure_pending,
};

/* ---------------- create / run / destroy ---------------- */

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
	vcpu_pool_init(&vm->vcpus, vm->nvcpus, ops, &vm->pio, &vm->mmio,
		       &(struct vcpu_sink){ .request = vm_vcpu_request,
					    .ioapic_eoi = vm_vcpu_ioapic_eoi,
					    .exit = vm_vcpu_exit, .opaque = vm });
	irqroute_init(&vm->irqr, ops, vm->split_irqchip);
	pthread_mutex_init(&vm->info_lock, NULL);
	reaper_init(&vm->reaper, REAPER_MAX_PENDING, reaper_destroy_vm);
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
	r = board_create(vm, err, errlen);
	if (r)
		goto fail;
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

/* The vCPU and reaper threads start with every signal blocked (the vCPU
 * threads unblock the kick). */
static int vm_start_threads(struct vm *vm)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = vcpu_pool_start(&vm->vcpus);
	if (!r)
		r = reaper_start(&vm->reaper, REAPER_THREADS);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void vm_stop_threads(struct vm *vm)
{
	vcpu_pool_stop(&vm->vcpus);
	reaper_stop(&vm->reaper);
}

/* ---- the main loop: requests, signals, serial input ---- */

struct vm_tty {
	bool raw;
	struct termios saved;
	bool escape;            /* saw Ctrl-A */
	uint8_t pend[4096];     /* host input the UART's FIFO has not taken yet */
	size_t npend;
	bool watching;          /* stdin is in the epoll set */
};

static void vm_tty_restore(struct vm_tty *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
}

/* Hand pending input to the UART as far as its FIFO takes it. */
static void vm_tty_flush(struct vm *vm, struct vm_tty *t)
{
	size_t n = t->npend ? serial_push_input(vm->dev->serial, t->pend, t->npend) : 0;

	if (n) {
		memmove(t->pend, t->pend + n, t->npend - n);
		t->npend -= n;
	}
}

/* Read stdin into the pending buffer; false on EOF or error. */
static bool vm_stdin_input(struct vm *vm, struct vm_tty *t)
{
	uint8_t buf[256];
	size_t room = sizeof(t->pend) - t->npend;
	ssize_t got = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));

	if (got <= 0)
		return false;
	for (ssize_t i = 0; i < got; i++) {
		if (t->escape) {
			t->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				log_info("Ctrl-A x: stopping the VM");
				vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
				return true;
			}
			if (buf[i] != 0x01)
				continue;
		} else if (buf[i] == 0x01) {
			t->escape = true;
			continue;
		}
		t->pend[t->npend++] = buf[i];
	}
	vm_tty_flush(vm, t);
	return true;
}

int vm_run(struct vm *vm)
{
	struct launch_plan plan;
	struct swap_choice ch;
	struct vm_tty tty = { 0 };
	sigset_t sigs;
	int sfd = -1, efd = -1, status = VM_EXIT_FAILURE;
	bool watch_stdin;
	struct epoll_event ev;

	vm->start_ns = clock_now_ns();
	if (vcpu_signals_init() < 0) {
		log_err("cannot install the vCPU kick handler");
		return VM_EXIT_FAILURE;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || efd < 0) {
		log_err("signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 };
	epoll_ctl(efd, EPOLL_CTL_ADD, vm->req_fd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	/* virtio-blk completions: io_uring signals an eventfd per disk; the
	 * guest's notifications arrive on another (KVM_IOEVENTFD) */
	for (unsigned i = 0; i < vm->dev->ndisks; i++) {
		int nfd = virtio_blk_notify_fd(vm->dev->disk[i]);

		ev.data.u32 = 100 + i;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, virtio_blk_event_fd(vm->dev->disk[i]), &ev) < 0) {
			log_err("disk %u: cannot watch its completions: %s", i, strerror(errno));
			goto out;
		}
		ev.data.u32 = 200 + i;
		if (nfd >= 0 && epoll_ctl(efd, EPOLL_CTL_ADD, nfd, &ev) < 0) {
			log_err("disk %u: cannot watch its notifications: %s", i, strerror(errno));
			goto out;
		}
	}
	watch_stdin = vm->cfg->serial != SERIAL_NONE && isatty(STDIN_FILENO);
	if (watch_stdin) {
		struct termios raw;

		if (tcgetattr(STDIN_FILENO, &tty.saved) == 0) {
			raw = tty.saved;
			cfmakeraw(&raw);
			raw.c_oflag |= OPOST | ONLCR;
			if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
				tty.raw = true;
		}
		ev.data.u32 = 2;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0)
			watch_stdin = false;
		tty.watching = watch_stdin;
	}

	if (vm->cfg->api.socket) {
		char err[256];

		vm->api = api_start(vm->cfg->api.socket, vm->cfg->api.uids, vm->cfg->api.nuids,
				    &vm_api_ops, vm, err, sizeof(err));
		if (!vm->api) {
			log_err("control socket: %s", err);
			status = VM_EXIT_STARTUP;
			goto out;
		}
	}
	if (swap_host(&vm->swap, &ch))
		goto out;
	plan = ch.plan;
	if (vm_build(vm, &plan)) {
		plan_free(&plan);
		log_err("could not build the VM");
		goto out;
	}
	if (vm_start_threads(vm)) {
		log_err("could not start vCPU threads");
		goto out;
	}
	doorbell_set_fw_region(vm->dev->doorbell, vm->plan.fw_gpa, vm->plan.fw_size);
	atomic_store(&vm->dev->first_output, true);
	pthread_mutex_lock(&vm->info_lock);
	memcpy(vm->cur_fw_sha384, vm->swap.host_fw_sha384, 48);
	pthread_mutex_unlock(&vm->info_lock);
	atomic_store(&vm->run_state, VM_RS_RUNNING);
	vcpu_pool_resume(&vm->vcpus, vm->vcpu);
	{
		uint64_t fds, rss, heap;

		vm_process_usage(&fds, &rss, &heap);
		EVENTS_EMIT("booted", EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			    EVF_STR("firmware", "host"), EVF_U64("size", vm->swap.host_fw_len),
			    EVF_BYTES("sha384", vm->swap.host_fw_sha384, 48),
			    EVF_F64("build_ms", vm->last_build_ns / 1e6),
			    EVF_U64("fds", fds), EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap));
	}

	for (;;) {
		struct epoll_event evs[4];
		/* while input waits for room in the UART FIFO, poll for it */
		int n = epoll_wait(efd, evs, 4, tty.npend ? 2 : -1);

		if (tty.npend) {
			vm_tty_flush(vm, &tty);
			if (tty.watching && tty.npend == sizeof(tty.pend)) {
				epoll_ctl(efd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
				tty.watching = false;
			} else if (!tty.watching && watch_stdin && tty.npend < sizeof(tty.pend)) {
				struct epoll_event in = { .events = EPOLLIN, .data.u32 = 2 };

				tty.watching = epoll_ctl(efd, EPOLL_CTL_ADD, STDIN_FILENO, &in) == 0;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 1) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					log_info("signal %u: stopping the VM", si.ssi_signo);
					vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
				}
			} else if (evs[i].data.u32 >= 100 &&
				   evs[i].data.u32 < 100 + vm->dev->ndisks) {
				virtio_blk_process(vm->dev->disk[evs[i].data.u32 - 100]);
			} else if (evs[i].data.u32 >= 200 &&
				   evs[i].data.u32 < 200 + vm->dev->ndisks) {
				virtio_blk_notify_event(vm->dev->disk[evs[i].data.u32 - 200]);
				vm->dev->notify_eventfd++;
			} else if (evs[i].data.u32 == 2) {
				if (!vm_stdin_input(vm, &tty)) {
					epoll_ctl(efd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					tty.watching = watch_stdin = false;
				}
			} else {
				uint64_t cnt;

				if (read(vm->req_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
					log_warn("request eventfd: %s", strerror(errno));
			}
		}
		unsigned pend = atomic_exchange(&vm->pending, 0);

		if (pend & VM_PENDING_EXIT) {
			status = atomic_load(&vm->exit_status);
			break;
		}
		if (pend & VM_PENDING_RESET) {
			if (vm_rebuild(vm)) {
				status = VM_EXIT_FAILURE;
				break;
			}
			/* a request posted while rebuilding is still in pending */
			if (atomic_load(&vm->pending)) {
				uint64_t one = 1;
				ssize_t w = write(vm->req_fd, &one, sizeof(one));

				(void)w;
			}
		}
	}
out:
	vm_tty_restore(&tty);
	atomic_store(&vm->run_state, VM_RS_STOPPED);
	vcpu_pool_pause(&vm->vcpus);
	reaper_drain(&vm->reaper);
	{
		uint64_t fds, rss, heap;
		uint64_t msi_irqfd = 0, msi_signal = 0, notify_eventfd = 0;

		vm_process_usage(&fds, &rss, &heap);
		if (vm->dev) {
			irqroute_stats(&vm->irqr, &msi_irqfd, &msi_signal);
			notify_eventfd = vm->dev->notify_eventfd;
		}
		EVENTS_EMIT("shutdown", EVF_I64("status", status < 0 ? VM_EXIT_FAILURE : status),
			    EVF_U64("resets", vm->resets), EVF_U64("fds", fds),
			    EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap),
			    EVF_U64("notify_eventfd", notify_eventfd),
			    EVF_U64("msi_irqfd", msi_irqfd), EVF_U64("msi_signal", msi_signal));
	}
	if (vm->api) {
		api_stop(vm->api);   /* closes clients, removes the socket file */
		vm->api = NULL;
	}
	if (sfd >= 0)
		close(sfd);
	if (efd >= 0)
		close(efd);
	return status < 0 ? VM_EXIT_FAILURE : status;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_stop_threads(vm);
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
	free(vm);
}
