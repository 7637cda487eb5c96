/* tests/unit/test_uki.c: the UKI reader (loader/uki.c) on synthetic PE
 * files built here: valid images, truncation at every length, overlapping
 * sections, bad .efifw headers, bad .hwids records, and the firmware choice
 * in systemd-stub's CHID priority order. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/chid.h"
#include "loader/uki.h"
#include "vmm/base/le.h"

struct tsec {
	const char *name;
	const uint8_t *data;
	size_t len;
	uint32_t vaddr;          /* 0: assigned */
	uint32_t raw_off;        /* 0: assigned */
};

/* DOS header at 0, PE header at 0x40, PE32+ optional header of 240 bytes,
 * section table, section data from 0x400 on, 0x200-aligned. */
static uint8_t *build_pe(const struct tsec *s, unsigned n, size_t *len)
{
	size_t off = 0x400, tab = 0x40 + 4 + 20 + 240;
	uint32_t va = 0x1000;
	uint8_t *b;

	for (unsigned i = 0; i < n; i++)
		off += (s[i].len + 0x1FF) & ~(size_t)0x1FF;
	b = calloc(1, off);
	cr_assert_not_null(b);
	b[0] = 'M';
	b[1] = 'Z';
	le_wr32(b + 0x3C, 0x40);
	memcpy(b + 0x40, "PE\0\0", 4);
	le_wr16(b + 0x44, UKI_MACHINE_X64);
	le_wr16(b + 0x46, (uint16_t)n);
	le_wr16(b + 0x54, 240);
	le_wr16(b + 0x58, UKI_OPT_MAGIC_PE32P);
	off = 0x400;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *h = b + tab + 40 * i;
		uint32_t ro = s[i].raw_off ? s[i].raw_off : (uint32_t)off;

		strncpy((char *)h, s[i].name, 8);
		le_wr32(h + 8, (uint32_t)s[i].len);
		le_wr32(h + 12, s[i].vaddr ? s[i].vaddr : va);
		le_wr32(h + 16, (uint32_t)s[i].len);
		le_wr32(h + 20, ro);
		if (s[i].len)
			memcpy(b + ro, s[i].data, s[i].len);
		off += (s[i].len + 0x1FF) & ~(size_t)0x1FF;
		va += ((uint32_t)s[i].len + 0xFFF) & ~0xFFFu;
		va += 0x1000;
	}
	*len = off;
	return b;
}

/* .efifw blob: header (16 or 32 bytes), fwid + NUL, payload. */
static size_t make_efifw(uint8_t *out, const char *fwid, const uint8_t *payload, uint32_t plen,
			 bool with_chid)
{
	uint32_t hl = with_chid ? 32 : 16, fl = (uint32_t)strlen(fwid) + 1;

	memset(out, 0, hl);
	le_wr32(out, UKI_EFIFW_MAGIC);
	le_wr32(out + 4, hl);
	le_wr32(out + 8, fl);
	le_wr32(out + 12, plen);
	if (with_chid)
		memset(out + 16, 0x5a, 16);
	memcpy(out + hl, fwid, fl);
	memcpy(out + hl + fl, payload, plen);
	return hl + fl + plen;
}

struct trec {
	uint32_t type;
	const char *chid, *name, *str;
};

/* .hwids: records, zero terminator, strings after it. */
static size_t make_hwids(uint8_t *out, const struct trec *r, unsigned n)
{
	size_t soff = (n + 1) * UKI_HWID_LEN;

	memset(out, 0, soff);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = out + i * UKI_HWID_LEN;
		struct chid c;

		cr_assert_eq(chid_parse(r[i].chid, &c), 0);
		le_wr32(d, UKI_HWID_DESC(r[i].type));
		chid_to_efi_guid(&c, d + 4);
		le_wr32(d + 20, (uint32_t)soff);
		memcpy(out + soff, r[i].name, strlen(r[i].name) + 1);
		soff += strlen(r[i].name) + 1;
		le_wr32(d + 24, (uint32_t)soff);
		memcpy(out + soff, r[i].str, strlen(r[i].str) + 1);
		soff += strlen(r[i].str) + 1;
	}
	return soff;
}

static const uint8_t fw_a[] = "firmware A payload bytes";
static const uint8_t fw_b[] = "firmware B payload, longer than the other one";
static const uint8_t kernel[] = "not really a kernel";
static const uint8_t cmdline[] = "console=ttyS0";

