/* vmm/hv/kvm.c: the Linux KVM backend (struct hv_ops).
 * Owns: /dev/kvm, VM and vCPU fds, memslots, the in-kernel irqchip and PIT,
 * kvm_run mappings and the translation of KVM exits into struct hv_exit.
 * The only file of the plain-guest path that calls ioctl(). */
#include "vmm/hv/hv.h"
#include "vmm/hv/cpuid.h"
#include "vmm/hv/hv_coco.h"
#include "vmm/hv/kvm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"

/* The supported-CPUID fetch, on its own thread: the table grows until
 * KVM stops answering E2BIG. */
static void *kvm_cpuid_main(void *arg)
{
	struct hv *hv = arg;
	int nent = 256;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));

		if (!c) {
			hv->cpuid_err = -ENOMEM;
			break;
		}
		c->nent = nent;
		if (ioctl(hv->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			hv->cpuid = c;
			return NULL;
		}
		hv->cpuid_err = -errno;
		free(c);
		if (hv->cpuid_err != -E2BIG || nent >= 4096)
			break;
		nent *= 2;
	}
	log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-hv->cpuid_err));
	return NULL;
}

const struct kvm_cpuid2 *kvm_supported_cpuid(struct hv *hv)
{
	helper_join(&hv->cpuid_fetch);
	return hv->cpuid;
}

static int kvm_open(struct hv **out, char *err, size_t errlen)
{
	struct hv *hv;
	int fd, ver;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open /dev/kvm: %s%s", strerror(e),
			 e == ENOENT ? " (KVM is not available on this machine)" :
			 e == EACCES ? " (add the user to the 'kvm' group)" : "");
		return -e;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm: API version %d, expected %d", ver, KVM_API_VERSION);
		close(fd);
		return -ENODEV;
	}
	hv = calloc(1, sizeof(*hv));
	if (!hv) {
		close(fd);
		return -ENOMEM;
	}
	hv->kvm_fd = fd;
	hv->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (hv->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "/dev/kvm: bad vCPU mmap size %d", hv->run_size);
		close(fd);
		free(hv);
		return -ENODEV;
	}
	hv->readonly_mem = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0 ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		snprintf(err, errlen, "/dev/kvm lacks KVM_CAP_IRQCHIP, KVM_CAP_PIT2 or KVM_CAP_IMMEDIATE_EXIT");
		close(fd);
		free(hv);
		return -ENODEV;
	}
	helper_start(&hv->cpuid_fetch, kvm_cpuid_main, hv);
	*out = hv;
	return 0;
}

static void kvm_close(struct hv *hv)
{
	if (!hv)
		return;
	helper_fini(&hv->cpuid_fetch);
	close(hv->kvm_fd);
	free(hv->cpuid);
	free(hv);
}

static int kvm_vm_create(struct hv *hv, const struct hv_vm_params *p, struct hv_vm **out)
{
	struct hv_vm *vm;
	int fd, r;

	if (p->platform == PLAN_SNP || p->platform == PLAN_TDX) {
		/* SNP/TDX VM types: vmm/hv/kvm_coco.c (KVM_CREATE_VM type 4/5) */
		vm = calloc(1, sizeof(*vm));
		if (!vm)
			return -ENOMEM;
		vm->hv = hv;
		vm->nvcpus = p->nvcpus;
		vm->platform = p->platform;
		r = kvm_coco_vm_init(vm);
		if (r) {
			free(vm);
			return r;
		}
		*out = vm;
		return 0;
	}
	if (p->platform != PLAN_PLAIN) {
		log_err("kvm: unknown platform %d", p->platform);
		return -EOPNOTSUPP;
	}
	fd = kvm_ioctl(hv->kvm_fd, KVM_CREATE_VM, 0, KVM_RETRY_EAGAIN);
	if (fd < 0) {
		log_err("KVM_CREATE_VM: %s", strerror(-fd));
		return fd;
	}
	/* Intel VMX needs a TSS and an identity map for real mode below 4 GiB;
	 * AMD ignores them.  Same addresses as QEMU; reserved in e820. */
	r = kvm_ioctl(fd, KVM_SET_TSS_ADDR, LAYOUT_TSS_ADDR, KVM_RETRY_EAGAIN);
	if (r == 0) {
		uint64_t ident = LAYOUT_IDENT_MAP;

		r = kvm_ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&ident, KVM_RETRY_EAGAIN);
	}
	if (r < 0 && r != -ENOTTY && r != -EINVAL) {
		log_err("KVM_SET_TSS_ADDR/IDENTITY_MAP_ADDR: %s", strerror(-r));
		close(fd);
		return r;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		close(fd);
		return -ENOMEM;
	}
	vm->hv = hv;
	vm->fd = fd;
	vm->nvcpus = p->nvcpus;
	vm->platform = p->platform;
	*out = vm;
	return 0;
}

