/* loader/ovmf.c: parser for the OVMF GUIDed footer table, SEV metadata and
 * TDVF metadata (implements loader/ovmf.h).  Pure function of the image
 * bytes: it never maps, measures or launches anything. */
#include "loader/ovmf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/err.h"
#include "vmm/base/guid.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* Layout: QEMU hw/i386/pc_sysfw_ovmf.c (pc_system_parse_ovmf_flash) and
 * edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm: the footer entry
 * {u16 total length; GUID} ends 32 bytes before the end of the image. */
#define OVMF_GUID_LEN 16
#define OVMF_ENTRY_HDR 18                 /* u16 size + GUID */
#define OVMF_FOOTER_OFF_FROM_END (32 + OVMF_ENTRY_HDR)
/* Upper bound on entries walked; a u16 table cannot hold more than
 * 65535 / 18 of them anyway. */
#define OVMF_MAX_ENTRIES 4096

/* GUIDs, as they lie in the image (vmm/base/guid.h). */
/* footer table */
static const uint8_t guid_footer[GUID_LEN] =
	UEFI_GUID(0x96b582de, 0x1fb2, 0x45f7, 0xbaea, 0xa366c55a082d);
/* SEV-ES reset block */
static const uint8_t guid_reset_block[GUID_LEN] =
	UEFI_GUID(0x00f771de, 0x1a7e, 0x4fcb, 0x890e, 0x68c77e2fb44e);
/* SEV metadata offset */
static const uint8_t guid_sev_meta[GUID_LEN] =
	UEFI_GUID(0xdc886566, 0x984a, 0x4798, 0xa75e, 0x5585a7bf67cc);
/* SEV hash table (kernel hashes) */
static const uint8_t guid_hash_table[GUID_LEN] =
	UEFI_GUID(0x7255371f, 0x3a3b, 0x4b04, 0x927b, 0x1da6efa8d454);
/* TDX metadata offset */
static const uint8_t guid_tdx_meta[GUID_LEN] =
	UEFI_GUID(0xe47a6535, 0x984a, 0x4798, 0x865e, 0x4685a7bf8ec2);
/* TDVF metadata GUID, stored in the 16 bytes before "TDVF" (edk2
 * IntelTdxMetadata.asm).  QEMU hw/i386/tdvf.c does not check it, so neither
 * do we (an image QEMU launches must parse here). */
static const uint8_t guid_tdvf_meta[GUID_LEN] =
	UEFI_GUID(0xe9eaf9f3, 0x168e, 0x44d5, 0xa8eb, 0x7f4d8738f6ae);

/* "ASEV" header: edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm,
 * QEMU include/hw/i386/pc.h OvmfSevMetadata{,Desc}. */
#define ASEV_HDR 16
#define ASEV_DESC 12

static int parse_sev_meta(const uint8_t *img, size_t len, uint32_t off_from_end,
			  struct ovmf_info *out, char *err, size_t errlen)
{
	size_t start, mlen;
	uint32_t version, n;

	if (off_from_end < ASEV_HDR || off_from_end > len)
		return err_set(err, errlen, -EINVAL, "SEV metadata offset 0x%x outside the %zu-byte image",
			    off_from_end, len);
	start = len - off_from_end;
	if (memcmp(img + start, "ASEV", 4) != 0)
		return err_set(err, errlen, -EINVAL, "SEV metadata at image offset 0x%zx lacks the ASEV signature",
			    start);
	mlen = le_rd32(img + start + 4);
	version = le_rd32(img + start + 8);
	n = le_rd32(img + start + 12);
	if (version != 1)
		return err_set(err, errlen, -EINVAL, "SEV metadata version %u, expected 1", version);
	if (n > OVMF_MAX_ITEMS)
		return err_set(err, errlen, -EINVAL, "SEV metadata has %u items, at most %d supported",
			    n, OVMF_MAX_ITEMS);
	/* QEMU requires len >= header and within the image; the items must lie
	 * inside len (n is bounded above, so this cannot overflow). */
	if (mlen < ASEV_HDR + (size_t)n * ASEV_DESC || mlen > off_from_end)
		return err_set(err, errlen, -EINVAL, "SEV metadata length %zu invalid for %u items (%u bytes to the end)",
			    mlen, n, off_from_end);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = img + start + ASEV_HDR + (size_t)i * ASEV_DESC;

