/* snp/plan.c: the SEV-SNP launch plan builder.  Owns the order and page
 * type of every SNP_LAUNCH_UPDATE and the VMSAs; the digest (digest.c) and
 * the launcher both walk what it builds and never reorder it. */
#include "snp/snp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/err.h"

static int add(struct launch_plan *p, uint64_t gpa, uint64_t size, uint8_t type,
	       const uint8_t *data, uint64_t data_len, const char *what)
{
	struct plan_region r;

	memset(&r, 0, sizeof(r));
	r.gpa = gpa;
	r.size = size;
	r.snp_type = type;
	r.data = data;
	r.data_len = data_len;
	snprintf(r.what, sizeof(r.what), "%s", what);
	return plan_add_region(p, &r);
}

static const char *sev_type_name(uint32_t t)
{
	switch (t) {
	case OVMF_SEV_SEC_MEM: return "SEC_MEM";
	case OVMF_SEV_SECRETS: return "SECRETS";
	case OVMF_SEV_CPUID: return "CPUID";
	case OVMF_SEV_SVSM_CAA: return "SVSM_CAA";
	case OVMF_SEV_KERNEL_HASHES: return "KERNEL_HASHES";
	default: return "unknown";
	}
}

/* Check one metadata item and the overlap with the firmware and the items
 * before it: KVM refuses a second LAUNCH_UPDATE of a page, so an overlap
 * could never launch. */
static int check_items(const struct ovmf_info *info, uint64_t fw_gpa, uint64_t fw_size,
		       char *err, size_t errlen)
{
	for (unsigned i = 0; i < info->nsev; i++) {
		const struct ovmf_sev_item *it = &info->sev[i];
		uint64_t a = it->gpa, e = (uint64_t)it->gpa + it->size;

		if (it->size == 0)
			continue;
		switch (it->type) {
		case OVMF_SEV_SEC_MEM: case OVMF_SEV_SECRETS: case OVMF_SEV_CPUID:
		case OVMF_SEV_SVSM_CAA: case OVMF_SEV_KERNEL_HASHES:
			break;
		default:
			/* sev-snp-measure rejects unknown types; QEMU launches
			 * them as ZERO.  Rejecting keeps the prediction honest. */
			return err_set(err, errlen, -EINVAL,
				    "SEV metadata item %u has unknown type 0x%x", i, it->type);
		}
		if ((a | it->size) & (PLAN_PAGE - 1))
			return err_set(err, errlen, -EINVAL,
				    "SEV metadata item %u (%s) gpa 0x%llx size 0x%x not 4 KiB aligned",
				    i, sev_type_name(it->type), (unsigned long long)a, it->size);
		if ((it->type == OVMF_SEV_SECRETS || it->type == OVMF_SEV_CPUID) &&
		    it->size != PLAN_PAGE)
			return err_set(err, errlen, -EINVAL,
				    "SEV metadata item %u (%s) has size 0x%x, expected 0x1000",
				    i, sev_type_name(it->type), it->size);
		if (fw_size && a < fw_gpa + fw_size && fw_gpa < e)
			return err_set(err, errlen, -EINVAL,
				    "SEV metadata item %u (%s) 0x%llx+0x%x overlaps the firmware",
				    i, sev_type_name(it->type), (unsigned long long)a, it->size);
		for (unsigned j = 0; j < i; j++) {
			const struct ovmf_sev_item *o = &info->sev[j];

			if (o->size && a < (uint64_t)o->gpa + o->size && o->gpa < e)
				return err_set(err, errlen, -EINVAL,
					    "SEV metadata items %u and %u overlap at 0x%llx", j, i,
					    (unsigned long long)a);
		}
	}
	return 0;
}

