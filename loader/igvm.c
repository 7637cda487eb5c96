/* loader/igvm.c: IGVM file parser and IGVM -> launch plan builder.
 * Owns: the byte-level reading of IGVM files and the mapping of their
 * directives onto plan regions.  Must not touch KVM or guest memory.
 * Format: microsoft/igvm igvm_defs/src/lib.rs (commit e6c3ff1c34c3). */
#include "loader/igvm.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/err.h"
#include "vmm/base/layout.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* CRC-32, IEEE 802.3 (reflected 0xEDB88320, init and final xor ~0):   */
/* the checksum igvm computes with crc32fast.                          */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t igvm_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_table_init);
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ------------------------------------------------------------------ */
/* names                                                               */

const char *igvm_type_name(uint32_t type)
{
	switch (type & ~IGVM_VHT_OPTIONAL) {
	case IGVM_VHT_SUPPORTED_PLATFORM: return "SUPPORTED_PLATFORM";
	case IGVM_VHT_GUEST_POLICY: return "GUEST_POLICY";
	case IGVM_VHT_RELOCATABLE_REGION: return "RELOCATABLE_REGION";
	case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION: return "PAGE_TABLE_RELOCATION_REGION";
	case IGVM_VHT_CORIM_DOCUMENT: return "CORIM_DOCUMENT";
	case IGVM_VHT_CORIM_SIGNATURE: return "CORIM_SIGNATURE";
	case IGVM_VHT_CCA_POLICY: return "CCA_POLICY";
	case IGVM_VHT_PARAMETER_AREA: return "PARAMETER_AREA";
	case IGVM_VHT_PAGE_DATA: return "PAGE_DATA";
	case IGVM_VHT_PARAMETER_INSERT: return "PARAMETER_INSERT";
	case IGVM_VHT_VP_CONTEXT: return "VP_CONTEXT";
	case IGVM_VHT_REQUIRED_MEMORY: return "REQUIRED_MEMORY";
	case IGVM_VHT_RESERVED_306: return "RESERVED_DO_NOT_USE";
	case IGVM_VHT_VP_COUNT_PARAMETER: return "VP_COUNT_PARAMETER";
	case IGVM_VHT_SRAT: return "SRAT";
	case IGVM_VHT_MADT: return "MADT";
	case IGVM_VHT_MMIO_RANGES: return "MMIO_RANGES";
	case IGVM_VHT_SNP_ID_BLOCK: return "SNP_ID_BLOCK";
	case IGVM_VHT_MEMORY_MAP: return "MEMORY_MAP";
	case IGVM_VHT_ERROR_RANGE: return "ERROR_RANGE";
	case IGVM_VHT_COMMAND_LINE: return "COMMAND_LINE";
	case IGVM_VHT_SLIT: return "SLIT";
	case IGVM_VHT_PPTT: return "PPTT";
	case IGVM_VHT_VBS_MEASUREMENT: return "VBS_MEASUREMENT";
	case IGVM_VHT_DEVICE_TREE: return "DEVICE_TREE";
	case IGVM_VHT_ENVIRONMENT_INFO: return "ENVIRONMENT_INFO";
	default: return "unknown";
	}
}

const char *igvm_platform_name(unsigned type)
{
	static const char *const n[] = { "native", "VSM", "SEV-SNP", "TDX",
					 "SEV", "SEV-ES", "CCA" };

	return type < sizeof(n) / sizeof(n[0]) ? n[type] : "unknown";
}

const struct igvm_platform *igvm_find_platform(const struct igvm_file *f,
					       unsigned type)
{
	for (unsigned i = 0; i < f->nplatforms; i++)
		if (f->platforms[i].type == type)
			return &f->platforms[i];
	return NULL;
}

static const struct igvm_platform *platform_by_mask(const struct igvm_file *f,
						    uint32_t mask)
{
	for (unsigned i = 0; i < f->nplatforms; i++)
		if (f->platforms[i].mask == mask)
			return &f->platforms[i];
	return NULL;
}

static const struct igvm_param_area_info *area_find(const struct igvm_file *f,
						    unsigned limit, uint32_t index)
{
	for (unsigned i = 0; i < limit && i < f->nareas; i++)
		if (f->areas[i].index == index)
			return &f->areas[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* header decoding                                                     */

/* Body size a known type must have, 0 for types we do not know. */
static uint32_t body_size(uint32_t type)
{
	switch (type) {
	case IGVM_VHT_SUPPORTED_PLATFORM: return IGVM_SZ_SUPPORTED_PLATFORM;
	case IGVM_VHT_GUEST_POLICY: return IGVM_SZ_GUEST_POLICY;
	case IGVM_VHT_RELOCATABLE_REGION: return IGVM_SZ_RELOCATABLE_REGION;
	case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION: return IGVM_SZ_PAGE_TABLE_RELOCATION;
	case IGVM_VHT_CORIM_DOCUMENT:
	case IGVM_VHT_CORIM_SIGNATURE: return IGVM_SZ_CORIM_DATA;
	case IGVM_VHT_CCA_POLICY: return IGVM_SZ_CCA_POLICY;
	case IGVM_VHT_PARAMETER_AREA: return IGVM_SZ_PARAMETER_AREA;
	case IGVM_VHT_PAGE_DATA: return IGVM_SZ_PAGE_DATA;
	case IGVM_VHT_PARAMETER_INSERT: return IGVM_SZ_PARAMETER_INSERT;
	case IGVM_VHT_VP_CONTEXT: return IGVM_SZ_VP_CONTEXT;
	case IGVM_VHT_REQUIRED_MEMORY: return IGVM_SZ_REQUIRED_MEMORY;
	case IGVM_VHT_VP_COUNT_PARAMETER:
	case IGVM_VHT_SRAT:
	case IGVM_VHT_MADT:
	case IGVM_VHT_MMIO_RANGES:
	case IGVM_VHT_MEMORY_MAP:
	case IGVM_VHT_COMMAND_LINE:
	case IGVM_VHT_SLIT:
	case IGVM_VHT_PPTT:
	case IGVM_VHT_DEVICE_TREE:
	case IGVM_VHT_ENVIRONMENT_INFO: return IGVM_SZ_PARAMETER;
	case IGVM_VHT_SNP_ID_BLOCK: return IGVM_SZ_SNP_ID_BLOCK;
	case IGVM_VHT_ERROR_RANGE: return IGVM_SZ_ERROR_RANGE;
	case IGVM_VHT_VBS_MEASUREMENT: return IGVM_SZ_VBS_MEASUREMENT;
	default: return 0;
	}
}

static int section_of(uint32_t type)
{
	if (type >= 0x001 && type <= 0x100)
		return 0;
	if (type >= 0x101 && type <= 0x200)
		return 1;
	if (type >= 0x301 && type <= 0x400)
		return 2;
	return -1;
}

/* File data referenced by a header: it must lie in the file data section
 * (after the variable headers) and inside the file.  Offset 0 = none. */
static int file_data(const struct igvm_file *f, uint32_t off, uint64_t size,
		     const uint8_t **out, const char *what, char *err, size_t errlen)
{
	*out = NULL;
	if (off == 0)
		return 0;
	if (off < f->data_off || size > f->len || off > f->len - size)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s file data 0x%x+0x%llx outside the data section 0x%x..0x%zx",
			    what, off, (unsigned long long)size, f->data_off, f->len);
	*out = f->buf + off;
	return 0;
}

static int check_mask(const struct igvm_file *f, const struct igvm_header *h,
		      char *err, size_t errlen)
{
	if (h->mask == 0 || (h->mask & ~f->masks))
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s at 0x%x: compatibility mask 0x%x names no declared platform (declared 0x%x)",
			    igvm_type_name(h->type), h->offset, h->mask, f->masks);
	return 0;
}