		out->sev[i].gpa = le_rd32(d);
		out->sev[i].size = le_rd32(d + 4);
		out->sev[i].type = le_rd32(d + 8);
	}
	out->nsev = n;
	out->has_sev_meta = true;
	return 0;
}

/* "TDVF" descriptor: Intel TDVF design guide "TDVF metadata", QEMU
 * hw/i386/tdvf.c (TdvfMetadata, TdvfSectionEntry). */
#define TDVF_HDR 16
#define TDVF_SECTION 32

static int parse_tdvf(const uint8_t *img, size_t len, uint32_t off_from_end,
		      struct ovmf_info *out, char *err, size_t errlen)
{
	size_t start, dlen;
	uint32_t version, n;
	bool outside = false;

	if (off_from_end < TDVF_HDR || off_from_end > len)
		return err_set(err, errlen, -EINVAL, "TDX metadata offset 0x%x outside the %zu-byte image",
			    off_from_end, len);
	start = len - off_from_end;
	if (memcmp(img + start, "TDVF", 4) != 0)
		return err_set(err, errlen, -EINVAL, "TDX metadata at image offset 0x%zx lacks the TDVF signature",
			    start);
	dlen = le_rd32(img + start + 4);
	version = le_rd32(img + start + 8);
	n = le_rd32(img + start + 12);
	if (version != 1)
		return err_set(err, errlen, -EINVAL, "TDVF metadata version %u, expected 1", version);
	if (n == 0 || n > OVMF_MAX_ITEMS)
		return err_set(err, errlen, -EINVAL, "TDVF metadata has %u sections, expected 1..%d",
			    n, OVMF_MAX_ITEMS);
	if (dlen < TDVF_HDR + (size_t)n * TDVF_SECTION || dlen > off_from_end)
		return err_set(err, errlen, -EINVAL, "TDVF metadata length %zu invalid for %u sections (%u bytes to the end)",
			    dlen, n, off_from_end);
	if (start < 16 || memcmp(img + start - 16, guid_tdvf_meta, 16) != 0)
		log_debug("ovmf: no TDVF metadata GUID before the descriptor (not required)");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = img + start + TDVF_HDR + (size_t)i * TDVF_SECTION;
		struct ovmf_tdvf_section *t = &out->tdvf[i];

		t->data_offset = le_rd32(s);
		t->raw_size = le_rd32(s + 4);
		t->gpa = le_rd64(s + 8);
		t->mem_size = le_rd64(s + 16);
		t->type = le_rd32(s + 24);
		t->attributes = le_rd32(s + 28);
		if ((t->gpa | t->mem_size) & 0xfff)
			return err_set(err, errlen, -EINVAL, "TDVF section %u: gpa 0x%llx / size 0x%llx not 4 KiB aligned",
				    i, (unsigned long long)t->gpa, (unsigned long long)t->mem_size);
		if (t->gpa + t->mem_size < t->gpa)
			return err_set(err, errlen, -EINVAL, "TDVF section %u: gpa 0x%llx + size 0x%llx overflows",
				    i, (unsigned long long)t->gpa, (unsigned long long)t->mem_size);
		if (t->raw_size > t->mem_size)
			return err_set(err, errlen, -EINVAL, "TDVF section %u: raw size 0x%x > memory size 0x%llx",
				    i, t->raw_size, (unsigned long long)t->mem_size);
		if ((uint64_t)t->data_offset + t->raw_size > len)
			outside = true;
	}
	if (outside) {
		/* Debian's OVMF_CODE.fd carries the TDVF metadata of the unified
		 * OVMF.fd: its BFV lies past the end of the split file.  The
		 * table is well formed but unusable; drop it so that SNP use of
		 * the same file still works and TDX builders see no metadata. */
		log_debug("ovmf: TDVF metadata describes data past the end of the %zu-byte image; ignoring it",
			  len);
		memset(out->tdvf, 0, sizeof(out->tdvf));
		return 0;
	}
	out->ntdvf = n;
	out->has_tdvf = true;
	return 0;
}

