/* snp/vmsa.c: initial VMSA pages of an SEV-SNP guest, byte for byte as KVM
 * produces them from the register state QEMU (or EC2/GCE) sets.  Owns the
 * register values only; the launcher hands them to KVM, the digest hashes
 * them. */
#include "snp/snp.h"

#include <string.h>

#include "vmm/base/le.h"

/* Offsets: AMD APM vol. 2 Table B-4 "VMSA Layout, State Save Area for
 * SEV-ES"; linux arch/x86/include/asm/svm.h struct sev_es_save_area. */
enum {
	VMSA_ES = 0x000, VMSA_CS = 0x010, VMSA_SS = 0x020, VMSA_DS = 0x030,
	VMSA_FS = 0x040, VMSA_GS = 0x050, VMSA_GDTR = 0x060, VMSA_LDTR = 0x070,
	VMSA_IDTR = 0x080, VMSA_TR = 0x090,
	VMSA_EFER = 0x0d0, VMSA_CR4 = 0x148, VMSA_CR0 = 0x158, VMSA_DR7 = 0x160,
	VMSA_DR6 = 0x168, VMSA_RFLAGS = 0x170, VMSA_RIP = 0x178,
	VMSA_G_PAT = 0x268, VMSA_RDX = 0x310, VMSA_SEV_FEATURES = 0x3b0,
	VMSA_XCR0 = 0x3e8, VMSA_MXCSR = 0x408, VMSA_X87_FCW = 0x410,
};

/* struct vmcb_seg { u16 selector; u16 attrib; u32 limit; u64 base; } */
static void seg(uint8_t *page, unsigned off, uint16_t sel, uint16_t attr,
		uint32_t limit, uint64_t base)
{
	le_wr16(page + off, sel);
	le_wr16(page + off + 2, attr);
	le_wr32(page + off + 4, limit);
	le_wr64(page + off + 8, base);
}

void snp_vmsa_build(uint8_t page[PLAN_VMSA_SIZE], uint32_t eip, uint32_t vcpu_sig,
		    uint64_t sev_features, enum snp_vmm_type vmm)
{
	/* Reset state: KVM (svm.c init_vmcb, sev_es_sync_vmsa) and QEMU
	 * target/i386/cpu.c x86_cpu_reset_hold; the per-VMM differences are
	 * those virtee/sev-snp-measure vmsa.py encodes (validated by it on
	 * the respective clouds). */
	uint16_t cs_attr = 0x9b, ss_attr = 0x93, tr_attr = 0x8b;
	uint64_t g_pat = 0x0007040600070406ULL;  /* APM vol. 2 §A.3 PAT reset */
	uint64_t rdx = vcpu_sig;
	uint32_t mxcsr = 0x1f80;
	uint16_t fcw = 0x37f;

	if (vmm == SNP_VMM_EC2) {
		if (eip == SNP_BSP_EIP)
			cs_attr = 0x9a;
		ss_attr = 0x92;
		tr_attr = 0x83;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
	} else if (vmm == SNP_VMM_GCE) {
		g_pat = 0x00070106ULL;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
	}
	memset(page, 0, PLAN_VMSA_SIZE);
	seg(page, VMSA_ES, 0, 0x93, 0xffff, 0);
	seg(page, VMSA_CS, 0xf000, cs_attr, 0xffff, eip & 0xffff0000u);
	seg(page, VMSA_SS, 0, ss_attr, 0xffff, 0);
	seg(page, VMSA_DS, 0, 0x93, 0xffff, 0);
	seg(page, VMSA_FS, 0, 0x93, 0xffff, 0);
	seg(page, VMSA_GS, 0, 0x93, 0xffff, 0);
	seg(page, VMSA_GDTR, 0, 0, 0xffff, 0);
	seg(page, VMSA_LDTR, 0, 0x82, 0xffff, 0);
	seg(page, VMSA_IDTR, 0, 0, 0xffff, 0);
	seg(page, VMSA_TR, 0, tr_attr, 0xffff, 0);
	le_wr64(page + VMSA_EFER, 0x1000);          /* EFER.SVME, set by KVM */
	le_wr64(page + VMSA_CR4, 0x40);             /* CR4.MCE, set by KVM */
	le_wr64(page + VMSA_CR0, 0x10);             /* CR0.ET */
	le_wr64(page + VMSA_DR7, 0x400);
	le_wr64(page + VMSA_DR6, 0xffff0ff0);
	le_wr64(page + VMSA_RFLAGS, 0x2);
	le_wr64(page + VMSA_RIP, eip & 0xffff);
	le_wr64(page + VMSA_G_PAT, g_pat);
	le_wr64(page + VMSA_RDX, rdx);
	le_wr64(page + VMSA_SEV_FEATURES, sev_features);
	le_wr64(page + VMSA_XCR0, 0x1);
	le_wr32(page + VMSA_MXCSR, mxcsr);
	le_wr16(page + VMSA_X87_FCW, fcw);
}