static int decode_platform(struct igvm_file *f, struct igvm_header *h, bool collect,
			   char *err, size_t errlen)
{
	const uint8_t *b = h->body;
	struct igvm_platform *pl = &h->u.platform;

	pl->mask = le_rd32(b);
	pl->highest_vtl = b[4];
	pl->type = b[5];
	pl->version = le_rd16(b + 6);
	pl->shared_gpa_boundary = le_rd64(b + 8);
	h->has_mask = true;
	h->mask = pl->mask;
	if (__builtin_popcount(pl->mask) != 1)
		return err_set(err, errlen, -EINVAL,
			    "igvm: platform mask 0x%x must have exactly one bit", pl->mask);
	if (pl->highest_vtl != 0 && pl->highest_vtl != 2)
		return err_set(err, errlen, -EINVAL, "igvm: platform highest VTL %u is not 0 or 2",
			    pl->highest_vtl);
	if (pl->type > IGVM_PLATFORM_CCA)
		return err_set(err, errlen, -EINVAL, "igvm: unknown platform type %u", pl->type);
	if (pl->version != 1)
		return err_set(err, errlen, -EINVAL, "igvm: %s platform version %u, expected 1",
			    igvm_platform_name(pl->type), pl->version);
	if ((pl->type == IGVM_PLATFORM_NATIVE || pl->type == IGVM_PLATFORM_VSM) &&
	    pl->shared_gpa_boundary != 0)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s platform with shared GPA boundary 0x%llx",
			    igvm_platform_name(pl->type),
			    (unsigned long long)pl->shared_gpa_boundary);
	if (pl->type == IGVM_PLATFORM_CCA && f->arch != IGVM_ARCH_AARCH64)
		return err_set(err, errlen, -EINVAL, "igvm: CCA platform in an x64 file");
	if (!collect)
		return 0;
	if (f->masks & pl->mask)
		return err_set(err, errlen, -EINVAL, "igvm: platform mask 0x%x declared twice",
			    pl->mask);
	if (igvm_find_platform(f, pl->type))
		return err_set(err, errlen, -EINVAL, "igvm: two %s platform headers",
			    igvm_platform_name(pl->type));
	f->platforms[f->nplatforms++] = *pl;
	f->masks |= pl->mask;
	return 0;
}

static int decode_init(struct igvm_file *f, struct igvm_header *h, char *err, size_t errlen)
{
	const uint8_t *b = h->body;
	int rc;

	h->has_mask = true;
	h->mask = le_rd32(b);
	switch (h->type) {
	case IGVM_VHT_GUEST_POLICY:
		h->u.policy.policy = le_rd64(b);
		h->mask = le_rd32(b + 8);
		if (le_rd32(b + 12))
			return err_set(err, errlen, -EINVAL, "igvm: GUEST_POLICY reserved field not zero");
		break;
	case IGVM_VHT_RELOCATABLE_REGION: {
		typeof(h->u.reloc) *r = &h->u.reloc;

		r->vp_index = le_rd16(b + 4);
		r->vtl = b[6];
		r->flags = b[7];
		r->alignment = le_rd64(b + 8);
		r->gpa = le_rd64(b + 16);
		r->size = le_rd64(b + 24);
		r->min_gpa = le_rd64(b + 32);
		r->max_gpa = le_rd64(b + 40);
		if (r->alignment == 0 || r->alignment % IGVM_PAGE_4K || r->size % IGVM_PAGE_4K ||
		    r->gpa % r->alignment || r->min_gpa % r->alignment ||
		    r->max_gpa % r->alignment || r->gpa + r->size < r->gpa || r->vtl > 2)
			return err_set(err, errlen, -EINVAL,
				    "igvm: RELOCATABLE_REGION gpa 0x%llx size 0x%llx alignment 0x%llx is malformed",
				    (unsigned long long)r->gpa, (unsigned long long)r->size,
				    (unsigned long long)r->alignment);
		break;
	}
	case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION: {
		typeof(h->u.pt_reloc) *r = &h->u.pt_reloc;

		r->vp_index = le_rd16(b + 4);
		r->vtl = b[6];
		r->gpa = le_rd64(b + 8);
		r->size = le_rd64(b + 16);
		r->used_size = le_rd64(b + 24);
		if (b[7])
			return err_set(err, errlen, -EINVAL,
				    "igvm: PAGE_TABLE_RELOCATION reserved field not zero");
		if ((r->gpa | r->size | r->used_size) % IGVM_PAGE_4K || r->used_size > r->size ||
		    r->gpa + r->size < r->gpa || r->vtl > 2)
			return err_set(err, errlen, -EINVAL,
				    "igvm: PAGE_TABLE_RELOCATION gpa 0x%llx size 0x%llx used 0x%llx is malformed",
				    (unsigned long long)r->gpa, (unsigned long long)r->size,
				    (unsigned long long)r->used_size);
		break;
	}
	case IGVM_VHT_CORIM_DOCUMENT:
	case IGVM_VHT_CORIM_SIGNATURE:
		h->u.corim.file_offset = le_rd32(b + 4);
		h->u.corim.size = le_rd32(b + 8);
		if (le_rd32(b + 12))
			return err_set(err, errlen, -EINVAL, "igvm: CORIM reserved field not zero");
		rc = file_data(f, h->u.corim.file_offset, h->u.corim.size, &h->u.corim.data,
			       igvm_type_name(h->type), err, errlen);
		if (rc)
			return rc;
		break;
	case IGVM_VHT_CCA_POLICY:
		if (le_rd32(b + 4) || !all_zero(b + 26, 6))
			return err_set(err, errlen, -EINVAL, "igvm: CCA_POLICY reserved field not zero");
		break;
	}
	return check_mask(f, h, err, errlen);
}

