/* snp/launch.c: the SEV-SNP launch sequence over struct hv_coco_ops.
 * Owns: INIT2, LAUNCH_START, the vCPU CPUID and registers that make KVM
 * build exactly the plan's VMSAs, one LAUNCH_UPDATE per plan region in plan
 * order (the CPUID page filled here), and LAUNCH_FINISH.  Must not reorder
 * or reinterpret the plan (snp/plan.c owns it) nor touch memory slots
 * (vmm/launch/coco.c). */
#include "snp/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/le.h"
#include "vmm/base/log.h"
#include "vmm/hv/cpuid.h"

static int sev(struct coco_launch *l, unsigned id, void *data, const char *what)
{
	struct kvm_sev_cmd cmd = { .id = id, .data = (uintptr_t)data };
	int r = l->ops->coco->sev_cmd(l->vm, &cmd);

	if (r < 0)
		log_err("snp: %s: %s (firmware error 0x%x)", what, strerror(-r), cmd.error);
	return r < 0 ? r : 0;
}

int snp_launch_start(struct coco_launch *l)
{
	const struct plan_snp *ps = &l->plan->snp;
	struct kvm_sev_init init;
	struct kvm_sev_snp_launch_start start;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL,
				      .args = { 1ULL << KVM_HC_MAP_GPA_RANGE } };
	uint64_t feat = ps->sev_features & ~FUKI_SEV_FEAT_SNP_ACTIVE;
	int r;

	if (!(ps->sev_features & FUKI_SEV_FEAT_SNP_ACTIVE)) {
		log_err("snp: plan sev_features 0x%llx lack SNP_ACTIVE (bit 0)",
			(unsigned long long)ps->sev_features);
		return -EINVAL;
	}
	if (feat & ~l->caps->vmsa_features) {
		log_err("snp: sev_features 0x%llx: KVM supports only 0x%llx (+SNP_ACTIVE)",
			(unsigned long long)ps->sev_features,
			(unsigned long long)l->caps->vmsa_features);
		return -EINVAL;
	}
	/* KVM adds SNP_ACTIVE itself: never pass it (kvm-coco-abi.md 2.5) */
	memset(&init, 0, sizeof(init));
	init.vmsa_features = feat;
	init.ghcb_version = 2;
	r = sev(l, FUKI_SEV_INIT2, &init, "KVM_SEV_INIT2");
	if (r)
		return r;
	r = l->ops->coco->vm_enable_cap(l->vm, &cap);
	if (r < 0) {
		log_err("snp: KVM_ENABLE_CAP(EXIT_HYPERCALL): %s", strerror(-r));
		return r;
	}
	if (l->cfg && l->cfg->snp_certs) {
		if (!l->caps->snp_req_certs)
			log_warn("snp: KVM cannot relay certificate requests; snp_certs ignored");
		else if ((r = sev(l, FUKI_SEV_SNP_ENABLE_REQ_CERTS, NULL,
				  "KVM_SEV_SNP_ENABLE_REQ_CERTS")))
			return r;
	}
	memset(&start, 0, sizeof(start));
	start.policy = ps->policy;
	r = sev(l, FUKI_SEV_SNP_LAUNCH_START, &start, "SNP_LAUNCH_START");
	if (r)
		log_err("snp: SNP_LAUNCH_START refused policy 0x%llx", (unsigned long long)ps->policy);
	return r;
}

/* ---- vCPU CPUID and the CPUID page (QEMU sev_snp_adjust_cpuid_features,
 * sev_snp_cpuid_info_fill; kvm-coco-abi.md 7.3) ---- */

static void snp_adjust_cpuid(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = cpuid_find(c, 1, 0)))
		e->ecx &= ~(1u << 24);               /* TSC_DEADLINE */
	if ((e = cpuid_find(c, 7, 0))) {
		e->ebx &= ~(1u << 1);                /* TSC_ADJUST */
		e->edx &= ~0xfc000000u;              /* SPEC_CTRL..SSBD, bits 26-31 */
	}
	if ((e = cpuid_find(c, 0x80000008, 0)))
		e->ebx &= ~(1u << 25);               /* VIRT_SSBD */
	if ((e = cpuid_find(c, 0x8000001f, 0)))
		e->eax |= 1u << 1 | 1u << 3 | 1u << 4;   /* SEV, SEV-ES, SNP */
}

