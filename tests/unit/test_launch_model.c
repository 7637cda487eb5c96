/* tests/unit/test_launch_model.c: confidential launches through the platform
 * model (tests/model/): the digest / MRTD the model computes from the ioctl
 * payloads it receives must equal the prediction (snp_measure_plan,
 * tdx_measure_mrtd) for many configurations; conversions, TDX exits,
 * rebuild and the error paths a real platform would refuse. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "loader/igvm.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "tests/model/model.h"
#include "tests/unit/igvm_build.h"
#include "vmm/launch/coco.h"
#include "vmm/base/log.h"

#define OVMF_FD "/usr/share/ovmf/OVMF.fd"
#define MEM (64ULL << 20)

static uint8_t *ram;
static struct guestmem gm;

static void setup(void)
{
	log_set_level(LOG_ERR);
	ram = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	cr_assert(ram != MAP_FAILED);
	gm_init(&gm);
	cr_assert_eq(gm_add(&gm, 0, 0xA0000, ram, GM_RAM, "ram-low"), 0);
	cr_assert_eq(gm_add(&gm, 0xC0000, MEM - 0xC0000, ram + 0xC0000, GM_RAM, "ram"), 0);
}

static void teardown(void)
{
	munmap(ram, MEM);
}

TestSuite(launch, .init = setup, .fini = teardown);

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* A launched model VM */
struct run {
	struct hv *hv;
	struct coco_vm *cv;
	struct hv_vm *vm;
	struct hv_vcpu *vcpu[64];
	unsigned n;
};

static int launch(struct run *R, const struct launch_plan *p, unsigned nvcpus,
		  const struct model_opts *o)
{
	struct model_opts d;
	char err[256];
	struct coco_build_args a;

	if (!o) {
		model_opts_default(&d);
		o = &d;
	}
	model_set_opts(o);
	memset(R, 0, sizeof(*R));
	cr_assert_eq(model_ops.open(&R->hv, err, sizeof(err)), 0);
	R->n = nvcpus;
	a = (struct coco_build_args){ .ops = &model_ops, .hv = R->hv, .plan = p, .gm = &gm,
				      .nvcpus = nvcpus };
	return coco_build(&a, &R->cv, &R->vm, R->vcpu);
}

static void finish(struct run *R)
{
	for (unsigned i = 0; i < R->n; i++)
		if (R->vcpu[i])
			model_ops.vcpu_destroy(R->vcpu[i]);
	if (R->vm)
		model_ops.vm_destroy(R->vm);
	coco_vm_destroy(R->cv);
	model_ops.close(R->hv);
}

static void snp_check(const struct launch_plan *p, const struct model_opts *o)
{
	struct snp_digest_stages st;
	struct run R;
	uint8_t got[48];
	int r = launch(&R, p, p->nvcpus, o);

	cr_assert_eq(r, 0, "launch failed: %s", model_last_error());
	cr_assert_eq(snp_measure_plan(p, &st), 0);
	cr_assert_eq(model_vm_snp_digest(R.vm, got), 0);
	for (unsigned i = 0; i < p->nvcpus; i++)
		cr_assert_eq(memcmp(model_vm_vmsa(R.vm, i), p->vmsa[i], 4096), 0,
			     "VMSA of vCPU %u differs from the plan's", i);
	cr_assert_eq(memcmp(got, st.final, 48), 0, "model digest != snp_measure_plan");
	cr_assert_eq(model_vm_policy(R.vm), p->snp.policy);
	cr_assert_eq(model_vm_vmsa_features(R.vm), p->snp.sev_features & ~1ULL);
	cr_assert_eq(model_vm_exit_hypercall(R.vm), 1u << 12);
	cr_assert_eq(memcmp(model_vm_host_data(R.vm), p->snp.host_data, 32), 0);
	/* every planned page is private, launched and in guest_memfd */
	for (size_t i = 0; i < p->nregions; i++) {
		cr_assert(model_vm_page_launched(R.vm, p->regions[i].gpa));
		cr_assert(model_vm_is_private(R.vm, p->regions[i].gpa));
	}
	finish(&R);
}

/* ---- synthetic SNP firmware: metadata with every item type ---- */
static uint8_t *synth_fw(size_t len)
{
	uint8_t *fw = malloc(len);

	cr_assert(fw);
	for (size_t i = 0; i < len; i++)
		fw[i] = (uint8_t)(i * 31 + (i >> 12) * 7);
	return fw;
}

