/* loader/chid.h: Computer Hardware IDs (CHIDs) as systemd-stub computes them
 * from SMBIOS, and matching against a UKI's .hwids table.
 * Owns: the field sets of types 0-14 (Microsoft ComputerHardwareIds) and
 * systemd's extras 15-17, the UUIDv5 rule, the stub's priority order.
 * Reads SMBIOS only through loader/smbios.h; parses no PE files. */
#ifndef FUKI_CHID_H
#define FUKI_CHID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/smbios.h"

/* systemd src/fundamental/chid-fundamental.h: CHID_TYPES_MAX 18,
 * EXTRA_CHID_BASE 15 (15-17 add the EDID panel id). */
#define CHID_TYPES 18
#define CHID_EXTRA_BASE 15

/* Field indexes: the bit numbers of systemd's ChidSmbiosFields.  The order
 * matters: "&" is hashed before every field but field 0. */
enum chid_field {
	CHID_F_MANUFACTURER = 0,
	CHID_F_FAMILY,
	CHID_F_PRODUCT_NAME,
	CHID_F_PRODUCT_SKU,
	CHID_F_BOARD_MANUFACTURER,
	CHID_F_BOARD_PRODUCT,
	CHID_F_BIOS_VENDOR,
	CHID_F_BIOS_VERSION,
	CHID_F_BIOS_MAJOR,
	CHID_F_BIOS_MINOR,
	CHID_F_ENCLOSURE_TYPE,
	CHID_F_EDID_PANEL,
	CHID_F_MAX,
};

/* The hashable strings (UTF-8, already trimmed); NULL = missing field. */
struct chid_fields {
	char *f[CHID_F_MAX];
};

/* A CHID in RFC 4122 byte order (the order it is printed in). */
struct chid {
	uint8_t b[16];
};

struct chid_set {
	struct chid id[CHID_TYPES];
	bool valid[CHID_TYPES];   /* false: a field was missing (all-zero CHID in sd-stub) */
};

/* Bitmask of enum chid_field for CHID @type (0 for an unknown type). */
uint32_t chid_type_mask(unsigned type);
/* "Manufacturer + Family + ProductName" (fwupd's names, for output). */
void chid_type_describe(unsigned type, char *out, size_t len);
const char *chid_field_name(enum chid_field f);

/* Fill @out from an SMBIOS info the way systemd-stub's chid.c does:
 * strings trimmed (leading spaces, then leading '0's, trailing spaces), an
 * absent string becomes "", BIOS release bytes as "%02x" when type 0 has
 * them, enclosure type and EDID panel never set (sd-stub leaves them out).
 * With @with_enclosure the enclosure type is set as fwupd does ("%x"), for
 * comparison with fwupd/Windows type 12.  0 or -ENOMEM. */
int chid_fields_from_smbios(const struct smbios_info *info, bool with_enclosure,
			    struct chid_fields *out);
void chid_fields_free(struct chid_fields *f);

/* UUIDv5 (SHA-1, OpenSSL EVP) over the fields of @mask as UCS-2LE joined by
 * "&".  1 computed, 0 a field was missing (@out zeroed), <0 error. */
int chid_compute(const struct chid_fields *f, uint32_t mask, struct chid *out);
/* Every type 0..17.  0 or <0 (hash failure). */
int chid_compute_all(const struct chid_fields *f, struct chid_set *out);

/* Convenience: SMBIOS structure table bytes -> sd-stub's CHIDs. */
int chid_from_smbios_table(const uint8_t *tab, size_t len, struct chid_set *out);

void chid_format(const struct chid *c, char out[37]);
int chid_parse(const char *s, struct chid *out);
/* EFI_GUID memory layout (mixed endian, Python uuid.bytes_le) <-> RFC. */
void chid_from_efi_guid(const uint8_t g[16], struct chid *out);
void chid_to_efi_guid(const struct chid *c, uint8_t g[16]);
bool chid_is_zero(const struct chid *c);

/* systemd-stub src/boot/chid.c chid_match(): priority from most to least
 * specific. */
#define CHID_PRIORITY_LEN 12
extern const unsigned chid_priority[CHID_PRIORITY_LEN];

#endif