static int decode_vp_context(struct igvm_file *f, struct igvm_header *h,
			     char *err, size_t errlen)
{
	const uint8_t *b = h->body;
	typeof(h->u.vp) *vp = &h->u.vp;
	const struct igvm_platform *pl;
	int rc;

	vp->gpa = le_rd64(b);
	h->mask = le_rd32(b + 8);
	vp->file_offset = le_rd32(b + 12);
	vp->vp_index = le_rd16(b + 16);
	if (le_rd16(b + 18))
		return err_set(err, errlen, -EINVAL, "igvm: VP_CONTEXT reserved field not zero");
	pl = platform_by_mask(f, h->mask);
	if (!pl)
		return err_set(err, errlen, -EINVAL,
			    "igvm: VP_CONTEXT mask 0x%x does not name exactly one platform",
			    h->mask);
	vp->platform_type = pl->type;
	if (vp->file_offset == 0)
		return err_set(err, errlen, -EINVAL, "igvm: VP_CONTEXT without file data");
	switch (pl->type) {
	case IGVM_PLATFORM_SEV_SNP:
	case IGVM_PLATFORM_SEV_ES:
		/* The data is a 4 KiB SEV-SNP VMSA page placed at gpa. */
		if (vp->gpa % IGVM_PAGE_4K)
			return err_set(err, errlen, -EINVAL, "igvm: VMSA gpa 0x%llx not page aligned",
				    (unsigned long long)vp->gpa);
		vp->size = IGVM_PAGE_4K;
		return file_data(f, vp->file_offset, vp->size, &vp->data, "VP_CONTEXT",
				 err, errlen);
	case IGVM_PLATFORM_NATIVE:
	case IGVM_PLATFORM_SEV:
	case IGVM_PLATFORM_CCA: {
		uint32_t used = pl->type == IGVM_PLATFORM_CCA ? IGVM_CCA_CONTEXT_SIZE
							      : IGVM_NATIVE_CONTEXT_X64_SIZE;

		if (vp->gpa != 0)
			return err_set(err, errlen, -EINVAL, "igvm: %s VP_CONTEXT with gpa 0x%llx",
				    igvm_platform_name(pl->type), (unsigned long long)vp->gpa);
		vp->size = IGVM_PAGE_4K;
		rc = file_data(f, vp->file_offset, vp->size, &vp->data, "VP_CONTEXT", err, errlen);
		if (rc)
			return rc;
		if (!all_zero(vp->data + used, IGVM_PAGE_4K - used))
			return err_set(err, errlen, -EINVAL,
				    "igvm: %s VP_CONTEXT has non-zero bytes past its %u-byte context",
				    igvm_platform_name(pl->type), used);
		return 0;
	}
	case IGVM_PLATFORM_VSM: {
		const uint8_t *d;
		uint64_t count;

		if (vp->gpa != 0)
			return err_set(err, errlen, -EINVAL, "igvm: VSM VP_CONTEXT with gpa 0x%llx",
				    (unsigned long long)vp->gpa);
		rc = file_data(f, vp->file_offset, 4, &d, "VP_CONTEXT", err, errlen);
		if (rc)
			return rc;
		count = le_rd32(d);
		if (count == 0 || count > f->len / IGVM_VBS_REGISTER_SIZE)
			return err_set(err, errlen, -EINVAL,
				    "igvm: VSM VP_CONTEXT register count %llu",
				    (unsigned long long)count);
		vp->size = (uint32_t)(4 + count * IGVM_VBS_REGISTER_SIZE);
		return file_data(f, vp->file_offset, 4 + count * IGVM_VBS_REGISTER_SIZE,
				 &vp->data, "VP_CONTEXT", err, errlen);
	}
	default: /* TDX has an architectural reset state: no VP context. */
		return err_set(err, errlen, -EINVAL, "igvm: VP_CONTEXT for a %s platform",
			    igvm_platform_name(pl->type));
	}
}

static int check_param(const struct igvm_file *f, struct igvm_header *h, unsigned areas,
		       char *err, size_t errlen)
{
	const struct igvm_param_area_info *a = area_find(f, areas, h->u.param.index);
	uint32_t need = 1;

	if (!a)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s at 0x%x names undeclared parameter area %u",
			    igvm_type_name(h->type), h->offset, h->u.param.index);
	if (h->type == IGVM_VHT_VP_COUNT_PARAMETER || h->type == IGVM_VHT_ENVIRONMENT_INFO)
		need = 4;
	else if (h->type == IGVM_VHT_MMIO_RANGES)
		need = 32;
	else if (h->type == IGVM_VHT_MEMORY_MAP)
		need = IGVM_MEMMAP_ENTRY_SIZE;
	if ((uint64_t)h->u.param.byte_offset + need > a->bytes)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s offset 0x%x does not fit parameter area %u (0x%llx bytes)",
			    igvm_type_name(h->type), h->u.param.byte_offset, a->index,
			    (unsigned long long)a->bytes);
	return 0;
}

static int decode_directive(struct igvm_file *f, struct igvm_header *h, bool collect,
			    unsigned areas, char *err, size_t errlen)
{
	const uint8_t *b = h->body;
	int rc;

	switch (h->type) {
	case IGVM_VHT_PARAMETER_AREA: {
		typeof(h->u.param_area) *a = &h->u.param_area;

		a->bytes = le_rd64(b);
		a->index = le_rd32(b + 8);
		a->file_offset = le_rd32(b + 12);
		if (a->bytes == 0 || a->bytes % IGVM_PAGE_4K || a->bytes > IGVM_MAX_PARAM_AREA_BYTES)
			return err_set(err, errlen, -EINVAL,
				    "igvm: parameter area %u size 0x%llx not a page multiple in 4K..16M",
				    a->index, (unsigned long long)a->bytes);
		rc = file_data(f, a->file_offset, a->bytes, &a->data, "PARAMETER_AREA", err, errlen);
		if (rc)
			return rc;
		if (!collect)
			return 0;
		if (area_find(f, f->nareas, a->index))
			return err_set(err, errlen, -EINVAL, "igvm: parameter area %u declared twice",
				    a->index);
		if (f->nareas >= IGVM_MAX_PARAM_AREAS)
			return err_set(err, errlen, -EINVAL, "igvm: more than %u parameter areas",
				    IGVM_MAX_PARAM_AREAS);
		f->areas[f->nareas].index = a->index;
		f->areas[f->nareas].bytes = a->bytes;
		f->nareas++;
		return 0;
	}
	case IGVM_VHT_PAGE_DATA: {
		typeof(h->u.page) *pg = &h->u.page;

		pg->gpa = le_rd64(b);
		h->has_mask = true;
		h->mask = le_rd32(b + 8);
		pg->file_offset = le_rd32(b + 12);
		pg->flags = le_rd32(b + 16);
		pg->data_type = le_rd16(b + 20);
		if (le_rd16(b + 22))
			return err_set(err, errlen, -EINVAL, "igvm: PAGE_DATA reserved field not zero");
		if (pg->flags & ~IGVM_PAGE_F_KNOWN)
			return err_set(err, errlen, -EINVAL, "igvm: PAGE_DATA reserved flags 0x%x",
				    pg->flags);
		if (pg->data_type > IGVM_PAGE_CPUID_XF)
			return err_set(err, errlen, -EINVAL, "igvm: PAGE_DATA data type %u unknown",
				    pg->data_type);
		pg->size = (pg->flags & IGVM_PAGE_F_2MB) ? IGVM_PAGE_2M : IGVM_PAGE_4K;
		if (pg->gpa % pg->size || pg->gpa + pg->size < pg->gpa)
			return err_set(err, errlen, -EINVAL,
				    "igvm: PAGE_DATA gpa 0x%llx not aligned to 0x%llx",
				    (unsigned long long)pg->gpa, (unsigned long long)pg->size);
		rc = file_data(f, pg->file_offset, pg->size, &pg->data, "PAGE_DATA", err, errlen);
		if (rc)
			return rc;
		return check_mask(f, h, err, errlen);
	}
	case IGVM_VHT_PARAMETER_INSERT:
		h->u.insert.gpa = le_rd64(b);
		h->has_mask = true;
		h->mask = le_rd32(b + 8);
		h->u.insert.index = le_rd32(b + 12);
		if (h->u.insert.gpa % IGVM_PAGE_4K)
			return err_set(err, errlen, -EINVAL,
				    "igvm: PARAMETER_INSERT gpa 0x%llx not page aligned",
				    (unsigned long long)h->u.insert.gpa);
		{
			const struct igvm_param_area_info *a =
				area_find(f, areas, h->u.insert.index);

			if (!a)
				return err_set(err, errlen, -EINVAL,
					    "igvm: PARAMETER_INSERT of undeclared area %u",
					    h->u.insert.index);
			if (h->u.insert.gpa + a->bytes < h->u.insert.gpa)
				return err_set(err, errlen, -EINVAL,
					    "igvm: PARAMETER_INSERT at 0x%llx wraps",
					    (unsigned long long)h->u.insert.gpa);
		}
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_VP_CONTEXT:
		h->has_mask = true;
		rc = decode_vp_context(f, h, err, errlen);
		if (rc)
			return rc;
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_REQUIRED_MEMORY:
		h->u.required.gpa = le_rd64(b);
		h->has_mask = true;
		h->mask = le_rd32(b + 8);
		h->u.required.bytes = le_rd32(b + 12);
		h->u.required.flags = le_rd32(b + 16);
		if (le_rd32(b + 20))
			return err_set(err, errlen, -EINVAL,
				    "igvm: REQUIRED_MEMORY reserved field not zero");
		if ((h->u.required.gpa | h->u.required.bytes) % IGVM_PAGE_4K ||
		    h->u.required.gpa + h->u.required.bytes < h->u.required.gpa)
			return err_set(err, errlen, -EINVAL,
				    "igvm: REQUIRED_MEMORY 0x%llx+0x%x not page aligned",
				    (unsigned long long)h->u.required.gpa, h->u.required.bytes);
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_ERROR_RANGE:
		h->u.error_range.gpa = le_rd64(b);
		h->has_mask = true;
		h->mask = le_rd32(b + 8);
		h->u.error_range.bytes = le_rd32(b + 12);
		if ((h->u.error_range.gpa | h->u.error_range.bytes) % IGVM_PAGE_4K ||
		    h->u.error_range.gpa + h->u.error_range.bytes < h->u.error_range.gpa)
			return err_set(err, errlen, -EINVAL,
				    "igvm: ERROR_RANGE 0x%llx+0x%x not page aligned",
				    (unsigned long long)h->u.error_range.gpa,
				    h->u.error_range.bytes);
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_SNP_ID_BLOCK:
		h->has_mask = true;
		h->mask = le_rd32(b);
		h->u.id_block.author_key_enabled = b[4];
		if (b[4] > 1 || b[5] || b[6] || b[7])
			return err_set(err, errlen, -EINVAL,
				    "igvm: SNP_ID_BLOCK author_key_enabled %u / reserved malformed",
				    b[4]);
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_VBS_MEASUREMENT:
		h->has_mask = true;
		h->mask = le_rd32(b);
		return check_mask(f, h, err, errlen);
	case IGVM_VHT_RESERVED_306:
		return err_set(err, errlen, -EINVAL, "igvm: header type 0x306 is reserved");
	default: /* the IGVM_VHS_PARAMETER family */
		h->u.param.index = le_rd32(b);
		h->u.param.byte_offset = le_rd32(b + 4);
		return check_param(f, h, areas, err, errlen);
	}
}