static void synth_info(struct ovmf_info *info)
{
	memset(info, 0, sizeof(*info));
	info->has_footer = info->has_reset_block = info->has_sev_meta = true;
	info->ap_reset_eip = 0x80b004;
	info->sev[0] = (struct ovmf_sev_item){ 0x800000, 0x9000, OVMF_SEV_SEC_MEM };
	info->sev[1] = (struct ovmf_sev_item){ 0x80d000, 0x1000, OVMF_SEV_SECRETS };
	info->sev[2] = (struct ovmf_sev_item){ 0x80e000, 0x1000, OVMF_SEV_CPUID };
	info->sev[3] = (struct ovmf_sev_item){ 0x80f000, 0x1000, OVMF_SEV_SVSM_CAA };
	info->sev[4] = (struct ovmf_sev_item){ 0x810000, 0x1000, OVMF_SEV_KERNEL_HASHES };
	info->sev[5] = (struct ovmf_sev_item){ 0x811000, 0x2000, OVMF_SEV_SEC_MEM };
	info->nsev = 6;
	info->has_hash_table = true;
	info->hash_table_gpa = 0x810c00;
	info->hash_table_size = 0x400;
}

static void snp_synth_plan(struct launch_plan *p, const struct snp_params *sp)
{
	struct ovmf_info info;
	uint8_t *fw = synth_fw(0x40000);
	char err[256];

	synth_info(&info);
	plan_init(p, PLAN_SNP);
	cr_assert_eq(snp_build_plan_info(p, fw, 0x40000, &info, sp, err, sizeof(err)), 0, "%s", err);
	free(fw);
}

static void params(struct snp_params *sp, unsigned n, enum snp_vmm_type vmm)
{
	snp_params_init(sp);
	sp->nvcpus = n;
	sp->vmm_type = vmm;
	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-v4", &sp->vcpu_sig), 0);
	sp->host_data[0] = 0x5a;
}

Test(launch, snp_synthetic_vmm_types_and_vcpus)
{
	static const unsigned ns[] = { 1, 2, 3, 8, 64 };

	for (int vmm = SNP_VMM_QEMU; vmm <= SNP_VMM_GCE; vmm++) {
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			struct snp_params sp;
			struct launch_plan p;

			params(&sp, ns[k], (enum snp_vmm_type)vmm);
			snp_synth_plan(&p, &sp);
			snp_check(&p, NULL);
			plan_free(&p);
		}
	}
}

Test(launch, snp_kernel_hashes_debugswap_and_slow_firmware)
{
	static const uint8_t kernel[] = "kernel", initrd[] = "initrd";
	struct snp_params sp;
	struct launch_plan p;
	struct model_opts o;

	params(&sp, 4, SNP_VMM_QEMU);
	cr_assert_eq(snp_params_set_kernel(&sp, kernel, sizeof(kernel), initrd, sizeof(initrd),
					   "console=ttyS0"), 0);
	sp.sev_features = 0x21;
	snp_synth_plan(&p, &sp);
	snp_check(&p, NULL);
	/* partial progress and EAGAIN from the firmware */
	model_opts_default(&o);
	o.update_chunk = 3;
	o.eagain_every = 4;
	snp_check(&p, &o);
	plan_free(&p);
}

Test(launch, snp_cpuid_page_corrected_once)
{
	struct snp_params sp;
	struct launch_plan p;
	struct model_opts o;
	struct run R;

	params(&sp, 2, SNP_VMM_QEMU);
	snp_synth_plan(&p, &sp);
	model_opts_default(&o);
	o.cpuid_reject_leaf = 0x80000001;
	cr_assert_eq(launch(&R, &p, 2, &o), 0, "%s", model_last_error());
	cr_assert_eq(model_vm_cpuid_rejections(R.vm), 1);
	finish(&R);
	plan_free(&p);
}

Test(launch, snp_debian_ovmf)
{
	size_t len;
	uint8_t *fw = slurp(OVMF_FD, &len);
	char err[256];

	if (!fw)
		cr_skip_test("%s absent (make deps installs package ovmf)", OVMF_FD);
	for (unsigned n = 1; n <= 16; n *= 4) {
		struct snp_params sp;
		struct launch_plan p;

		params(&sp, n, n == 4 ? SNP_VMM_EC2 : SNP_VMM_QEMU);
		plan_init(&p, PLAN_SNP);
		cr_assert_eq(snp_build_plan(&p, fw, len, &sp, err, sizeof(err)), 0, "%s", err);
		/* firmware first: the plan's first region is the image */
		cr_assert_str_eq(p.regions[0].what, "firmware");
		snp_check(&p, NULL);
		plan_free(&p);
	}
	free(fw);
}

