/* tests/unit/test_uefi_client.c: the host-compilable parts of the UEFI F-UKI
 * client (tests/uefi/sha1.c, tests/uefi/fukisel.c), built here as plain C.
 * Its SHA-1 is checked against OpenSSL; its SMBIOS reading, CHIDs, PE and
 * .efifw/.hwids reading and firmware choice against fukivmm's own reader
 * (loader/smbios.c, loader/chid.c, loader/uki.c), on fukivmm's SMBIOS tables
 * and on synthetic UKIs, each also mutated at random: `fukivmm uki select`
 * and the client must agree on every input. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/chid.h"
#include "loader/smbios.h"
#include "loader/uki.h"
#include "vmm/config/config.h"

/* the client's sources: freestanding C, no UEFI */
#include "tests/uefi/fukisel.c"
#include "tests/uefi/sha1.c"

/* a small deterministic generator (xorshift64) */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void ossl_sha1(const void *p, size_t n, uint8_t out[20])
{
	unsigned int len = 0;

	cr_assert(EVP_Digest(p, n, out, &len, EVP_sha1(), NULL));
	cr_assert_eq(len, 20);
}

/* ---- SHA-1 ---- */

Test(uefi_sha1, fips_vectors)
{
	static const struct { const char *msg, *hex; } v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	uint8_t h[20];
	char hex[41];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fk_sha1(v[i].msg, strlen(v[i].msg), h);
		for (unsigned k = 0; k < 20; k++)
			sprintf(hex + 2 * k, "%02x", h[k]);
		cr_assert_str_eq(hex, v[i].hex, "vector %zu", i);
	}
}

Test(uefi_sha1, every_length_to_1100_against_openssl)
{
	uint8_t buf[1100], a[20], b[20];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (size_t n = 0; n <= sizeof(buf); n++) {
		fk_sha1(buf, n, a);
		ossl_sha1(buf, n, b);
		cr_assert(!memcmp(a, b, 20), "length %zu", n);
	}
}

Test(uefi_sha1, split_updates_and_large_inputs_against_openssl)
{
	size_t big = (4u << 20) + 13;   /* an OVMF-sized image, odd tail */
	uint8_t *buf = malloc(big), a[20], b[20];

	cr_assert(buf);
	for (size_t i = 0; i < big; i++)
		buf[i] = (uint8_t)(rnd() >> 11);
	for (unsigned round = 0; round < 200; round++) {
		size_t n = round < 2 ? big : rnd() % 70000, off = 0;
		struct fk_sha1 c;

		fk_sha1_init(&c);
		while (off < n) {
			size_t k = rnd() % 200;

			if (k > n - off)
				k = n - off;
			fk_sha1_update(&c, buf + off, k);
			off += k;
		}
		fk_sha1_final(&c, a);
		ossl_sha1(buf, n, b);
		cr_assert(!memcmp(a, b, 20), "round %u, %zu bytes", round, n);
	}
	free(buf);
}

/* ---- SMBIOS and CHIDs against loader/ ---- */

static void client_chids(const uint8_t *tab, size_t len, uint8_t chids[FK_CHID_TYPES][16])
{
	struct fk_smbios sm;

	memset(chids, 0, FK_CHID_TYPES * 16);
	(void)fk_smbios_parse(tab, len, &sm);
	for (unsigned t = 0; t < FK_CHID_TYPES; t++) {
		size_t n = fk_chid_message(&sm, t, NULL, 0);
		uint8_t *m, h[20];

		if (!n)
			continue;
		m = malloc(n);
		cr_assert(m);
		cr_assert_eq(fk_chid_message(&sm, t, m, n), n);
		fk_sha1(m, n, h);
		fk_chid_from_sha1(h, chids[t]);
		free(m);
	}
}

