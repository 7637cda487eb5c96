/* loader/chid.c: CHIDs from SMBIOS strings, as systemd-stub computes them
 * (algorithm read from systemd src/fundamental/chid-fundamental.c and
 * src/boot/chid.c; fwupd docs/hwids.md).  Owns the field sets, trimming,
 * UCS-2 conversion and UUIDv5; must not read host SMBIOS or PE files. */
#include "loader/chid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vmm/base/guid.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define M(f) (UINT32_C(1) << CHID_F_##f)

/* Field sets: systemd chid_smbios_table[] (types 0-14 = Microsoft
 * ComputerHardwareIds HardwareID-0..14; 15-17 systemd extras with the EDID
 * panel id). */
static const uint32_t chid_masks[CHID_TYPES] = {
	[0] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME) | M(PRODUCT_SKU) | M(BIOS_VENDOR) |
	      M(BIOS_VERSION) | M(BIOS_MAJOR) | M(BIOS_MINOR),
	[1] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME) | M(BIOS_VENDOR) | M(BIOS_VERSION) |
	      M(BIOS_MAJOR) | M(BIOS_MINOR),
	[2] = M(MANUFACTURER) | M(PRODUCT_NAME) | M(BIOS_VENDOR) | M(BIOS_VERSION) |
	      M(BIOS_MAJOR) | M(BIOS_MINOR),
	[3] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME) | M(PRODUCT_SKU) |
	      M(BOARD_MANUFACTURER) | M(BOARD_PRODUCT),
	[4] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME) | M(PRODUCT_SKU),
	[5] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME),
	[6] = M(MANUFACTURER) | M(PRODUCT_SKU) | M(BOARD_MANUFACTURER) | M(BOARD_PRODUCT),
	[7] = M(MANUFACTURER) | M(PRODUCT_SKU),
	[8] = M(MANUFACTURER) | M(PRODUCT_NAME) | M(BOARD_MANUFACTURER) | M(BOARD_PRODUCT),
	[9] = M(MANUFACTURER) | M(PRODUCT_NAME),
	[10] = M(MANUFACTURER) | M(FAMILY) | M(BOARD_MANUFACTURER) | M(BOARD_PRODUCT),
	[11] = M(MANUFACTURER) | M(FAMILY),
	[12] = M(MANUFACTURER) | M(ENCLOSURE_TYPE),
	[13] = M(MANUFACTURER) | M(BOARD_MANUFACTURER) | M(BOARD_PRODUCT),
	[14] = M(MANUFACTURER),
	[CHID_EXTRA_BASE + 0] = M(MANUFACTURER) | M(FAMILY) | M(PRODUCT_NAME) | M(EDID_PANEL),
	[CHID_EXTRA_BASE + 1] = M(MANUFACTURER) | M(FAMILY) | M(EDID_PANEL),
	[CHID_EXTRA_BASE + 2] = M(MANUFACTURER) | M(PRODUCT_SKU) | M(EDID_PANEL),
};

const unsigned chid_priority[CHID_PRIORITY_LEN] = {
	CHID_EXTRA_BASE + 2, CHID_EXTRA_BASE + 1, CHID_EXTRA_BASE + 0,
	3, 6, 8, 10, 4, 5, 7, 9, 11,
};

/* systemd: static const EFI_GUID namespace = {0x12d8ff70, 0x7f4c, 0x7d4c},
 * hashed from memory on little-endian, so the bytes are its UEFI layout. */
static const uint8_t chid_namespace[GUID_LEN] = UEFI_GUID(0x12d8ff70, 0x7f4c, 0x7d4c, 0, 0);

uint32_t chid_type_mask(unsigned type)
{
	return type < CHID_TYPES ? chid_masks[type] : 0;
}

const char *chid_field_name(enum chid_field f)
{
	static const char *const names[CHID_F_MAX] = {
		"Manufacturer", "Family", "ProductName", "ProductSku", "BaseboardManufacturer",
		"BaseboardProduct", "BiosVendor", "BiosVersion", "BiosMajorRelease",
		"BiosMinorRelease", "EnclosureKind", "EdidPanel",
	};

	return (unsigned)f < CHID_F_MAX ? names[f] : "?";
}