/* Decode the header at it->off.  @collect: igvm_open's pass, which records
 * platforms and parameter areas in @f as they appear. */
static int decode(struct igvm_file *f, struct igvm_iter *it, struct igvm_header *h,
		  bool collect, unsigned *areas, char *err, size_t errlen)
{
	uint32_t vh_end = f->vh_off + f->vh_size;
	uint32_t raw, len, want;
	uint64_t padded;
	int sec, rc;

	memset(h, 0, sizeof(*h));
	if (it->off >= vh_end)
		return 0;
	if (vh_end - it->off < 8)
		return err_set(err, errlen, -EINVAL,
			    "igvm: truncated variable header at 0x%x", it->off);
	raw = le_rd32(f->buf + it->off);
	len = le_rd32(f->buf + it->off + 4);
	padded = ((uint64_t)len + 7) & ~7ULL;
	if (padded > vh_end - it->off - 8)
		return err_set(err, errlen, -EINVAL,
			    "igvm: header 0x%x at 0x%x length 0x%x overruns the variable headers (end 0x%x)",
			    raw, it->off, len, vh_end);
	h->type = raw & ~IGVM_VHT_OPTIONAL;
	h->optional = raw & IGVM_VHT_OPTIONAL;
	h->offset = it->off;
	h->length = len;
	h->body = f->buf + it->off + 8;
	if (!all_zero(h->body + len, padded - len))
		return err_set(err, errlen, -EINVAL, "igvm: non-zero padding after header at 0x%x",
			    it->off);
	it->off += 8 + (uint32_t)padded;

	sec = section_of(h->type);
	want = body_size(h->type);
	if (h->type == 0)
		return err_set(err, errlen, -EINVAL, "igvm: header type 0 (INVALID) at 0x%x",
			    h->offset);
	if (want == 0) {
		if (h->optional)
			return 1;   /* known == false: skipped, as the format allows */
		return err_set(err, errlen, -ENOTSUP,
			    "igvm: required header type 0x%x at 0x%x is not supported",
			    raw, h->offset);
	}
	h->known = true;
	if (len != want)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s at 0x%x has length %u, expected %u",
			    igvm_type_name(h->type), h->offset, len, want);
	if (sec < it->section)
		return err_set(err, errlen, -EINVAL,
			    "igvm: %s at 0x%x after a later header section",
			    igvm_type_name(h->type), h->offset);
	it->section = sec;
	if (sec == 0)
		rc = decode_platform(f, h, collect, err, errlen);
	else if (sec == 1)
		rc = decode_init(f, h, err, errlen);
	else
		rc = decode_directive(f, h, collect, *areas, err, errlen);
	if (rc)
		return rc;
	if (h->type == IGVM_VHT_PARAMETER_AREA)
		*areas += 1;
	return 1;
}

void igvm_iter_init(const struct igvm_file *f, struct igvm_iter *it)
{
	it->off = f->vh_off;
	it->section = 0;
}

/* Re-walk of an opened file: igvm_open() already proved that every
 * parameter names an area declared before it, so all areas are visible. */
int igvm_next(const struct igvm_file *f, struct igvm_iter *it, struct igvm_header *h,
	      char *err, size_t errlen)
{
	unsigned areas = f->nareas;   /* open() already proved declaration order */

	return decode((struct igvm_file *)f, it, h, false, &areas, err, errlen);
}

int igvm_open(struct igvm_file *f, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct igvm_iter it;
	struct igvm_header h;
	uint8_t fixed[IGVM_FIXED_V2_SIZE];
	unsigned areas = 0;
	uint32_t crc;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!buf || len < IGVM_FIXED_V1_SIZE)
		return err_set(err, errlen, -EINVAL, "igvm: file of %zu bytes is shorter than the fixed header",
			    len);
	if (len > UINT32_MAX)
		return err_set(err, errlen, -EINVAL, "igvm: file of %zu bytes exceeds 4 GiB", len);
	f->buf = buf;
	f->len = len;
	if (le_rd32(buf) != IGVM_MAGIC)
		return err_set(err, errlen, -EINVAL, "igvm: bad magic 0x%08x", le_rd32(buf));
	f->version = le_rd32(buf + 4);
	f->vh_off = le_rd32(buf + 8);
	f->vh_size = le_rd32(buf + 12);
	f->checksum = le_rd32(buf + 20);
	f->arch = IGVM_ARCH_X64;
	f->page_size = IGVM_PAGE_4K;
	if (f->version == IGVM_FORMAT_V1) {
		f->fixed_size = IGVM_FIXED_V1_SIZE;
	} else if (f->version == IGVM_FORMAT_V2) {
		f->fixed_size = IGVM_FIXED_V2_SIZE;
		if (len < IGVM_FIXED_V2_SIZE)
			return err_set(err, errlen, -EINVAL, "igvm: version 2 file shorter than 32 bytes");
		f->arch = le_rd32(buf + 24);
		f->page_size = le_rd32(buf + 28);
		if (f->arch != IGVM_ARCH_X64 && f->arch != IGVM_ARCH_AARCH64)
			return err_set(err, errlen, -ENOTSUP, "igvm: unknown architecture %u", f->arch);
		if (f->page_size != IGVM_PAGE_4K)
			return err_set(err, errlen, -ENOTSUP, "igvm: page size 0x%x is not 4 KiB",
				    f->page_size);
	} else {
		return err_set(err, errlen, -ENOTSUP, "igvm: format version %u not supported",
			    f->version);
	}
	if (le_rd32(buf + 16) != len)
		return err_set(err, errlen, -EINVAL, "igvm: total_file_size %u but the file has %zu bytes",
			    le_rd32(buf + 16), len);
	if (f->vh_off < f->fixed_size || f->vh_off % 8)
		return err_set(err, errlen, -EINVAL,
			    "igvm: variable header offset 0x%x is inside the fixed header or unaligned",
			    f->vh_off);
	if (f->vh_off > len || f->vh_size > len - f->vh_off)
		return err_set(err, errlen, -EINVAL,
			    "igvm: variable headers 0x%x+0x%x past the end of the file (0x%zx)",
			    f->vh_off, f->vh_size, len);
	if (f->vh_size == 0)
		return err_set(err, errlen, -EINVAL, "igvm: no variable headers");
	f->data_off = f->vh_off + f->vh_size;

	memcpy(fixed, buf, f->fixed_size);
	memset(fixed + 20, 0, 4);
	crc = igvm_crc32(0, fixed, f->fixed_size);
	crc = igvm_crc32(crc, buf + f->vh_off, f->vh_size);
