/* vmm/hv/kvm_internal.h: the KVM backend's private structures, shared by
 * vmm/hv/kvm.c (plain guests) and vmm/hv/kvm_coco.c (SEV-SNP and TDX launch).
 * Nothing outside the KVM backend includes this file. */
#ifndef FUKI_KVM_INTERNAL_H
#define FUKI_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "vmm/hv/hv.h"

struct hv {
	int kvm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid;   /* KVM_GET_SUPPORTED_CPUID, cached */
	bool readonly_mem;
};

struct hv_vm {
	struct hv *hv;
	int fd;
	unsigned nvcpus;
	enum plan_platform platform;
	bool kernel_irqchip;        /* KVM_CREATE_IRQCHIP: its GSI 0-23 routes are kept */
	void *coco;                 /* per-VM state of vmm/hv/kvm_coco.c */
};

struct hv_vcpu {
	struct hv_vm *vm;
	int fd;
	unsigned index;
	struct kvm_run *run;
};

#endif