#define SNP_CPUID_MAX 64

/* struct snp_cpuid_table: u32 count, u32 rsvd, u64 rsvd, then 48-byte
 * entries {eax_in, ecx_in, xcr0_in u64, xss_in u64, eax, ebx, ecx, edx,
 * u64 rsvd} (arch/x86/include/asm/sev.h). */
static int snp_cpuid_page(const struct kvm_cpuid2 *c, uint8_t *page)
{
	unsigned n = 0;

	memset(page, 0, PLAN_PAGE);
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint8_t *o = page + 16 + n * 48;
		uint32_t ebx = e->ebx;
		uint64_t xcr0_in = 0;

		if (!e->eax && !e->ebx && !e->ecx && !e->edx)
			continue;        /* nothing to say; keeps the table small */
		if (n == SNP_CPUID_MAX) {
			log_err("snp: vCPU CPUID has more than %d non-empty entries", SNP_CPUID_MAX);
			return -E2BIG;
		}
		if (e->function == 0xd && e->index <= 1) {
			xcr0_in = 1;
			ebx = 0x240;
		}
		le_wr32(o, e->function);
		le_wr32(o + 4, (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? e->index : 0);
		le_wr64(o + 8, xcr0_in);
		le_wr32(o + 24, e->eax);
		le_wr32(o + 28, ebx);
		le_wr32(o + 32, e->ecx);
		le_wr32(o + 36, e->edx);
		n++;
	}
	le_wr32(page, n);
	return 0;
}

static void snp_cpuid_report(const uint8_t *ours, const uint8_t *fw)
{
	unsigned n = le_rd32(ours);

	for (unsigned i = 0; i < n && i < SNP_CPUID_MAX; i++) {
		const uint8_t *a = ours + 16 + i * 48, *b = fw + 16 + i * 48;

		if (memcmp(a, b, 48))
			log_warn("snp: firmware corrected CPUID 0x%x.%u: eax %08x->%08x ebx %08x->%08x ecx %08x->%08x edx %08x->%08x",
				 le_rd32(a), le_rd32(a + 4), le_rd32(a + 24), le_rd32(b + 24), le_rd32(a + 28),
				 le_rd32(b + 28), le_rd32(a + 32), le_rd32(b + 32), le_rd32(a + 36), le_rd32(b + 36));
	}
}

/* ---- registers from a VMSA (KVM builds the VMSA from vCPU state at
 * LAUNCH_FINISH: arch/x86/kvm/svm/sev.c sev_es_sync_vmsa, svm.c
 * svm_set_segment/svm_set_cr0/svm_set_cr4/svm_set_efer).  Mapping:
 *   segments ES..TR (0x000-0x09f)  KVM_SET_SREGS (attrib bits <-> kvm_segment
 *                                  type/s/dpl/present/avl/l/db/g; GDTR/IDTR
 *                                  base+limit only); CPL 0xcb = SS.DPL
 *   EFER 0x0d0                     sregs.efer; KVM ORs in EFER.SVME
 *   CR4 0x148, CR3 0x150, CR0 0x158 sregs (CR4: KVM ORs in the host's MCE)
 *   DR7 0x160, DR6 0x168           KVM_SET_DEBUGREGS
 *   RFLAGS, RIP, RSP, RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8-R15  KVM_SET_REGS
 *   G_PAT 0x268                    KVM_SET_MSRS(IA32_CR_PAT 0x277)
 *   SEV_FEATURES 0x3b0             INIT2 vmsa_features | SNP_ACTIVE
 *   XCR0 0x3e8                     KVM_SET_XCRS
 *   MXCSR 0x408, FSW 0x40e, FCW 0x410  KVM_SET_FPU
 * Any other non-zero byte cannot be produced through KVM: refused. */