Test(launch, snp_id_block_checked_at_finish)
{
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st;
	struct run R;

	params(&sp, 2, SNP_VMM_QEMU);
	snp_synth_plan(&p, &sp);
	cr_assert_eq(snp_measure_plan(&p, &st), 0);
	plan_free(&p);
	/* a matching ID block: LD @0, POLICY @88 */
	sp.id_block_en = true;
	memcpy(sp.id_block, st.final, 48);
	memcpy(sp.id_block + 88, &sp.policy, 8);
	sp.id_auth[0] = 1;
	snp_synth_plan(&p, &sp);
	snp_check(&p, NULL);
	plan_free(&p);
	/* one byte off: the firmware refuses LAUNCH_FINISH */
	sp.id_block[5] ^= 1;
	snp_synth_plan(&p, &sp);
	cr_assert_lt(launch(&R, &p, 2, NULL), 0);
	cr_assert(strstr(model_last_error(), "ID block"), "%s", model_last_error());
	finish(&R);
	plan_free(&p);
}

Test(launch, snp_from_igvm)
{
	uint8_t page[4096], vmsa[4096];
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 2, .memory = MEM };
	struct ib b;
	size_t len;
	uint8_t *f;
	char err[256];

	memset(page, 0xA5, sizeof(page));
	snp_vmsa_build(vmsa, SNP_BSP_EIP, 0x800f12, 0x1, SNP_VMM_QEMU);
	prm.ap_vmsa = vmsa;
	ib_init(&b, 1);
	ib_platform(&b, 0x2, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_policy(&b, 0x30000, 0x2);
	ib_page(&b, 0x800000, 0x2, 0, IGVM_PAGE_NORMAL, page);
	ib_page(&b, 0x801000, 0x2, 0, IGVM_PAGE_NORMAL, NULL);
	ib_page(&b, 0x802000, 0x2, 0, IGVM_PAGE_SECRETS, NULL);
	ib_page(&b, 0x803000, 0x2, 0, IGVM_PAGE_CPUID_DATA, NULL);
	ib_vp_context(&b, PLAN_VMSA_GPA, 0x2, 0, vmsa);
	f = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, f, len, PLAN_SNP, &prm, err, sizeof(err)), 0, "%s", err);
	free(f);
	snp_check(&p, NULL);
	plan_free(&p);
}

/* ---- TDX ---- */
static const struct ovmf_tdvf_section tdsec[] = {
	{ .data_offset = 0x10000, .raw_size = 0x30000, .gpa = 0xFFFD0000, .mem_size = 0x30000,
	  .type = OVMF_TDVF_BFV, .attributes = 1 },
	{ .data_offset = 0, .raw_size = 0x10000, .gpa = 0xFFFC0000, .mem_size = 0x10000,
	  .type = OVMF_TDVF_CFV },
	{ .gpa = 0x810000, .mem_size = 0x10000, .type = OVMF_TDVF_TEMP_MEM },
	{ .gpa = 0x809000, .mem_size = 0x2000, .type = OVMF_TDVF_TD_HOB },
	{ .gpa = 0x800000, .mem_size = 0x6000, .type = OVMF_TDVF_TEMP_MEM },
};

static struct tdx_params tparams(unsigned n, bool two)
{
	struct tdx_params tp;

	memset(&tp, 0, sizeof(tp));
	tp.memory = MEM;
	tp.nvcpus = n;
	tp.two_pass = two;
	tp.attributes = 1ULL << 28;
	tp.xfam = 0x61ae7;
	tp.mrconfigid[0] = 0xaa;
	return tp;
}

static void tdx_check(const struct launch_plan *p, unsigned n, const struct model_opts *o)
{
	uint8_t want[48], got[48];
	struct run R;

	cr_assert_eq(launch(&R, p, n, o), 0, "launch failed: %s", model_last_error());
	cr_assert_eq(tdx_measure_mrtd(p, want), 0);
	cr_assert_eq(model_vm_tdx_mrtd(R.vm, got), 0);
	cr_assert_eq(memcmp(want, got, 48), 0, "model MRTD != tdx_measure_mrtd");
	cr_assert(model_vm_split_irqchip(R.vm));
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(model_vcpu_tdx_rcx(R.vcpu[i]), p->tdx.hob_gpa);
	finish(&R);
}

