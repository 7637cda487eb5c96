/* vmm/hv/coco_launch.h: what a platform launcher (snp/launch.c,
 * tdx/launch.c) receives from the confidential VM build (vmm/launch/coco.c):
 * the hypervisor VM and vCPUs, the plan to launch and the host's
 * capabilities.  Owns the context struct and the one rule for re-issuing a
 * launch command the kernel completes in parts.  Depends only on the
 * hypervisor interface and the plan, so the launchers never include the
 * orchestrator that calls them. */
#ifndef FUKI_HV_COCO_LAUNCH_H
#define FUKI_HV_COCO_LAUNCH_H

#include <errno.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/hv/hv.h"
#include "vmm/hv/hv_coco.h"

/* Host-side settings of a confidential VM ([confidential] in the config). */
struct coco_config {
	const char *quote_socket;   /* TDX GetQuote: QGS unix socket; NULL = answer
	                               "QGS unavailable" */
	const char *snp_certs;      /* SNP certificate table served on
	                               KVM_EXIT_SNP_REQ_CERTS; NULL = none */
};

struct coco_launch {
	const struct hv_ops *ops;
	struct hv_vm *vm;
	struct hv_vcpu **vcpu;
	unsigned nvcpus;
	const struct launch_plan *plan;
	const struct hv_coco_caps *caps;
	const struct coco_config *cfg;
	const struct kvm_cpuid2 *supported;   /* KVM_GET_SUPPORTED_CPUID */
	/* filled by the launchers */
	uint64_t tdx_user_r11, tdx_kernel_r11, tdx_kernel_r12;  /* TDX capabilities */
};

/* ---- a launch command done in parts (SNP LAUNCH_UPDATE, TDX
 * INIT_MEM_REGION): KVM writes what is left back into the argument and
 * may stop early with 0, EAGAIN or EINTR; the caller issues it again
 * until nothing is left, and gives up after COCO_STEP_MAX_SPINS calls in a
 * row that left as much as before. ---- */
#define COCO_STEP_MAX_SPINS 1000

struct coco_progress {
	uint64_t left;              /* what the previous call left (pages, bytes) */
	unsigned spins;             /* calls in a row without progress */
};

enum coco_step {
	COCO_STEP_DONE,             /* nothing left */
	COCO_STEP_AGAIN,            /* issue the command again */
	COCO_STEP_FAILED,           /* a real error: the call's result */
	COCO_STEP_STUCK,            /* no progress for too long: give up (-EIO) */
};

/* After one call that returned @r and left @left: what to do next. */
static inline enum coco_step coco_step(struct coco_progress *pg, int r, uint64_t left)
{
	if (r == 0 && left == 0)
		return COCO_STEP_DONE;
	if (r < 0 && r != -EAGAIN && r != -EINTR)
		return COCO_STEP_FAILED;
	pg->spins = left < pg->left ? 0 : pg->spins + 1;
	pg->left = left;
	return pg->spins > COCO_STEP_MAX_SPINS ? COCO_STEP_STUCK : COCO_STEP_AGAIN;
}

#endif
