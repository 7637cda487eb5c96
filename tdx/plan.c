/* tdx/plan.c: the TDX launch plan builder.
 * Owns: validating the TDVF section list and turning it into plan regions
 * (one KVM_TDX_INIT_MEM_REGION each) plus the TD parameters.  Pure function
 * of the image bytes and tdx_params; must not touch KVM. */
#include "tdx/tdx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"

static const char *const tdvf_names[] = {
	"BFV", "CFV", "TD_HOB", "TempMem", "PermMem", "Payload",
	"PayloadParam", "TD_INFO", "TD_PARAMS",
};

static const char *sec_name(uint32_t type)
{
	return type < sizeof(tdvf_names) / sizeof(tdvf_names[0]) ? tdvf_names[type] : "unknown";
}

/* Checks of QEMU hw/i386/tdvf.c tdvf_parse_and_check_section_entry() plus
 * the bounds fukivmm needs (image, 4 GiB, firmware window). */
static int check_section(const struct ovmf_tdvf_section *x, unsigned i, size_t fw_len,
			 char *err, size_t errlen)
{
	uint64_t fw_base = PLAN_4G - fw_len;

	if (x->mem_size < x->raw_size) {
		snprintf(err, errlen, "tdx: TDVF section %u: RawDataSize 0x%x > MemoryDataSize 0x%llx",
			 i, x->raw_size, (unsigned long long)x->mem_size);
		return -EINVAL;
	}
	if (x->gpa & (PLAN_PAGE - 1)) {
		snprintf(err, errlen, "tdx: TDVF section %u: MemoryAddress 0x%llx not page aligned",
			 i, (unsigned long long)x->gpa);
		return -EINVAL;
	}
	if (x->mem_size == 0 || x->mem_size & (PLAN_PAGE - 1)) {
		snprintf(err, errlen, "tdx: TDVF section %u: MemoryDataSize 0x%llx not a non-zero multiple of 4 KiB",
			 i, (unsigned long long)x->mem_size);
		return -EINVAL;
	}
	if (x->gpa >= PLAN_4G || x->mem_size > PLAN_4G - x->gpa) {
		snprintf(err, errlen, "tdx: TDVF section %u: 0x%llx+0x%llx ends past 4 GiB",
			 i, (unsigned long long)x->gpa, (unsigned long long)x->mem_size);
		return -EINVAL;
	}
	switch (x->type) {
	case OVMF_TDVF_BFV:
	case OVMF_TDVF_CFV:
		if (x->raw_size == 0) {
			snprintf(err, errlen, "tdx: TDVF section %u (%s) with RawDataSize 0",
				 i, sec_name(x->type));
			return -EINVAL;
		}
		if ((uint64_t)x->data_offset + x->raw_size > fw_len) {
			snprintf(err, errlen,
				 "tdx: TDVF section %u (%s): data 0x%x+0x%x past the end of the 0x%zx-byte image",
				 i, sec_name(x->type), x->data_offset, x->raw_size, fw_len);
			return -EINVAL;
		}
		if (x->gpa < fw_base) {
			snprintf(err, errlen,
				 "tdx: TDVF section %u (%s) at 0x%llx is outside the firmware window 0x%llx-0xffffffff",
				 i, sec_name(x->type), (unsigned long long)x->gpa,
				 (unsigned long long)fw_base);
			return -EINVAL;
		}
		if (x->attributes & OVMF_TDVF_ATTR_PAGE_AUG) {
			snprintf(err, errlen, "tdx: TDVF section %u (%s) has PAGE.AUG but carries data",
				 i, sec_name(x->type));
			return -EINVAL;
		}
		break;
	case OVMF_TDVF_TD_HOB:
	case OVMF_TDVF_TEMP_MEM:
		if (x->raw_size != 0) {
			snprintf(err, errlen, "tdx: TDVF section %u (%s) with RawDataSize 0x%x != 0",
				 i, sec_name(x->type), x->raw_size);
			return -EINVAL;
		}
		if ((x->attributes & OVMF_TDVF_ATTR_PAGE_AUG) &&
		    (x->type == OVMF_TDVF_TD_HOB || (x->attributes & OVMF_TDVF_ATTR_MR_EXTEND))) {
			snprintf(err, errlen, "tdx: TDVF section %u (%s): PAGE.AUG with %s",
				 i, sec_name(x->type),
				 x->type == OVMF_TDVF_TD_HOB ? "a TD HOB" : "MR.EXTEND");
			return -EINVAL;
		}
		break;
	default:
		/* QEMU: "TDVF contains unsupported section type %d" */
		snprintf(err, errlen, "tdx: TDVF section %u has unsupported type %u (%s)",
			 i, x->type, sec_name(x->type));
		return -EINVAL;
	}
	if (x->attributes & ~(OVMF_TDVF_ATTR_MR_EXTEND | OVMF_TDVF_ATTR_PAGE_AUG)) {
		snprintf(err, errlen, "tdx: TDVF section %u (%s) has unknown attributes 0x%x",
			 i, sec_name(x->type), x->attributes);
		return -EINVAL;
	}
	return 0;
}

