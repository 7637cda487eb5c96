/* loader/smbios.h: the SMBIOS tables fukivmm presents to the guest, and a
 * bounds-checked reader for SMBIOS structure tables (ours or a DMI dump).
 * Owns: building the structure table and the SMBIOS 3.0 entry point from
 * the identity strings, vCPU count and RAM size; nothing here registers fw_cfg files or
 * touches guest memory (the VM does that with SMBIOS_FWCFG_*). */
#ifndef FUKI_SMBIOS_H
#define FUKI_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* fw_cfg file names: QEMU hw/smbios/smbios.c (smbios_get_tables, used by
 * hw/i386/fw_cfg.c fw_cfg_build_smbios) and OVMF
 * OvmfPkg/SmbiosPlatformDxe/QemuSmbios.c.  Firmware copies the tables to
 * guest memory, patches the anchor's table address and re-checksums. */
#define SMBIOS_FWCFG_ANCHOR "etc/smbios/smbios-anchor"
#define SMBIOS_FWCFG_TABLES "etc/smbios/smbios-tables"

/* SMBIOS 3.0 64-bit entry point: DSP0134 3.x 5.2.2 (24 bytes, "_SM3_"). */
#define SMBIOS3_ANCHOR_LEN 24
#define SMBIOS_VERSION_MAJOR 3
#define SMBIOS_VERSION_MINOR 0

/* Structure types (DSP0134 3.x, clause 7). */
#define SMBIOS_TYPE_BIOS        0
#define SMBIOS_TYPE_SYSTEM      1
#define SMBIOS_TYPE_BASEBOARD   2
#define SMBIOS_TYPE_CHASSIS     3
#define SMBIOS_TYPE_PROCESSOR   4
#define SMBIOS_TYPE_MEM_ARRAY   16
#define SMBIOS_TYPE_MEM_DEVICE  17
#define SMBIOS_TYPE_MEM_ARRAY_MAPPED 19
#define SMBIOS_TYPE_END         127

/* Memory devices are split at 16 GiB like QEMU (MAX_DIMM_SZ). */
#define SMBIOS_MAX_DIMM (16ULL << 30)

/* The identity the tables carry (the config's [smbios] fills it).  A UKI
 * picks its firmware by CHIDs computed from these strings, so the VMM's
 * defaults are fixed, never derived from the host.  NULL = field absent
 * from the tables. */
struct smbios_ids {
	char *bios_vendor, *bios_version, *bios_date;
	uint8_t bios_major, bios_minor;   /* "bios_release" = "MAJOR.MINOR" */
	char *manufacturer, *product, *version, *serial, *sku, *family;
	uint8_t uuid[16];                 /* type 1 UUID, RFC 4122 byte order */
	bool uuid_set;
	char *board_manufacturer, *board_product, *board_version, *board_serial, *board_asset;
	char *chassis_manufacturer, *chassis_version, *chassis_serial, *chassis_asset;
	uint8_t chassis_type;             /* SMBIOS 3.x 7.4.1, default 1 (Other) */
};

struct smbios_blob {
	uint8_t anchor[SMBIOS3_ANCHOR_LEN];   /* table address 0: firmware fills it */
	uint8_t *tables;                      /* structure table, ends with type 127 */
	size_t tables_len;
	unsigned nstructs;
	size_t max_struct;                    /* largest structure incl. strings */
};

/* Build the tables for @sm, @memory bytes of RAM and @ncpus vCPUs.  Pure
 * function of its inputs (no host data, no time).  0 or -EINVAL/-ENOMEM. */
int smbios_build(const struct smbios_ids *sm, uint64_t memory, unsigned ncpus,
		 struct smbios_blob *out);
void smbios_blob_free(struct smbios_blob *b);

/* ---- reading structure tables (bounds-checked, hostile input) ---- */

struct smbios_struct {
	uint8_t type;
	uint8_t length;          /* formatted area, >= 4 */
	uint16_t handle;
	const uint8_t *data;     /* formatted area (length bytes) */
	const uint8_t *strings;  /* string-set start */
	size_t strings_len;      /* bytes up to and including the double NUL */
	size_t total;            /* formatted area + string set */
};

/* Structure at @off of @tab/@len: 1 found, 0 end of data (or type 127
 * reached: *s is then the end structure), -EINVAL malformed (length < 4,
 * formatted area or string set running past @len). */
int smbios_struct_at(const uint8_t *tab, size_t len, size_t off, struct smbios_struct *s);
/* String number @n (1-based) of @s; NULL for 0 or a missing string. */
const char *smbios_struct_string(const struct smbios_struct *s, unsigned n);
/* The byte at @off of the formatted area, or @dflt when the structure is
 * too short to have it. */
static inline uint8_t smbios_struct_u8(const struct smbios_struct *s, size_t off, uint8_t dflt)
{
	return off < s->length ? s->data[off] : dflt;
}

/* What the CHIDs are computed from: what systemd-stub's smbios.c reads.
 * String pointers point into the table (NUL-terminated there). */
struct smbios_info {
	const char *bios_vendor, *bios_version;
	bool bios_release_valid;
	uint8_t bios_major, bios_minor;
	const char *manufacturer, *product, *sku, *family;
	const char *board_manufacturer, *board_product;
	bool have_chassis;
	uint8_t chassis_type;           /* low 7 bits of type 3 byte 5 */
};

/* Parse the first type 0/1/2/3 structures the way systemd-stub does (first
 * structure of the type; a too-short one counts as absent).  0, or -EINVAL
 * when the table is malformed before all four are found. */
int smbios_info_parse(const uint8_t *tab, size_t len, struct smbios_info *out);

/* Checksum helper: the 8-bit sum of @len bytes. */
uint8_t smbios_sum8(const uint8_t *p, size_t len);

#endif
