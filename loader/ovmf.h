/* loader/ovmf.h: OVMF/TDVF firmware image metadata.
 * Owns: the GUIDed footer table (parsed backwards from the end of the image),
 * the SEV-ES reset block, the SEV metadata ("ASEV"), the SEV kernel-hash
 * table location and the TDX metadata ("TDVF").  Pure function of the image
 * bytes; malformed tables are errors, never out-of-bounds reads. */
#ifndef FUKI_OVMF_H
#define FUKI_OVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVMF_MAX_ITEMS 64

/* SEV metadata section types: edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm */
enum ovmf_sev_type {
	OVMF_SEV_SEC_MEM = 1,
	OVMF_SEV_SECRETS = 2,
	OVMF_SEV_CPUID = 3,
	OVMF_SEV_SVSM_CAA = 4,
	OVMF_SEV_KERNEL_HASHES = 0x10,
};

/* TDVF section types and attributes: Intel TDVF design guide, QEMU hw/i386/tdvf.c */
enum ovmf_tdvf_type {
	OVMF_TDVF_BFV = 0, OVMF_TDVF_CFV = 1, OVMF_TDVF_TD_HOB = 2,
	OVMF_TDVF_TEMP_MEM = 3, OVMF_TDVF_PERM_MEM = 4, OVMF_TDVF_PAYLOAD = 5,
	OVMF_TDVF_PAYLOAD_PARAM = 6, OVMF_TDVF_TD_INFO = 7, OVMF_TDVF_TD_PARAMS = 8,
};
#define OVMF_TDVF_ATTR_MR_EXTEND 0x1u
#define OVMF_TDVF_ATTR_PAGE_AUG  0x2u

struct ovmf_sev_item {
	uint32_t gpa, size, type;
};

struct ovmf_tdvf_section {
	uint32_t data_offset;   /* from the start of the whole image */
	uint32_t raw_size;
	uint64_t gpa;
	uint64_t mem_size;
	uint32_t type;
	uint32_t attributes;
};

struct ovmf_info {
	bool has_footer;
	bool has_reset_block;
	uint32_t ap_reset_eip;             /* SEV-ES reset block */
	bool has_sev_meta;
	struct ovmf_sev_item sev[OVMF_MAX_ITEMS];
	unsigned nsev;
	bool has_hash_table;
	uint32_t hash_table_gpa, hash_table_size;
	bool has_tdvf;
	struct ovmf_tdvf_section tdvf[OVMF_MAX_ITEMS];
	unsigned ntdvf;
};

/* Parse @img (the whole firmware file, mapped so its last byte is at
 * 4 GiB - 1).  An image with no footer table is not an error: has_footer is
 * false.  Malformed tables: -EINVAL and one line in @err. */
int ovmf_parse(const uint8_t *img, size_t len, struct ovmf_info *out,
	       char *err, size_t errlen);

#endif
