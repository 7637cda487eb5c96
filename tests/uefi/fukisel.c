/* tests/uefi/fukisel.c: see fukisel.h.  Written from the rules in
 * docs/uki.md (systemd-stub pe.c, efi-firmware.c, chid.c, smbios.c and
 * chid-fundamental.c, as fukivmm's loader/ applies them). */
#include "tests/uefi/fukisel.h"

#include "tests/uefi/sha1.h"

/* ---- helpers ---- */

uint16_t fk_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t fk_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t fk_le64(const uint8_t *p)
{
	return (uint64_t)fk_le32(p) | (uint64_t)fk_le32(p + 4) << 32;
}

void fk_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void fk_put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int fk_memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

void fk_memcpy(void *d, const void *s, size_t n)
{
	uint8_t *x = d;
	const uint8_t *y = s;

	while (n--)
		*x++ = *y++;
}

void fk_memset(void *d, int c, size_t n)
{
	uint8_t *x = d;

	while (n--)
		*x++ = (uint8_t)c;
}

size_t fk_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static const uint8_t *fk_memchr0(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!p[i])
			return p + i;
	return NULL;
}

static int fk_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* EFI_GUID memory layout (mixed endian) -> RFC 4122 byte order */
static void guid_to_rfc(const uint8_t *g, uint8_t out[16])
{
	static const uint8_t swap[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

	for (unsigned i = 0; i < 16; i++)
		out[i] = g[swap[i]];
}

/* ---- PE ---- */

#define PE_DOS_HDR 64
#define PE_COFF_HDR 20
#define PE_SECTION_HDR 40

bool fk_section_is(const struct fk_section *s, const char *name)
{
	/* the 8 header bytes, compared as strncmp(.., .., 8) */
	for (unsigned i = 0; i < 8; i++) {
		if (s->name[i] != name[i])
			return false;
		if (!name[i])
			return true;
	}
	return true;
}

void fk_uki_section(const struct fk_uki *u, unsigned i, struct fk_section *s)
{
	const uint8_t *h = u->buf + u->table + (size_t)i * PE_SECTION_HDR;

	fk_memcpy(s->name, h, 8);
	s->name[8] = '\0';
	s->vsize = fk_le32(h + 8);
	s->vaddr = fk_le32(h + 12);
	s->raw_size = fk_le32(h + 16);
	s->raw_off = fk_le32(h + 20);
	s->size = s->raw_size < s->vsize ? s->raw_size : s->vsize;
	s->data = u->buf + s->raw_off;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

int fk_uki_parse(const uint8_t *buf, size_t len, struct fk_uki *u, const char **why)
{
	uint32_t lfanew, nsec, optlen, magic, machine;
	const uint8_t *coff;

	fk_memset(u, 0, sizeof(*u));
	u->buf = buf;
	u->len = len;
	u->hwids = -1;
	if (!buf || len < PE_DOS_HDR || buf[0] != 'M' || buf[1] != 'Z') {
		*why = "not a PE file (no MZ header)";
		return -1;
	}
	lfanew = fk_le32(buf + 0x3c);
	if (lfanew < PE_DOS_HDR || (uint64_t)lfanew + 4 + PE_COFF_HDR + 2 > len) {
		*why = "PE header offset outside the file";
		return -1;
	}
	if (fk_memcmp(buf + lfanew, "PE\0\0", 4)) {
		*why = "no PE signature";
		return -1;
	}
	coff = buf + lfanew + 4;
	machine = fk_le16(coff);
	nsec = fk_le16(coff + 2);
	optlen = fk_le16(coff + 16);
	magic = fk_le16(coff + PE_COFF_HDR);
	if (nsec == 0) {
		*why = "PE file without sections";
		return -1;
	}
	if (magic != 0x20b && magic != 0x10b) {
		*why = "optional header is neither PE32+ nor PE32";
		return -1;
	}
	if (machine != 0x8664) {
		*why = "not an x86-64 image";
		return -1;
	}
	if (nsec > FK_PE_MAX_SECTIONS) {
		*why = "more than 1024 sections";
		return -1;
	}
	u->table = lfanew + 4 + PE_COFF_HDR + optlen;
	if ((uint64_t)nsec * PE_SECTION_HDR > FK_SECTION_TABLE_MAX ||
	    (uint64_t)u->table + (uint64_t)nsec * PE_SECTION_HDR > len) {
		*why = "section table runs past the end of the file";
		return -1;
	}
	u->nsec = nsec;
	u->nbase = nsec;
	for (unsigned i = 0; i < nsec; i++) {
		struct fk_section s, o;

		fk_uki_section(u, i, &s);
		if ((uint64_t)s.raw_off + s.size > len) {
			*why = "section data runs past the end of the file";
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			fk_uki_section(u, j, &o);
			if (overlap(s.raw_off, s.size, o.raw_off, o.size) ||
			    overlap(s.vaddr, s.vsize, o.vaddr, o.vsize)) {
				*why = "sections overlap";
				return -1;
			}
		}
		if (fk_section_is(&s, ".profile") && u->nbase == nsec)
			u->nbase = i;
	}
	for (unsigned i = 0; i < u->nbase; i++) {
		struct fk_section s;

		fk_uki_section(u, i, &s);
		if (u->hwids < 0 && fk_section_is(&s, ".hwids"))
			u->hwids = (int)i;
		if (fk_section_is(&s, ".efifw"))
			u->nefifw++;
	}
	return 0;
}

/* ---- .efifw ---- */

void fk_efifw_parse(const struct fk_section *s, unsigned idx, struct fk_efifw *f)
{
	const uint8_t *b = s->data;
	uint64_t total;

	fk_memset(f, 0, sizeof(*f));
	f->section = idx;
	/* sd-stub requires alignof(EfiFwHeader) == 8 */
	if (s->vaddr % 8) {
		f->why = "section address not 8-byte aligned";
		return;
	}
	if (s->size < FK_EFIFW_HDR_MIN) {
		f->why = "shorter than the 16-byte header";
		return;
	}
	if (fk_le32(b) != FK_EFIFW_MAGIC) {
		f->why = "bad magic (not 0xfeeddead)";
		return;
	}
	f->header_len = fk_le32(b + 4);
	f->fwid_len = fk_le32(b + 8);
	f->payload_len = fk_le32(b + 12);
	if (f->header_len < FK_EFIFW_HDR_MIN) {
		f->why = "header_len below 16";
		return;
	}
	total = (uint64_t)f->header_len + f->fwid_len + f->payload_len;
	if (total > s->size) {
		f->why = "header, fwid and payload run past the section";
		return;
	}
	if (f->fwid_len == 0 ||
	    fk_memchr0(b + f->header_len, f->fwid_len) != b + f->header_len + f->fwid_len - 1) {
		f->why = "fwid is not a NUL-terminated string of fwid_len bytes";
		return;
	}
	f->fwid = (const char *)b + f->header_len;
	f->payload = b + f->header_len + f->fwid_len;
	f->valid = true;
}

bool fk_efifw_nth(const struct fk_uki *u, unsigned n, struct fk_efifw *f)
{
	unsigned k = 0;

	for (unsigned i = 0; i < u->nbase; i++) {
		struct fk_section s;

		fk_uki_section(u, i, &s);
		if (!fk_section_is(&s, ".efifw"))
			continue;
		if (k++ == n) {
			fk_efifw_parse(&s, i, f);
			return true;
		}
	}
	return false;
}

/* ---- .hwids ---- */

int fk_hwids_check(const uint8_t *buf, size_t len, unsigned *n, const char **why)
{
	size_t i;

	*n = 0;
	*why = NULL;
	/* sd-stub: records are read while more bytes follow them */
	for (i = 0; (i + 1) * FK_HWID_LEN < len; i++) {
		const uint8_t *d = buf + i * FK_HWID_LEN;
		uint32_t desc = fk_le32(d), type = desc >> 28;
		uint32_t name_off = fk_le32(d + 20), str_off = fk_le32(d + 24);

		if (desc == 0)
			break;
		if (type != FK_HWID_DEVICETREE && type != FK_HWID_UEFI_FW) {
			*why = "a record of unknown type";
			return -1;
		}
		if (str_off >= len || name_off >= len) {
			*why = "a string offset past the end of the section";
			return -1;
		}
		if ((str_off && !fk_memchr0(buf + str_off, len - str_off)) ||
		    (name_off && !fk_memchr0(buf + name_off, len - name_off))) {
			*why = "a string not NUL-terminated inside the section";
			return -1;
		}
	}
	*n = (unsigned)i;
	if (i == 0) {
		*why = "no records";
		return -2;
	}
	return 0;
}

void fk_hwid_at(const uint8_t *buf, unsigned i, struct fk_hwid *h)
{
	const uint8_t *d = buf + (size_t)i * FK_HWID_LEN;
	uint32_t name_off = fk_le32(d + 20), str_off = fk_le32(d + 24);

	h->type = fk_le32(d) >> 28;
	guid_to_rfc(d + 4, h->chid);
	h->name = name_off ? (const char *)buf + name_off : NULL;
	h->str = str_off ? (const char *)buf + str_off : NULL;
}

/* ---- SMBIOS ---- */

struct smb {
	uint8_t type, length;
	const uint8_t *data, *strings;
	size_t strings_len, total;
};

/* 1 a structure, 0 the end (type 127 or no room), -1 malformed */
static int smb_at(const uint8_t *tab, size_t len, size_t off, struct smb *s)
{
	const uint8_t *p, *end, *q;

	if (off >= len || len - off < 4)
		return 0;
	p = tab + off;
	end = tab + len;
	s->type = p[0];
	s->length = p[1];
	if (s->length < 4 || s->length > (size_t)(end - p))
		return -1;
	s->data = p;
	s->strings = p + s->length;
	for (q = s->strings; q + 1 < end; q++) {
		if (q[0] == 0 && q[1] == 0) {
			s->strings_len = (size_t)(q + 2 - s->strings);
			s->total = s->length + s->strings_len;
			return s->type == 127 ? 0 : 1;
		}
	}
	return -1;
}

static const char *smb_string(const struct smb *s, unsigned n)
{
	const uint8_t *p = s->strings;
	size_t left = s->strings_len;

	if (n == 0)
		return NULL;
	for (unsigned i = 1; left > 0 && *p; i++) {
		const uint8_t *e = fk_memchr0(p, left);

		if (!e)
			return NULL;
		if (i == n)
			return (const char *)p;
		left -= (size_t)(e + 1 - p);
		p = e + 1;
	}
	return NULL;
}

bool fk_smbios_parse(const uint8_t *tab, size_t len, struct fk_smbios *out)
{
	struct smb s;
	size_t off = 0;
	int r;

	fk_memset(out, 0, sizeof(*out));
	while ((r = smb_at(tab, len, off, &s)) == 1) {
		if (s.type <= 3 && !out->types_seen[s.type]) {
			out->types_seen[s.type] = true;
			/* a structure shorter than systemd's struct counts as absent */
			if (s.type == 0 && s.length >= 0x14) {
				out->bios_vendor = smb_string(&s, s.data[0x04]);
				out->bios_version = smb_string(&s, s.data[0x05]);
				if (s.length >= 0x16) {
					out->bios_release = true;
					out->bios_major = s.data[0x14];
					out->bios_minor = s.data[0x15];
				}
			} else if (s.type == 1 && s.length >= 0x1b) {
				out->manufacturer = smb_string(&s, s.data[0x04]);
				out->product = smb_string(&s, s.data[0x05]);
				out->sku = smb_string(&s, s.data[0x19]);
				out->family = smb_string(&s, s.data[0x1a]);
			} else if (s.type == 2 && s.length >= 0x08) {
				out->board_manufacturer = smb_string(&s, s.data[0x04]);
				out->board_product = smb_string(&s, s.data[0x05]);
			}
		}
		if (out->types_seen[0] && out->types_seen[1] && out->types_seen[2] && out->types_seen[3])
			return true;
		off += s.total;
	}
	return r == 0;
}

/* ---- CHIDs ---- */

enum { F_MFR, F_FAMILY, F_PRODUCT, F_SKU, F_BOARD_MFR, F_BOARD_PRODUCT, F_BIOS_VENDOR,
       F_BIOS_VERSION, F_BIOS_MAJOR, F_BIOS_MINOR, F_ENCLOSURE, F_EDID, F_MAX };

#define B(f) (UINT32_C(1) << (f))
/* Microsoft ComputerHardwareIds HardwareID-0..14, then systemd's EDID extras */
static const uint32_t chid_fields[FK_CHID_TYPES] = {
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT) | B(F_SKU) | B(F_BIOS_VENDOR) | B(F_BIOS_VERSION) |
		B(F_BIOS_MAJOR) | B(F_BIOS_MINOR),
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT) | B(F_BIOS_VENDOR) | B(F_BIOS_VERSION) |
		B(F_BIOS_MAJOR) | B(F_BIOS_MINOR),
	B(F_MFR) | B(F_PRODUCT) | B(F_BIOS_VENDOR) | B(F_BIOS_VERSION) | B(F_BIOS_MAJOR) |
		B(F_BIOS_MINOR),
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT) | B(F_SKU) | B(F_BOARD_MFR) | B(F_BOARD_PRODUCT),
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT) | B(F_SKU),
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT),
	B(F_MFR) | B(F_SKU) | B(F_BOARD_MFR) | B(F_BOARD_PRODUCT),
	B(F_MFR) | B(F_SKU),
	B(F_MFR) | B(F_PRODUCT) | B(F_BOARD_MFR) | B(F_BOARD_PRODUCT),
	B(F_MFR) | B(F_PRODUCT),
	B(F_MFR) | B(F_FAMILY) | B(F_BOARD_MFR) | B(F_BOARD_PRODUCT),
	B(F_MFR) | B(F_FAMILY),
	B(F_MFR) | B(F_ENCLOSURE),
	B(F_MFR) | B(F_BOARD_MFR) | B(F_BOARD_PRODUCT),
	B(F_MFR),
	B(F_MFR) | B(F_FAMILY) | B(F_PRODUCT) | B(F_EDID),
	B(F_MFR) | B(F_FAMILY) | B(F_EDID),
	B(F_MFR) | B(F_SKU) | B(F_EDID),
};