#ifndef FUKI_FUZZING
	/* (Fuzz builds compute it but go on, so mutations reach the headers.) */
	if (crc != f->checksum)
		return err_set(err, errlen, -EINVAL, "igvm: checksum 0x%08x, computed 0x%08x",
			    f->checksum, crc);
#endif

	igvm_iter_init(f, &it);
	while ((rc = decode(f, &it, &h, true, &areas, err, errlen)) > 0)
		f->nheaders++;
	if (rc < 0)
		return rc;
	if (f->nplatforms == 0)
		return err_set(err, errlen, -EINVAL, "igvm: no SUPPORTED_PLATFORM header");
	return 0;
}

/* ------------------------------------------------------------------ */
/* plan builder                                                        */

#define IGVM_MAX_PARAM_TOTAL (64u << 20)   /* all parameter areas together */
/* The plan's buffers (page data copies and parameter areas) may total the
 * file's size plus this much: a page directive of a few bytes cannot make
 * the builder allocate megabytes (a file may point many pages at the same
 * data, or declare parameter areas it never fills). */
#define IGVM_BUILD_SLACK (4u << 20)
/* Plan regions one file may produce (64 bytes each). */
#define IGVM_MAX_REGIONS 65536u
#define IGVM_MAX_VCPUS 1024

/* SEV-SNP VMSA SEV_FEATURES (AMD APM vol. 2 Table B-4, offset 0x3B0). */
#define VMSA_SEV_FEATURES 0x3B0
/* TDX TD ATTRIBUTES bits (Intel TDX module ABI: DEBUG bit 0,
 * SEPT_VE_DISABLE bit 28) for igvm_defs TdxPolicy bits 0 and 1. */
#define TDX_ATTR_DEBUG (1ULL << 0)
#define TDX_ATTR_SEPT_VE_DISABLE (1ULL << 28)

struct bparea {
	uint32_t index;
	uint64_t bytes;
	uint8_t *buf;            /* plan-owned */
	bool inserted;
};

/* A data page of the run being coalesced (zero pages need no entry). */
struct bpage {
	uint64_t size;
	const uint8_t *data;
};

struct builder {
	struct launch_plan *p;
	const struct igvm_file *f;
	const struct igvm_params *prm;
	uint32_t sel;            /* compatibility mask of the chosen platform */
	uint8_t sel_type;
	char *err;
	size_t errlen;
	struct bparea areas[IGVM_MAX_PARAM_AREAS];
	unsigned nareas;
	uint64_t area_total;
	/* the run of PAGE_DATA pages being coalesced: its data pages first
	 * (run[]), then zero pages (zero_tail); a data page after a zero page
	 * starts a new run, so a region's buffer holds file bytes only */
	bool in_run, zero_tail;
	struct bpage *run;
	size_t nrun, run_cap;
	struct plan_region kind; /* gpa/size of the run, type, flags, what */
	/* bytes of plan buffers allocated so far, and their limit: the file's
	 * size plus IGVM_BUILD_SLACK */
	uint64_t charged, budget;
	bool have_policy, have_id_block, vmsa_seen, vmsa_warned;
	uint8_t *vp_done;        /* per vCPU: VMSA came from the file */
};

