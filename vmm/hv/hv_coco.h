/* vmm/hv/hv_coco.h: the backend operations for confidential VMs (SEV-SNP, TDX).
 * Owns the interface only: vmm/hv/kvm_coco.c implements it over ioctl(), the
 * platform model (tests/model/) implements it as the security processor /
 * TDX module would.  Payloads are the KVM ABI's own structs
 * (vmm/hv/kvm_coco_abi.h), passed unchanged, so the model sees exactly what
 * KVM would.  Every op returns >= 0 or a negative errno. */
#ifndef FUKI_HV_COCO_H
#define FUKI_HV_COCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/hv/hv.h"
#include "vmm/hv/kvm_coco_abi.h"

/* What the host offers (KVM_CHECK_EXTENSION on /dev/kvm and the VM). */
struct hv_coco_caps {
	uint64_t vm_types;          /* KVM_CAP_VM_TYPES bitmap */
	bool guest_memfd;           /* KVM_CAP_GUEST_MEMFD */
	bool user_memory2;          /* KVM_CAP_USER_MEMORY2 */
	uint64_t mem_attributes;    /* KVM_CAP_MEMORY_ATTRIBUTES */
	uint64_t exit_hypercall;    /* KVM_CAP_EXIT_HYPERCALL mask */
	bool have_vmsa_features;    /* KVM_X86_GRP_SEV/KVM_X86_SEV_VMSA_FEATURES */
	uint64_t vmsa_features;
	bool snp_req_certs;         /* KVM_X86_SEV_SNP_REQ_CERTS attribute = 1 */
};

struct hv_coco_ops {
	/* Fill @caps and check that @platform (PLAN_SNP/PLAN_TDX) can be
	 * launched.  -ENODEV with one line in @err naming the first missing
	 * piece ("VM type 4 (SNP) absent from KVM_CAP_VM_TYPES"). */
	int (*probe)(struct hv *hv, enum plan_platform platform, struct hv_coco_caps *caps,
		     char *err, size_t errlen);
	/* KVM_GET_SUPPORTED_CPUID: in: c->nent = room; -E2BIG if too small. */
	int (*get_supported_cpuid)(struct hv *hv, struct kvm_cpuid2 *c);

	/* The VM itself is made by hv_ops.vm_create with platform PLAN_SNP or
	 * PLAN_TDX (KVM_CREATE_VM with type 4 or 5).  The backend's vm_destroy
	 * closes every guest_memfd the VM created. */
	int (*vm_check_extension)(struct hv_vm *vm, long cap);     /* value >= 0 */
	int (*vm_enable_cap)(struct hv_vm *vm, const struct kvm_enable_cap *cap);
	/* KVM_CREATE_GUEST_MEMFD: returns a handle >= 0 (the fd for KVM). */
	int (*gmem_create)(struct hv_vm *vm, const struct kvm_create_guest_memfd *g);
	/* fallocate(PUNCH_HOLE | KEEP_SIZE) on a guest_memfd. */
	int (*gmem_punch_hole)(struct hv_vm *vm, int gmem, uint64_t offset, uint64_t len);
	int (*set_memory_region2)(struct hv_vm *vm, const struct kvm_userspace_memory_region2 *r);
	int (*set_memory_attributes)(struct hv_vm *vm, const struct kvm_memory_attributes *a);
	/* KVM_MEMORY_ENCRYPT_OP with a struct kvm_sev_cmd on the VM; the
	 * backend fills sev_fd (/dev/sev).  cmd->error is the firmware status. */
	int (*sev_cmd)(struct hv_vm *vm, struct kvm_sev_cmd *cmd);
	/* KVM_MEMORY_ENCRYPT_OP with a struct kvm_tdx_cmd on the VM / a vCPU. */
	int (*tdx_vm_cmd)(struct hv_vm *vm, struct kvm_tdx_cmd *cmd);
	int (*tdx_vcpu_cmd)(struct hv_vcpu *vcpu, struct kvm_tdx_cmd *cmd);

	/* vCPU state before the launch is finished (SNP: KVM builds the VMSAs
	 * from it at LAUNCH_FINISH). */
	int (*vcpu_set_cpuid)(struct hv_vcpu *vcpu, const struct kvm_cpuid2 *c);
	int (*vcpu_get_sregs)(struct hv_vcpu *vcpu, struct kvm_sregs *s);
	int (*vcpu_set_sregs)(struct hv_vcpu *vcpu, const struct kvm_sregs *s);
	int (*vcpu_set_regs)(struct hv_vcpu *vcpu, const struct kvm_regs *r);
	int (*vcpu_set_fpu)(struct hv_vcpu *vcpu, const struct kvm_fpu *f);
	/* KVM_SET_MSRS: returns the number of MSRs set. */
	int (*vcpu_set_msrs)(struct hv_vcpu *vcpu, const struct kvm_msrs *m);
	int (*vcpu_set_xcrs)(struct hv_vcpu *vcpu, const struct kvm_xcrs *x);
	int (*vcpu_set_debugregs)(struct hv_vcpu *vcpu, const struct kvm_debugregs *d);
};

/* ---- KVM backend glue (vmm/hv/kvm_coco.c), used by vmm/hv/kvm.c only ---- */
extern const struct hv_coco_ops hv_kvm_coco_ops;
/* KVM_CREATE_VM of type SNP (4) / TDX (5) for vm->platform, plus the
 * backend's per-VM state in vm->coco (/dev/sev fd, guest_memfd list).
 * Fills vm->fd; -errno with one log line. */
int kvm_coco_vm_init(struct hv_vm *vm);
/* Close every guest_memfd and the /dev/sev fd of the VM (vm_destroy). */
void kvm_coco_vm_release(struct hv_vm *vm);
/* Translate a confidential exit of KVM_RUN (@r its result, @err errno).
 * true if @ex was filled, including KVM_EXIT_MEMORY_FAULT with EFAULT. */
bool kvm_coco_translate_exit(struct hv_vcpu *vcpu, int r, int err, struct hv_exit *ex);

#endif
