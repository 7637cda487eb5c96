/* vmm/launch/coco.h: the confidential (SEV-SNP / TDX) parts of the VM lifecycle.
 * Owns: building a confidential hypervisor VM from a launch plan (memory as
 * guest_memfd, the platform launch in snp/launch.c or tdx/launch.c), the
 * run-time exits only confidential guests produce (page conversion, TDX
 * TDVMCALLs, SNP certificate requests) and the per-VM state they need.
 * Must not touch devices, vCPU threads or the plan builders; talks to the
 * hypervisor only through struct hv_ops / struct hv_coco_ops.
 * The platform launch sequences are snp/launch.c and tdx/launch.c, which
 * receive a struct coco_launch (vmm/hv/coco_launch.h). */
#ifndef FUKI_COCO_H
#define FUKI_COCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/base/guestmem.h"
#include "vmm/hv/coco_launch.h"
#include "vmm/hv/hv.h"
#include "vmm/hv/hv_coco.h"

/* struct coco_config (quote socket, SNP certificates): vmm/hv/coco_launch.h */

struct coco_vm;

struct coco_build_args {
	const struct hv_ops *ops;
	struct hv *hv;
	const struct launch_plan *plan;   /* PLAN_SNP or PLAN_TDX */
	const struct guestmem *gm;        /* GM_RAM regions: guest_memfd slots whose
	                                     shared side is the region's host memory */
	unsigned nvcpus;
	const struct coco_config *cfg;    /* may be NULL */
	bool split_irqchip;               /* SNP: userspace IOAPIC (TDX always is) */
};

/* Probe, create the VM, back RAM and firmware with guest_memfd (all
 * private), create the irqchip and vCPUs and run the platform launch.
 * On success *vm, vcpu[0..nvcpus) and *cv are set and the guest may run.
 * On failure everything is destroyed and a negative errno returned (one
 * log line says what). */
int coco_build(const struct coco_build_args *a, struct coco_vm **cv, struct hv_vm **vm,
	       struct hv_vcpu **vcpu);
/* Free the VMM-side state (after ops->vm_destroy). NULL is fine. */
void coco_vm_destroy(struct coco_vm *cv);

/* What coco_build checks of @p against the memory map @gm before it makes
 * anything: the firmware clear of RAM, at most one
 * guest_memfd slot per RAM region plus the firmware's (-E2BIG), every
 * region inside one slot (-ERANGE).  Pure: the doorbell asks it at write
 * time on a scratch map.  0, or the error with one line in @why. */
int coco_plan_fits(const struct guestmem *gm, const struct launch_plan *p, char *why,
		   size_t whylen);

enum coco_exit_action {
	COCO_EXIT_HANDLED = 0,      /* re-enter the vCPU */
	COCO_EXIT_NOT_MINE = 1,     /* the caller handles the exit as usual */
	COCO_EXIT_STOP = 2,         /* the guest cannot continue: crash path */
};
/* Serve one exit (thread-safe: vCPU threads call it concurrently). */
enum coco_exit_action coco_handle_exit(struct coco_vm *cv, struct hv_vcpu *vcpu,
				       struct hv_exit *ex);
/* Convert [gpa, gpa+size) to private or shared (the MAP_GPA_RANGE and
 * memory-fault paths; exposed for tests).  0 or -EINVAL. */
int coco_convert(struct coco_vm *cv, uint64_t gpa, uint64_t size, bool to_private);
/* The SetupEventNotifyInterrupt vector a TDX guest registered (0 = none). */
unsigned coco_tdx_notify_vector(const struct coco_vm *cv);

#endif