int tdx_build_plan_sections(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
			    const struct ovmf_tdvf_section *s, unsigned n,
			    const struct tdx_params *tp, char *err, size_t errlen)
{
	const struct ovmf_tdvf_section *hob = NULL;
	uint8_t *copy, *hobbuf = NULL;
	size_t hob_len = 0, hob_mlen = 0;
	int ret;

	if (errlen)
		err[0] = 0;
	if (fw_len == 0 || fw_len % PLAN_PAGE || fw_len > PLAN_FW_MAX) {
		snprintf(err, errlen, "tdx: firmware size 0x%zx is not a multiple of 4 KiB up to 16 MiB",
			 fw_len);
		return -EINVAL;
	}
	if (tp->nvcpus == 0) {
		snprintf(err, errlen, "tdx: 0 vCPUs");
		return -EINVAL;
	}
	if (n == 0 || n > OVMF_MAX_ITEMS) {
		snprintf(err, errlen, "tdx: %u TDVF sections (1 to %u allowed)", n, OVMF_MAX_ITEMS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		ret = check_section(&s[i], i, fw_len, err, errlen);
		if (ret)
			return ret;
		for (unsigned j = 0; j < i; j++) {
			if (s[i].gpa < s[j].gpa + s[j].mem_size &&
			    s[j].gpa < s[i].gpa + s[i].mem_size) {
				snprintf(err, errlen,
					 "tdx: TDVF sections %u (0x%llx+0x%llx) and %u (0x%llx+0x%llx) overlap",
					 j, (unsigned long long)s[j].gpa,
					 (unsigned long long)s[j].mem_size, i,
					 (unsigned long long)s[i].gpa,
					 (unsigned long long)s[i].mem_size);
				return -EINVAL;
			}
		}
		if (s[i].type == OVMF_TDVF_TD_HOB) {
			if (hob) {
				snprintf(err, errlen, "tdx: more than one TD_HOB section (%u)", i);
				return -EINVAL;
			}
			hob = &s[i];
		}
	}
	if (!hob) {
		/* QEMU tdx_get_hob_entry: "TDVF metadata doesn't specify TD_HOB location." */
		snprintf(err, errlen, "tdx: TDVF metadata has no TD_HOB section");
		return -EINVAL;
	}

	copy = plan_dup(p, fw, fw_len);
	if (!copy) {
		snprintf(err, errlen, "tdx: out of memory copying 0x%zx-byte firmware", fw_len);
		return -ENOMEM;
	}
	p->platform = PLAN_TDX;
	p->fw = copy;
	p->fw_size = fw_len;
	p->fw_gpa = PLAN_4G - fw_len;
	p->nvcpus = tp->nvcpus;
	p->tdx.attributes = tp->attributes;
	p->tdx.xfam = tp->xfam;
	memcpy(p->tdx.mrconfigid, tp->mrconfigid, 48);
	memcpy(p->tdx.mrowner, tp->mrowner, 48);
	memcpy(p->tdx.mrownerconfig, tp->mrownerconfig, 48);
	p->tdx.two_pass = tp->two_pass;
	p->tdx.hob_gpa = hob->gpa;

	hobbuf = plan_alloc(p, hob->mem_size);
	if (!hobbuf) {
		snprintf(err, errlen, "tdx: out of memory for a 0x%llx-byte TD HOB",
			 (unsigned long long)hob->mem_size);
		return -ENOMEM;
	}
	ret = tdx_build_hob(tp->memory, hob->gpa, s, n, hobbuf, hob->mem_size,
			    &hob_len, &hob_mlen, err, errlen);
	if (ret)
		return ret;

	for (unsigned i = 0; i < n; i++) {
		struct plan_region r;

		memset(&r, 0, sizeof(r));
		r.gpa = s[i].gpa;
		r.size = s[i].mem_size;
		r.tdx_type = (uint8_t)s[i].type;
		if (s[i].attributes & OVMF_TDVF_ATTR_MR_EXTEND)
			r.flags |= PLAN_F_MEASURE;
		if (s[i].attributes & OVMF_TDVF_ATTR_PAGE_AUG)
			r.flags |= PLAN_F_PAGE_AUG;
		snprintf(r.what, sizeof(r.what), "%s", sec_name(s[i].type));
		if (s[i].type == OVMF_TDVF_BFV || s[i].type == OVMF_TDVF_CFV) {
			r.data = copy + s[i].data_offset;
			r.data_len = s[i].raw_size;
		} else if (&s[i] == hob) {
			r.data = hobbuf;
			r.data_len = hob_len;
		}
		ret = plan_add_region(p, &r);
		if (ret) {
			snprintf(err, errlen, "tdx: cannot add region %s at 0x%llx (%d)",
				 r.what, (unsigned long long)r.gpa, ret);
			return ret;
		}
	}
	return 0;
}

int tdx_build_plan(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		   const struct tdx_params *tp, char *err, size_t errlen)
{
	struct ovmf_info info;
	int ret;

	ret = ovmf_parse(fw, fw_len, &info, err, errlen);
	if (ret)
		return ret;
	if (!info.has_tdvf) {
		snprintf(err, errlen, "tdx: firmware (0x%zx bytes) has no TDVF metadata", fw_len);
		return -EINVAL;
	}
	return tdx_build_plan_sections(p, fw, fw_len, info.tdvf, info.ntdvf, tp, err, errlen);
}