struct vmsa_field { unsigned off, len; };
static const struct vmsa_field vmsa_settable[] = {
	{ 0x000, 0xa0 }, { 0x0cb, 1 }, { 0x0d0, 8 }, { 0x148, 0x38 }, { 0x1d8, 8 },
	{ 0x1f8, 8 }, { 0x268, 8 }, { 0x308, 0x18 }, { 0x328, 0x58 }, { 0x3b0, 8 },
	{ 0x3e8, 8 }, { 0x408, 4 }, { 0x40e, 4 },
};

static bool vmsa_byte_settable(unsigned off)
{
	for (size_t i = 0; i < sizeof(vmsa_settable) / sizeof(vmsa_settable[0]); i++)
		if (off >= vmsa_settable[i].off && off < vmsa_settable[i].off + vmsa_settable[i].len)
			return true;
	return false;
}

static void seg_from_vmsa(const uint8_t *v, struct kvm_segment *s)
{
	uint16_t a = le_rd16(v + 2);

	memset(s, 0, sizeof(*s));
	s->selector = le_rd16(v);
	s->limit = le_rd32(v + 4);
	s->base = le_rd64(v + 8);
	s->type = a & 0xf;
	s->s = (a >> 4) & 1;
	s->dpl = (a >> 5) & 3;
	s->present = (a >> 7) & 1;
	s->avl = (a >> 8) & 1;
	s->l = (a >> 9) & 1;
	s->db = (a >> 10) & 1;
	s->g = (a >> 11) & 1;
	s->unusable = !s->present;
}

