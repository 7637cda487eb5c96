/* vmm/hv/hv.h: the hypervisor backend interface.
 * Owns: the ops table every backend implements (vmm/hv/kvm.c for Linux KVM; the
 * platform model in tests/model/ for confidential-launch tests).  Nothing
 * above the backends calls ioctl(): the lifecycle (vmm/vm/vm.c) and the vCPU
 * loop (vmm/vm/vcpu.c) speak only this interface. */
#ifndef FUKI_HV_H
#define FUKI_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"

struct hv;
struct hv_vm;
struct hv_vcpu;

enum hv_exit_reason {
	HV_EXIT_IO = 1,        /* port I/O: io.* */
	HV_EXIT_MMIO,          /* MMIO: mmio.* */
	HV_EXIT_HLT,           /* guest halted (only without an in-kernel irqchip) */
	HV_EXIT_SHUTDOWN,      /* triple fault */
	HV_EXIT_RESET,         /* system event: reset (e.g. PSCI, in-kernel reset) */
	HV_EXIT_POWEROFF,      /* system event: shutdown */
	HV_EXIT_CRASH,         /* system event: crash, or a confidential guest's
	                          termination request */
	HV_EXIT_INTR,          /* kicked (vcpu_kick) or interrupted by a signal */
	HV_EXIT_INTERNAL,      /* the hypervisor could not emulate: internal.* */
	HV_EXIT_FAIL_ENTRY,    /* VM entry failed: hw_reason */
	HV_EXIT_UNKNOWN,       /* anything else: raw_reason */
	/* Confidential guests (vmm/launch/coco.h coco_handle_exit() serves them): */
	HV_EXIT_MEMORY_FAULT,  /* private/shared mismatch: memory_fault.* */
	HV_EXIT_HYPERCALL,     /* KVM_HC_MAP_GPA_RANGE: hypercall.* */
	HV_EXIT_TDX,           /* TDG.VP.VMCALL left to the VMM: tdx.* */
	HV_EXIT_SNP_REQ_CERTS, /* SNP extended guest request: snp_req_certs.* */
	HV_EXIT_IOAPIC_EOI,    /* split irqchip: a LAPIC EOI'd a level-triggered
	                          vector of the userspace IOAPIC: eoi_vector */
};

struct hv_exit {
	enum hv_exit_reason reason;
	union {
		struct {
			uint16_t port;
			uint8_t size;      /* 1, 2 or 4 */
			bool is_write;
			uint32_t count;    /* string I/O repeats */
			uint8_t *data;     /* count * size bytes */
		} io;
		struct {
			uint64_t addr;
			uint8_t size;      /* 1..8 */
			bool is_write;
			uint8_t *data;
		} mmio;
		struct {
			uint32_t suberror;
			unsigned ndata;
			uint64_t data[8];
		} internal;
		uint64_t hw_reason;
		uint32_t raw_reason;
		uint8_t eoi_vector;
		/* HV_EXIT_CRASH from a system event: type aliases raw_reason
		 * (same offset); data as KVM gave it (SEV_TERM: GHCB MSR value;
		 * TDX_FATAL: the 16 GPRs). */
		struct {
			uint32_t type;
			uint32_t ndata;
			uint64_t data[16];
		} system_event;
		struct {
			uint64_t flags;    /* bit 3: the access was private */
			uint64_t gpa;
			uint64_t size;
		} memory_fault;
		struct {
			uint64_t nr;       /* 12 = KVM_HC_MAP_GPA_RANGE */
			uint64_t args[6];
			uint64_t *ret;     /* written back to the guest (0/EINVAL/EAGAIN) */
		} hypercall;
		struct {
			uint64_t nr;       /* TDVMCALL leaf (R11) */
			uint64_t in[5];    /* the values after ret at exit time */
			uint64_t *ret;     /* status returned to the guest (R10) */
			uint64_t *out;     /* 5 values written back (GetTdVmCallInfo r11..r14) */
		} tdx;
		struct {
			uint64_t gpa;
			uint64_t npages;
			uint64_t *ret;     /* 0, ENOSPC, EAGAIN or EIO */
			uint64_t *npages_out;
		} snp_req_certs;
	};
};

struct hv_vm_params {
	enum plan_platform platform;
	unsigned nvcpus;
};