static int b_fail(struct builder *b, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int b_fail(struct builder *b, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(b->err, b->errlen, code, fmt, ap);
	va_end(ap);
	return code;
}

static bool applies(const struct builder *b, const struct igvm_header *h)
{
	return !h->has_mask || (h->mask & b->sel);
}

/* Account for @n more bytes of plan buffers: -E2BIG past the budget. */
static int charge(struct builder *b, uint64_t n, const char *what)
{
	if (n > b->budget - b->charged)
		return b_fail(b, -E2BIG,
			      "igvm: %s of 0x%llx bytes would take the plan past 0x%llx bytes "
			      "(file size + %u MiB)", what, (unsigned long long)n,
			      (unsigned long long)b->budget, IGVM_BUILD_SLACK >> 20);
	b->charged += n;
	return 0;
}

static int add_region(struct builder *b, const struct plan_region *r)
{
	if (b->p->nregions >= IGVM_MAX_REGIONS)
		return b_fail(b, -E2BIG, "igvm: more than %u plan regions", IGVM_MAX_REGIONS);
	if (plan_add_region(b->p, r))
		return b_fail(b, -ENOMEM, "igvm: cannot add region 0x%llx+0x%llx",
			      (unsigned long long)r->gpa, (unsigned long long)r->size);
	return 0;
}

static int run_flush(struct builder *b)
{
	struct plan_region r = b->kind;
	uint8_t *buf;
	uint64_t off = 0;
	int rc;

	if (!b->in_run)
		return 0;
	for (size_t i = 0; i < b->nrun; i++)
		off += b->run[i].size;
	r.data = NULL;
	r.data_len = off;
	if (off) {
		rc = charge(b, off, "page data");
		if (rc)
			return rc;
		if (off > SIZE_MAX || !(buf = plan_alloc(b->p, (size_t)off)))
			return b_fail(b, -ENOMEM, "igvm: out of memory for 0x%llx bytes of page data",
				      (unsigned long long)off);
		off = 0;
		for (size_t i = 0; i < b->nrun; i++) {
			memcpy(buf + off, b->run[i].data, b->run[i].size);
			off += b->run[i].size;
		}
		r.data = buf;
	}
	b->nrun = 0;
	b->in_run = false;
	b->zero_tail = false;
	return add_region(b, &r);
}

/* Classify one page of data for the chosen platform into @k. */
static int page_kind(struct builder *b, const struct igvm_header *h, struct plan_region *k)
{
	uint32_t fl = h->u.page.flags;
	bool zero = h->u.page.data == NULL;

	memset(k, 0, sizeof(*k));
	switch (b->p->platform) {
	case PLAN_PLAIN:
		snprintf(k->what, sizeof(k->what), "igvm data");
		return 0;
	case PLAN_SNP:
		if (fl & IGVM_PAGE_F_SHARED)
			return b_fail(b, -ENOTSUP,
				      "igvm: shared PAGE_DATA at 0x%llx is not supported for SEV-SNP",
				      (unsigned long long)h->u.page.gpa);
		switch (h->u.page.data_type) {
		case IGVM_PAGE_SECRETS:
			k->snp_type = PLAN_SNP_SECRETS;
			snprintf(k->what, sizeof(k->what), "igvm secrets");
			break;
		case IGVM_PAGE_CPUID_DATA:
		case IGVM_PAGE_CPUID_XF:
			k->snp_type = PLAN_SNP_CPUID;
			snprintf(k->what, sizeof(k->what), "igvm cpuid");
			break;
		default:
			if (fl & IGVM_PAGE_F_UNMEASURED) {
				k->snp_type = PLAN_SNP_UNMEASURED;
				snprintf(k->what, sizeof(k->what), "igvm unmeasured");
			} else if (zero && b->prm->snp_native_zero) {
				k->snp_type = PLAN_SNP_ZERO;
				snprintf(k->what, sizeof(k->what), "igvm zero");
			} else {
				k->snp_type = PLAN_SNP_NORMAL;
				snprintf(k->what, sizeof(k->what), "igvm data");
			}
		}
		return 0;
	case PLAN_TDX:
		if (fl & IGVM_PAGE_F_SHARED)
			return b_fail(b, -ENOTSUP,
				      "igvm: shared PAGE_DATA at 0x%llx is not supported for TDX",
				      (unsigned long long)h->u.page.gpa);
		if (h->u.page.data_type != IGVM_PAGE_NORMAL)
			return b_fail(b, -EINVAL, "igvm: %s page data type %u on TDX",
				      "non-normal", h->u.page.data_type);
		/* igvm measurement/tdx.rs: PAGE.ADD for every page, MR.EXTEND
		 * only for measured pages that carry data. */
		if (!(fl & IGVM_PAGE_F_UNMEASURED) && !zero) {
			k->flags = PLAN_F_MEASURE;
			k->tdx_type = 0;   /* BFV-like: added and extended */
			snprintf(k->what, sizeof(k->what), "igvm data");
		} else {
			k->tdx_type = 3;   /* TempMem-like: added, not extended */
			snprintf(k->what, sizeof(k->what), "igvm unextended");
		}
		return 0;
	}
	return b_fail(b, -EINVAL, "igvm: unknown plan platform %d", b->p->platform);
}

static int do_page(struct builder *b, const struct igvm_header *h)
{
	struct plan_region k;
	int rc = page_kind(b, h, &k);

	if (rc)
		return rc;
	/* SECRETS pages are filled by the firmware: no bytes to carry. */
	const uint8_t *data = k.snp_type == PLAN_SNP_SECRETS || k.snp_type == PLAN_SNP_ZERO
				      ? NULL : h->u.page.data;
	if (b->in_run && (b->kind.gpa + b->kind.size != h->u.page.gpa ||
			  b->kind.snp_type != k.snp_type || b->kind.flags != k.flags ||
			  b->kind.tdx_type != k.tdx_type || (data && b->zero_tail))) {
		rc = run_flush(b);
		if (rc)
			return rc;
	}
	if (!b->in_run) {
		b->in_run = true;
		b->kind = k;
		b->kind.gpa = h->u.page.gpa;
		b->kind.size = 0;
	}
	if (data) {
		if (b->nrun == b->run_cap) {
			size_t cap = b->run_cap ? b->run_cap * 2 : 64;
			struct bpage *n = realloc(b->run, cap * sizeof(*n));

			if (!n)
				return b_fail(b, -ENOMEM, "igvm: out of memory");
			b->run = n;
			b->run_cap = cap;
		}
		b->run[b->nrun].size = h->u.page.size;
		b->run[b->nrun].data = data;
		b->nrun++;
	} else {
		b->zero_tail = true;
	}
	b->kind.size += h->u.page.size;
	if (b->vmsa_seen && !b->vmsa_warned) {
		b->vmsa_warned = true;
		log_warn("igvm: page data at 0x%llx follows a VMSA; KVM measures VMSAs last",
			 (unsigned long long)h->u.page.gpa);
	}
	return 0;
}

static struct bparea *barea(struct builder *b, uint32_t index)
{
	for (unsigned i = 0; i < b->nareas; i++)
		if (b->areas[i].index == index)
			return &b->areas[i];
	return NULL;
}

static int do_param_area(struct builder *b, const struct igvm_header *h)
{
	struct bparea *a;
	int rc;

	if (b->nareas >= IGVM_MAX_PARAM_AREAS || barea(b, h->u.param_area.index))
		return b_fail(b, -EINVAL, "igvm: parameter area %u repeated or too many",
			      h->u.param_area.index);
	if (h->u.param_area.bytes > IGVM_MAX_PARAM_TOTAL - b->area_total)
		return b_fail(b, -EINVAL, "igvm: parameter areas exceed %u bytes in total",
			      IGVM_MAX_PARAM_TOTAL);
	rc = charge(b, h->u.param_area.bytes, "parameter area");
	if (rc)
		return rc;
	a = &b->areas[b->nareas];
	a->index = h->u.param_area.index;
	a->bytes = h->u.param_area.bytes;
	a->inserted = false;
	a->buf = plan_alloc(b->p, (size_t)a->bytes);
	if (!a->buf)
		return b_fail(b, -ENOMEM, "igvm: out of memory for parameter area %u", a->index);
	if (h->u.param_area.data)
		memcpy(a->buf, h->u.param_area.data, (size_t)a->bytes);
	b->area_total += a->bytes;
	b->nareas++;
	return 0;
}

static int memmap_fill(struct builder *b, struct bparea *a, uint32_t off)
{
	uint64_t ram = b->prm->memory;
	uint64_t ent[2][2] = {
		{ 0, layout_below_4g(ram) },
		{ LAYOUT_4G, layout_above_4g(ram) },
	};
	uint64_t room = (a->bytes - off) / IGVM_MEMMAP_ENTRY_SIZE;
	unsigned n = ent[1][1] ? 2 : 1;

	if (ram == 0 || ram % PLAN_PAGE)
		return b_fail(b, -EINVAL,
			      "igvm: MEMORY_MAP parameter needs the guest RAM size (got 0x%llx)",
			      (unsigned long long)ram);
	if (room < n)
		return b_fail(b, -EINVAL,
			      "igvm: memory map of %u entries does not fit parameter area %u",
			      n, a->index);
	memset(a->buf + off, 0, (size_t)((room < n + 1 ? n : n + 1) * IGVM_MEMMAP_ENTRY_SIZE));
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = a->buf + off + i * IGVM_MEMMAP_ENTRY_SIZE;

		le_wr64(e, ent[i][0] / PLAN_PAGE);
		le_wr64(e + 8, ent[i][1] / PLAN_PAGE);
		/* entry_type MEMORY (0), flags 0, reserved 0: already zero */
	}
	return 0;
}

