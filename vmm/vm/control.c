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
	pthread_mutex_unlock(&vm->info_lock);
	st->has_measurement = false;   /* no launch measurement is reported */
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
	vm_post(opaque, VM_PENDING_EXIT, FUKI_EXIT_OK);
	return 0;
}

static int vm_api_measure_pending(void *opaque, uint8_t out[48], bool *has)
{
	struct vm *vm = opaque;
	uint8_t digest[48];

	if (!doorbell_pending_digest(vm->dev->doorbell, digest))
		return -ENOENT;
	/* the pending image's launch measurement is not computed */
	*has = false;
	memset(out, 0, 48);
	return 0;
}

const struct api_ops vm_api_ops = {
	.status = vm_api_status,
	.policy_get = vm_api_policy_get,
	.policy_set = vm_api_policy_set,
	.reset = vm_api_reset,
	.shutdown = vm_api_shutdown,
	.measure_pending = vm_api_measure_pending,
};