static int add_item(struct launch_plan *p, const struct ovmf_info *info,
		    const struct ovmf_sev_item *it, const struct snp_params *sp,
		    char *err, size_t errlen)
{
	uint8_t type;

	switch (it->type) {
	case OVMF_SEV_SEC_MEM:
		type = sp->vmm_type == SNP_VMM_GCE ? PLAN_SNP_UNMEASURED : PLAN_SNP_ZERO;
		break;
	case OVMF_SEV_SECRETS:
		type = PLAN_SNP_SECRETS;
		break;
	case OVMF_SEV_CPUID:
		type = PLAN_SNP_CPUID;
		break;
	case OVMF_SEV_KERNEL_HASHES:
		if (sp->kernel_hashes) {
			/* QEMU sev_snp_launch_finish: the section is zeroed and the
			 * padded table copied at (table gpa & 0xfff); measured
			 * NORMAL.  QEMU sev_add_kernel_loader_hashes refuses a table
			 * base of 0 or a size below the padded table. */
			uint64_t off = info->hash_table_gpa & (PLAN_PAGE - 1);
			uint8_t *buf;

			if (!info->has_hash_table || info->hash_table_gpa == 0 ||
			    info->hash_table_size < SNP_HASH_TABLE_PADDED)
				return err_set(err, errlen, -EINVAL,
					    "kernel hashes requested but the firmware's hash table area is invalid (base 0x%x size 0x%x)",
					    info->hash_table_gpa, info->hash_table_size);
			if (off + SNP_HASH_TABLE_PADDED > it->size)
				return err_set(err, errlen, -EINVAL,
					    "hash table offset 0x%llx does not fit the KERNEL_HASHES section (0x%x bytes)",
					    (unsigned long long)off, it->size);
			buf = plan_alloc(p, it->size);
			if (!buf)
				return err_set(err, errlen, -ENOMEM, "out of memory for the hash page");
			snp_hash_table_build(sp, buf + off);
			return add(p, it->gpa, it->size, PLAN_SNP_NORMAL, buf, it->size,
				   "KERNEL_HASHES");
		}
		type = PLAN_SNP_ZERO;
		break;
	default:  /* OVMF_SEV_SVSM_CAA: QEMU launches it as ZERO */
		type = PLAN_SNP_ZERO;
		break;
	}
	return add(p, it->gpa, it->size, type, NULL, 0, sev_type_name(it->type));
}