static int kvm_vm_set_memory(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
			     void *host, bool readonly)
{
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	int r;

	/* memory_size 0 deletes the slot (Documentation/virt/kvm/api.rst,
	 * KVM_SET_USER_MEMORY_REGION); its flags do not matter then */
	if (size == 0)
		mr.flags = 0;
	else if (readonly && !vm->hv->readonly_mem) {
		log_err("kvm: read-only memslots unsupported (KVM_CAP_READONLY_MEM)");
		return -EOPNOTSUPP;
	}
	r = kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&mr, KVM_RETRY_EAGAIN);
	if (r < 0)
		log_err("KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s", slot,
			(unsigned long long)gpa, (unsigned long long)size, strerror(-r));
	return r;
}

static int kvm_vm_create_irqchip(struct hv_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int r;

	r = kvm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0, KVM_RETRY_EAGAIN);
	if (r < 0) {
		log_err("KVM_CREATE_IRQCHIP: %s", strerror(-r));
		return r;
	}
	vm->kernel_irqchip = true;
	r = kvm_ioctl(vm->fd, KVM_CREATE_PIT2, (unsigned long)&pit, KVM_RETRY_EAGAIN);
	if (r < 0)
		log_err("KVM_CREATE_PIT2: %s", strerror(-r));
	return r;
}

/* KVM_CAP_SPLIT_IRQCHIP (Documentation/virt/kvm/api.rst 7.5): LAPICs in
 * the kernel, IOAPIC and PIC in userspace; args[0] is the number of GSIs
 * reserved for the userspace IOAPIC's routes. */
static int kvm_vm_create_split_irqchip(struct hv_vm *vm, unsigned pins)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { pins } };
	int r = kvm_ioctl(vm->fd, KVM_ENABLE_CAP, (unsigned long)&cap, KVM_RETRY_EAGAIN);

	if (r < 0)
		log_err("KVM_ENABLE_CAP(SPLIT_IRQCHIP, %u): %s", pins, strerror(-r));
	return r;
}

/* KVM_SET_GSI_ROUTING (api.rst 4.52) replaces the whole table.  With the
 * full in-kernel irqchip, KVM's own default routes come first, as KVM sets
 * them up at KVM_CREATE_IRQCHIP (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c
 * kvm_setup_default_irq_routing): GSI 0-15 to the IOAPIC pin and the 8259
 * pin of that number, GSI 16-23 to the IOAPIC only.  A split irqchip has
 * no in-kernel routes to keep. */
#define KVM_DEFAULT_ROUTES (16 * 2 + 8)

static int kvm_vm_set_msi_routes(struct hv_vm *vm, unsigned n, const unsigned *gsi,
				 const uint64_t *addr, const uint32_t *data)
{
	struct kvm_irq_routing *rt;
	unsigned k = 0;
	int r;

	if (n > 1024)
		return -EINVAL;
	rt = calloc(1, sizeof(*rt) + (n + KVM_DEFAULT_ROUTES) * sizeof(rt->entries[0]));
	if (!rt)
		return -ENOMEM;
	for (unsigned g = 0; vm->kernel_irqchip && g < LAYOUT_IOAPIC_PINS; g++) {
		rt->entries[k].gsi = g;
		rt->entries[k].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[k].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt->entries[k++].u.irqchip.pin = g;
		if (g >= 16)
			continue;
		rt->entries[k].gsi = g;
		rt->entries[k].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[k].u.irqchip.irqchip = g < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		rt->entries[k++].u.irqchip.pin = g % 8;
	}
	for (unsigned i = 0; i < n; i++, k++) {
		if (vm->kernel_irqchip && gsi[i] < LAYOUT_IOAPIC_PINS) {
			free(rt);
			return -EINVAL;
		}
		rt->entries[k].gsi = gsi[i];
		rt->entries[k].type = KVM_IRQ_ROUTING_MSI;
		rt->entries[k].u.msi.address_lo = (uint32_t)addr[i];
		rt->entries[k].u.msi.address_hi = (uint32_t)(addr[i] >> 32);
		rt->entries[k].u.msi.data = data[i];
	}
	rt->nr = k;
	r = kvm_ioctl(vm->fd, KVM_SET_GSI_ROUTING, (unsigned long)rt, KVM_RETRY_EAGAIN);
	if (r < 0)
		log_err("KVM_SET_GSI_ROUTING (%u MSI routes): %s", n, strerror(-r));
	free(rt);
	return r;
}

