/* tests/uefi/fukisel.h: the firmware choice of the UEFI F-UKI client, with
 * no UEFI and no libc in it, so the same code runs in the client and in the
 * host test (tests/unit/test_uefi_client.c), which checks it against
 * fukivmm's own reader (loader/uki.c, loader/chid.c) on the same inputs:
 * `fukivmm uki select` and the client must pick the same firmware.
 *
 * Owns: reading a UKI's PE section table, its .efifw blobs and .hwids
 * table, the SMBIOS fields systemd-stub hashes, the CHID hash input, the
 * stub's priority walk, and the client's hand-over record.  The rules are
 * those of docs/uki.md ("UKI reader", "CHIDs"), which follow systemd-stub.
 * Every input is hostile: all offsets are bounds-checked, nothing is
 * allocated, nothing is written outside the caller's buffers. */
#ifndef FUKI_UEFI_FUKISEL_H
#define FUKI_UEFI_FUKISEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PE/COFF (sd-stub pe.c rules, as loader/uki.c) ---- */
#define FK_PE_MAX_SECTIONS 1024
#define FK_SECTION_TABLE_MAX (16U * 1024U * 1024U)

struct fk_section {
	char name[9];            /* NUL-terminated copy of the 8 header bytes */
	uint32_t vaddr, vsize, raw_off, raw_size;
	const uint8_t *data;     /* file bytes */
	size_t size;             /* MIN(SizeOfRawData, VirtualSize) */
};

struct fk_uki {
	const uint8_t *buf;
	size_t len;
	uint32_t table;          /* file offset of the section table */
	unsigned nsec;
	unsigned nbase;          /* sections before the first .profile */
	int hwids;               /* first .hwids of the base profile, or -1 */
	unsigned nefifw;         /* .efifw sections in the base profile */
};

/* 0, or -1 with a reason in *why: a file sd-stub would not load. */
int fk_uki_parse(const uint8_t *buf, size_t len, struct fk_uki *u, const char **why);
void fk_uki_section(const struct fk_uki *u, unsigned i, struct fk_section *s);
bool fk_section_is(const struct fk_section *s, const char *name);

/* ---- .efifw (systemd efi-firmware.h) ---- */
#define FK_EFIFW_MAGIC 0xfeeddeadU
#define FK_EFIFW_HDR_MIN 16

struct fk_efifw {
	bool valid;
	const char *why;         /* when !valid */
	unsigned section;
	uint32_t header_len, fwid_len, payload_len;
	const char *fwid;
	const uint8_t *payload;
};

/* Validate the blob of section @s (index @idx) as sd-stub does. */
void fk_efifw_parse(const struct fk_section *s, unsigned idx, struct fk_efifw *f);
/* The @n-th .efifw of the base profile (0-based), parsed.  false: no such. */
bool fk_efifw_nth(const struct fk_uki *u, unsigned n, struct fk_efifw *f);

/* ---- .hwids (systemd chid.h Device, 28 bytes) ---- */
#define FK_HWID_LEN 28
#define FK_HWID_DEVICETREE 1
#define FK_HWID_UEFI_FW 2

struct fk_hwid {
	uint32_t type;
	uint8_t chid[16];        /* RFC 4122 byte order */
	const char *name;        /* NULL for offset 0 */
	const char *str;         /* fwid (uefi-fw) or compatible; NULL for 0 */
};

/* sd-stub chid_match() validation: 0 with *n records; -1 rejected, or
 * -2 no records, with *why. */
int fk_hwids_check(const uint8_t *buf, size_t len, unsigned *n, const char **why);
void fk_hwid_at(const uint8_t *buf, unsigned i, struct fk_hwid *h);

/* ---- SMBIOS and CHIDs (loader/smbios.c smbios_info_parse, loader/chid.c) ---- */
#define FK_CHID_TYPES 18

struct fk_smbios {
	const char *bios_vendor, *bios_version;
	bool bios_release;
	uint8_t bios_major, bios_minor;
	const char *manufacturer, *product, *sku, *family;
	const char *board_manufacturer, *board_product;
	bool types_seen[4];
};