int snp_build_plan_info(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
			const struct ovmf_info *info, const struct snp_params *sp,
			char *err, size_t errlen)
{
	uint64_t fw_gpa = fw_len ? PLAN_4G - fw_len : 0;
	bool any_hashes = false;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	plan_init(p, PLAN_SNP);
	if (sp->nvcpus == 0 || sp->nvcpus > SNP_MAX_VCPUS)
		return err_set(err, errlen, -EINVAL, "vCPU count %u outside 1..%d", sp->nvcpus,
			    SNP_MAX_VCPUS);
	if (sp->vmm_type != SNP_VMM_QEMU && sp->vmm_type != SNP_VMM_EC2 &&
	    sp->vmm_type != SNP_VMM_GCE)
		return err_set(err, errlen, -EINVAL, "unknown VMM type %d", (int)sp->vmm_type);
	if (fw_len && (fw_len % PLAN_PAGE || fw_len > PLAN_FW_MAX || !fw))
		return err_set(err, errlen, -EINVAL,
			    "firmware size %zu is not a non-zero multiple of 4 KiB up to %llu",
			    fw_len, (unsigned long long)PLAN_FW_MAX);
	if (!info->has_sev_meta)
		return err_set(err, errlen, -EINVAL,
			    "firmware has no SEV metadata (ASEV): not an SEV-SNP capable OVMF");
	if (!info->has_reset_block)
		return err_set(err, errlen, -EINVAL,
			    "firmware has no SEV-ES reset block: APs cannot start");
	ret = check_items(info, fw_gpa, fw_len, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < info->nsev; i++)
		any_hashes |= info->sev[i].type == OVMF_SEV_KERNEL_HASHES && info->sev[i].size;
	if (sp->kernel_hashes && !any_hashes)
		return err_set(err, errlen, -EINVAL,
			    "kernel hashes requested but the firmware has no SNP_KERNEL_HASHES section");

	p->nvcpus = sp->nvcpus;
	p->snp.policy = sp->policy;
	p->snp.sev_features = sp->sev_features;
	p->snp.vcpu_sig = sp->vcpu_sig;
	p->snp.ap_reset_eip = info->ap_reset_eip;
	p->snp.id_block_en = sp->id_block_en;
	memcpy(p->snp.id_block, sp->id_block, sizeof(p->snp.id_block));
	memcpy(p->snp.id_auth, sp->id_auth, sizeof(p->snp.id_auth));
	p->snp.auth_key_en = sp->auth_key_en;
	memcpy(p->snp.host_data, sp->host_data, sizeof(p->snp.host_data));

	if (fw_len) {
		uint8_t *copy = plan_dup(p, fw, fw_len);

		if (!copy)
			return err_set(err, errlen, -ENOMEM, "out of memory copying the firmware");
		p->fw = copy;
		p->fw_size = fw_len;
		p->fw_gpa = fw_gpa;
		ret = add(p, fw_gpa, fw_len, PLAN_SNP_NORMAL, copy, fw_len, "firmware");
		if (ret)
			return err_set(err, errlen, ret, "cannot add the firmware region");
	}
	for (unsigned i = 0; i < info->nsev; i++) {
		const struct ovmf_sev_item *it = &info->sev[i];

		if (it->size == 0)
			continue;
		if (sp->vmm_type == SNP_VMM_EC2 && it->type == OVMF_SEV_CPUID)
			continue;
		ret = add_item(p, info, it, sp, err, errlen);
		if (ret)
			return ret;
	}
	if (sp->vmm_type == SNP_VMM_EC2) {
		/* EC2 launches every CPUID page after all other items. */
		for (unsigned i = 0; i < info->nsev; i++) {
			const struct ovmf_sev_item *it = &info->sev[i];

			if (it->type != OVMF_SEV_CPUID || it->size == 0)
				continue;
			ret = add_item(p, info, it, sp, err, errlen);
			if (ret)
				return ret;
		}
	}

	p->vmsa = calloc(sp->nvcpus, PLAN_VMSA_SIZE);
	if (!p->vmsa)
		return err_set(err, errlen, -ENOMEM, "out of memory for %u VMSAs", sp->nvcpus);
	snp_vmsa_build(p->vmsa[0], SNP_BSP_EIP, sp->vcpu_sig, sp->sev_features, sp->vmm_type);
	for (unsigned i = 1; i < sp->nvcpus; i++) {
		if (i == 1)
			snp_vmsa_build(p->vmsa[1], info->ap_reset_eip, sp->vcpu_sig,
				       sp->sev_features, sp->vmm_type);
		else
			memcpy(p->vmsa[i], p->vmsa[1], PLAN_VMSA_SIZE);
	}
	return 0;
}

int snp_build_plan(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		   const struct snp_params *sp, char *err, size_t errlen)
{
	struct ovmf_info *info;
	char perr[200];
	int ret;

	plan_init(p, PLAN_SNP);
	if (!fw || fw_len == 0)
		return err_set(err, errlen, -EINVAL, "no firmware image");
	info = malloc(sizeof(*info));
	if (!info)
		return err_set(err, errlen, -ENOMEM, "out of memory");
	ret = ovmf_parse(fw, fw_len, info, perr, sizeof(perr));
	if (ret)
		ret = err_set(err, errlen, ret, "firmware metadata: %s", perr);
	else if (!info->has_footer)
		ret = err_set(err, errlen, -EINVAL,
			   "firmware has no OVMF footer table: not an SEV-SNP capable OVMF");
	else
		ret = snp_build_plan_info(p, fw, fw_len, info, sp, err, errlen);
	free(info);
	return ret;
}