int ovmf_parse(const uint8_t *img, size_t len, struct ovmf_info *out,
	       char *err, size_t errlen)
{
	size_t footer, tstart, end;
	unsigned total, nent = 0;
	bool seen_reset = false, seen_sev = false, seen_hash = false, seen_tdx = false;
	uint32_t sev_off = 0, tdx_off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!img || len < OVMF_FOOTER_OFF_FROM_END)
		return 0;  /* too small to carry a table: no footer */
	footer = len - OVMF_FOOTER_OFF_FROM_END;
	if (memcmp(img + footer + 2, guid_footer, OVMF_GUID_LEN) != 0)
		return 0;
	total = le_rd16(img + footer);
	if (total < OVMF_ENTRY_HDR || total - OVMF_ENTRY_HDR > footer)
		return err_set(err, errlen, -EINVAL, "footer table length %u invalid (at most %zu bytes precede it)",
			    total, footer + OVMF_ENTRY_HDR);
	out->has_footer = true;
	tstart = footer - (total - OVMF_ENTRY_HDR);
	end = footer;
	/* Entries are {data, u16 size (whole entry), GUID}, walked backwards. */
	while (end > tstart) {
		const uint8_t *hdr, *data;
		unsigned esize;
		size_t dlen;

		if (end - tstart < OVMF_ENTRY_HDR)
			return err_set(err, errlen, -EINVAL, "footer table: %zu trailing bytes before the first entry",
				    end - tstart);
		if (++nent > OVMF_MAX_ENTRIES)
			return err_set(err, errlen, -EINVAL, "footer table: more than %d entries", OVMF_MAX_ENTRIES);
		hdr = img + end - OVMF_ENTRY_HDR;
		esize = le_rd16(hdr);
		if (esize < OVMF_ENTRY_HDR)
			return err_set(err, errlen, -EINVAL, "footer table entry at offset 0x%zx has size %u < 18",
				    end - OVMF_ENTRY_HDR, esize);
		if (esize > end - tstart)
			return err_set(err, errlen, -EINVAL, "footer table entry at offset 0x%zx has size %u past the table start",
				    end - OVMF_ENTRY_HDR, esize);
		data = img + end - esize;
		dlen = esize - OVMF_ENTRY_HDR;
		const uint8_t *guid = hdr + 2;

		if (!memcmp(guid, guid_reset_block, 16)) {
			if (seen_reset)
				return err_set(err, errlen, -EINVAL, "footer table: duplicate SEV-ES reset block entry");
			if (dlen < 4)
				return err_set(err, errlen, -EINVAL, "SEV-ES reset block entry has %zu data bytes, need 4", dlen);
			seen_reset = true;
			out->has_reset_block = true;
			out->ap_reset_eip = le_rd32(data);
		} else if (!memcmp(guid, guid_sev_meta, 16)) {
			if (seen_sev)
				return err_set(err, errlen, -EINVAL, "footer table: duplicate SEV metadata entry");
			if (dlen < 4)
				return err_set(err, errlen, -EINVAL, "SEV metadata entry has %zu data bytes, need 4", dlen);
			seen_sev = true;
			sev_off = le_rd32(data);
		} else if (!memcmp(guid, guid_hash_table, 16)) {
			if (seen_hash)
				return err_set(err, errlen, -EINVAL, "footer table: duplicate SEV hash table entry");
			if (dlen < 4)
				return err_set(err, errlen, -EINVAL, "SEV hash table entry has %zu data bytes, need 4", dlen);
			seen_hash = true;
			out->has_hash_table = true;
			out->hash_table_gpa = le_rd32(data);
			out->hash_table_size = dlen >= 8 ? le_rd32(data + 4) : 0;
		} else if (!memcmp(guid, guid_tdx_meta, 16)) {
			if (seen_tdx)
				return err_set(err, errlen, -EINVAL, "footer table: duplicate TDX metadata entry");
			if (dlen < 4)
				return err_set(err, errlen, -EINVAL, "TDX metadata entry has %zu data bytes, need 4", dlen);
			seen_tdx = true;
			tdx_off = le_rd32(data);
		}
		end -= esize;
	}
	if (seen_sev) {
		ret = parse_sev_meta(img, len, sev_off, out, err, errlen);
		if (ret)
			return ret;
	}
	if (seen_tdx) {
		ret = parse_tdvf(img, len, tdx_off, out, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}