/* KVM_IRQFD (api.rst 4.75). */
static int kvm_vm_irqfd(struct hv_vm *vm, unsigned gsi, int fd, bool assign)
{
	struct kvm_irqfd f = { .fd = (uint32_t)fd, .gsi = gsi,
			       .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };
	int r = kvm_ioctl(vm->fd, KVM_IRQFD, (unsigned long)&f, KVM_RETRY_EAGAIN);

	if (r < 0)
		log_err("KVM_IRQFD gsi %u fd %d%s: %s", gsi, fd, assign ? "" : " (deassign)",
			strerror(-r));
	return r;
}

/* KVM_IOEVENTFD (api.rst 4.59): an MMIO write of exactly @len bytes at @gpa,
 * any value (no datamatch). */
static int kvm_vm_ioeventfd(struct hv_vm *vm, uint64_t gpa, unsigned len, int fd, bool assign)
{
	struct kvm_ioeventfd e = { .addr = gpa, .len = len, .fd = fd,
				   .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };
	int r = kvm_ioctl(vm->fd, KVM_IOEVENTFD, (unsigned long)&e, KVM_RETRY_EAGAIN);

	if (r < 0)
		log_err("KVM_IOEVENTFD 0x%llx/%u fd %d%s: %s", (unsigned long long)gpa, len, fd,
			assign ? "" : " (deassign)", strerror(-r));
	return r;
}

/* KVM_SIGNAL_MSI (Documentation/virt/kvm/api.rst 4.71): returns > 0 when
 * delivered, 0 when the guest blocked it, < 0 on error. */
static int kvm_vm_signal_msi(struct hv_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int r = kvm_ioctl(vm->fd, KVM_SIGNAL_MSI, (unsigned long)&msi, KVM_RETRY_EAGAIN);

	if (r < 0)
		log_debug("kvm: KVM_SIGNAL_MSI 0x%llx/0x%x: %s", (unsigned long long)addr, data,
			  strerror(-r));
	return r < 0 ? r : 0;
}

static int kvm_vm_irq_line(struct hv_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	return kvm_ioctl(vm->fd, KVM_IRQ_LINE, (unsigned long)&irq, KVM_RETRY_EAGAIN);
}

static void kvm_vm_destroy(struct hv_vm *vm)
{
	if (!vm)
		return;
	kvm_coco_vm_release(vm);   /* guest_memfds hold the VM: close them too */
	close(vm->fd);
	free(vm);
}

/* CPUID for one vCPU: what KVM supports, with this vCPU's APIC ID and the
 * topology of nvcpus single-thread cores (vmm/hv/cpuid.h). */
static int kvm_set_cpuid(struct hv_vcpu *vcpu)
{
	const struct kvm_cpuid2 *s = kvm_supported_cpuid(vcpu->vm->hv);
	struct kvm_cpuid2 *c;
	int r;

	if (!s)
		return vcpu->vm->hv->cpuid_err;
	c = cpuid_copy_for_vcpu(s, vcpu->index, vcpu->vm->nvcpus);
	if (!c)
		return -ENOMEM;
	r = kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, (unsigned long)c, KVM_RETRY_EAGAIN);
	free(c);
	if (r < 0)
		log_err("KVM_SET_CPUID2 vCPU %u: %s", vcpu->index, strerror(-r));
	return r;
}