static void expect_same_chids(const uint8_t *tab, size_t len, const char *what)
{
	struct chid_set want;
	uint8_t got[FK_CHID_TYPES][16];

	cr_assert_eq(chid_from_smbios_table(tab, len, &want), 0);
	client_chids(tab, len, got);
	for (unsigned t = 0; t < FK_CHID_TYPES; t++) {
		char a[37], b[37];
		struct chid g;

		memcpy(g.b, got[t], 16);
		chid_format(&want.id[t], a);
		chid_format(&g, b);
		cr_assert_str_eq(b, a, "%s: CHID type %u", what, t);
	}
}

static void tables_for(const char *smbios_toml, struct smbios_blob *b)
{
	struct vm_config cfg;
	char doc[4096], err[512];

	snprintf(doc, sizeof(doc), "[firmware]\npath = \"fw.rom\"\n[smbios]\n%s", smbios_toml);
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", "/d", false, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, b), 0);
	config_free(&cfg);
}

static const char *const identities[] = {
	"",
	"sku = \"SKU1\"",
	"manufacturer = \"fukivmm-test\"\nproduct = \"uefi-client\"\nfamily = \"F-UKI\"\n"
	"sku = \"SKU-1\"\nboard_manufacturer = \"Board Co\"\nboard_product = \"board-1\"",
	"manufacturer = \"  Other Corp \"\nproduct = \"0042 Box\"\nfamily = \"Boxes\"\n"
	"bios_release = \"10.3\"\nbios_version = \"01.02\"\nchassis_type = 17",
	"manufacturer = \"Müller & Söhne ☃\"\nproduct = \"  000  \"\nsku = \"😀x\"",
	"manufacturer = \"\"\nproduct = \"\"\nfamily = \"\"\nboard_product = \"\"",
	"bios_vendor = \"0 Vendor\"\nbios_release = \"255.0\"",
};

Test(uefi_chid, same_chids_as_fukivmm_on_its_tables)
{
	for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]); i++) {
		struct smbios_blob b;
		char what[32];

		tables_for(identities[i], &b);
		snprintf(what, sizeof(what), "identity %zu", i);
		expect_same_chids(b.tables, b.tables_len, what);
		smbios_blob_free(&b);
	}
}

/* Raw strings the config would not let through: invalid UTF-8,
 * surrogates, 5- and 6-byte forms, truncated sequences. */
Test(uefi_chid, same_chids_on_odd_utf8)
{
	static const char *const odd[] = {
		"\xff\xfe" "A", "\xed\xa0\x80" "B", "\xf8\x88\x80\x80\x80" "C",
		"\xfc\x84\x80\x80\x80\x80" "D", "E\xe2\x82", "\xc3", " \xc3\xa9 ", "0\xf0\x9f\x98\x80",
	};
	struct smbios_blob b;

	tables_for(identities[2], &b);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		/* replace the manufacturer (type 1 string 1, "fukivmm-test") */
		struct smbios_struct s;
		size_t off = 0, n = strlen(odd[i]), olen = strlen("fukivmm-test");
		uint8_t *t = malloc(b.tables_len + n);
		size_t tlen = 0;
		char what[32];

		cr_assert(t);
		while (smbios_struct_at(b.tables, b.tables_len, off, &s) == 1 && s.type != 1)
			off += s.total;
		cr_assert_eq(s.type, 1);
		const uint8_t *str = (const uint8_t *)smbios_struct_string(&s, s.data[4]);

		cr_assert(str && !memcmp(str, "fukivmm-test", olen));
		size_t pos = (size_t)(str - b.tables);

		memcpy(t, b.tables, pos);
		tlen = pos;
		memcpy(t + tlen, odd[i], n);
		tlen += n;
		memcpy(t + tlen, b.tables + pos + olen, b.tables_len - pos - olen);
		tlen += b.tables_len - pos - olen;
		snprintf(what, sizeof(what), "odd string %zu", i);
		expect_same_chids(t, tlen, what);
		free(t);
	}
	smbios_blob_free(&b);
}

