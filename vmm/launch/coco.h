/* vmm/launch/coco.h: the confidential (SEV-SNP / TDX) parts of the VM lifecycle.
 * Owns: building a confidential hypervisor VM from a launch plan (memory as
 * guest_memfd, the platform launch in snp/launch.c or tdx/launch.c), the
 * run-time exits only confidential guests produce (page conversion, TDX
 * TDVMCALLs, SNP certificate requests) and the per-VM state they need.
 * Must not touch devices, vCPU threads or the plan builders; talks to the
 * hypervisor only through struct hv_ops / struct hv_coco_ops.
 *
 * ---- Integration recipe for vmm/vm/vm.c and vmm/vm/vcpu.c ----
 * 1. struct vm gains `struct coco_vm *coco;` and struct vm_reap gains the
 *    same; vm_create() fills a struct coco_config from cfg->cc (proposed
 *    keys: [confidential] quote_socket, snp_certs).
 * 2. vm_build(): after vm_gm_apply_plan(), if plan->platform != PLAN_PLAIN,
 *    replace "ops->vm_create, vm_set_slots, vm_create_irqchip, vcpu_create
 *    loop" by
 *        struct coco_build_args a = { .ops = vm->ops, .hv = vm->hv,
 *            .plan = plan, .gm = &vm->gm, .nvcpus = vm->nvcpus,
 *            .cfg = &vm->coco_cfg };
 *        r = coco_build(&a, &cv, &hvvm, vcpu);
 *    (on failure coco_build has destroyed everything it made), then install
 *    hvvm/vcpu exactly as for a plain VM and set vm->coco = cv.  The plan
 *    must stay alive as long as the VM (it already does: vm->plan).
 * 3. vm_retire_current()/vm_reap_now(): move vm->coco into the reap entry
 *    and call coco_vm_destroy(r->coco) AFTER ops->vm_destroy(r->hvvm)
 *    (vm_destroy closes the VM's guest_memfds; coco_vm_destroy only frees
 *    VMM-side state and the firmware's shared mapping).  Rebuild on reset
 *    is then: retire (closes vCPUs, every guest_memfd and the VM fd: the
 *    private memory is gone) + vm_build from the new plan.  Guest RAM
 *    (vm->ram) is kept; coco_build drops its stale shared contents.
 * 4. vcpu.c, in the exit switch, before the default case:
 *        case HV_EXIT_MEMORY_FAULT: case HV_EXIT_HYPERCALL:
 *        case HV_EXIT_TDX: case HV_EXIT_SNP_REQ_CERTS:
 *            if (coco_handle_exit(vm->coco, vcpu, &ex) == COCO_EXIT_STOP)
 *                -> treat as HV_EXIT_CRASH (vm_post RESET/EXIT as for a
 *                   crash); else continue the loop (re-enter vcpu_run).
 *    and for HV_EXIT_CRASH call coco_handle_exit() first when vm->coco is
 *    set (it logs the SEV termination reason / TDX fatal error report and
 *    returns COCO_EXIT_NOT_MINE), then do the usual crash handling.
 *    HV_EXIT_SHUTDOWN of a confidential guest: always rebuild (KVM cannot
 *    reset SNP/TDX vCPUs in place).
 * 5. TDX: the VM has a split irqchip (LAPICs in the kernel, no in-kernel
 *    PIC/IOAPIC/PIT): interrupts from devices must be delivered as MSIs
 *    through a userspace IOAPIC; ops->vm_irq_line does not work there. */
#ifndef FUKI_COCO_H
#define FUKI_COCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/base/guestmem.h"
#include "vmm/hv/hv.h"
#include "vmm/hv/hv_coco.h"

struct coco_config {
	const char *quote_socket;   /* TDX GetQuote: QGS unix socket; NULL = answer
	                               "QGS unavailable" */
	const char *snp_certs;      /* SNP certificate table served on
	                               KVM_EXIT_SNP_REQ_CERTS; NULL = none */
};

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

/* ---- shared by snp/launch.c and tdx/launch.c (vmm/launch/coco.c owns the VM) ---- */
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
/* SNP (snp/launch.c), in this order:
 *   snp_launch_start: KVM_SEV_INIT2 (vmsa_features = plan sev_features minus
 *     SNP_ACTIVE), KVM_CAP_EXIT_HYPERCALL, [ENABLE_REQ_CERTS], LAUNCH_START;
 *     before memory and vCPUs.
 *   snp_launch_finish: vCPU CPUID, registers from the plan's VMSAs, one
 *     LAUNCH_UPDATE per plan region in plan order, LAUNCH_FINISH; after the
 *     memory is private and every vCPU exists. */
int snp_launch_start(struct coco_launch *l);
int snp_launch_finish(struct coco_launch *l);
/* TDX (tdx/launch.c):
 *   tdx_launch_init_vm: CAPABILITIES, EXIT_HYPERCALL, SPLIT_IRQCHIP(24),
 *     APIC bus 40 ns, INIT_VM; before memory and vCPUs.
 *   tdx_launch_finish: SET_CPUID2 (x2APIC) then INIT_VCPU(RCX = hob_gpa) on
 *     every vCPU, INIT_MEM_REGION per plan region, FINALIZE. */
int tdx_launch_init_vm(struct coco_launch *l);
int tdx_launch_finish(struct coco_launch *l);

/* A page-aligned, writable, zero-padded copy of a region's contents
 * (mmap'ed; coco_region_free() it).  NULL on ENOMEM. */
uint8_t *coco_region_source(const struct plan_region *r);
void coco_region_free(uint8_t *buf, const struct plan_region *r);
/* The vCPU CPUID derived from KVM's supported list for vCPU @index of
 * @nvcpus (APIC IDs, topology), malloc'ed. */
struct kvm_cpuid2 *coco_vcpu_cpuid(const struct kvm_cpuid2 *supported, unsigned index,
				   unsigned nvcpus);
struct kvm_cpuid_entry2 *coco_cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);

#endif