const unsigned fk_chid_priority[FK_CHID_PRIORITY_LEN] = { 17, 16, 15, 3, 6, 8, 10, 4, 5, 7, 9, 11 };

/* 70ffd812-4c7f-4c7d-0000-000000000000 as systemd hashes it (EFI_GUID in memory) */
static const uint8_t chid_ns[16] = { 0x70, 0xff, 0xd8, 0x12, 0x4c, 0x7f, 0x4c, 0x7d };

struct out {
	uint8_t *buf;
	size_t cap, len;
};

static void put(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++, o->len++)
		if (o->len < o->cap)
			o->buf[o->len] = p[i];
}

static void put_u16(struct out *o, uint32_t c)
{
	uint8_t b[2] = { (uint8_t)c, (uint8_t)(c >> 8) };

	put(o, b, 2);
}

/* One UTF-8 sequence as systemd's utf8_to_unichar() reads it; the return
 * value is how many bytes it claims, *c is UINT32_MAX when invalid. */
static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *c)
{
	size_t len;
	uint32_t u;

	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		u = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		u = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		u = s[0] & 0x07;
	} else if ((s[0] & 0xfc) == 0xf8) {
		len = 5;
		u = s[0] & 0x03;
	} else if ((s[0] & 0xfe) == 0xfc) {
		len = 6;
		u = s[0] & 0x01;
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

/* systemd smbios_to_hashable_string(): leading ' ', then leading '0',
 * trailing ' ' removed; NULL hashes as "".  UCS-2LE without surrogates. */
static void put_field(struct out *o, const char *str)
{
	const uint8_t *p = (const uint8_t *)(str ? str : "");
	size_t n;

	while (*p == ' ')
		p++;
	while (*p == '0')
		p++;
	n = fk_strlen((const char *)p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	while (n > 0) {
		uint32_t c;
		size_t l = utf8_next(p, n, &c);

		if (l > n)
			l = n;
		p += l;
		n -= l;
		if (c <= 0xd7ff || (c >= 0xe000 && c <= 0xffff))
			put_u16(o, c);
	}
}

static const char hexd[] = "0123456789abcdef";

size_t fk_chid_message(const struct fk_smbios *s, unsigned type, uint8_t *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	uint32_t mask;

	if (type >= FK_CHID_TYPES)
		return 0;
	mask = chid_fields[type];
	/* sd-stub never fills in the enclosure type or an EDID panel id; the
	 * BIOS release only when type 0 has the bytes */
	if (mask & (B(F_ENCLOSURE) | B(F_EDID)))
		return 0;
	if ((mask & (B(F_BIOS_MAJOR) | B(F_BIOS_MINOR))) && !s->bios_release)
		return 0;
	put(&o, chid_ns, sizeof(chid_ns));
	for (unsigned f = 0; f < F_MAX; f++) {
		const char *v = NULL;

		if (!(mask & B(f)))
			continue;
		if (f > 0)
			put_u16(&o, '&');
		switch (f) {
		case F_MFR: v = s->manufacturer; break;
		case F_FAMILY: v = s->family; break;
		case F_PRODUCT: v = s->product; break;
		case F_SKU: v = s->sku; break;
		case F_BOARD_MFR: v = s->board_manufacturer; break;
		case F_BOARD_PRODUCT: v = s->board_product; break;
		case F_BIOS_VENDOR: v = s->bios_vendor; break;
		case F_BIOS_VERSION: v = s->bios_version; break;
		case F_BIOS_MAJOR:
		case F_BIOS_MINOR: {
			/* "%02x", not trimmed */
			uint8_t b = f == F_BIOS_MAJOR ? s->bios_major : s->bios_minor;

			put_u16(&o, (uint8_t)hexd[b >> 4]);
			put_u16(&o, (uint8_t)hexd[b & 15]);
			continue;
		}
		}
		put_field(&o, v);
	}
	return o.len;
}

void fk_chid_from_sha1(const uint8_t sha1[20], uint8_t chid[16])
{
	fk_memcpy(chid, sha1, 16);
	chid[6] = (uint8_t)((chid[6] & 0x0f) | 0x50);   /* RFC 4122 version 5 */
	chid[8] = (uint8_t)((chid[8] & 0x3f) | 0x80);   /* variant 10x */
}

/* ---- the choice ---- */

void fk_select(const struct fk_uki *u, const uint8_t chids[FK_CHID_TYPES][16], struct fk_choice *c)
{
	struct fk_section hs;
	unsigned n;

	fk_memset(c, 0, sizeof(*c));
	c->hwid = -1;
	c->efifw = -1;
	if (u->nefifw == 0) {
		c->result = FK_NO_EFIFW;
		c->why = "the UKI has no .efifw section";
		return;
	}
	if (u->hwids < 0) {
		c->result = FK_NO_HWIDS;
		c->why = "the UKI has no .hwids section";
		return;
	}
	fk_uki_section(u, (unsigned)u->hwids, &hs);
	if (hs.vaddr % 4) {
		c->result = FK_BAD_HWIDS;
		c->why = "the .hwids section address is not 4-byte aligned";
		return;
	}
	if (fk_hwids_check(hs.data, hs.size, &n, &c->why)) {
		c->result = FK_BAD_HWIDS;
		return;
	}
	for (unsigned p = 0; p < FK_CHID_PRIORITY_LEN; p++) {
		unsigned t = fk_chid_priority[p];

		/* all-zero CHIDs (types not computable) are compared too, as sd-stub does */
		for (unsigned i = 0; i < n; i++) {
			struct fk_hwid h;

			fk_hwid_at(hs.data, i, &h);
			if (h.type != FK_HWID_UEFI_FW || fk_memcmp(h.chid, chids[t], 16))
				continue;
			c->hwid = (int)i;
			c->chid_type = t;
			c->rec = h;
			for (unsigned k = 0; k < u->nefifw; k++) {
				struct fk_efifw f;

				if (fk_efifw_nth(u, k, &f) && f.valid && h.str && !fk_strcmp(f.fwid, h.str)) {
					c->efifw = (int)k;
					c->fw = f;
					c->result = FK_CHOSEN;
					return;
				}
			}
			c->result = FK_NO_FWID;
			c->why = "no valid .efifw carries the fwid the matching record names";
			return;
		}
	}
	c->result = FK_NO_MATCH;
	c->why = "no uefi-fw record of .hwids matches this machine's CHIDs";
}

bool fk_payload_is_igvm(const uint8_t *p, size_t len)
{
	return len >= 4 && fk_le32(p) == 0x4D564749u;
}

/* ---- hand-over record ----
 *  0 magic[8]  8 u32 version 1  12 u32 size 96  16 u64 control
 * 24 u64 payload_len  32 payload SHA-1[20]  52 u32 0  56 fwid[32]
 * 88 check[8] = SHA-1(bytes 8..88)[0..8] */

static void handover_check_bytes(const uint8_t *rec, uint8_t out[8])
{
	uint8_t h[FK_SHA1_LEN];

	fk_sha1(rec + 8, 80, h);
	fk_memcpy(out, h, 8);
}

void fk_handover_build(uint8_t *rec, uint64_t control, uint64_t payload_len,
		       const uint8_t payload_sha1[20], const char *fwid)
{
	size_t n = fwid ? fk_strlen(fwid) : 0;

	fk_memset(rec, 0, FK_HANDOVER_SIZE);
	fk_memcpy(rec, FK_HANDOVER_MAGIC, 8);
	rec[8] = 1;
	rec[12] = FK_HANDOVER_SIZE;
	fk_put_le64(rec + 16, control);
	fk_put_le64(rec + 24, payload_len);
	fk_memcpy(rec + 32, payload_sha1, FK_SHA1_LEN);
	if (n > 31)
		n = 31;
	if (n)
		fk_memcpy(rec + 56, fwid, n);
	handover_check_bytes(rec, rec + 88);
}

enum fk_handover_state fk_handover_check(const uint8_t *rec, uint64_t size)
{
	uint8_t chk[8];

	if (size != FK_HANDOVER_SIZE || fk_le32(rec + 8) != 1 || fk_le32(rec + 12) != FK_HANDOVER_SIZE)
		return FK_HO_INVALID;
	handover_check_bytes(rec, chk);
	if (fk_memcmp(chk, rec + 88, 8))
		return FK_HO_INVALID;
	if (!fk_memcmp(rec, FK_HANDOVER_MAGIC, 8))
		return FK_HO_LIVE;
	if (!fk_memcmp(rec, FK_HANDOVER_USED, 8))
		return FK_HO_USED;
	return FK_HO_INVALID;
}

bool fk_handover_names(const uint8_t *rec, uint64_t payload_len, const uint8_t payload_sha1[20])
{
	return fk_le64(rec + 24) == payload_len && !fk_memcmp(rec + 32, payload_sha1, FK_SHA1_LEN);
}

uint64_t fk_handover_control(const uint8_t *rec)
{
	return fk_le64(rec + 16);
}

void fk_handover_mark_used(uint8_t *rec)
{
	fk_memcpy(rec, FK_HANDOVER_USED, 8);
}

void fk_handover_fwid(const uint8_t *rec, char out[32])
{
	fk_memcpy(out, rec + 56, 31);
	out[31] = '\0';
}
