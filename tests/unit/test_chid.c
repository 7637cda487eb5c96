/* tests/unit/test_chid.c: CHIDs (loader/chid.c) on the tables fukivmm
 * presents.  Known vectors were produced by fwupd 2.0.20 (Debian package
 * 2.0.20-1~deb12u2): `fukivmm smbios dump CFG -o DMI --anchor EP`, both files
 * placed as DIR/dmi/tables/{DMI,smbios_entry_point}, then
 * `FWUPD_SYSFSFWDIR=DIR fwupdtool hwids`; types 0-14 in fwupd's order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/smbios.h"
#include "loader/chid.h"
#include "vmm/config/config.h"

static void chids_for(const char *smbios_toml, struct chid_set *out, struct chid *t12)
{
	struct vm_config cfg;
	struct smbios_blob b;
	struct smbios_info in;
	struct chid_fields f;
	char doc[2048], err[512];

	snprintf(doc, sizeof(doc), "[firmware]\npath = \"fw.rom\"\n[smbios]\n%s", smbios_toml);
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", "/d", false, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	cr_assert_eq(chid_from_smbios_table(b.tables, b.tables_len, out), 0);
	cr_assert_eq(smbios_info_parse(b.tables, b.tables_len, &in), 0);
	cr_assert_eq(chid_fields_from_smbios(&in, true, &f), 0);
	cr_assert_eq(chid_compute(&f, chid_type_mask(12), t12), 1);
	chid_fields_free(&f);
	smbios_blob_free(&b);
	config_free(&cfg);
}

static void expect(const struct chid_set *s, const struct chid *t12, const char *const want[15])
{
	char got[37];

	for (unsigned t = 0; t < 15; t++) {
		chid_format(t == 12 ? t12 : &s->id[t], got);
		cr_assert(t == 12 || s->valid[t], "type %u not computed", t);
		cr_assert_str_eq(got, want[t], "CHID type %u", t);
	}
	for (unsigned t = CHID_EXTRA_BASE; t < CHID_TYPES; t++) {
		cr_assert(!s->valid[t], "extra type %u needs an EDID panel", t);
		cr_assert(chid_is_zero(&s->id[t]));
	}
	cr_assert(!s->valid[12], "systemd-stub leaves the enclosure type out");
}

/* Defaults of vmm/config/config.c plus sku = "SKU1". */
Test(chid, defaults_with_sku_match_fwupd)
{
	static const char *const want[15] = {
		"9ec7be83-a314-5cdb-a5d9-9176a6ec6dec", "02d85483-4ea4-5f2e-8f2d-26e4cdd27b93",
		"b158ebba-3c10-56ad-975e-6309d856c453", "c10f178a-25dd-5553-b4fb-9e851de986be",
		"8e6ce5a5-a842-5164-80a6-8e0409b717e7", "d432347e-ef7b-50f7-8d78-0c30bf77f5fd",
		"f2a90a3e-d035-5a9b-8ece-7bd5c9fe3141", "0266399d-6219-543d-bea5-3247168712bd",
		"0a797588-6e39-5c82-a948-e27b2527c01e", "5a43fc34-db11-5e94-9d5a-ed5a9efcb58c",
		"ad632c37-4073-57fc-add3-0a0c13489e26", "1f886807-f5f6-5830-90a3-2f9f4df21b47",
		"10785248-3f9b-5dd7-bf1c-435a9e08da48", "d432347e-ef7b-50f7-8d78-0c30bf77f5fd",
		"a705cce8-853b-5593-8061-ab3fec6a6dde",
	};
	struct chid_set s;
	struct chid t12;

	chids_for("sku = \"SKU1\"\n", &s, &t12);
	expect(&s, &t12, want);
}

/* Trimming (leading spaces then zeros, trailing spaces), "%02x" release
 * bytes (10 -> "0a"), enclosure type 17 -> "11" for type 12. */
Test(chid, trimmed_fields_match_fwupd)
{
	static const char *const want[15] = {
		"557220c9-e420-5279-961b-c5427066c3c5", "4dd54858-02e1-53dd-bd52-79c240c0fde0",
		"3c40cc49-c418-5dd4-aefd-a5e93b864c40", "adb583e7-eed7-51dd-87a9-21c0f6a539fb",
		"3bf220f9-d4b3-57ec-84db-038aaee2205f", "48f02865-400b-5574-ac23-9eedcfbd846f",
		"d029af28-c772-592a-868b-e40a6cec379e", "d7249102-0447-585b-8e0b-b178b11a181c",
		"eb98ddac-ddd0-5cf3-b211-33aadae7fdbf", "f14ce687-fd12-5f5b-a4ae-53fb032791db",
		"8a31df4c-9cb3-510d-9e43-92cd07094e3e", "11644a20-d8c3-5fd5-8aea-0d29a6cb949f",
		"168ef1f0-33f6-535a-a6f6-0f88bdafe6fb", "036cb199-b18e-5ce5-b0f7-1ee3e97f5bc4",
		"2a118d81-3612-50bd-99a1-ecccf2c43742",
	};
	struct chid_set s;
	struct chid t12;

	chids_for("manufacturer = \"  Acme Corp  \"\nproduct = \"0042 Widget\"\n"
		  "family = \"Widgets\"\nsku = \"W-42\"\nbios_vendor = \"Acme BIOS\"\n"
		  "bios_version = \"01.02\"\nbios_release = \"10.3\"\n"
		  "board_manufacturer = \"Acme Boards\"\nboard_product = \"B-1 \"\n"
		  "chassis_type = 17\n", &s, &t12);
	expect(&s, &t12, want);
}

