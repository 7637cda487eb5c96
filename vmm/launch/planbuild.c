/* vmm/launch/planbuild.c: configuration -> launch plan (see planbuild.h).  Owns the
 * dispatch and the file reads around it; page order and types belong to the
 * platform builders in loader/, snp/ and tdx/. */
#include "vmm/launch/planbuild.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loader/igvm.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "vmm/base/digest.h"
#include "vmm/base/err.h"
#include "vmm/base/log.h"

static int read_exact(const char *path, uint8_t *buf, size_t len, const char *what,
		      char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int extra;

	if (!f)
		return err_set(err, errlen, -errno, "cannot open %s '%s': %s", what, path,
			    strerror(errno));
	n = fread(buf, 1, len, f);
	extra = fgetc(f);
	fclose(f);
	if (n != len || extra != EOF)
		return err_set(err, errlen, -EINVAL, "%s '%s' must be exactly %zu bytes", what, path,
			    len);
	return 0;
}

int planbuild_kernel_hashes(const struct vm_config *cfg, struct planbuild_kernel_hashes *kh,
			    char *err, size_t errlen)
{
	int ret;

	if (!cfg->kernel_path)
		return err_set(err, errlen, -EINVAL, "no [kernel] to hash");
	ret = digest_file_sha256(cfg->kernel_path, kh->kernel, err, errlen);
	if (ret)
		return ret;
	if (cfg->initrd_path)
		return digest_file_sha256(cfg->initrd_path, kh->initrd, err, errlen);
	if (digest_sha256("", 0, kh->initrd))
		return err_set(err, errlen, -EIO, "SHA-256 failed");
	return 0;
}

int planbuild_snp_params(const struct vm_config *cfg, const struct planbuild_kernel_hashes *kh,
			 struct snp_params *sp, char *err, size_t errlen)
{
	const struct cfg_confidential *cc = &cfg->cc;
	int ret;

	snp_params_init(sp);
	sp->nvcpus = cfg->vcpus;
	sp->vmm_type = cc->vmm_type;
	sp->sev_features = cc->guest_features;
	sp->policy = cc->policy;
	memcpy(sp->host_data, cc->host_data, sizeof(sp->host_data));
	if (cc->vcpu_type) {
		if (snp_vcpu_sig_from_name(cc->vcpu_type, &sp->vcpu_sig))
			return err_set(err, errlen, -EINVAL,
				    "confidential.vcpu_type '%s' is not a known vCPU model (EPYC, EPYC-v4, EPYC-Milan, EPYC-Genoa, ...)",
				    cc->vcpu_type);
	} else if (cc->vcpu_sig_set) {
		sp->vcpu_sig = cc->vcpu_sig;
	} else if (cc->vmm_type == SNP_VMM_QEMU) {
		/* QEMU puts the model's CPUID(1).EAX in RDX: it is measured. */
		return err_set(err, errlen, -EINVAL,
			    "confidential: vcpu_type (or vcpu_family/model/stepping) is required for vmm_type qemu");
	}
	if (cfg->kernel_path) {
		struct planbuild_kernel_hashes own;

		if (!kh) {
			ret = planbuild_kernel_hashes(cfg, &own, err, errlen);
			if (ret)
				return ret;
			kh = &own;
		}
		memcpy(sp->kernel_sha256, kh->kernel, 32);
		memcpy(sp->initrd_sha256, kh->initrd, 32);
		ret = snp_cmdline_sha256(cfg->cmdline, sp->cmdline_sha256);
		if (ret)
			return err_set(err, errlen, ret, "SHA-256 failed");
		sp->kernel_hashes = true;
	}
	if (cc->id_block_path && cc->id_auth_path) {
		ret = read_exact(cc->id_block_path, sp->id_block, sizeof(sp->id_block),
				 "ID block", err, errlen);
		if (!ret)
			ret = read_exact(cc->id_auth_path, sp->id_auth, sizeof(sp->id_auth),
					 "ID auth", err, errlen);
		if (ret)
			return ret;
		sp->id_block_en = true;
		/* AUTHOR_KEY_EN iff the ID auth carries an author key (its
		 * AUTH_KEY_ALGO is set). */
		sp->auth_key_en = sp->id_auth[4] | sp->id_auth[5] | sp->id_auth[6] | sp->id_auth[7];
	}
	return 0;
}