Test(uefi_chid, same_chids_on_mutated_tables)
{
	struct smbios_blob b;

	tables_for(identities[3], &b);
	for (unsigned round = 0; round < 3000; round++) {
		size_t len = b.tables_len - (round % 7 == 0 ? rnd() % b.tables_len : 0);
		uint8_t *t = malloc(b.tables_len);
		char what[32];

		cr_assert(t);
		memcpy(t, b.tables, b.tables_len);
		for (unsigned k = 1 + rnd() % 4; k; k--) {
			size_t at = rnd() % b.tables_len;

			t[at] = rnd() % 3 ? (uint8_t)rnd() : 0;
		}
		uint8_t *e = malloc(len ? len : 1);

		cr_assert(e);
		memcpy(e, t, len);
		snprintf(what, sizeof(what), "round %u", round);
		expect_same_chids(e, len, what);
		free(e);
		free(t);
	}
	smbios_blob_free(&b);
}

/* ---- UKIs: PE, .efifw, .hwids and the choice against loader/ ---- */

struct spec {
	const char *name;
	const uint8_t *data;
	size_t len;
};

/* A PE32+ x86-64 image: headers, then each section file-aligned to 512
 * and virtually to 4 KiB (as objcopy lays out the stub's additions). */
static uint8_t *build_pe(const struct spec *s, unsigned n, size_t *len)
{
	size_t lfanew = 64, opt = 240, table = lfanew + 4 + 20 + opt;
	size_t off = (table + n * 40 + 511) & ~(size_t)511, cap = off;
	uint32_t va = 0x1000;
	uint8_t *b;

	for (unsigned i = 0; i < n; i++)
		cap += (s[i].len + 511) & ~(size_t)511;
	b = calloc(1, cap);
	cr_assert(b);
	b[0] = 'M';
	b[1] = 'Z';
	b[0x3c] = (uint8_t)lfanew;
	memcpy(b + lfanew, "PE\0\0", 4);
	b[lfanew + 4] = 0x64;
	b[lfanew + 5] = 0x86;
	b[lfanew + 6] = (uint8_t)n;
	b[lfanew + 7] = (uint8_t)(n >> 8);
	b[lfanew + 20] = (uint8_t)opt;
	b[lfanew + 24] = 0x0b;
	b[lfanew + 25] = 0x02;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *h = b + table + 40 * i;
		uint32_t v[4] = { (uint32_t)s[i].len, va, (uint32_t)((s[i].len + 511) & ~(size_t)511),
				  (uint32_t)off };

		strncpy((char *)h, s[i].name, 8);
		for (unsigned k = 0; k < 4; k++)
			for (unsigned j = 0; j < 4; j++)
				h[8 + 4 * k + j] = (uint8_t)(v[k] >> (8 * j));
		memcpy(b + off, s[i].data, s[i].len);
		off += (s[i].len + 511) & ~(size_t)511;
		va += (uint32_t)((s[i].len + 0xfff) & ~(size_t)0xfff);
	}
	*len = cap;
	return b;
}

static size_t efifw_blob(uint8_t *out, const char *fwid, const uint8_t *payload, uint32_t plen)
{
	uint32_t flen = (uint32_t)strlen(fwid) + 1, hdr[4] = { 0xfeeddead, 16, flen, plen };

	memcpy(out, hdr, 16);
	memcpy(out + 16, fwid, flen);
	memcpy(out + 16 + flen, payload, plen);
	return 16 + flen + plen;
}

/* records: uefi-fw (or devicetree when fwid starts with '@'), then the
 * terminator, then the strings */
static size_t hwids_blob(uint8_t *out, const char *const *fwids, const struct chid *chids, unsigned n)
{
	size_t strs = (n + 1) * 28, o = strs;

	memset(out, 0, strs);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = out + 28 * i;
		bool dt = fwids[i][0] == '@';
		uint32_t desc = ((dt ? 1u : 2u) << 28) | 28, name = (uint32_t)o, str;

		memcpy(out + o, "rec", 4);
		o += 4;
		str = (uint32_t)o;
		strcpy((char *)out + o, fwids[i] + dt);
		o += strlen(fwids[i] + dt) + 1;
		memcpy(d, &desc, 4);
		chid_to_efi_guid(&chids[i], d + 4);
		memcpy(d + 20, &name, 4);
		memcpy(d + 24, &str, 4);
	}
	return o;
}