void chid_type_describe(unsigned type, char *out, size_t len)
{
	uint32_t m = chid_type_mask(type);
	size_t n = 0;

	if (len)
		out[0] = '\0';
	for (unsigned i = 0; i < CHID_F_MAX && n < len; i++) {
		if (!(m & (UINT32_C(1) << i)))
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " + " : "",
				      chid_field_name((enum chid_field)i));
	}
}

/* systemd smbios_to_hashable_string(): skip leading ' ', then leading '0',
 * drop trailing ' '; NULL becomes "". */
static char *chid_trim(const char *s)
{
	size_t n;

	if (!s)
		return strdup("");
	while (*s == ' ')
		s++;
	while (*s == '0')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	return strndup(s, n);
}

int chid_fields_from_smbios(const struct smbios_info *info, bool with_enclosure,
			    struct chid_fields *out)
{
	struct { enum chid_field f; const char *s; } strs[] = {
		{ CHID_F_MANUFACTURER, info->manufacturer },
		{ CHID_F_PRODUCT_NAME, info->product },
		{ CHID_F_PRODUCT_SKU, info->sku },
		{ CHID_F_FAMILY, info->family },
		{ CHID_F_BOARD_PRODUCT, info->board_product },
		{ CHID_F_BOARD_MANUFACTURER, info->board_manufacturer },
		{ CHID_F_BIOS_VENDOR, info->bios_vendor },
		{ CHID_F_BIOS_VERSION, info->bios_version },
	};
	char b[8];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!(out->f[strs[i].f] = chid_trim(strs[i].s)))
			goto nomem;
	if (info->bios_release_valid) {
		/* "%02x", not trimmed (systemd bios_release_to_hashable_string) */
		snprintf(b, sizeof(b), "%02x", info->bios_major);
		if (!(out->f[CHID_F_BIOS_MAJOR] = strdup(b)))
			goto nomem;
		snprintf(b, sizeof(b), "%02x", info->bios_minor);
		if (!(out->f[CHID_F_BIOS_MINOR] = strdup(b)))
			goto nomem;
	}
	if (with_enclosure && info->have_chassis) {
		/* fwupd fu-hwids-smbios.c: EnclosureKind printed "%x" */
		snprintf(b, sizeof(b), "%x", info->chassis_type);
		if (!(out->f[CHID_F_ENCLOSURE_TYPE] = strdup(b)))
			goto nomem;
	}
	return 0;
nomem:
	chid_fields_free(out);
	log_err("chid: out of memory");
	return -ENOMEM;
}

void chid_fields_free(struct chid_fields *f)
{
	for (unsigned i = 0; i < CHID_F_MAX; i++) {
		free(f->f[i]);
		f->f[i] = NULL;
	}
}

/* One UTF-8 sequence as systemd's utf8_to_unichar() reads it: lead byte
 * gives the length (up to 6), a bad lead byte consumes 1 byte, a bad or
 * short continuation consumes the announced length; UINT32_MAX = invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *c)
{
	size_t len;
	uint32_t u;

	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2; u = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; u = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; u = s[0] & 0x07;
	} else if ((s[0] & 0xfc) == 0xf8) {
		len = 5; u = s[0] & 0x03;
	} else if ((s[0] & 0xfe) == 0xfc) {
		len = 6; u = s[0] & 0x01;
	} else {
		*c = UINT32_MAX;
		return 1;
	}
	if (len > n) {
		*c = UINT32_MAX;
		return len;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*c = UINT32_MAX;
			return len;
		}
		u = u << 6 | (s[i] & 0x3f);
	}
	*c = u;
	return len;
}

/* Hash @s as UCS-2LE (systemd xstrn8_to_16: invalid sequences, surrogates
 * and code points above U+FFFF are skipped). */
