/* tdx/launch.c: the Intel TDX launch sequence over struct hv_coco_ops.
 * Owns: KVM_TDX_CAPABILITIES, the caps a TD needs, INIT_VM (attributes,
 * XFAM, MR values, CPUID filtered by the capabilities), the vCPU CPUID
 * (x2APIC) and INIT_VCPU with the TD HOB address, one INIT_MEM_REGION per
 * plan region in plan order, FINALIZE.  Must not reorder the plan
 * (tdx/plan.c owns it) nor touch memory slots (vmm/launch/coco.c). */
#include "tdx/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"
#include "vmm/hv/cpuid.h"

#define TDX_CPUID_ROOM 256

static int tdx_vm(struct coco_launch *l, unsigned id, void *data, const char *what)
{
	struct kvm_tdx_cmd cmd;
	int r;

	for (unsigned tries = 0;; tries++) {
		memset(&cmd, 0, sizeof(cmd));   /* hw_error must be zero on input */
		cmd.id = id;
		cmd.data = (uintptr_t)data;
		r = l->ops->coco->tdx_vm_cmd(l->vm, &cmd);
		if ((r != -EAGAIN && r != -EINTR) || tries > 100)
			break;
	}
	if (r < 0)
		log_err("tdx: %s: %s (TDX module status 0x%llx)", what, strerror(-r),
			(unsigned long long)cmd.hw_error);
	return r < 0 ? r : 0;
}

static int enable_cap(struct coco_launch *l, uint32_t cap, uint64_t arg, const char *what)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { arg } };
	int r = l->ops->coco->vm_enable_cap(l->vm, &c);

	if (r < 0)
		log_err("tdx: KVM_ENABLE_CAP(%s, %llu): %s", what, (unsigned long long)arg,
			strerror(-r));
	return r < 0 ? r : 0;
}

/* QEMU tdx_filter_cpuid: keep the leaves the TDX module lets the VMM
 * configure, each register ANDed with the configurable mask. */
static unsigned filter_cpuid(const struct kvm_cpuid2 *sup, const struct kvm_cpuid2 *conf,
			     struct kvm_cpuid_entry2 *out, unsigned room)
{
	unsigned n = 0;