/* Compare both readers on @buf: parse result, then the choice. */
static void expect_same_choice(const uint8_t *buf, size_t len, const struct chid_set *set,
			       const char *what)
{
	struct uki u;
	struct fk_uki fu;
	struct uki_choice lc;
	struct fk_choice fc;
	uint8_t chids[FK_CHID_TYPES][16];
	const char *why;
	char err[256];
	int lr, fr, ls;

	lr = uki_parse(buf, len, &u, err, sizeof(err));
	fr = fk_uki_parse(buf, len, &fu, &why);
	cr_assert_eq(fr == 0, lr == 0, "%s: fukivmm %s, client %s", what, lr ? err : "parses",
		     fr ? why : "parses");
	if (lr)
		return;
	cr_assert_eq(fu.nefifw, u.nfw, "%s", what);
	cr_assert_eq(fu.hwids, u.known[UKI_HWIDS], "%s", what);
	for (unsigned k = 0; k < u.nfw; k++) {
		struct fk_efifw f;

		cr_assert(fk_efifw_nth(&fu, k, &f));
		cr_assert_eq(f.valid, u.fw[k].valid, "%s: .efifw %u", what, k);
		cr_assert_eq(f.section, u.fw[k].section, "%s", what);
		if (f.valid) {
			cr_assert_eq(f.payload, u.fw[k].payload, "%s", what);
			cr_assert_eq(f.payload_len, u.fw[k].payload_len, "%s", what);
			cr_assert_str_eq(f.fwid, u.fw[k].fwid, "%s", what);
		}
	}
	for (unsigned t = 0; t < FK_CHID_TYPES; t++)
		memcpy(chids[t], set->id[t].b, 16);
	ls = uki_select(&u, set, &lc);
	fk_select(&fu, (const uint8_t (*)[16])chids, &fc);
	if (u.nfw == 0) {
		cr_assert_eq(fc.result, FK_NO_EFIFW, "%s", what);
		cr_assert_neq(ls, 1, "%s", what);
	} else if (ls < 0) {
		cr_assert(fc.result == (u.known[UKI_HWIDS] < 0 ? FK_NO_HWIDS : FK_BAD_HWIDS),
			  "%s: fukivmm rejects .hwids (%s), client result %d", what,
			  u.hwids_why ? u.hwids_why : "absent", fc.result);
	} else if (ls == 0) {
		cr_assert_eq(fc.result, lc.hwid < 0 ? FK_NO_MATCH : FK_NO_FWID, "%s", what);
		cr_assert_eq(fc.hwid, lc.hwid, "%s", what);
	} else {
		cr_assert_eq(fc.result, FK_CHOSEN, "%s: client result %d (%s)", what, fc.result,
			     fc.why ? fc.why : "");
		cr_assert_eq(fc.efifw, lc.efifw, "%s", what);
		cr_assert_eq(fc.hwid, lc.hwid, "%s", what);
		cr_assert_eq(fc.chid_type, lc.chid_type, "%s", what);
		cr_assert_eq(fc.fw.payload, u.fw[lc.efifw].payload, "%s", what);
	}
	uki_free(&u);
}

struct fixture {
	struct chid_set set;
	uint8_t fw[3][600], hw[1024], text[64];
	size_t fwlen[3], hwlen;
};

/* three firmware blobs; records for CHID types 5 (fw "b") and 3 (fw "c"),
 * a devicetree record and a record of another machine */