bool planbuild_is_igvm(const uint8_t *fw, size_t fw_len)
{
	return igvm_has_magic(fw, fw_len);
}

/* An IGVM file: its directives for the config's platform become the plan.
 * SNP vCPUs without a VP_CONTEXT in the file get the VMSA the config's
 * vCPU model and VMM convention give (reset vector, as an OVMF BSP).  Pages
 * without file data are measured as ZERO pages, as QEMU launches them. */
static int planbuild_igvm(struct launch_plan *p, const struct vm_config *cfg,
			  const uint8_t *fw, size_t fw_len,
			  const struct planbuild_kernel_hashes *kh, char *err, size_t errlen)
{
	static const enum plan_platform plat[] = {
		[CC_NONE] = PLAN_PLAIN, [CC_SNP] = PLAN_SNP, [CC_TDX] = PLAN_TDX,
	};
	struct igvm_params ip = {
		.nvcpus = cfg->vcpus,
		.memory = cfg->memory,
		.cmdline = cfg->cmdline,
		.snp_native_zero = true,
	};
	uint8_t vmsa[PLAN_VMSA_SIZE];
	int ret;

	if (cfg->cc.type == CC_SNP) {
		struct snp_params sp;

		ret = planbuild_snp_params(cfg, kh, &sp, err, errlen);
		if (ret) {
			plan_init(p, PLAN_SNP);
			return ret;
		}
		snp_vmsa_build(vmsa, 0xfffffff0u, sp.vcpu_sig, sp.sev_features, sp.vmm_type);
		ip.ap_vmsa = vmsa;
	}
	ret = igvm_build_plan(p, fw, fw_len, plat[cfg->cc.type], &ip, err, errlen);
	if (!ret && cfg->cc.type == CC_SNP) {
		/* the file's GUEST_POLICY wins; host data is the host's */
		if (!p->snp.policy)
			p->snp.policy = cfg->cc.policy;
		memcpy(p->snp.host_data, cfg->cc.host_data, sizeof(p->snp.host_data));
	}
	return ret;
}

int planbuild_from_config(struct launch_plan *p, const struct vm_config *cfg,
			  const uint8_t *fw, size_t fw_len,
			  const struct planbuild_kernel_hashes *kh, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (planbuild_is_igvm(fw, fw_len))
		return planbuild_igvm(p, cfg, fw, fw_len, kh, err, errlen);
	switch (cfg->cc.type) {
	case CC_NONE: {
		int ret;

		plan_init(p, PLAN_PLAIN);
		ret = plan_build_plain(p, fw, fw_len, cfg->vcpus);
		if (ret)
			return err_set(err, errlen, ret,
				    "firmware '%s': size %zu is not a non-zero multiple of 4 KiB up to 16 MiB",
				    cfg->firmware_path ? cfg->firmware_path : "?", fw_len);
		return 0;
	}
	case CC_SNP: {
		struct snp_params sp;
		int ret = planbuild_snp_params(cfg, kh, &sp, err, errlen);

		plan_init(p, PLAN_SNP);
		if (ret)
			return ret;
		return snp_build_plan(p, fw, fw_len, &sp, err, errlen);
	}
	case CC_TDX: {
		struct tdx_params tp;

		memset(&tp, 0, sizeof(tp));
		tp.memory = cfg->memory;
		tp.nvcpus = cfg->vcpus;
		tp.two_pass = cfg->cc.tdx_two_pass;
		tp.attributes = cfg->cc.tdx_attributes;
		tp.xfam = cfg->cc.tdx_xfam;
		memcpy(tp.mrconfigid, cfg->cc.mrconfigid, 48);
		memcpy(tp.mrowner, cfg->cc.mrowner, 48);
		memcpy(tp.mrownerconfig, cfg->cc.mrownerconfig, 48);
		plan_init(p, PLAN_TDX);
		return tdx_build_plan(p, fw, fw_len, &tp, err, errlen);
	}
	}
	plan_init(p, PLAN_PLAIN);
	return err_set(err, errlen, -EINVAL, "unknown confidential type %d", (int)cfg->cc.type);
}