	for (unsigned i = 0; i < conf->nent && n < room; i++) {
		const struct kvm_cpuid_entry2 *c = &conf->entries[i];
		const struct kvm_cpuid_entry2 *s = NULL;

		for (unsigned j = 0; j < sup->nent && !s; j++)
			if (sup->entries[j].function == c->function &&
			    (!(sup->entries[j].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
			     sup->entries[j].index == c->index))
				s = &sup->entries[j];
		if (!s)
			continue;
		out[n] = *s;
		out[n].index = c->index;
		out[n].flags = c->flags;
		out[n].eax &= c->eax;
		out[n].ebx &= c->ebx;
		out[n].ecx &= c->ecx;
		out[n].edx &= c->edx;
		memset(out[n].padding, 0, sizeof(out[n].padding));
		n++;
	}
	return n;
}

int tdx_launch_init_vm(struct coco_launch *l)
{
	const struct plan_tdx *pt = &l->plan->tdx;
	struct kvm_tdx_capabilities *caps;
	struct kvm_tdx_init_vm *init;
	struct kvm_cpuid_entry2 *gpaw = NULL;
	int r;

	caps = calloc(1, sizeof(*caps) + TDX_CPUID_ROOM * sizeof(struct kvm_cpuid_entry2));
	init = calloc(1, sizeof(*init) + TDX_CPUID_ROOM * sizeof(struct kvm_cpuid_entry2));
	if (!caps || !init) {
		free(caps);
		free(init);
		return -ENOMEM;
	}
	caps->cpuid.nent = TDX_CPUID_ROOM;
	r = tdx_vm(l, FUKI_TDX_CAPABILITIES, caps, "KVM_TDX_CAPABILITIES");
	if (r)
		goto out;
	l->tdx_user_r11 = caps->user_tdvmcallinfo_1_r11;
	l->tdx_kernel_r11 = caps->kernel_tdvmcallinfo_1_r11;
	l->tdx_kernel_r12 = caps->kernel_tdvmcallinfo_1_r12;
	if ((pt->attributes & ~caps->supported_attrs) || (pt->xfam & ~caps->supported_xfam)) {
		log_err("tdx: attributes 0x%llx / xfam 0x%llx not supported (TDX module allows 0x%llx / 0x%llx)",
			(unsigned long long)pt->attributes, (unsigned long long)pt->xfam,
			(unsigned long long)caps->supported_attrs,
			(unsigned long long)caps->supported_xfam);
		r = -EINVAL;
		goto out;
	}
	r = enable_cap(l, KVM_CAP_EXIT_HYPERCALL, 1ULL << KVM_HC_MAP_GPA_RANGE, "EXIT_HYPERCALL");
	if (!r)
		r = enable_cap(l, KVM_CAP_SPLIT_IRQCHIP, LAYOUT_IOAPIC_PINS, "SPLIT_IRQCHIP");
	if (!r)
		r = enable_cap(l, KVM_CAP_X86_APIC_BUS_CYCLES_NS, 40, "APIC_BUS_CYCLES_NS");
	if (r)
		goto out;

	init->attributes = pt->attributes;
	init->xfam = pt->xfam;
	memcpy(init->mrconfigid, pt->mrconfigid, 48);
	memcpy(init->mrowner, pt->mrowner, 48);
	memcpy(init->mrownerconfig, pt->mrownerconfig, 48);
	init->cpuid.nent = filter_cpuid(l->supported, &caps->cpuid, init->cpuid.entries,
					TDX_CPUID_ROOM);
	for (unsigned i = 0; i < init->cpuid.nent; i++)
		if (init->cpuid.entries[i].function == 0x80000008)
			gpaw = &init->cpuid.entries[i];
	if (!gpaw) {
		log_err("tdx: CPUID leaf 0x80000008 is not configurable: cannot set the GPA width");
		r = -EINVAL;
		goto out;
	}
	/* EAX[23:16] guest physical address width: 48 (4-level EPT; the shared
	 * bit is 47).  52 would need 5-level EPT. */
	gpaw->eax = (gpaw->eax & ~0x00ff0000u) | (48u << 16);
	r = tdx_vm(l, FUKI_TDX_INIT_VM, init, "KVM_TDX_INIT_VM");
out:
	free(caps);
	free(init);
	return r;
}

static int tdx_vcpu(struct coco_launch *l, unsigned idx, unsigned id, uint32_t flags,
		    uint64_t data, const char *what)
{
	struct kvm_tdx_cmd cmd;
	int r;

	memset(&cmd, 0, sizeof(cmd));
	cmd.id = id;
	cmd.flags = flags;
	cmd.data = data;
	r = l->ops->coco->tdx_vcpu_cmd(l->vcpu[idx], &cmd);
	if (r < 0)
		log_err("tdx: %s vCPU %u: %s (TDX module status 0x%llx)", what, idx, strerror(-r),
			(unsigned long long)cmd.hw_error);
	return r < 0 ? r : 0;
}

/* One INIT_MEM_REGION, re-issued with KVM's updated struct on EAGAIN/EINTR
 * (QEMU tdx_finalize_vm). */
static int tdx_add_region(struct coco_launch *l, const struct plan_region *pr, uint8_t *src)
{
	struct kvm_tdx_init_mem_region mr = { .source_addr = (uintptr_t)src, .gpa = pr->gpa,
					      .nr_pages = pr->size / PLAN_PAGE };
	struct kvm_tdx_cmd cmd;
	struct coco_progress pg = { .left = mr.nr_pages };
	int r;

	for (;;) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.id = FUKI_TDX_INIT_MEM_REGION;
		cmd.flags = (pr->flags & PLAN_F_MEASURE) ? KVM_TDX_MEASURE_MEMORY_REGION : 0;
		cmd.data = (uintptr_t)&mr;
		r = l->ops->coco->tdx_vcpu_cmd(l->vcpu[0], &cmd);
		switch (coco_step(&pg, r, mr.nr_pages)) {
		case COCO_STEP_DONE:
			return 0;
		case COCO_STEP_AGAIN:
			break;
		case COCO_STEP_FAILED:
			log_err("tdx: INIT_MEM_REGION %s gpa 0x%llx pages %llu: %s (status 0x%llx)",
				pr->what, (unsigned long long)mr.gpa,
				(unsigned long long)mr.nr_pages, strerror(-r),
				(unsigned long long)cmd.hw_error);
			return r;
		case COCO_STEP_STUCK:
			log_err("tdx: INIT_MEM_REGION %s makes no progress", pr->what);
			return -EIO;
		}
	}
}

int tdx_launch_finish(struct coco_launch *l)
{
	const struct launch_plan *p = l->plan;
	int r = 0;

	/* KVM_SET_CPUID2 (with x2APIC) before KVM_TDX_INIT_VCPU, which
	 * switches the LAPIC to x2APIC mode (kvm-coco-abi.md 5 step 11) */
	for (unsigned i = 0; i < l->nvcpus; i++) {
		struct kvm_cpuid2 *c = cpuid_copy_for_vcpu(l->supported, i, l->nvcpus);
		struct kvm_cpuid_entry2 *e;

		if (!c)
			return -ENOMEM;
		if ((e = cpuid_find(c, 1, 0)))
			e->ecx |= 1u << 21;
		r = l->ops->coco->vcpu_set_cpuid(l->vcpu[i], c);
		free(c);
		if (r < 0) {
			log_err("tdx: KVM_SET_CPUID2 vCPU %u: %s", i, strerror(-r));
			return r;
		}
		r = tdx_vcpu(l, i, FUKI_TDX_INIT_VCPU, 0, p->tdx.hob_gpa, "KVM_TDX_INIT_VCPU");
		if (r)
			return r;
	}
	for (size_t i = 0; i < p->nregions && !r; i++) {
		const struct plan_region *pr = &p->regions[i];
		uint8_t *src;

		if (pr->flags & PLAN_F_PAGE_AUG)
			continue;       /* accepted later by the guest, not added */
		src = plan_region_copy(pr);
		if (!src)
			return -ENOMEM;
		r = tdx_add_region(l, pr, src);
		plan_region_copy_free(src, pr);
	}
	if (r)
		return r;
	return tdx_vm(l, FUKI_TDX_FINALIZE_VM, NULL, "KVM_TDX_FINALIZE_VM");
}
