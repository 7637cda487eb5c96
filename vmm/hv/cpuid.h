/* vmm/hv/cpuid.h: the per-vCPU CPUID every backend user hands to KVM.
 * Owns the edit of KVM_GET_SUPPORTED_CPUID that gives vCPU @index of
 * @nvcpus its APIC ID and the topology of @nvcpus single-thread cores,
 * shared by the plain backend (vmm/hv/kvm.c) and the confidential launch
 * (vmm/launch/coco.c, snp/launch.c, tdx/launch.c).  Pure: no ioctl. */
#ifndef FUKI_HV_CPUID_H
#define FUKI_HV_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* A malloc'ed copy of @supported with, for vCPU @index of @nvcpus:
 *   leaf 1:          EBX[31:24] initial APIC ID = @index, EBX[23:16]
 *                    logical processors = @nvcpus, EDX.HTT when @nvcpus > 1;
 *   leaves 0xb/0x1f: EDX x2APIC ID = @index.
 * NULL on ENOMEM. */
struct kvm_cpuid2 *cpuid_copy_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
				       unsigned nvcpus);

/* The entry of @c for leaf @fn, sub-leaf @idx where the leaf is indexed
 * (KVM_CPUID_FLAG_SIGNIFCANT_INDEX); NULL if absent. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);

#endif