static int kvm_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out)
{
	struct hv_vcpu *vcpu;
	int fd, r;

	fd = kvm_ioctl(vm->fd, KVM_CREATE_VCPU, index, KVM_RETRY_EAGAIN);
	if (fd < 0) {
		log_err("KVM_CREATE_VCPU %u: %s", index, strerror(-fd));
		return fd;
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		close(fd);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->fd = fd;
	vcpu->index = index;
	vcpu->run = mmap(NULL, vm->hv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (vcpu->run == MAP_FAILED) {
		r = -errno;
		log_err("mmap kvm_run vCPU %u: %s", index, strerror(errno));
		close(fd);
		free(vcpu);
		return r;
	}
	r = kvm_set_cpuid(vcpu);
	if (r < 0) {
		munmap(vcpu->run, vm->hv->run_size);
		close(fd);
		free(vcpu);
		return r;
	}
	*out = vcpu;
	return 0;
}

static int kvm_vcpu_run(struct hv_vcpu *vcpu, struct hv_exit *ex)
{
	struct kvm_run *run = vcpu->run;
	int r = ioctl(vcpu->fd, KVM_RUN, 0);

	memset(ex, 0, sizeof(*ex));
	if (kvm_coco_translate_exit(vcpu, r, r < 0 ? errno : 0, ex))
		return 0;
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			ex->reason = HV_EXIT_INTR;
			return 0;
		}
		log_err("KVM_RUN vCPU %u: %s", vcpu->index, strerror(errno));
		return -errno;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		ex->reason = HV_EXIT_IO;
		ex->io.port = run->io.port;
		ex->io.size = run->io.size;
		ex->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
		ex->io.count = run->io.count;
		/* data_offset comes from the kernel, but bound it anyway */
		if (run->io.data_offset >= (uint64_t)vcpu->vm->hv->run_size ||
		    (uint64_t)run->io.count * run->io.size >
		    (uint64_t)vcpu->vm->hv->run_size - run->io.data_offset) {
			ex->reason = HV_EXIT_UNKNOWN;
			ex->raw_reason = run->exit_reason;
			break;
		}
		ex->io.data = (uint8_t *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		ex->reason = HV_EXIT_MMIO;
		ex->mmio.addr = run->mmio.phys_addr;
		ex->mmio.size = run->mmio.len > 8 ? 8 : run->mmio.len;
		ex->mmio.is_write = run->mmio.is_write;
		ex->mmio.data = run->mmio.data;
		break;
	case KVM_EXIT_HLT:
		ex->reason = HV_EXIT_HLT;
		break;
	case KVM_EXIT_SHUTDOWN:
		ex->reason = HV_EXIT_SHUTDOWN;
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
			ex->reason = HV_EXIT_RESET;
			break;
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			ex->reason = HV_EXIT_POWEROFF;
			break;
		default:
			ex->reason = HV_EXIT_CRASH;
			ex->raw_reason = run->system_event.type;
			break;
		}
		break;
	case KVM_EXIT_INTR:
		ex->reason = HV_EXIT_INTR;
		break;
	case KVM_EXIT_IOAPIC_EOI:
		ex->reason = HV_EXIT_IOAPIC_EOI;
		ex->eoi_vector = run->eoi.vector;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		ex->reason = HV_EXIT_INTERNAL;
		ex->internal.suberror = run->internal.suberror;
		ex->internal.ndata = run->internal.ndata > 8 ? 8 : run->internal.ndata;
		for (unsigned i = 0; i < ex->internal.ndata; i++)
			ex->internal.data[i] = run->internal.data[i];
		break;
	case KVM_EXIT_FAIL_ENTRY:
		ex->reason = HV_EXIT_FAIL_ENTRY;
		ex->hw_reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	default:
		ex->reason = HV_EXIT_UNKNOWN;
		ex->raw_reason = run->exit_reason;
		break;
	}
	return 0;
}

static void kvm_vcpu_kick(struct hv_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void kvm_vcpu_dump(struct hv_vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "vCPU %u: registers unavailable: %s", vcpu->index,
			 strerror(errno));
		return;
	}
	snprintf(buf, len,
		 "vCPU %u: rip=%016llx rflags=%08llx cs=%04x(base %08llx) ds=%04x ss=%04x\n"
		 "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		 "  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		 "  cr0=%08llx cr2=%016llx cr3=%016llx cr4=%08llx efer=%llx\n"
		 "  gdt=%016llx/%04x idt=%016llx/%04x",
		 vcpu->index, (unsigned long long)r.rip, (unsigned long long)r.rflags,
		 s.cs.selector, (unsigned long long)s.cs.base, s.ds.selector, s.ss.selector,
		 (unsigned long long)r.rax, (unsigned long long)r.rbx,
		 (unsigned long long)r.rcx, (unsigned long long)r.rdx,
		 (unsigned long long)r.rsi, (unsigned long long)r.rdi,
		 (unsigned long long)r.rsp, (unsigned long long)r.rbp,
		 (unsigned long long)s.cr0, (unsigned long long)s.cr2,
		 (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		 (unsigned long long)s.efer, (unsigned long long)s.gdt.base, s.gdt.limit,
		 (unsigned long long)s.idt.base, s.idt.limit);
}

static void kvm_vcpu_destroy(struct hv_vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, vcpu->vm->hv->run_size);
	close(vcpu->fd);
	free(vcpu);
}

const struct hv_ops hv_kvm_ops = {
	.name = "kvm",
	.coco = &hv_kvm_coco_ops,
	.open = kvm_open,
	.close = kvm_close,
	.vm_create = kvm_vm_create,
	.vm_set_memory = kvm_vm_set_memory,
	.vm_create_irqchip = kvm_vm_create_irqchip,
	.vm_create_split_irqchip = kvm_vm_create_split_irqchip,
	.vm_set_msi_routes = kvm_vm_set_msi_routes,
	.vm_irqfd = kvm_vm_irqfd,
	.vm_ioeventfd = kvm_vm_ioeventfd,
	.vm_irq_line = kvm_vm_irq_line,
	.vm_signal_msi = kvm_vm_signal_msi,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_dump = kvm_vcpu_dump,
	.vcpu_destroy = kvm_vcpu_destroy,
};