Test(launch, tdx_single_and_two_pass)
{
	uint8_t *fw = synth_fw(0x40000);

	for (int two = 0; two <= 1; two++) {
		for (unsigned n = 1; n <= 8; n *= 8) {
			struct tdx_params tp = tparams(n, two);
			struct launch_plan p;
			struct model_opts o;
			char err[256];

			plan_init(&p, PLAN_TDX);
			cr_assert_eq(tdx_build_plan_sections(&p, fw, 0x40000, tdsec, 5, &tp, err,
							     sizeof(err)), 0, "%s", err);
			model_opts_default(&o);
			o.tdx_two_pass = two;
			o.tdx_chunk = two ? 0 : 7;
			tdx_check(&p, n, &o);
			plan_free(&p);
		}
	}
	free(fw);
}

Test(launch, tdx_debian_ovmf)
{
	size_t len;
	uint8_t *fw = slurp(OVMF_FD, &len);
	struct tdx_params tp = tparams(2, false);
	struct launch_plan p;
	char err[256];

	if (!fw)
		cr_skip_test("%s absent (make deps installs package ovmf)", OVMF_FD);
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan(&p, fw, len, &tp, err, sizeof(err)), 0, "%s", err);
	tdx_check(&p, 2, NULL);
	plan_free(&p);
	free(fw);
}

/* ---- run time ---- */
static uint64_t run_exit(struct run *R, struct hv_exit *tmpl, enum coco_exit_action *act)
{
	struct hv_exit ex;

	model_vcpu_push_exit(R->vcpu[0], tmpl);
	cr_assert_eq(model_ops.vcpu_run(R->vcpu[0], &ex), 0);
	cr_assert_eq(ex.reason, tmpl->reason);
	*act = coco_handle_exit(R->cv, R->vcpu[0], &ex);
	cr_assert_eq(model_ops.vcpu_run(R->vcpu[0], &ex), 0);   /* KVM reads ret back */
	return model_vcpu_last_ret(R->vcpu[0]);
}

Test(launch, conversions_against_the_model_view)
{
	struct snp_params sp;
	struct launch_plan p;
	struct run R;
	struct hv_exit ex;
	enum coco_exit_action act;

	params(&sp, 1, SNP_VMM_QEMU);
	snp_synth_plan(&p, &sp);
	cr_assert_eq(launch(&R, &p, 1, NULL), 0, "%s", model_last_error());
	/* SEC_MEM page 0x801000: launched, private, in guest_memfd */
	cr_assert(model_vm_is_private(R.vm, 0x801000));
	cr_assert(model_vm_gmem_populated(R.vm, 0x801000));
	/* guest shares 2 pages: attributes cleared, guest_memfd punched */
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_HYPERCALL;
	ex.hypercall.nr = KVM_HC_MAP_GPA_RANGE;
	ex.hypercall.args[0] = 0x801000;
	ex.hypercall.args[1] = 2;
	ex.hypercall.args[2] = 0;
	cr_assert_eq(run_exit(&R, &ex, &act), 0);
	cr_assert_eq(act, COCO_EXIT_HANDLED);
	cr_assert_not(model_vm_is_private(R.vm, 0x801000));
	cr_assert_not(model_vm_is_private(R.vm, 0x802000));
	cr_assert(model_vm_is_private(R.vm, 0x803000));
	cr_assert_not(model_vm_gmem_populated(R.vm, 0x801000));
	/* the host writes the shared page; converting back discards it */
	ram[0x801000] = 0x77;
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_MEMORY_FAULT;
	ex.memory_fault.flags = KVM_MEMORY_EXIT_FLAG_PRIVATE;
	ex.memory_fault.gpa = 0x801000;
	ex.memory_fault.size = 0x1000;
	run_exit(&R, &ex, &act);
	cr_assert_eq(act, COCO_EXIT_HANDLED);
	cr_assert(model_vm_is_private(R.vm, 0x801000));
	cr_assert_eq(ram[0x801000], 0, "shared page not discarded");
	/* shared conversion of non-RAM (IOAPIC) succeeds; private fails */
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_HYPERCALL;
	ex.hypercall.nr = KVM_HC_MAP_GPA_RANGE;
	ex.hypercall.args[0] = 0xFEC00000;
	ex.hypercall.args[1] = 1;
	cr_assert_eq(run_exit(&R, &ex, &act), 0);
	ex.hypercall.args[2] = KVM_MAP_GPA_RANGE_ENCRYPTED;
	cr_assert_eq(run_exit(&R, &ex, &act), EINVAL);
	/* unaligned / huge ranges are EINVAL, never a crash */
	ex.hypercall.args[0] = 0x801800;
	ex.hypercall.args[1] = 1;
	cr_assert_eq(run_exit(&R, &ex, &act), EINVAL);
	ex.hypercall.args[0] = 0x1000;
	ex.hypercall.args[1] = ~0ULL;
	cr_assert_eq(run_exit(&R, &ex, &act), EINVAL);
	/* SEV termination is logged and left to the caller */
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_CRASH;
	ex.system_event.type = KVM_SYSTEM_EVENT_SEV_TERM;
	ex.system_event.ndata = 1;
	ex.system_event.data[0] = 0x100 | 1 << 16;
	cr_assert_eq(coco_handle_exit(R.cv, R.vcpu[0], &ex), COCO_EXIT_NOT_MINE);
	finish(&R);
	plan_free(&p);
}