static void fixture_build(struct fixture *fx, struct spec *s, unsigned *n)
{
	struct smbios_blob b;
	uint8_t pay[512];
	struct chid other;
	static const char *const fwids[4] = { "b", "@dt", "c", "a" };
	struct chid recs[4];

	tables_for(identities[2], &b);
	cr_assert_eq(chid_from_smbios_table(b.tables, b.tables_len, &fx->set), 0);
	smbios_blob_free(&b);
	for (unsigned i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)i;
	fx->fwlen[0] = efifw_blob(fx->fw[0], "a", pay, 100);
	fx->fwlen[1] = efifw_blob(fx->fw[1], "b", pay, 200);
	fx->fwlen[2] = efifw_blob(fx->fw[2], "c", pay, 300);
	memset(&other, 0x42, sizeof(other));
	recs[0] = fx->set.id[5];
	recs[1] = fx->set.id[3];
	recs[2] = fx->set.id[3];
	recs[3] = other;
	fx->hwlen = hwids_blob(fx->hw, fwids, recs, 4);
	memset(fx->text, 0xc3, sizeof(fx->text));
	s[0] = (struct spec){ ".text", fx->text, sizeof(fx->text) };
	s[1] = (struct spec){ ".efifw", fx->fw[0], fx->fwlen[0] };
	s[2] = (struct spec){ ".efifw", fx->fw[1], fx->fwlen[1] };
	s[3] = (struct spec){ ".efifw", fx->fw[2], fx->fwlen[2] };
	s[4] = (struct spec){ ".hwids", fx->hw, fx->hwlen };
	*n = 5;
}

Test(uefi_select, picks_what_fukivmm_picks)
{
	struct fixture fx;
	struct spec s[8];
	unsigned n;
	size_t len;
	uint8_t *pe;
	struct fk_uki fu;
	struct fk_choice fc;
	uint8_t chids[FK_CHID_TYPES][16];
	const char *why;

	fixture_build(&fx, s, &n);
	pe = build_pe(s, n, &len);
	expect_same_choice(pe, len, &fx.set, "fixture");
	/* and the answer itself: type 3 outranks type 5, so "c" */
	cr_assert_eq(fk_uki_parse(pe, len, &fu, &why), 0);
	for (unsigned t = 0; t < FK_CHID_TYPES; t++)
		memcpy(chids[t], fx.set.id[t].b, 16);
	fk_select(&fu, (const uint8_t (*)[16])chids, &fc);
	cr_assert_eq(fc.result, FK_CHOSEN);
	cr_assert_str_eq(fc.fw.fwid, "c");
	cr_assert_eq(fc.chid_type, 3);
	cr_assert_eq(fc.hwid, 2);
	free(pe);
}

Test(uefi_select, bad_inputs_agree)
{
	struct fixture fx;
	struct spec s[8], t[8];
	unsigned n;
	size_t len;
	uint8_t *pe, bad[1024];

	fixture_build(&fx, s, &n);
	/* no .efifw */
	t[0] = s[0];
	t[1] = s[4];
	pe = build_pe(t, 2, &len);
	expect_same_choice(pe, len, &fx.set, "no .efifw");
	free(pe);
	/* no .hwids */
	pe = build_pe(s, 4, &len);
	expect_same_choice(pe, len, &fx.set, "no .hwids");
	free(pe);
	/* .hwids with an unknown record type */
	memcpy(bad, fx.hw, fx.hwlen);
	bad[3] = 0x70;
	memcpy(t, s, sizeof(s));
	t[4].data = bad;
	pe = build_pe(t, n, &len);
	expect_same_choice(pe, len, &fx.set, "unknown type");
	free(pe);
	/* .hwids string offset past the end */
	memcpy(bad, fx.hw, fx.hwlen);
	bad[24] = 0xff;
	bad[25] = 0xff;
	pe = build_pe(t, n, &len);
	expect_same_choice(pe, len, &fx.set, "offset past the end");
	free(pe);
	/* .hwids with only the terminator */
	memset(bad, 0, 64);
	t[4].len = 64;
	pe = build_pe(t, n, &len);
	expect_same_choice(pe, len, &fx.set, "no records");
	free(pe);
	/* a record naming a fwid no .efifw carries */
	memcpy(t, s, sizeof(s));
	t[3] = t[0];
	t[3].name = ".data";
	pe = build_pe(t, n, &len);
	expect_same_choice(pe, len, &fx.set, "fwid missing");
	free(pe);
	/* the matching blob invalid (bad magic) */
	memcpy(bad, fx.fw[2], fx.fwlen[2]);
	bad[0] = 0;
	memcpy(t, s, sizeof(s));
	t[3].data = bad;
	pe = build_pe(t, n, &len);
	expect_same_choice(pe, len, &fx.set, "bad magic");
	free(pe);
	/* a .profile: sections after it are not in the base profile */
	memcpy(t, s, sizeof(s));
	t[5] = t[4];
	t[4] = (struct spec){ ".profile", fx.text, 8 };
	pe = build_pe(t, 6, &len);
	expect_same_choice(pe, len, &fx.set, "profile");
	free(pe);
}