static int set_vcpu_from_vmsa(struct coco_launch *l, unsigned idx, const uint8_t *v)
{
	const struct hv_coco_ops *co = l->ops->coco;
	struct hv_vcpu *vcpu = l->vcpu[idx];
	struct kvm_sregs sr;
	struct kvm_regs rg;
	struct kvm_fpu fpu;
	struct kvm_xcrs xc;
	struct kvm_debugregs dr;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} msrs;
	struct kvm_segment *segs[] = { &sr.es, &sr.cs, &sr.ss, &sr.ds, &sr.fs, &sr.gs };
	uint64_t efer = le_rd64(v + 0xd0), cr4 = le_rd64(v + 0x148);
	int r;

	for (unsigned off = 0; off < PLAN_VMSA_SIZE; off++) {
		if (v[off] && !vmsa_byte_settable(off)) {
			log_err("snp: VMSA of vCPU %u: byte 0x%x is non-zero but cannot be set through KVM",
				idx, off);
			return -EINVAL;
		}
	}
	if (le_rd64(v + 0x3b0) != l->plan->snp.sev_features) {
		log_err("snp: VMSA of vCPU %u has SEV_FEATURES 0x%llx, plan says 0x%llx", idx,
			(unsigned long long)le_rd64(v + 0x3b0),
			(unsigned long long)l->plan->snp.sev_features);
		return -EINVAL;
	}
	if (!(efer & (1ULL << 12)) || !(cr4 & (1ULL << 6)) ||
	    v[0xcb] != ((le_rd16(v + 0x22) >> 5) & 3) || le_rd32(v + 0x60) || le_rd32(v + 0x80)) {
		log_err("snp: VMSA of vCPU %u: EFER.SVME/CR4.MCE clear, CPL != SS.DPL or GDTR/IDTR selector/attributes set (KVM cannot produce it)",
			idx);
		return -EINVAL;
	}
	r = co->vcpu_get_sregs(vcpu, &sr);    /* keeps apic_base and friends */
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < 6; i++)
		seg_from_vmsa(v + i * 16, segs[i]);
	seg_from_vmsa(v + 0x70, &sr.ldt);
	seg_from_vmsa(v + 0x90, &sr.tr);
	sr.gdt.limit = (uint16_t)le_rd32(v + 0x64);
	sr.gdt.base = le_rd64(v + 0x68);
	sr.idt.limit = (uint16_t)le_rd32(v + 0x84);
	sr.idt.base = le_rd64(v + 0x88);
	sr.efer = efer & ~(1ULL << 12);
	sr.cr4 = cr4;
	sr.cr3 = le_rd64(v + 0x150);
	sr.cr0 = le_rd64(v + 0x158);
	r = co->vcpu_set_sregs(vcpu, &sr);
	if (r < 0)
		goto fail;
	memset(&rg, 0, sizeof(rg));
	rg.rflags = le_rd64(v + 0x170);
	rg.rip = le_rd64(v + 0x178);
	rg.rsp = le_rd64(v + 0x1d8);
	rg.rax = le_rd64(v + 0x1f8);
	rg.rcx = le_rd64(v + 0x308);
	rg.rdx = le_rd64(v + 0x310);
	rg.rbx = le_rd64(v + 0x318);
	rg.rbp = le_rd64(v + 0x328);
	rg.rsi = le_rd64(v + 0x330);
	rg.rdi = le_rd64(v + 0x338);
	rg.r8 = le_rd64(v + 0x340);
	rg.r9 = le_rd64(v + 0x348);
	rg.r10 = le_rd64(v + 0x350);
	rg.r11 = le_rd64(v + 0x358);
	rg.r12 = le_rd64(v + 0x360);
	rg.r13 = le_rd64(v + 0x368);
	rg.r14 = le_rd64(v + 0x370);
	rg.r15 = le_rd64(v + 0x378);
	r = co->vcpu_set_regs(vcpu, &rg);
	if (r < 0)
		goto fail;
	memset(&fpu, 0, sizeof(fpu));
	fpu.mxcsr = le_rd32(v + 0x408);
	fpu.fsw = le_rd16(v + 0x40e);
	fpu.fcw = le_rd16(v + 0x410);
	r = co->vcpu_set_fpu(vcpu, &fpu);
	if (r < 0)
		goto fail;
	memset(&xc, 0, sizeof(xc));
	xc.nr_xcrs = 1;
	xc.xcrs[0].xcr = 0;
	xc.xcrs[0].value = le_rd64(v + 0x3e8);
	r = co->vcpu_set_xcrs(vcpu, &xc);
	if (r < 0)
		goto fail;
	memset(&dr, 0, sizeof(dr));
	dr.dr6 = le_rd64(v + 0x168);
	dr.dr7 = le_rd64(v + 0x160);
	r = co->vcpu_set_debugregs(vcpu, &dr);
	if (r < 0)
		goto fail;
	memset(&msrs, 0, sizeof(msrs));
	msrs.h.nmsrs = 1;
	msrs.e[0].index = 0x277;      /* IA32_CR_PAT */
	msrs.e[0].data = le_rd64(v + 0x268);
	r = co->vcpu_set_msrs(vcpu, &msrs.h);
	if (r != 1) {
		r = r < 0 ? r : -EIO;
		goto fail;
	}
	return 0;
fail:
	log_err("snp: setting vCPU %u registers from its VMSA: %s", idx, strerror(-r));
	return r;
}

/* ---- LAUNCH_UPDATE of one region, looping on partial progress/EAGAIN ---- */
static int snp_update(struct coco_launch *l, const struct plan_region *pr, uint8_t *src,
		      uint32_t *fw_err)
{
	struct kvm_sev_snp_launch_update u;
	struct kvm_sev_cmd cmd;
	struct coco_progress pg;
	int r;

	memset(&u, 0, sizeof(u));
	u.gfn_start = pr->gpa >> 12;
	u.uaddr = (uintptr_t)src;
	u.len = pr->size;
	u.type = pr->snp_type;
	pg = (struct coco_progress){ .left = u.len };
	for (;;) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.id = FUKI_SEV_SNP_LAUNCH_UPDATE;
		cmd.data = (uintptr_t)&u;
		r = l->ops->coco->sev_cmd(l->vm, &cmd);
		switch (coco_step(&pg, r, u.len)) {
		case COCO_STEP_DONE:
			return 0;
		case COCO_STEP_AGAIN:
			break;
		case COCO_STEP_FAILED:
			*fw_err = cmd.error;
			return r;
		case COCO_STEP_STUCK:
			log_err("snp: LAUNCH_UPDATE %s makes no progress", pr->what);
			return -EIO;
		}
	}
}

