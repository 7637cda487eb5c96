/* vmm/hv/kvm_internal.h: the KVM backend's private structures, shared by
 * vmm/hv/kvm.c (plain guests) and vmm/hv/kvm_coco.c (SEV-SNP and TDX launch).
 * Nothing outside the KVM backend includes this file. */
#ifndef FUKI_KVM_INTERNAL_H
#define FUKI_KVM_INTERNAL_H

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "vmm/base/thread.h"
#include "vmm/hv/hv.h"

struct hv {
	int kvm_fd;
	int run_size;
	bool readonly_mem;
	/* KVM_GET_SUPPORTED_CPUID: fetched by a helper of kvm_open while the
	 * VM is laid out (it costs more than building the VM on a nested host);
	 * read only through kvm_supported_cpuid() */
	struct helper cpuid_fetch;
	int cpuid_err;              /* 0 or -errno of the ioctl */
	struct kvm_cpuid2 *cpuid;
};

/* What KVM supports, once the fetch has finished: NULL if it failed (the
 * fetch logged why; cpuid_err says it). */
const struct kvm_cpuid2 *kvm_supported_cpuid(struct hv *hv);

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

/* The backend's one ioctl wrapper: >= 0, or -errno.  @retry says which
 * errors mean "issue the same call again"; each call site needs its own:
 *   KVM_RETRY_EAGAIN  vmm/hv/kvm.c: VM, memslot, irqchip, routing and vCPU
 *                     set-up of plain guests, re-issued while KVM answers
 *                     EAGAIN; EINTR goes back to the caller.
 *   KVM_RETRY_EINTR   vmm/hv/kvm_coco.c: the confidential VM and vCPU ops,
 *                     re-issued when a signal interrupted them.  Never on
 *                     EAGAIN: SNP LAUNCH_UPDATE returns EAGAIN with its
 *                     progress written back into the argument, and
 *                     snp/launch.c re-issues it, watching that progress.
 *   0                 vmm/hv/kvm_coco.c: TDX vCPU commands.  INIT_MEM_REGION
 *                     returns EINTR or EAGAIN after partial progress, and
 *                     tdx/launch.c re-issues it, watching that progress.
 * KVM_RUN, KVM_CHECK_EXTENSION and the /dev/kvm probes call ioctl()
 * directly: their errors are results, not something to retry. */
enum kvm_retry {
	KVM_RETRY_EAGAIN = 1u << 0,
	KVM_RETRY_EINTR = 1u << 1,
};

static inline int kvm_ioctl(int fd, unsigned long req, unsigned long arg, unsigned retry)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (((retry & KVM_RETRY_EAGAIN) && errno == EAGAIN) ||
			 ((retry & KVM_RETRY_EINTR) && errno == EINTR)));
	return r < 0 ? -errno : r;
}

#endif