/* CHIDs of a machine: types 3 and 5 and 14 set, the rest distinct. */
static void machine(struct chid_set *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned t = 0; t < 15; t++) {
		memset(s->id[t].b, 0x10 + t, 16);
		s->valid[t] = true;
	}
	cr_assert_eq(chid_parse("c10f178a-25dd-5553-b4fb-9e851de986be", &s->id[3]), 0);
	cr_assert_eq(chid_parse("d432347e-ef7b-50f7-8d78-0c30bf77f5fd", &s->id[5]), 0);
	cr_assert_eq(chid_parse("a705cce8-853b-5593-8061-ab3fec6a6dde", &s->id[14]), 0);
}

static uint8_t *valid_uki(size_t *len, const struct trec *recs, unsigned nrec)
{
	static uint8_t e1[256], e2[256], hw[1024];
	size_t l1 = make_efifw(e1, "fw-a", fw_a, sizeof(fw_a), false);
	size_t l2 = make_efifw(e2, "fw-b", fw_b, sizeof(fw_b), true);
	size_t lh = make_hwids(hw, recs, nrec);
	struct tsec s[] = {
		{ ".linux", kernel, sizeof(kernel), 0, 0 },
		{ ".cmdline", cmdline, sizeof(cmdline), 0, 0 },
		{ ".efifw", e1, l1, 0, 0 },
		{ ".efifw", e2, l2, 0, 0 },
		{ ".hwids", hw, lh, 0, 0 },
	};

	return build_pe(s, 5, len);
}

static const struct trec two_recs[] = {
	{ UKI_HWID_TYPE_UEFI_FW, "d432347e-ef7b-50f7-8d78-0c30bf77f5fd", "generic", "fw-a" },
	{ UKI_HWID_TYPE_UEFI_FW, "c10f178a-25dd-5553-b4fb-9e851de986be", "specific", "fw-b" },
};

Test(uki, valid_sections_and_selection_priority)
{
	size_t len;
	uint8_t *b = valid_uki(&len, two_recs, 2);
	struct uki u;
	struct chid_set m;
	struct uki_choice c;
	char err[256];

	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(u.nsec, 5);
	cr_assert_eq(u.known[UKI_LINUX], 0);
	cr_assert_eq(u.known[UKI_CMDLINE], 1);
	cr_assert_eq(u.known[UKI_INITRD], -1);
	cr_assert_eq(u.known[UKI_HWIDS], 4);
	cr_assert_eq(u.sec[1].size, sizeof(cmdline));
	cr_assert_eq(memcmp(u.sec[1].data, cmdline, sizeof(cmdline)), 0);
	cr_assert_eq(u.nfw, 2);
	cr_assert(u.fw[0].valid && u.fw[1].valid);
	cr_assert_str_eq(u.fw[0].fwid, "fw-a");
	cr_assert_str_eq(u.fw[1].fwid, "fw-b");
	cr_assert_eq(u.fw[1].payload_len, sizeof(fw_b));
	cr_assert_eq(memcmp(u.fw[1].payload, fw_b, sizeof(fw_b)), 0);
	cr_assert(!u.fw[0].has_chid);
	cr_assert(u.fw[1].has_chid);
	cr_assert_eq(u.hwids_err, 0);
	cr_assert_eq(u.nhw, 2);
	cr_assert_str_eq(u.hw[0].name, "generic");
	cr_assert_str_eq(u.hw[1].str, "fw-b");
	cr_assert_eq(uki_find_fwid(&u, "fw-b"), 1);
	cr_assert_eq(uki_find_fwid(&u, "fw-c"), -1);

	/* type 3 comes before type 5 in sd-stub's priority list, whatever the
	 * record order */
	machine(&m);
	cr_assert_eq(uki_select(&u, &m, &c), 1);
	cr_assert_eq(c.chid_type, 3);
	cr_assert_eq(c.hwid, 1);
	cr_assert_eq(c.efifw, 1);

	/* without the type 3 match, type 5 picks fw-a */
	memset(m.id[3].b, 0xee, 16);
	cr_assert_eq(uki_select(&u, &m, &c), 1);
	cr_assert_eq(c.chid_type, 5);
	cr_assert_eq(c.efifw, 0);

	/* nothing matches: type 14 alone is not in the priority list */
	memset(m.id[5].b, 0xee, 16);
	memcpy(m.id[14].b, m.id[3].b, 16);
	cr_assert_eq(uki_select(&u, &m, &c), 0);
	cr_assert_eq(c.hwid, -1);
	uki_free(&u);
	free(b);
}