Test(launch, tdx_exits)
{
	uint8_t *fw = synth_fw(0x40000);
	struct tdx_params tp = tparams(1, false);
	struct launch_plan p;
	struct run R;
	struct hv_exit ex;
	enum coco_exit_action act;
	uint64_t status, v;
	char err[256];

	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, fw, 0x40000, tdsec, 5, &tp, err, sizeof(err)), 0);
	free(fw);
	cr_assert_eq(launch(&R, &p, 1, NULL), 0, "%s", model_last_error());
	/* GetQuote with a shared buffer at 16 MiB, no QGS configured */
	cr_assert_eq(coco_convert(R.cv, 0x1000000, 0x2000, false), 0);
	memset(ram + 0x1000000, 0, 0x2000);
	v = 1;
	memcpy(ram + 0x1000000, &v, 8);
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_TDX;
	ex.tdx.nr = FUKI_TDVMCALL_GET_QUOTE;
	ex.tdx.in[0] = 0x1000000;
	ex.tdx.in[1] = 0x2000;
	cr_assert_eq(run_exit(&R, &ex, &act), FUKI_TDVMCALL_STATUS_SUCCESS);
	memcpy(&status, ram + 0x1000008, 8);
	cr_assert_eq(status, FUKI_TDX_QUOTE_STATUS_QGS_UNAVAILABLE);
	ex.tdx.in[1] = 0x1800;
	cr_assert_eq(run_exit(&R, &ex, &act), FUKI_TDVMCALL_STATUS_ALIGN_ERROR);
	/* SetupEventNotifyInterrupt is remembered */
	ex.tdx.nr = FUKI_TDVMCALL_SETUP_EVENT_NOTIFY;
	ex.tdx.in[0] = 0x55;
	cr_assert_eq(run_exit(&R, &ex, &act), 0);
	cr_assert_eq(coco_tdx_notify_vector(R.cv), 0x55);
	/* GetTdVmCallInfo leaf 1: SetupEventNotifyInterrupt in R11 */
	ex.tdx.nr = FUKI_TDVMCALL_GET_TD_VM_CALL_INFO;
	ex.tdx.in[0] = 1;
	cr_assert_eq(run_exit(&R, &ex, &act), 0);
	cr_assert_eq(model_vcpu_last_out(R.vcpu[0])[1], 2);
	/* unknown leaves: SUBFUNC_UNSUPPORTED */
	ex.tdx.nr = 0x12345;
	cr_assert_eq(run_exit(&R, &ex, &act), FUKI_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
	finish(&R);
	plan_free(&p);
}