static int do_param(struct builder *b, const struct igvm_header *h)
{
	struct bparea *a = barea(b, h->u.param.index);
	uint32_t off = h->u.param.byte_offset;

	if (!a || a->inserted)
		return b_fail(b, -EINVAL, "igvm: %s names parameter area %u %s",
			      igvm_type_name(h->type), h->u.param.index,
			      a ? "already inserted" : "not declared");
	switch (h->type) {
	case IGVM_VHT_VP_COUNT_PARAMETER:
		le_wr32(a->buf + off, b->prm->nvcpus);
		return 0;
	case IGVM_VHT_ENVIRONMENT_INFO:
		/* As QEMU (backends/igvm.c): memory starts shared/unaccepted. */
		le_wr32(a->buf + off, le_rd32(a->buf + off) | IGVM_ENV_MEMORY_IS_SHARED);
		return 0;
	case IGVM_VHT_MEMORY_MAP:
		return memmap_fill(b, a, off);
	case IGVM_VHT_COMMAND_LINE: {
		const char *c = b->prm->cmdline ? b->prm->cmdline : "";
		size_t n = strlen(c) + 1;

		if (n > a->bytes - off)
			return b_fail(b, -EINVAL,
				      "igvm: command line of %zu bytes does not fit parameter area %u",
				      n, a->index);
		memcpy(a->buf + off, c, n);
		return 0;
	}
	case IGVM_VHT_MMIO_RANGES: {
		uint64_t lo = layout_below_4g(b->prm->memory);

		if (b->prm->memory == 0)
			return b_fail(b, -EINVAL, "igvm: MMIO_RANGES parameter needs the RAM size");
		/* IGVM_VHS_MMIO_RANGES: two {first page, pages}; the 32-bit hole
		 * and nothing above RAM. */
		memset(a->buf + off, 0, 32);
		le_wr64(a->buf + off, lo / PLAN_PAGE);
		le_wr64(a->buf + off + 8, (LAYOUT_4G - lo) / PLAN_PAGE);
		return 0;
	}
	default:
		return b_fail(b, -ENOTSUP,
			      "igvm: %s parameter is not supported (no ACPI or device tree for IGVM guests)",
			      igvm_type_name(h->type));
	}
}

static int do_insert(struct builder *b, const struct igvm_header *h)
{
	struct bparea *a = barea(b, h->u.insert.index);
	struct plan_region r;
	int rc;

	if (!a || a->inserted)
		return b_fail(b, -EINVAL, "igvm: PARAMETER_INSERT of area %u %s",
			      h->u.insert.index, a ? "twice" : "not declared");
	rc = run_flush(b);
	if (rc)
		return rc;
	memset(&r, 0, sizeof(r));
	r.gpa = h->u.insert.gpa;
	r.size = a->bytes;
	r.data = a->buf;
	r.data_len = a->bytes;
	if (b->p->platform == PLAN_SNP)
		r.snp_type = PLAN_SNP_UNMEASURED;
	else if (b->p->platform == PLAN_TDX)
		r.tdx_type = 3;
	snprintf(r.what, sizeof(r.what), "igvm param %u", a->index);
	rc = add_region(b, &r);
	if (rc)
		return rc;
	a->inserted = true;
	if (b->vmsa_seen && !b->vmsa_warned) {
		b->vmsa_warned = true;
		log_warn("igvm: parameter insert at 0x%llx follows a VMSA; KVM measures VMSAs last",
			 (unsigned long long)r.gpa);
	}
	return 0;
}

static int do_vp_context(struct builder *b, const struct igvm_header *h)
{
	unsigned vp = h->u.vp.vp_index;

	if (b->p->platform != PLAN_SNP)
		return b_fail(b, -ENOTSUP,
			      "igvm: VP_CONTEXT for a %s guest is not supported (the plan carries no initial registers)",
			      igvm_platform_name(h->u.vp.platform_type));
	if (vp >= b->prm->nvcpus)
		return b_fail(b, -EINVAL, "igvm: VP_CONTEXT for vCPU %u but the guest has %u",
			      vp, b->prm->nvcpus);
	if (b->vp_done[vp])
		return b_fail(b, -EINVAL, "igvm: two VP_CONTEXT headers for vCPU %u", vp);
	if (h->u.vp.gpa != PLAN_VMSA_GPA)
		log_warn("igvm: VMSA of vCPU %u at gpa 0x%llx; KVM measures it at 0x%llx",
			 vp, (unsigned long long)h->u.vp.gpa, PLAN_VMSA_GPA);
	memcpy(b->p->vmsa[vp], h->u.vp.data, PLAN_VMSA_SIZE);
	b->vp_done[vp] = 1;
	if (vp == 0)
		b->p->snp.sev_features = le_rd64(h->u.vp.data + VMSA_SEV_FEATURES);
	b->vmsa_seen = true;
	return 0;
}

/* SEV-SNP firmware ABI #56860 ID_BLOCK (96 bytes) and ID_AUTH_INFO
 * (4096 bytes) from IGVM_VHS_SNP_ID_BLOCK; layout as QEMU backends/igvm.c
 * fills them: sig {r[72], s[72]} at the start of a 512-byte field, public
 * key {u32 curve, qx[72] at 4, qy[72] at 76} in a 1028-byte field. */
static void id_sig(uint8_t *dst, const uint8_t *src) { memcpy(dst, src, 144); }
static void id_key(uint8_t *dst, const uint8_t *src)
{
	memcpy(dst, src, 4);              /* curve (src +4 is reserved) */
	memcpy(dst + 4, src + 8, 72);
	memcpy(dst + 76, src + 80, 72);
}

static int do_id_block(struct builder *b, const struct igvm_header *h)
{
	const uint8_t *s = h->body;
	uint8_t *ib = b->p->snp.id_block, *au = b->p->snp.id_auth;

	if (b->p->platform != PLAN_SNP)
		return 0;
	if (b->have_id_block)
		return b_fail(b, -EINVAL, "igvm: two SNP_ID_BLOCK headers for SEV-SNP");
	b->have_id_block = true;
	memset(ib, 0, sizeof(b->p->snp.id_block));
	memset(au, 0, sizeof(b->p->snp.id_auth));
	memcpy(ib, s + 8, 48);            /* ld */
	memcpy(ib + 48, s + 56, 16);      /* family_id */
	memcpy(ib + 64, s + 72, 16);      /* image_id */
	le_wr32(ib + 80, 1);                 /* ID block version 1 */
	memcpy(ib + 84, s + 92, 4);       /* guest_svn */
	/* policy at 88: filled in at the end from GUEST_POLICY */
	memcpy(au, s + 96, 4);            /* id_key_algo */
	memcpy(au + 4, s + 100, 4);       /* auth_key_algo */
	id_sig(au + 0x40, s + 104);       /* id_block_sig */
	id_key(au + 0x240, s + 248);      /* id_key */
	id_sig(au + 0x680, s + 400);      /* id_key_sig (by the author key) */
	id_key(au + 0x880, s + 544);      /* author_key */
	b->p->snp.id_block_en = true;
	b->p->snp.auth_key_en = h->u.id_block.author_key_enabled;
	return 0;
}

static int do_policy(struct builder *b, const struct igvm_header *h)
{
	uint64_t pol = h->u.policy.policy;

	if (b->have_policy)
		return b_fail(b, -EINVAL, "igvm: two GUEST_POLICY headers for %s",
			      igvm_platform_name(b->sel_type));
	b->have_policy = true;
	if (b->p->platform == PLAN_SNP) {
		b->p->snp.policy = pol;
	} else if (b->p->platform == PLAN_TDX) {
		if (pol & ~3ULL)
			return b_fail(b, -ENOTSUP, "igvm: TDX policy 0x%llx has unsupported bits",
				      (unsigned long long)pol);
		b->p->tdx.attributes |= (pol & 1 ? TDX_ATTR_DEBUG : 0) |
					(pol & 2 ? TDX_ATTR_SEPT_VE_DISABLE : 0);
	}
	return 0;
}

static int do_required(struct builder *b, const struct igvm_header *h)
{
	uint64_t ram = b->prm->memory, lo = layout_below_4g(ram), hi = layout_above_4g(ram);
	uint64_t s = h->u.required.gpa, e = s + h->u.required.bytes;

	if (ram == 0)
		return 0;
	if (e <= lo || (s >= LAYOUT_4G && e - LAYOUT_4G <= hi && s - LAYOUT_4G <= hi))
		return 0;
	return b_fail(b, -EINVAL,
		      "igvm: REQUIRED_MEMORY 0x%llx..0x%llx lies outside guest RAM",
		      (unsigned long long)s, (unsigned long long)e);
}