Test(uki, record_without_firmware_and_zero_chid_quirk)
{
	static const struct trec r[] = {
		{ UKI_HWID_TYPE_DEVICETREE, "c10f178a-25dd-5553-b4fb-9e851de986be", "dt", "acme,board" },
		{ UKI_HWID_TYPE_UEFI_FW, "d432347e-ef7b-50f7-8d78-0c30bf77f5fd", "gone", "fw-x" },
	};
	static const struct trec z[] = {
		{ UKI_HWID_TYPE_UEFI_FW, "00000000-0000-0000-0000-000000000000", "zero", "fw-a" },
	};
	size_t len;
	uint8_t *b = valid_uki(&len, r, 2);
	struct uki u;
	struct chid_set m;
	struct uki_choice c;
	char err[256];

	machine(&m);
	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	/* the devicetree record is skipped for firmware; the uefi-fw one
	 * matches but names no .efifw */
	cr_assert_eq(uki_select(&u, &m, &c), 0);
	cr_assert_eq(c.hwid, 1);
	cr_assert_eq(c.chid_type, 5);
	cr_assert_eq(c.efifw, -1);
	uki_free(&u);
	free(b);

	/* sd-stub compares the all-zero CHIDs of uncomputable types (15-17
	 * without EDID): a zero record matches them first */
	b = valid_uki(&len, z, 1);
	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(uki_select(&u, &m, &c), 1);
	cr_assert_eq(c.chid_type, CHID_EXTRA_BASE + 2);
	cr_assert_eq(c.efifw, 0);
	uki_free(&u);
	free(b);
}

Test(uki, truncated_at_every_length)
{
	size_t len;
	uint8_t *b = valid_uki(&len, two_recs, 2);
	struct uki u;
	char err[256];
	size_t end;

	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	end = u.sec[u.nsec - 1].raw_off + u.sec[u.nsec - 1].size;
	uki_free(&u);
	for (size_t n = 0; n <= len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int r;

		memcpy(copy, b, n);
		/* exact-size copies: ASan (unit-san) catches any read past n */
		r = uki_parse(copy, n, &u, err, sizeof(err));
		if (n < end) {
			cr_assert_neq(r, 0, "prefix %zu accepted", n);
			cr_assert_null(u.sec);
		} else {
			cr_assert_eq(r, 0, "prefix %zu: %s", n, err);
			cr_assert_eq(u.nfw, 2);
			uki_free(&u);
		}
		free(copy);
	}
	free(b);
}

Test(uki, bad_headers)
{
	size_t len;
	uint8_t *b = valid_uki(&len, two_recs, 2);
	uint8_t *c = malloc(len);
	struct uki u;
	char err[256];

	struct { size_t off; uint8_t val; const char *want; } cases[] = {
		{ 0, 'X', "MZ" },
		{ 0x3C, 0x20, "PE header offset" },
		{ 0x40, 'Q', "PE signature" },
		{ 0x44, 0x4c, "machine" },
		{ 0x46, 0, "no sections" },
		{ 0x58, 0x0c, "magic" },
		{ 0x55, 0xff, "section table" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(c, b, len);
		c[cases[i].off] = cases[i].val;
		if (cases[i].off == 0x46)
			c[0x47] = 0;
		cr_assert_eq(uki_parse(c, len, &u, err, sizeof(err)), -EINVAL, "case %zu", i);
		cr_assert(strstr(err, cases[i].want), "case %zu: '%s' lacks '%s'", i, err,
			  cases[i].want);
	}
	free(c);
	free(b);
}

Test(uki, overlapping_sections)
{
	struct tsec s[] = {
		{ ".linux", kernel, sizeof(kernel), 0x1000, 0x400 },
		{ ".cmdline", cmdline, sizeof(cmdline), 0x3000, 0x408 },
	};
	struct tsec v[] = {
		{ ".linux", kernel, sizeof(kernel), 0x1000, 0x400 },
		{ ".cmdline", cmdline, sizeof(cmdline), 0x1010, 0x600 },
	};
	size_t len;
	uint8_t *b = build_pe(s, 2, &len);
	struct uki u;
	char err[256];

	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "overlap"), "%s", err);
	free(b);
	b = build_pe(v, 2, &len);
	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "overlap"), "%s", err);
	free(b);
}