struct hv_coco_ops;   /* vmm/hv/hv_coco.h: confidential launch and run time */

struct hv_ops {
	const char *name;
	/* SEV-SNP / TDX operations, NULL when the backend has none */
	const struct hv_coco_ops *coco;
	/* Open the hypervisor.  -ENOENT/-EACCES/-ENODEV with a line in @err
	 * ("no /dev/kvm: ...") when it cannot be used. */
	int (*open)(struct hv **out, char *err, size_t errlen);
	void (*close)(struct hv *hv);

	int (*vm_create)(struct hv *hv, const struct hv_vm_params *p, struct hv_vm **out);
	/* Map [gpa, gpa+size) to @host.  Call before vm_create_irqchip: memslots
	 * created after the in-kernel irqchip cost milliseconds each.  @size 0
	 * deletes @slot (plain VMs, at run time too: the chipset's PAM remaps
	 * the BIOS area by deleting and re-adding slots). */
	int (*vm_set_memory)(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
			     void *host, bool readonly);
	/* In-kernel PIC, IOAPIC, LAPICs and PIT. */
	int (*vm_create_irqchip)(struct hv_vm *vm);
	/* In-kernel LAPICs only (KVM_CAP_SPLIT_IRQCHIP): the IOAPIC is the VMM's
	 * (devices/ioapic.c), with @pins GSIs reserved for it.  No PIC, no PIT.
	 * NULL when the backend has none. */
	int (*vm_create_split_irqchip)(struct hv_vm *vm, unsigned pins);
	/* Make GSI @gsi[i] an MSI route to @addr[i]/@data[i].  The whole set of
	 * MSI routes is replaced; a VM with the full in-kernel irqchip keeps its
	 * PIC/IOAPIC routes on GSIs 0-23 (do not use those GSIs then).  With a
	 * split irqchip KVM derives which vectors need an HV_EXIT_IOAPIC_EOI
	 * from the level-triggered routes on the reserved GSIs.  NULL when the
	 * backend has none. */
	int (*vm_set_msi_routes)(struct hv_vm *vm, unsigned n, const unsigned *gsi,
				 const uint64_t *addr, const uint32_t *data);
	/* Writing to eventfd @fd injects GSI @gsi (KVM_IRQFD); !@assign
	 * detaches it.  NULL when the backend has none. */
	int (*vm_irqfd)(struct hv_vm *vm, unsigned gsi, int fd, bool assign);
	/* A guest write of @len bytes to MMIO @gpa signals eventfd @fd inside
	 * the hypervisor, without an exit to the VMM (KVM_IOEVENTFD); !@assign
	 * removes it.  NULL when the backend has none. */
	int (*vm_ioeventfd)(struct hv_vm *vm, uint64_t gpa, unsigned len, int fd, bool assign);
	int (*vm_irq_line)(struct hv_vm *vm, unsigned gsi, int level);
	/* Destroy everything the VM owns (vCPUs must be destroyed first).
	 * Slow with an irqchip (tens of ms): call it off the critical path. */
	void (*vm_destroy)(struct hv_vm *vm);

	/* A vCPU in the architectural reset state: index 0 is the BSP at the
	 * reset vector, the others wait for INIT/SIPI. */
	int (*vcpu_create)(struct hv_vm *vm, unsigned index, struct hv_vcpu **out);
	/* Run until an exit; read data for an I/O or MMIO exit is written into
	 * the exit's data buffer before the next call. */
	int (*vcpu_run)(struct hv_vcpu *vcpu, struct hv_exit *exit);
	/* Make a vcpu_run in progress or about to start return HV_EXIT_INTR;
	 * the caller also signals the vCPU thread.  Async-signal-safe. */
	void (*vcpu_kick)(struct hv_vcpu *vcpu);
	/* Registers for a developer's error report. */
	void (*vcpu_dump)(struct hv_vcpu *vcpu, char *buf, size_t len);
	void (*vcpu_destroy)(struct hv_vcpu *vcpu);

	/* Inject one MSI (address/data as a PCI device would write them;
	 * KVM_SIGNAL_MSI).  NULL when the backend has none: MSI-capable
	 * devices then fall back to INTx. */
	int (*vm_signal_msi)(struct hv_vm *vm, uint64_t addr, uint32_t data);
};

extern const struct hv_ops hv_kvm_ops;

#endif