/* The first structure of types 0-3 of the structure table @tab/@len.
 * Strings point into the table.  Returns false when the table is malformed
 * before all four were found (the fields found so far stay). */
bool fk_smbios_parse(const uint8_t *tab, size_t len, struct fk_smbios *s);

/* The SHA-1 input of CHID @type: the namespace, then the fields as UCS-2LE
 * joined by "&".  Returns its length (written when <= @cap), or 0 when the
 * type cannot be computed (a field missing: the CHID is all zeros). */
size_t fk_chid_message(const struct fk_smbios *s, unsigned type, uint8_t *buf, size_t cap);
/* UUIDv5 from the SHA-1 of that message. */
void fk_chid_from_sha1(const uint8_t sha1[20], uint8_t chid[16]);

/* systemd-stub's priority walk: most to least specific. */
#define FK_CHID_PRIORITY_LEN 12
extern const unsigned fk_chid_priority[FK_CHID_PRIORITY_LEN];

/* ---- the choice ---- */
enum fk_result {
	FK_CHOSEN = 0,
	FK_NO_EFIFW,             /* no .efifw section at all */
	FK_NO_HWIDS,             /* no .hwids section */
	FK_BAD_HWIDS,            /* .hwids rejected as sd-stub would (why) */
	FK_NO_MATCH,             /* no uefi-fw record matches these CHIDs */
	FK_NO_FWID,              /* a record matched, no valid .efifw has its fwid */
};

struct fk_choice {
	enum fk_result result;
	const char *why;
	int hwid;                /* matching record, or -1 */
	unsigned chid_type;
	int efifw;               /* ordinal among the .efifw sections, or -1 */
	struct fk_hwid rec;
	struct fk_efifw fw;
};

/* @chids[t]: CHID type t in RFC order, all zeros when not computable. */
void fk_select(const struct fk_uki *u, const uint8_t chids[FK_CHID_TYPES][16], struct fk_choice *c);

/* ---- the payload ---- */
/* An IGVM file starts with the magic 0x4D564749 ("IGVM"). */
bool fk_payload_is_igvm(const uint8_t *p, size_t len);

/* ---- hand-over record: the opaque region of a swap (docs/uki.md) ---- */
#define FK_HANDOVER_SIZE 96
#define FK_HANDOVER_MAGIC "FUKIHOV1"     /* written with the swap */
#define FK_HANDOVER_USED "FUKIHOVX"      /* a one-shot record already seen */

enum fk_handover_state { FK_HO_INVALID = 0, FK_HO_LIVE, FK_HO_USED };

/* Fill @rec (FK_HANDOVER_SIZE bytes).  @payload_sha1: SHA-1 of the image.
 * The check field is a SHA-1 over bytes 8..88 (not the magic, so marking a
 * record used keeps it valid). */
void fk_handover_build(uint8_t *rec, uint64_t control, uint64_t payload_len,
		       const uint8_t payload_sha1[20], const char *fwid);
enum fk_handover_state fk_handover_check(const uint8_t *rec, uint64_t size);
bool fk_handover_names(const uint8_t *rec, uint64_t payload_len, const uint8_t payload_sha1[20]);
uint64_t fk_handover_control(const uint8_t *rec);
void fk_handover_mark_used(uint8_t *rec);
/* The fwid kept in the record (at most 31 bytes, NUL-terminated in @out). */
void fk_handover_fwid(const uint8_t *rec, char out[32]);

/* ---- little helpers (no libc) ---- */
uint16_t fk_le16(const uint8_t *p);
uint32_t fk_le32(const uint8_t *p);
uint64_t fk_le64(const uint8_t *p);
void fk_put_le16(uint8_t *p, uint16_t v);
void fk_put_le64(uint8_t *p, uint64_t v);
int fk_memcmp(const void *a, const void *b, size_t n);
void fk_memcpy(void *d, const void *s, size_t n);
void fk_memset(void *d, int c, size_t n);
size_t fk_strlen(const char *s);

#endif