Test(uki, efifw_header_validation)
{
	uint8_t blob[256];
	struct uki_efifw f;
	size_t n = make_efifw(blob, "id", fw_a, sizeof(fw_a), false);

	cr_assert_eq(uki_efifw_parse(blob, n, &f), 0);
	cr_assert_str_eq(f.fwid, "id");
	cr_assert_eq(uki_efifw_parse(blob, n - 1, &f), -EINVAL, "payload past the end");
	cr_assert_eq(uki_efifw_parse(blob, 15, &f), -EINVAL);

	blob[0] ^= 1;
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	cr_assert(strstr(f.why, "magic"));
	blob[0] ^= 1;

	le_wr32(blob + 4, 12);                          /* header_len < 16 */
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	le_wr32(blob + 4, 16);

	le_wr32(blob + 12, 0xFFFFFFFFu);                /* sizes overflow 32 bits */
	le_wr32(blob + 8, 0xFFFFFFFFu);
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	le_wr32(blob + 8, 3);
	le_wr32(blob + 12, sizeof(fw_a));

	le_wr32(blob + 8, 0);                           /* fwid_len 0 */
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	le_wr32(blob + 8, 2);                           /* no NUL at its end */
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	le_wr32(blob + 8, 3);
	blob[17] = 0;                               /* NUL inside the fwid */
	cr_assert_eq(uki_efifw_parse(blob, n, &f), -EINVAL);
	blob[17] = 'd';
	cr_assert_eq(uki_efifw_parse(blob, n, &f), 0);

	n = make_efifw(blob, "cap", fw_a, sizeof(fw_a), true);
	cr_assert_eq(uki_efifw_parse(blob, n, &f), 0);
	cr_assert(f.has_chid);
	cr_assert_eq(f.chid.b[0], 0x5a);
	memset(blob + 16, 0, 16);                   /* zero CHID: not a capsule */
	cr_assert_eq(uki_efifw_parse(blob, n, &f), 0);
	cr_assert(!f.has_chid);
}

Test(uki, bad_efifw_is_skipped_not_fatal)
{
	static uint8_t e[64];
	size_t l = make_efifw(e, "fw-a", fw_a, sizeof(fw_a), false);
	struct tsec s[] = { { ".efifw", e, l, 0, 0 } };
	size_t len;
	uint8_t *b;
	struct uki u;
	char err[256];

	e[0] = 0;
	b = build_pe(s, 1, &len);
	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(u.nfw, 1);
	cr_assert(!u.fw[0].valid);
	cr_assert_eq(uki_find_fwid(&u, "fw-a"), -1);
	uki_free(&u);
	free(b);
}

Test(uki, hwids_validation)
{
	uint8_t h[512];
	struct uki_hwid *hw;
	unsigned n;
	const char *why;
	size_t len = make_hwids(h, two_recs, 2);

	cr_assert_eq(uki_hwids_parse(h, len, &hw, &n, &why), 0);
	cr_assert_eq(n, 2);
	free(hw);

	le_wr32(h + 24, (uint32_t)len);                 /* offset == section size */
	cr_assert_eq(uki_hwids_parse(h, len, &hw, &n, &why), -EINVAL);
	free(hw);
	le_wr32(h + 24, 3 * UKI_HWID_LEN);

	/* last string unterminated inside the section */
	cr_assert_eq(uki_hwids_parse(h, len - 1, &hw, &n, &why), -EINVAL);
	cr_assert(strstr(why, "NUL"));
	free(hw);

	le_wr32(h, UKI_HWID_DESC(7));                   /* unknown type */
	cr_assert_eq(uki_hwids_parse(h, len, &hw, &n, &why), -EOPNOTSUPP);
	free(hw);
	le_wr32(h, UKI_HWID_DESC(UKI_HWID_TYPE_UEFI_FW));

	memset(h, 0, UKI_HWID_LEN);                 /* terminator first */
	cr_assert_eq(uki_hwids_parse(h, len, &hw, &n, &why), -ENOENT);
	free(hw);

	/* sd-stub reads a record only while more bytes follow it: a lone
	 * 28-byte record without terminator is no record */
	len = make_hwids(h, two_recs, 1);
	cr_assert_eq(uki_hwids_parse(h, UKI_HWID_LEN, &hw, &n, &why), -ENOENT);
	free(hw);
	cr_assert_eq(uki_hwids_parse(h, 0, &hw, &n, &why), -ENOENT);
	free(hw);
}

Test(uki, rejected_hwids_fails_selection)
{
	static const struct trec r[] = {
		{ UKI_HWID_TYPE_UEFI_FW, "c10f178a-25dd-5553-b4fb-9e851de986be", "x", "fw-a" },
	};
	size_t len;
	uint8_t *b = valid_uki(&len, r, 1);
	struct uki u;
	struct chid_set m;
	struct uki_choice c;
	char err[256];
	size_t hw_off;

	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	hw_off = u.sec[u.known[UKI_HWIDS]].raw_off;
	uki_free(&u);
	le_wr32(b + hw_off, UKI_HWID_DESC(9));
	cr_assert_eq(uki_parse(b, len, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(u.hwids_err, -EOPNOTSUPP);
	machine(&m);
	cr_assert_eq(uki_select(&u, &m, &c), -EINVAL);
	uki_free(&u);
	free(b);
}
