/* vmm/vm/control.c: the VM side of the control socket (vmm/api/): status,
 * the doorbell policy, reset, shutdown and the pending image's measurement.
 * Owns: nothing; every answer is read from the VM (thread-safe: the socket
 * has its own thread). */
#include <errno.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/clock.h"
#include "vmm/base/events.h"
#include "vmm/base/exitcode.h"
#include "vmm/vm/vm_internal.h"

static int vm_api_status(void *opaque, struct api_status *st)
{
	static const char *const platforms[] = {
		[CC_NONE] = "none", [CC_SNP] = "snp", [CC_TDX] = "tdx",
	};
	struct vm *vm = opaque;
	struct doorbell_stats ds;

	memset(st, 0, sizeof(*st));
	st->state = vm_state_name(atomic_load(&vm->state));
	st->platform = platforms[vm->cfg->cc.type];
	st->name = vm->cfg->name;
	st->vcpus = vm->nvcpus;
	st->memory = vm->ram_size;
	st->uptime_s = (clock_now_ns() - vm->start_ns) / 1e9;
	pthread_mutex_lock(&vm->info_lock);
	memcpy(st->fw_sha384, vm->cur_fw_sha384, 48);
	/* SEV-SNP / TDX: the current build's launch measurement; a plain
	 * guest has none */
	st->has_measurement = vm->cur_m.has;
	if (vm->cur_m.has)
		memcpy(st->measurement, vm->cur_m.value, 48);
	pthread_mutex_unlock(&vm->info_lock);
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
		spare_invalidate(&vm->spare);   /* a config change: no spare from before it */
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
	vm_post(opaque, VM_PENDING_EXIT, FUKI_EXIT_OK);
	return 0;
}

/* The firmware the next reset builds when it changes: the doorbell's
 * pending image, or the host's after a one-shot image (or CTL_HOST_IGVM).
 * Its launch measurement was computed once (at the image's validation, at
 * the host firmware's first boot): this only reads it.  A plain guest has
 * none; an image accepted a moment ago may not have it yet. */
static int vm_api_pending(void *opaque, struct api_pending *p)
{
	struct vm *vm = opaque;
	struct swap_measured k;
	bool have;

	memset(p, 0, sizeof(*p));
	switch (doorbell_peek_next(vm->dev->doorbell, p->sha384)) {
	case DOORBELL_FW_GUEST:
		p->firmware = "guest";
		p->fwid = swap_uki_fwid(&vm->swap, p->sha384);
		have = swap_guest_measurement(&vm->swap, p->sha384, &k);
		break;
	case DOORBELL_FW_HOST:
		p->firmware = "host";
		memcpy(p->sha384, swap_host_sha384(&vm->swap), 48);
		have = swap_measurement_get(&vm->swap, &(struct swap_choice){ .guest = false }, &k);
		break;
	default:
		return -ENOENT;
	}
	if (have && k.m.has) {
		p->has_measurement = true;
		memcpy(p->measurement, k.m.value, 48);
	}
	return 0;
}

const struct api_ops vm_api_ops = {
	.status = vm_api_status,
	.policy_get = vm_api_policy_get,
	.policy_set = vm_api_policy_set,
	.reset = vm_api_reset,
	.shutdown = vm_api_shutdown,
	.pending = vm_api_pending,
};