static int do_header(struct builder *b, const struct igvm_header *h)
{
	if (!h->known || !applies(b, h))
		return 0;
	switch (h->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
	case IGVM_VHT_RELOCATABLE_REGION:            /* loaded at its base */
	case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION:
	case IGVM_VHT_CORIM_DOCUMENT:
	case IGVM_VHT_CORIM_SIGNATURE:
	case IGVM_VHT_CCA_POLICY:
	case IGVM_VHT_VBS_MEASUREMENT:
		return 0;
	case IGVM_VHT_GUEST_POLICY:
		return do_policy(b, h);
	case IGVM_VHT_PAGE_DATA:
		return do_page(b, h);
	case IGVM_VHT_PARAMETER_AREA:
		return do_param_area(b, h);
	case IGVM_VHT_PARAMETER_INSERT:
		return do_insert(b, h);
	case IGVM_VHT_VP_CONTEXT:
		return do_vp_context(b, h);
	case IGVM_VHT_REQUIRED_MEMORY:
		return do_required(b, h);
	case IGVM_VHT_SNP_ID_BLOCK:
		return do_id_block(b, h);
	case IGVM_VHT_ERROR_RANGE:
		return b_fail(b, -ENOTSUP, "igvm: ERROR_RANGE is not supported");
	default:
		return do_param(b, h);
	}
}

static int cmp_region(const void *x, const void *y)
{
	const struct plan_region *a = x, *c = y;

	return a->gpa < c->gpa ? -1 : a->gpa > c->gpa;
}

/* Plan regions must be disjoint: a page loaded twice is ambiguous for a
 * plain guest and a launch failure for SEV-SNP (already validated). */
static int check_overlap(struct builder *b)
{
	size_t n = b->p->nregions;
	struct plan_region *s = malloc(n * sizeof(*s));
	int rc = 0;

	if (!s)
		return b_fail(b, -ENOMEM, "igvm: out of memory");
	memcpy(s, b->p->regions, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_region);
	for (size_t i = 1; i < n; i++) {
		if (s[i - 1].gpa + s[i - 1].size > s[i].gpa) {
			rc = b_fail(b, -EINVAL, "igvm: %s at 0x%llx overlaps %s at 0x%llx",
				    s[i].what, (unsigned long long)s[i].gpa, s[i - 1].what,
				    (unsigned long long)s[i - 1].gpa);
			break;
		}
	}
	free(s);
	return rc;
}

static int build(struct builder *b, const uint8_t *file, size_t len,
		 enum plan_platform platform, struct igvm_file *f)
{
	static const uint8_t want[] = { [PLAN_PLAIN] = IGVM_PLATFORM_NATIVE,
					[PLAN_SNP] = IGVM_PLATFORM_SEV_SNP,
					[PLAN_TDX] = IGVM_PLATFORM_TDX };
	const struct igvm_platform *pl;
	struct igvm_iter it;
	struct igvm_header h;
	unsigned n = b->prm->nvcpus;
	int rc;

	if ((unsigned)platform > PLAN_TDX)
		return b_fail(b, -EINVAL, "igvm: unknown plan platform %d", platform);
	if (n == 0 || n > IGVM_MAX_VCPUS)
		return b_fail(b, -EINVAL, "igvm: %u vCPUs (1..%u)", n, IGVM_MAX_VCPUS);
	rc = igvm_open(f, file, len, b->err, b->errlen);
	if (rc)
		return rc;
	if (f->arch != IGVM_ARCH_X64)
		return b_fail(b, -ENOTSUP, "igvm: architecture %u is not x64", f->arch);
	pl = igvm_find_platform(f, want[platform]);
	if (!pl)
		return b_fail(b, -ENOTSUP, "igvm: the file declares no %s platform",
			      igvm_platform_name(want[platform]));
	if (pl->highest_vtl != 0)
		return b_fail(b, -ENOTSUP, "igvm: %s platform uses VTL %u; only VTL 0 is supported",
			      igvm_platform_name(pl->type), pl->highest_vtl);
	if (pl->type == IGVM_PLATFORM_SEV_SNP && pl->shared_gpa_boundary)
		return b_fail(b, -ENOTSUP,
			      "igvm: SEV-SNP shared GPA boundary (vTOM) 0x%llx is not supported",
			      (unsigned long long)pl->shared_gpa_boundary);
	b->sel = pl->mask;
	b->sel_type = pl->type;
	b->p->nvcpus = n;
	if (platform == PLAN_SNP) {
		b->p->vmsa = calloc(n, PLAN_VMSA_SIZE);
		b->vp_done = calloc(n, 1);
		if (!b->p->vmsa || !b->vp_done)
			return b_fail(b, -ENOMEM, "igvm: out of memory for %u VMSAs", n);
	}
	igvm_iter_init(f, &it);
	while ((rc = igvm_next(f, &it, &h, b->err, b->errlen)) > 0) {
		if (h.type != IGVM_VHT_PAGE_DATA && h.known && applies(b, &h) &&
		    h.type != IGVM_VHT_PARAMETER_AREA) {
			rc = run_flush(b);
			if (rc)
				return rc;
		}
		rc = do_header(b, &h);
		if (rc)
			return rc;
	}
	if (rc < 0)
		return rc;
	rc = run_flush(b);
	if (rc)
		return rc;
	if (platform == PLAN_SNP) {
		if (!b->have_policy)
			return b_fail(b, -EINVAL, "igvm: SEV-SNP platform without GUEST_POLICY");
		if (b->have_id_block)
			le_wr64(b->p->snp.id_block + 88, b->p->snp.policy);
		for (unsigned i = 0; i < n; i++) {
			if (b->vp_done[i])
				continue;
			if (!b->prm->ap_vmsa)
				return b_fail(b, -EINVAL,
					      "igvm: no VP_CONTEXT for vCPU %u and no default VMSA", i);
			memcpy(b->p->vmsa[i], b->prm->ap_vmsa, PLAN_VMSA_SIZE);
			if (i == 0)
				b->p->snp.sev_features =
					le_rd64(b->prm->ap_vmsa + VMSA_SEV_FEATURES);
		}
	}
	if (b->p->nregions == 0)
		return b_fail(b, -EINVAL, "igvm: no page data for the %s platform",
			      igvm_platform_name(pl->type));
	return check_overlap(b);
}

int igvm_build_plan(struct launch_plan *p, const uint8_t *file, size_t len,
		    enum plan_platform platform, const struct igvm_params *params,
		    char *err, size_t errlen)
{
	struct builder *b;
	struct igvm_file *f;
	char local[160];
	int rc;

	plan_init(p, platform);
	if (!err || !errlen) {
		err = local;
		errlen = sizeof(local);
	}
	err[0] = 0;
	if (!params)
		return err_set(err, errlen, -EINVAL, "igvm: no parameters");
	b = calloc(1, sizeof(*b));
	f = calloc(1, sizeof(*f));
	if (!b || !f) {
		free(b);
		free(f);
		return err_set(err, errlen, -ENOMEM, "igvm: out of memory");
	}
	b->p = p;
	b->f = f;
	b->prm = params;
	b->budget = (uint64_t)len + IGVM_BUILD_SLACK;
	b->err = err;
	b->errlen = errlen;
	rc = build(b, file, len, platform, f);
	free(b->run);
	free(b->vp_done);
	free(b);
	free(f);
	if (rc) {
		log_err("%s", err);
		plan_free(p);
		p->platform = platform;
	}
	return rc;
}
