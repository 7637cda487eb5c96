/* tdx/hob.c: the TD HOB fukivmm hands to TDVF (RCX of every vCPU).
 * Owns: the RAM map split into accepted/unaccepted ranges and its HOB
 * encoding.  Pure function of the memory size and the TDVF sections; must
 * not touch KVM or guest memory. */
#include "tdx/tdx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/layout.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* UEFI PI spec vol. 3 section 5: HOB types and sizes. */
#define HOB_TYPE_HANDOFF      0x0001
#define HOB_TYPE_RESOURCE     0x0003
#define HOB_TYPE_END          0xFFFF
#define HOB_PHIT_LEN          56   /* EFI_HOB_HANDOFF_INFO_TABLE */
#define HOB_RESOURCE_LEN      48   /* EFI_HOB_RESOURCE_DESCRIPTOR */
#define HOB_END_LEN           8    /* EFI_HOB_GENERIC_HEADER */
#define HOB_HANDOFF_VERSION   9    /* EFI_HOB_HANDOFF_TABLE_VERSION */

static bool hob_accepts(const struct ovmf_tdvf_section *s)
{
	return (s->type == OVMF_TDVF_TD_HOB || s->type == OVMF_TDVF_TEMP_MEM) &&
	       !(s->attributes & OVMF_TDVF_ATTR_PAGE_AUG);
}

