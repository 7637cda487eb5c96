/* loader/uki.h: reading a Unified Kernel Image (PE/COFF) the way
 * systemd-stub does: its sections, the .efifw firmware blobs and the .hwids
 * table, and predicting which firmware the stub picks for given CHIDs.
 * Owns: PE parsing and the .efifw/.hwids formats (systemd src/boot/pe.c,
 * efi-firmware.[ch], chid.[ch]).  Input is hostile: every offset is
 * bounds-checked; nothing here allocates from sizes in the file unchecked. */
#ifndef FUKI_UKI_H
#define FUKI_UKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/chid.h"

/* PE/COFF (Microsoft PE format spec, "MS-DOS stub", "COFF File Header",
 * "Optional Header", "Section Table"). */
#define UKI_DOS_HDR_LEN 64          /* sd-stub: e_lfanew >= sizeof(DosFileHeader) */
#define UKI_COFF_HDR_LEN 20
#define UKI_SECTION_HDR_LEN 40
#define UKI_OPT_MAGIC_PE32 0x10B
#define UKI_OPT_MAGIC_PE32P 0x20B
#define UKI_MACHINE_X64 0x8664
/* sd-stub SECTION_TABLE_BYTES_MAX */
#define UKI_SECTION_TABLE_MAX (16U * 1024U * 1024U)
/* Ours: bounds the overlap check (real UKIs have a dozen or two). */
#define UKI_MAX_SECTIONS 1024

/* .efifw header: systemd src/boot/efi-firmware.h (little-endian). */
#define UKI_EFIFW_MAGIC 0xfeeddeadU
#define UKI_EFIFW_HDR_MIN 16        /* offsetof(EfiFwHeader, chid) */
#define UKI_EFIFW_HDR_CHID 32       /* header_len with the optional CHID */
#define UKI_EFIFW_ALIGN 8           /* alignof(EfiFwHeader): payload _alignas_(uint64_t) */

/* .hwids records: systemd src/boot/chid.h Device (packed, 28 bytes). */
#define UKI_HWID_LEN 28
#define UKI_HWID_TYPE_DEVICETREE 0x1
#define UKI_HWID_TYPE_UEFI_FW 0x2
#define UKI_HWID_DESC(type) (((uint32_t)(type) << 28) | UKI_HWID_LEN)
#define UKI_HWID_ALIGN 4            /* alignof(Device) */

struct uki_section {
	char name[9];               /* 8 bytes of the header, NUL-terminated */
	uint32_t vaddr, vsize, raw_off, raw_size;
	const uint8_t *data;        /* file bytes */
	size_t size;                /* sd-stub: MIN(SizeOfRawData, VirtualSize) */
};

struct uki_efifw {
	unsigned section;           /* index into uki.sec */
	bool valid;                 /* passes sd-stub's header validation */
	const char *why;            /* when !valid */
	uint32_t header_len, fwid_len, payload_len;
	const char *fwid;           /* NUL-terminated, inside the file */
	const uint8_t *payload;
	bool has_chid;              /* header_len >= 32 and CHID non-zero */
	struct chid chid;
};

struct uki_hwid {
	uint32_t descriptor, type;
	struct chid chid;
	uint32_t name_off, str_off; /* str_off: fwid (uefi-fw) or compatible (devicetree) */
	const char *name, *str;     /* NULL for offset 0 */
};

enum uki_known { UKI_LINUX, UKI_INITRD, UKI_CMDLINE, UKI_OSREL, UKI_UNAME, UKI_SBAT,
		 UKI_HWIDS, UKI_KNOWN_MAX };

struct uki {
	const uint8_t *buf;
	size_t len;
	uint16_t machine, opt_magic;
	struct uki_section *sec;
	unsigned nsec;
	unsigned nbase;             /* sections before the first .profile */
	unsigned nprofiles;
	int known[UKI_KNOWN_MAX];   /* first section of each name in the base profile, or -1 */
	struct uki_efifw *fw;       /* every .efifw in the base profile, in order */
	unsigned nfw;
	struct uki_hwid *hw;        /* records before the terminator */
	unsigned nhw;
	int hwids_err;              /* 0, or why sd-stub would reject the table */
	const char *hwids_why;
};

const char *uki_known_name(enum uki_known k);

/* Parse @buf (kept referenced, not copied).  0, or -EINVAL with one line in
 * @err for a file sd-stub would not load (bad headers, section data past the
 * end of the file, overlapping sections).  Bad .efifw/.hwids contents are
 * not fatal: they are recorded per blob (valid/why, hwids_err). */
int uki_parse(const uint8_t *buf, size_t len, struct uki *u, char *err, size_t errlen);
void uki_free(struct uki *u);

/* sd-stub efifw_validate_header(): 0 or -EINVAL with *why. */
int uki_efifw_parse(const uint8_t *blob, size_t len, struct uki_efifw *out);
/* sd-stub chid_match() validation pass: records until the all-zero
 * descriptor or until fewer than 29 bytes remain.  0; -EOPNOTSUPP unknown
 * record type; -EINVAL bad offset / unterminated string; -ENOENT no
 * records.  *out is malloc'd (free it) and filled as far as valid. */
int uki_hwids_parse(const uint8_t *buf, size_t len, struct uki_hwid **out, unsigned *n,
		    const char **why);

struct uki_choice {
	int hwid;                   /* index in u->hw, -1 none */
	unsigned chid_type;         /* the CHID type that matched */
	int efifw;                  /* index in u->fw, -1 none */
};

/* What sd-stub picks: first uefi-fw record whose CHID equals ours, walking
 * chid_priority; then the first valid .efifw whose fwid equals the record's
 * fwid.  1 firmware chosen; 0 none (c->hwid tells whether a record
 * matched); -EINVAL when the .hwids table is absent or rejected. */
int uki_select(const struct uki *u, const struct chid_set *chids, struct uki_choice *c);

/* The first valid .efifw with this fwid, or -1. */
int uki_find_fwid(const struct uki *u, const char *fwid);

#endif