Test(chid, fields_trim_and_absent)
{
	struct smbios_info in;
	struct chid_fields f;

	memset(&in, 0, sizeof(in));
	in.manufacturer = "  0042 x  ";
	in.product = "000";
	in.bios_release_valid = false;
	cr_assert_eq(chid_fields_from_smbios(&in, false, &f), 0);
	cr_assert_str_eq(f.f[CHID_F_MANUFACTURER], "42 x");
	cr_assert_str_eq(f.f[CHID_F_PRODUCT_NAME], "");
	cr_assert_str_eq(f.f[CHID_F_PRODUCT_SKU], "", "absent string hashes as empty (sd-stub)");
	cr_assert_null(f.f[CHID_F_BIOS_MAJOR]);
	cr_assert_null(f.f[CHID_F_ENCLOSURE_TYPE]);
	cr_assert_null(f.f[CHID_F_EDID_PANEL]);
	chid_fields_free(&f);

	in.bios_release_valid = true;
	in.bios_major = 0x0a;
	in.bios_minor = 0;
	cr_assert_eq(chid_fields_from_smbios(&in, false, &f), 0);
	cr_assert_str_eq(f.f[CHID_F_BIOS_MAJOR], "0a");
	cr_assert_str_eq(f.f[CHID_F_BIOS_MINOR], "00", "release bytes are not trimmed");
	chid_fields_free(&f);
}

Test(chid, missing_field_gives_no_chid)
{
	struct chid_fields f;
	struct chid_set s;

	memset(&f, 0, sizeof(f));
	f.f[CHID_F_MANUFACTURER] = strdup("fukivmm");
	cr_assert_eq(chid_compute_all(&f, &s), 0);
	cr_assert(s.valid[14]);
	for (unsigned t = 0; t < 14; t++) {
		cr_assert(!s.valid[t], "type %u computed without its fields", t);
		cr_assert(chid_is_zero(&s.id[t]));
	}
	chid_fields_free(&f);
}

Test(chid, ucs2_skips_non_bmp_and_invalid)
{
	struct chid_fields a, b;
	struct chid ca, cb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.f[CHID_F_MANUFACTURER] = strdup("ab");
	b.f[CHID_F_MANUFACTURER] = strdup("a\xF0\x9F\x98\x80\xFF" "b");
	cr_assert_eq(chid_compute(&a, chid_type_mask(14), &ca), 1);
	cr_assert_eq(chid_compute(&b, chid_type_mask(14), &cb), 1);
	cr_assert_eq(memcmp(ca.b, cb.b, 16), 0);
	free(b.f[CHID_F_MANUFACTURER]);
	b.f[CHID_F_MANUFACTURER] = strdup("a\xC3\xA9" "b");   /* U+00E9 is kept */
	cr_assert_eq(chid_compute(&b, chid_type_mask(14), &cb), 1);
	cr_assert_neq(memcmp(ca.b, cb.b, 16), 0);
	cr_assert_eq(cb.b[6] >> 4, 5, "version 5");
	cr_assert_eq(cb.b[8] & 0xc0, 0x80, "RFC 4122 variant");
	chid_fields_free(&a);
	chid_fields_free(&b);
}

Test(chid, format_parse_guid_order)
{
	struct chid c, d;
	uint8_t g[16];
	char s[37];

	cr_assert_eq(chid_parse("{c10f178a-25dd-5553-b4fb-9e851de986be}", &c), 0);
	chid_format(&c, s);
	cr_assert_str_eq(s, "c10f178a-25dd-5553-b4fb-9e851de986be");
	chid_to_efi_guid(&c, g);
	cr_assert_eq(g[0], 0x8a);
	cr_assert_eq(g[3], 0xc1);
	cr_assert_eq(g[4], 0xdd);
	cr_assert_eq(g[6], 0x53);
	cr_assert_eq(g[8], 0xb4);
	chid_from_efi_guid(g, &d);
	cr_assert_eq(memcmp(c.b, d.b, 16), 0);
	cr_assert_neq(chid_parse("c10f178a-25dd-5553-b4fb-9e851de986b", &c), 0);
	cr_assert_neq(chid_parse("c10f178a+25dd-5553-b4fb-9e851de986be", &c), 0);
	cr_assert_neq(chid_parse("g10f178a-25dd-5553-b4fb-9e851de986be", &c), 0);
}

Test(chid, priority_is_systemd_order)
{
	static const unsigned want[CHID_PRIORITY_LEN] = { 17, 16, 15, 3, 6, 8, 10, 4, 5, 7, 9, 11 };

	cr_assert_eq(memcmp(chid_priority, want, sizeof(want)), 0);
}