Test(uefi_select, mutated_ukis_agree)
{
	struct fixture fx;
	struct spec s[8];
	unsigned n;
	size_t len;
	uint8_t *pe = NULL, *m;

	fixture_build(&fx, s, &n);
	pe = build_pe(s, n, &len);
	m = malloc(len);
	cr_assert(m);
	for (unsigned round = 0; round < 20000; round++) {
		char what[32];

		memcpy(m, pe, len);
		for (unsigned k = 1 + rnd() % 3; k; k--) {
			/* mostly the headers and the small sections */
			size_t at = rnd() % 2 ? rnd() % 0x400 : rnd() % len;

			m[at] = rnd() % 4 ? (uint8_t)rnd() : (uint8_t)(m[at] ^ (1u << (rnd() % 8)));
		}
		size_t l = len - (round % 11 == 0 ? rnd() % len : 0);
		/* an exact copy, so that AddressSanitizer sees any read past the end */
		uint8_t *e = malloc(l ? l : 1);

		cr_assert(e);
		memcpy(e, m, l);
		snprintf(what, sizeof(what), "round %u", round);
		expect_same_choice(e, l, &fx.set, what);
		free(e);
	}
	free(m);
	free(pe);
}

/* ---- hand-over record, IGVM detection ---- */

Test(uefi_handover, record_round_trip)
{
	uint8_t rec[FK_HANDOVER_SIZE], sha[20], other[20];
	char fwid[32];

	fk_sha1("payload", 7, sha);
	fk_sha1("other", 5, other);
	fk_handover_build(rec, (1ULL << 33) | 2, 4096, sha,
			  "a-firmware-id-longer-than-thirty-one-bytes");
	cr_assert_eq(fk_handover_check(rec, FK_HANDOVER_SIZE), FK_HO_LIVE);
	cr_assert_eq(fk_handover_check(rec, 64), FK_HO_INVALID);
	cr_assert(fk_handover_names(rec, 4096, sha));
	cr_assert(!fk_handover_names(rec, 4096, other));
	cr_assert(!fk_handover_names(rec, 8192, sha));
	cr_assert_eq(fk_handover_control(rec), (1ULL << 33) | 2);
	fk_handover_fwid(rec, fwid);
	cr_assert_str_eq(fwid, "a-firmware-id-longer-than-thirt");
	fk_handover_mark_used(rec);
	cr_assert_eq(fk_handover_check(rec, FK_HANDOVER_SIZE), FK_HO_USED);
	for (unsigned i = 8; i < FK_HANDOVER_SIZE; i++) {
		rec[i] ^= 1;
		cr_assert_eq(fk_handover_check(rec, FK_HANDOVER_SIZE), FK_HO_INVALID, "byte %u", i);
		rec[i] ^= 1;
	}
	rec[0] = 'X';
	cr_assert_eq(fk_handover_check(rec, FK_HANDOVER_SIZE), FK_HO_INVALID);
}

Test(uefi_handover, igvm_magic)
{
	cr_assert(fk_payload_is_igvm((const uint8_t *)"IGVM\1\0\0\0", 8));
	cr_assert(!fk_payload_is_igvm((const uint8_t *)"IGV", 3));
	cr_assert(!fk_payload_is_igvm((const uint8_t *)"\xff\xff\xff\xff", 4));
}