static int cmp_sec(const void *a, const void *b)
{
	const struct ovmf_tdvf_section *x = *(const struct ovmf_tdvf_section *const *)a;
	const struct ovmf_tdvf_section *y = *(const struct ovmf_tdvf_section *const *)b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static int add_range(struct tdx_ram_range *out, unsigned max, unsigned *n,
		     uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return 0;
	if (*n >= max)
		return -ENOSPC;
	out[*n].start = start;
	out[*n].length = end - start;
	out[*n].type = type;
	(*n)++;
	return 0;
}

int tdx_hob_ranges(uint64_t memory, const struct ovmf_tdvf_section *s, unsigned n,
		   struct tdx_ram_range *out, unsigned max, unsigned *nout,
		   char *err, size_t errlen)
{
	const struct ovmf_tdvf_section *acc[OVMF_MAX_ITEMS];
	uint64_t ram[2][2];
	unsigned nacc = 0, nram = 0, k = 0;
	int ret;

	*nout = 0;
	if (n > OVMF_MAX_ITEMS) {
		snprintf(err, errlen, "tdx: %u TDVF sections, at most %u", n, OVMF_MAX_ITEMS);
		return -EINVAL;
	}
	/* vmm/base/layout.h: the same RAM map the e820 table and the memslots use. */
	ram[nram][0] = 0;
	ram[nram][1] = layout_below_4g(memory);
	nram++;
	if (layout_above_4g(memory)) {
		ram[nram][0] = LAYOUT_4G;
		ram[nram][1] = LAYOUT_4G + layout_above_4g(memory);
		nram++;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct ovmf_tdvf_section *x = &s[i];
		bool inside = false;

		if (!hob_accepts(x))
			continue;
		if (x->mem_size == 0 || x->gpa + x->mem_size < x->gpa) {
			snprintf(err, errlen, "tdx: TDVF section %u (type %u) at 0x%llx has bad size 0x%llx",
				 i, x->type, (unsigned long long)x->gpa,
				 (unsigned long long)x->mem_size);
			return -EINVAL;
		}
		for (unsigned r = 0; r < nram; r++)
			if (x->gpa >= ram[r][0] && x->gpa + x->mem_size <= ram[r][1])
				inside = true;
		if (!inside) {
			snprintf(err, errlen,
				 "tdx: TDVF section %u (type %u) 0x%llx+0x%llx is not inside guest RAM (memory 0x%llx)",
				 i, x->type, (unsigned long long)x->gpa,
				 (unsigned long long)x->mem_size, (unsigned long long)memory);
			return -EINVAL;
		}
		acc[nacc++] = x;
	}
	qsort(acc, nacc, sizeof(acc[0]), cmp_sec);
	for (unsigned i = 1; i < nacc; i++) {
		if (acc[i]->gpa < acc[i - 1]->gpa + acc[i - 1]->mem_size) {
			snprintf(err, errlen, "tdx: TDVF sections at 0x%llx and 0x%llx overlap",
				 (unsigned long long)acc[i - 1]->gpa,
				 (unsigned long long)acc[i]->gpa);
			return -EINVAL;
		}
	}
	/* QEMU (target/i386/kvm/tdx.c) splits the containing RAM entry into
	 * head (unaccepted), section (accepted), tail (unaccepted), then sorts
	 * the entries by address; walking sorted sections gives the same list. */
	for (unsigned r = 0; r < nram; r++) {
		uint64_t cur = ram[r][0];

		for (; k < nacc && acc[k]->gpa < ram[r][1]; k++) {
			ret = add_range(out, max, nout, cur, acc[k]->gpa, TDX_RES_UNACCEPTED);
			if (!ret)
				ret = add_range(out, max, nout, acc[k]->gpa,
						acc[k]->gpa + acc[k]->mem_size,
						TDX_RES_SYSTEM_MEMORY);
			if (ret)
				goto nospace;
			cur = acc[k]->gpa + acc[k]->mem_size;
		}
		if (add_range(out, max, nout, cur, ram[r][1], TDX_RES_UNACCEPTED))
			goto nospace;
	}
	return 0;
nospace:
	snprintf(err, errlen, "tdx: more than %u TD HOB RAM ranges", max);
	return -ENOSPC;
}

int tdx_build_hob(uint64_t memory, uint64_t hob_gpa,
		  const struct ovmf_tdvf_section *s, unsigned n,
		  uint8_t *buf, size_t buflen, size_t *len, size_t *measured_len,
		  char *err, size_t errlen)
{
	struct tdx_ram_range r[TDX_HOB_MAX_RANGES];
	unsigned nr;
	size_t need, off;
	int ret;

	ret = tdx_hob_ranges(memory, s, n, r, TDX_HOB_MAX_RANGES, &nr, err, errlen);
	if (ret)
		return ret;
	need = HOB_PHIT_LEN + (size_t)nr * HOB_RESOURCE_LEN + HOB_END_LEN;
	if (need > buflen) {
		snprintf(err, errlen, "tdx: TD HOB needs %zu bytes, the TD_HOB section has %zu",
			 need, buflen);
		return -ENOSPC;
	}
	memset(buf, 0, need);
	/* EFI_HOB_HANDOFF_INFO_TABLE: QEMU fills only EfiEndOfHobList, the
	 * address just past the END_OF_HOB_LIST header. */
	le_wr16(buf + 0, HOB_TYPE_HANDOFF);
	le_wr16(buf + 2, HOB_PHIT_LEN);
	le_wr32(buf + 8, HOB_HANDOFF_VERSION);
	le_wr32(buf + 12, 0);                 /* BootMode BOOT_WITH_FULL_CONFIGURATION */
	le_wr64(buf + 48, hob_gpa + need);
	off = HOB_PHIT_LEN;
	for (unsigned i = 0; i < nr; i++) {
		uint8_t *d = buf + off;

		le_wr16(d + 0, HOB_TYPE_RESOURCE);
		le_wr16(d + 2, HOB_RESOURCE_LEN);
		/* d + 8: Owner GUID, zero */
		le_wr32(d + 24, r[i].type);
		le_wr32(d + 28, TDX_RES_ATTR);
		le_wr64(d + 32, r[i].start);
		le_wr64(d + 40, r[i].length);
		off += HOB_RESOURCE_LEN;
	}
	*measured_len = off;
	le_wr16(buf + off, HOB_TYPE_END);
	le_wr16(buf + off + 2, HOB_END_LEN);
	off += HOB_END_LEN;
	*len = off;
	return 0;
}