static int hash_ucs2(EVP_MD_CTX *ctx, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		uint32_t c;
		size_t l = utf8_next(p, n, &c);

		p += l < n ? l : n;
		n -= l < n ? l : n;
		if (c <= 0xd7ff || (c >= 0xe000 && c <= 0xffff)) {
			uint8_t u16[2];

			le_wr16(u16, (uint16_t)c);
			if (!EVP_DigestUpdate(ctx, u16, 2))
				return -EIO;
		}
	}
	return 0;
}

int chid_compute(const struct chid_fields *f, uint32_t mask, struct chid *out)
{
	static const uint8_t amp[2] = { '&', 0 };
	uint8_t md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx;
	int ret = -EIO;

	memset(out, 0, sizeof(*out));
	if (!mask)
		return 0;
	for (unsigned i = 0; i < CHID_F_MAX; i++)
		if ((mask & (UINT32_C(1) << i)) && !f->f[i])
			return 0;    /* "don't generate the CHID, as per spec" */
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, chid_namespace, sizeof(chid_namespace)))
		goto out;
	for (unsigned i = 0; i < CHID_F_MAX; i++) {
		if (!(mask & (UINT32_C(1) << i)))
			continue;
		/* systemd hashes "&" before every field whose index is > 0 */
		if (i > 0 && !EVP_DigestUpdate(ctx, amp, 2))
			goto out;
		if (hash_ucs2(ctx, f->f[i]))
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, md, NULL))
		goto out;
	memcpy(out->b, md, 16);
	/* RFC 4122 4.1.3 version 5, 4.1.1 variant 10x */
	out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
	ret = 1;
out:
	EVP_MD_CTX_free(ctx);
	if (ret < 0)
		log_err("chid: SHA-1 failed for mask 0x%x", mask);
	return ret;
}

int chid_compute_all(const struct chid_fields *f, struct chid_set *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned t = 0; t < CHID_TYPES; t++) {
		int r = chid_compute(f, chid_masks[t], &out->id[t]);

		if (r < 0)
			return r;
		out->valid[t] = r == 1;
	}
	return 0;
}

int chid_from_smbios_table(const uint8_t *tab, size_t len, struct chid_set *out)
{
	struct smbios_info info;
	struct chid_fields f;
	int r;

	/* a malformed tail leaves the fields found before it, as in sd-stub */
	(void)smbios_info_parse(tab, len, &info);
	r = chid_fields_from_smbios(&info, false, &f);
	if (r)
		return r;
	r = chid_compute_all(&f, out);
	chid_fields_free(&f);
	return r;
}

void chid_format(const struct chid *c, char out[37])
{
	const uint8_t *b = c->b;

	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

int chid_parse(const char *s, struct chid *out)
{
	unsigned n = 0;
	size_t len;

	if (!s)
		return -EINVAL;
	if (*s == '{')
		s++;
	len = strlen(s);
	if (len && s[len - 1] == '}')
		len--;
	if (len != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		if (i + 1 >= 36)
			return -EINVAL;
#define HEXV(ch) ((ch) >= '0' && (ch) <= '9' ? (ch) - '0' : \
		  (ch) >= 'a' && (ch) <= 'f' ? (ch) - 'a' + 10 : \
		  (ch) >= 'A' && (ch) <= 'F' ? (ch) - 'A' + 10 : -1)
		hi = HEXV(s[i]);
		lo = HEXV(s[i + 1]);
#undef HEXV
		if (hi < 0 || lo < 0 || n >= 16)
			return -EINVAL;
		out->b[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == 16 ? 0 : -EINVAL;
}

static const uint8_t guid_swap[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

void chid_from_efi_guid(const uint8_t g[16], struct chid *out)
{
	for (unsigned i = 0; i < 16; i++)
		out->b[i] = g[guid_swap[i]];
}

void chid_to_efi_guid(const struct chid *c, uint8_t g[16])
{
	for (unsigned i = 0; i < 16; i++)
		g[i] = c->b[guid_swap[i]];
}

bool chid_is_zero(const struct chid *c)
{
	for (unsigned i = 0; i < 16; i++)
		if (c->b[i])
			return false;
	return true;
}