int snp_launch_finish(struct coco_launch *l)
{
	const struct launch_plan *p = l->plan;
	const struct hv_coco_ops *co = l->ops->coco;
	struct kvm_cpuid2 *cpuid0 = NULL;
	struct kvm_sev_snp_launch_finish fin;
	int r = 0;

	if (p->nvcpus != l->nvcpus || !p->vmsa) {
		log_err("snp: plan has %u VMSAs for %u vCPUs", p->nvcpus, l->nvcpus);
		return -EINVAL;
	}
	for (unsigned i = 0; i < l->nvcpus; i++) {
		struct kvm_cpuid2 *c = cpuid_copy_for_vcpu(l->supported, i, l->nvcpus);

		if (!c)
			return -ENOMEM;
		snp_adjust_cpuid(c);
		r = co->vcpu_set_cpuid(l->vcpu[i], c);
		if (r < 0) {
			log_err("snp: KVM_SET_CPUID2 vCPU %u: %s", i, strerror(-r));
			free(c);
			free(cpuid0);
			return r;
		}
		if (i == 0)
			cpuid0 = c;
		else
			free(c);
		r = set_vcpu_from_vmsa(l, i, p->vmsa[i]);
		if (r) {
			free(cpuid0);
			return r;
		}
	}
	/* plan order is launch order: firmware, metadata pages, (VMSAs at
	 * FINISH).  kvm-coco-abi.md 4 step 9 says QEMU issues the metadata
	 * first; the order validated on hardware is the plan's. */
	for (size_t i = 0; i < p->nregions && !r; i++) {
		const struct plan_region *pr = &p->regions[i];
		uint8_t *src = plan_region_copy(pr);
		uint8_t ours[PLAN_PAGE];
		uint32_t fw_err = 0;

		if (!src) {
			r = -ENOMEM;
			break;
		}
		if (pr->snp_type == FUKI_SNP_PAGE_CPUID) {
			if (pr->size != PLAN_PAGE) {
				log_err("snp: CPUID region %s is not one page", pr->what);
				r = -EINVAL;
			} else {
				r = snp_cpuid_page(cpuid0, src);
				memcpy(ours, src, PLAN_PAGE);
			}
		}
		if (!r) {
			r = snp_update(l, pr, src, &fw_err);
			if (r && pr->snp_type == FUKI_SNP_PAGE_CPUID &&
			    fw_err == FUKI_SEV_RET_INVALID_PARAM) {
				/* the firmware wrote its corrected table into src */
				snp_cpuid_report(ours, src);
				log_warn("snp: CPUID page rejected; retrying once with the firmware's corrections");
				r = snp_update(l, pr, src, &fw_err);
			}
			if (r)
				log_err("snp: LAUNCH_UPDATE %s gpa 0x%llx size 0x%llx type %u: %s",
					pr->what, (unsigned long long)pr->gpa,
					(unsigned long long)pr->size, pr->snp_type, strerror(-r));
			if (r)
				log_err("snp: firmware status 0x%x", fw_err);
		}
		plan_region_copy_free(src, pr);
	}
	free(cpuid0);
	if (r)
		return r;
	memset(&fin, 0, sizeof(fin));
	if (p->snp.id_block_en) {
		fin.id_block_en = 1;
		fin.auth_key_en = p->snp.auth_key_en;
		fin.id_block_uaddr = (uintptr_t)p->snp.id_block;
		fin.id_auth_uaddr = (uintptr_t)p->snp.id_auth;
	}
	memcpy(fin.host_data, p->snp.host_data, sizeof(fin.host_data));
	return sev(l, FUKI_SEV_SNP_LAUNCH_FINISH, &fin, "SNP_LAUNCH_FINISH");
}