Test(launch, rebuild_gives_the_new_digest)
{
	struct snp_params sp;
	struct launch_plan a, b;
	struct snp_digest_stages sa, sb;
	struct run R;
	uint8_t got[48];

	params(&sp, 2, SNP_VMM_QEMU);
	snp_synth_plan(&a, &sp);
	sp.nvcpus = 3;
	snp_synth_plan(&b, &sp);
	cr_assert_eq(snp_measure_plan(&a, &sa), 0);
	cr_assert_eq(snp_measure_plan(&b, &sb), 0);
	cr_assert_neq(memcmp(sa.final, sb.final, 48), 0);
	cr_assert_eq(launch(&R, &a, 2, NULL), 0);
	cr_assert_eq(model_vm_snp_digest(R.vm, got), 0);
	cr_assert_eq(memcmp(got, sa.final, 48), 0);
	finish(&R);                       /* reset: everything closed */
	cr_assert_eq(launch(&R, &b, 3, NULL), 0, "%s", model_last_error());
	cr_assert_eq(model_vm_snp_digest(R.vm, got), 0);
	cr_assert_eq(memcmp(got, sb.final, 48), 0);
	finish(&R);
	plan_free(&a);
	plan_free(&b);
}

/* ---- errors ---- */
Test(launch, unsupported_platform_one_line)
{
	struct model_opts o;
	struct hv_coco_caps caps;
	struct hv *hv;
	char err[256];
	struct snp_params sp;
	struct launch_plan p;
	struct run R;

	model_opts_default(&o);
	o.vm_types = 1;
	model_set_opts(&o);
	cr_assert_eq(model_ops.open(&hv, err, sizeof(err)), 0);
	cr_assert_eq(model_ops.coco->probe(hv, PLAN_SNP, &caps, err, sizeof(err)), -ENODEV);
	cr_assert(strstr(err, "VM type 4 (SNP) absent from KVM_CAP_VM_TYPES"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
	cr_assert_eq(model_ops.coco->probe(hv, PLAN_TDX, &caps, err, sizeof(err)), -ENODEV);
	cr_assert(strstr(err, "VM type 5 (TDX)"), "%s", err);
	model_ops.close(hv);
	params(&sp, 1, SNP_VMM_QEMU);
	snp_synth_plan(&p, &sp);
	cr_assert_eq(launch(&R, &p, 1, &o), -ENODEV);
	cr_assert_null(R.vm);
	model_ops.close(R.hv);
	plan_free(&p);
}

Test(launch, bad_policy_refused)
{
	struct snp_params sp;
	struct launch_plan p;
	struct run R;

	params(&sp, 1, SNP_VMM_QEMU);
	sp.policy = 0x10000;      /* bit 17 clear */
	snp_synth_plan(&p, &sp);
	cr_assert_lt(launch(&R, &p, 1, NULL), 0);
	cr_assert(strstr(model_last_error(), "bit 17"), "%s", model_last_error());
	model_ops.close(R.hv);
	plan_free(&p);
}

Test(launch, broken_sequences_refused)
{
	struct hv *hv;
	struct hv_vm *vm;
	struct hv_vcpu *vc;
	char err[256];
	struct hv_vm_params hp = { .platform = PLAN_SNP, .nvcpus = 1 };
	struct kvm_sev_snp_launch_start st = { .policy = 0x30000 };
	struct kvm_sev_init in = { 0 };
	static uint8_t page[4096] __attribute__((aligned(4096)));
	struct kvm_sev_snp_launch_update up = { .gfn_start = 0x800, .uaddr = (uintptr_t)page,
						.len = 4096, .type = 1 };
	struct kvm_sev_cmd c;
	struct kvm_create_guest_memfd g = { .size = 0x100000 };
	struct kvm_userspace_memory_region2 mr = { .slot = 0, .flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = 0x800000, .memory_size = 0x100000, .userspace_addr = 0x10000000 };
	struct kvm_memory_attributes at = { .address = 0x800000, .size = 0x100000,
					    .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE };
	const struct hv_coco_ops *co = model_ops.coco;

#define SEV(cid, d) (c = (struct kvm_sev_cmd){ .id = (cid), .data = (uintptr_t)(d) }, co->sev_cmd(vm, &c))
	model_set_opts(&(struct model_opts){ .vm_types = 0x31, .vmsa_features = 0x220 });
	cr_assert_eq(model_ops.open(&hv, err, sizeof(err)), 0);
	cr_assert_eq(model_ops.vm_create(hv, &hp, &vm), 0);
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_START, &st), 0);       /* before INIT2 */
	cr_assert_lt(model_ops.vcpu_create(vm, 0, &vc), 0);         /* before INIT2 */
	cr_assert_eq(SEV(FUKI_SEV_INIT2, &in), 0);
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* before START */
	cr_assert_eq(SEV(FUKI_SEV_SNP_LAUNCH_START, &st), 0);
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_START, &st), 0);       /* twice */
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* no slot */
	mr.guest_memfd = (uint32_t)co->gmem_create(vm, &g);
	cr_assert_eq(co->set_memory_region2(vm, &mr), 0);
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* shared page */
	cr_assert(strstr(model_last_error(), "not private"));
	cr_assert_eq(co->set_memory_attributes(vm, &at), 0);
	cr_assert_eq(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);
	up = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x800, .uaddr = (uintptr_t)page,
						 .len = 4096, .type = 1 };
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* same page twice */
	up.type = FUKI_SNP_PAGE_VMSA;
	up.gfn_start = 0x801;
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* VMSA from userspace */
	struct kvm_sev_snp_launch_finish fin = { 0 };
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_FINISH, &fin), 0);     /* no vCPUs */
	cr_assert_eq(model_ops.vcpu_create(vm, 0, &vc), 0);
	struct hv_exit ex;
	cr_assert_lt(model_ops.vcpu_run(vc, &ex), 0);               /* before FINISH */
	cr_assert_eq(SEV(FUKI_SEV_SNP_LAUNCH_FINISH, &fin), 0);
	cr_assert_lt(SEV(FUKI_SEV_SNP_LAUNCH_UPDATE, &up), 0);      /* after FINISH */
	struct kvm_regs rg = { 0 };
	cr_assert_lt(co->vcpu_set_regs(vc, &rg), 0);                /* state protected */
	model_ops.vcpu_destroy(vc);
	model_ops.vm_destroy(vm);

	/* TDX */
	hp.platform = PLAN_TDX;
	cr_assert_eq(model_ops.vm_create(hv, &hp, &vm), 0);
	struct kvm_tdx_cmd t = { .id = FUKI_TDX_FINALIZE_VM };
	cr_assert_lt(co->tdx_vm_cmd(vm, &t), 0);                    /* before INIT_VM */
	cr_assert_lt(model_ops.vcpu_create(vm, 0, &vc), 0);         /* before INIT_VM */
	struct {
		struct kvm_tdx_init_vm h;
		struct kvm_cpuid_entry2 e[1];
	} iv = { .h = { .attributes = 1ULL << 28, .cpuid = { .nent = 1 } },
		 .e = { { .function = 0x80000008, .eax = 48 << 16 | 0x30 } } };
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_VM, .data = (uintptr_t)&iv };
	cr_assert_eq(co->tdx_vm_cmd(vm, &t), 0);
	cr_assert_lt(model_ops.vcpu_create(vm, 0, &vc), 0);         /* no split irqchip */
	vm = model_last_vm();
	model_ops.vm_destroy(vm);
	cr_assert_eq(model_ops.vm_create(hv, &hp, &vm), 0);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	cr_assert_eq(co->vm_enable_cap(vm, &cap), 0);
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_VM, .data = (uintptr_t)&iv };
	cr_assert_eq(co->tdx_vm_cmd(vm, &t), 0);
	cr_assert_eq(model_ops.vcpu_create(vm, 0, &vc), 0);
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_VCPU, .data = 0x809000 };
	cr_assert_lt(co->tdx_vcpu_cmd(vc, &t), 0);                  /* SET_CPUID2 first */
	cr_assert(strstr(model_last_error(), "x2APIC"));
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[1];
	} cp = { .h = { .nent = 1 }, .e = { { .function = 1, .ecx = 1u << 21 } } };
	cr_assert_eq(co->vcpu_set_cpuid(vc, &cp.h), 0);
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_VCPU, .data = 0x809000 };
	cr_assert_eq(co->tdx_vcpu_cmd(vc, &t), 0);
	struct kvm_tdx_init_mem_region m = { .source_addr = (uintptr_t)page, .gpa = 0x800000,
					     .nr_pages = 1 };
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_MEM_REGION, .data = (uintptr_t)&m };
	cr_assert_lt(co->tdx_vcpu_cmd(vc, &t), 0);                  /* shared, no slot */
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_FINALIZE_VM };
	cr_assert_eq(co->tdx_vm_cmd(vm, &t), 0);
	t = (struct kvm_tdx_cmd){ .id = FUKI_TDX_INIT_MEM_REGION, .data = (uintptr_t)&m };
	cr_assert_lt(co->tdx_vcpu_cmd(vc, &t), 0);                  /* after FINALIZE */
	model_ops.vcpu_destroy(vc);
	model_ops.vm_destroy(vm);
	model_ops.close(hv);
#undef SEV
}
