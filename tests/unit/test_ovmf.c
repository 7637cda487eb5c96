/* tests/unit/test_ovmf.c: the OVMF footer table, SEV and TDVF metadata
 * parser on Debian's images (when installed) and on hand-built malformed
 * images: every bad offset, size and count must be -EINVAL, never a crash
 * or an out-of-bounds read (the ASan build checks that). */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/ovmf.h"
#include "vmm/base/le.h"

static const uint8_t g_footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
				      0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const uint8_t g_reset[16] = { 0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
				     0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e };
static const uint8_t g_sev[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
				   0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
static const uint8_t g_hash[16] = { 0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
				    0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54 };
static const uint8_t g_tdx[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
				   0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

#define IMG 8192
static uint8_t img[IMG];
static struct ovmf_info info;
static char err[256];

/* Builder: entries are written backwards from the footer. */
static size_t tend;
static void begin(void)
{
	memset(img, 0, sizeof(img));
	tend = IMG - 50;
	memcpy(img + IMG - 48, g_footer, 16);
}
static void entry(const uint8_t guid[16], const void *data, size_t dlen)
{
	size_t size = dlen + 18;

	memcpy(img + tend - 16, guid, 16);
	le_wr16(img + tend - 18, (uint16_t)size);
	memcpy(img + tend - size, data, dlen);
	tend -= size;
}
static void finish(void) { le_wr16(img + IMG - 50, (uint16_t)(IMG - 50 - tend + 18)); }

/* ASEV at image offset 0x1000 with @n items; TDVF at 0x1400 with @m. */
static void sev_meta(unsigned n)
{
	uint8_t *a = img + 0x1000;
	uint32_t off = IMG - 0x1000;

	memcpy(a, "ASEV", 4);
	le_wr32(a + 4, 16 + 12 * n);
	le_wr32(a + 8, 1);
	le_wr32(a + 12, n);
	for (unsigned i = 0; i < n; i++) {
		le_wr32(a + 16 + 12 * i, 0x800000 + 0x1000 * i);
		le_wr32(a + 20 + 12 * i, 0x1000);
		le_wr32(a + 24 + 12 * i, 1);
	}
	entry(g_sev, &off, 4);
}
static void tdvf_meta(unsigned n, uint32_t data_off, uint32_t raw)
{
	uint8_t *t = img + 0x1400;
	uint32_t off = IMG - 0x1400;

	memcpy(t, "TDVF", 4);
	le_wr32(t + 4, 16 + 32 * n);
	le_wr32(t + 8, 1);
	le_wr32(t + 12, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *s = t + 16 + 32 * i;

		le_wr32(s, data_off);
		le_wr32(s + 4, raw);
		le_wr64(s + 8, 0xffffe000ULL);
		le_wr64(s + 16, 0x2000);
		le_wr32(s + 24, 0);
		le_wr32(s + 28, 1);
	}
	entry(g_tdx, &off, 4);
}

static int parse(void) { return ovmf_parse(img, IMG, &info, err, sizeof(err)); }

Test(ovmf, good_synthetic)
{
	uint32_t eip = 0x80b004, ht[2] = { 0x810c00, 0x400 };

	begin();
	entry(g_reset, &eip, 4);
	entry(g_hash, ht, 8);
	sev_meta(3);
	tdvf_meta(2, 0, 0x1000);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(info.has_footer && info.has_reset_block && info.has_sev_meta && info.has_tdvf);
	cr_assert_eq(info.ap_reset_eip, 0x80b004);
	cr_assert_eq(info.hash_table_gpa, 0x810c00);
	cr_assert_eq(info.hash_table_size, 0x400);
	cr_assert_eq(info.nsev, 3);
	cr_assert_eq(info.sev[2].gpa, 0x802000);
	cr_assert_eq(info.ntdvf, 2);
	cr_assert_eq(info.tdvf[1].gpa, 0xffffe000ULL);
	cr_assert_eq(info.tdvf[0].raw_size, 0x1000);
}

Test(ovmf, no_footer_is_not_an_error)
{
	memset(img, 0, sizeof(img));
	cr_assert_eq(parse(), 0);
	cr_assert_not(info.has_footer);
	cr_assert_eq(ovmf_parse(img, 10, &info, err, sizeof(err)), 0);
	cr_assert_eq(ovmf_parse(NULL, 0, &info, err, sizeof(err)), 0);
}

Test(ovmf, bad_total_length)
{
	begin();
	le_wr16(img + IMG - 50, 5);  /* < 18 */
	cr_assert_eq(parse(), -EINVAL);
	le_wr16(img + IMG - 50, 0xffff);  /* larger than the image before it */
	cr_assert_eq(ovmf_parse(img + IMG - 4096, 4096, &info, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "footer table length"), "%s", err);
}

Test(ovmf, entry_size_too_small_or_too_big)
{
	uint32_t eip = 1;

	begin();
	entry(g_reset, &eip, 4);
	finish();
	le_wr16(img + IMG - 50 - 18, 17);
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err, "< 18"), "%s", err);
	le_wr16(img + IMG - 50 - 18, 200);  /* past the table start */
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err, "past the table start"), "%s", err);
}

Test(ovmf, trailing_bytes_and_truncated_entries)
{
	uint32_t eip = 1;

	begin();
	entry(g_reset, &eip, 4);
	tend -= 7;  /* 7 stray bytes before the first entry */
	finish();
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err, "trailing"), "%s", err);
	/* an entry too short for its data */
	begin();
	entry(g_reset, &eip, 2);
	finish();
	cr_assert_eq(parse(), -EINVAL);
	begin();
	entry(g_sev, &eip, 3);
	finish();
	cr_assert_eq(parse(), -EINVAL);
}

Test(ovmf, duplicate_entries)
{
	uint32_t eip = 1;

	begin();
	entry(g_reset, &eip, 4);
	entry(g_reset, &eip, 4);
	finish();
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err, "duplicate"), "%s", err);
}

Test(ovmf, sev_meta_bad_offsets_and_counts)
{
	uint32_t off;

	begin();
	off = IMG + 1;  /* before the image */
	entry(g_sev, &off, 4);
	finish();
	cr_assert_eq(parse(), -EINVAL);
	begin();
	off = 4;  /* header would run off the end */
	entry(g_sev, &off, 4);
	finish();
	cr_assert_eq(parse(), -EINVAL);
	begin();
	off = IMG - 0x100;  /* no signature there */
	entry(g_sev, &off, 4);
	finish();
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err, "ASEV"), "%s", err);

	begin();
	sev_meta(3);
	finish();
	le_wr32(img + 0x1000 + 12, OVMF_MAX_ITEMS + 1);
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1000 + 12, 0xffffffffu);  /* count overflow */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1000 + 12, 4);  /* more items than the length covers */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1000 + 12, 3);
	le_wr32(img + 0x1000 + 4, 0x100000);  /* length past the image */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1000 + 4, 52);
	le_wr32(img + 0x1000 + 8, 2);  /* version */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1000 + 8, 1);
	cr_assert_eq(parse(), 0, "%s", err);
}

Test(ovmf, tdvf_checks)
{
	begin();
	tdvf_meta(1, 0, 0x1000);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(info.has_tdvf);
	le_wr32(img + 0x1400 + 12, 0);  /* no sections */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1400 + 12, OVMF_MAX_ITEMS + 1);
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1400 + 12, 1);
	le_wr32(img + 0x1400 + 16 + 4, 0x3000);  /* raw > memory size */
	cr_assert_eq(parse(), -EINVAL);
	le_wr32(img + 0x1400 + 16 + 4, 0x1000);
	le_wr64(img + 0x1400 + 16 + 8, 0xffffe800ULL);  /* unaligned */
	cr_assert_eq(parse(), -EINVAL);
	le_wr64(img + 0x1400 + 16 + 8, 0xfffffffffffff000ULL);  /* gpa + size wraps */
	cr_assert_eq(parse(), -EINVAL);
	/* raw data past the end of the image: metadata dropped, not an error */
	begin();
	tdvf_meta(1, IMG - 0x800, 0x1000);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_not(info.has_tdvf);
	cr_assert_eq(info.ntdvf, 0);
}

Test(ovmf, debian_images)
{
	static const char *const files[] = { "/usr/share/ovmf/OVMF.fd",
					     "/usr/share/OVMF/OVMF_CODE.fd" };
	unsigned seen = 0;

	for (size_t f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "rb");
		static uint8_t buf[4 << 20];
		size_t n;

		if (!fp)
			continue;
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		seen++;
		cr_assert_eq(ovmf_parse(buf, n, &info, err, sizeof(err)), 0, "%s: %s", files[f], err);
		cr_assert(info.has_reset_block);
		cr_assert_eq(info.ap_reset_eip, 0x0080b004);
		cr_assert(info.has_hash_table);
		cr_assert_eq(info.hash_table_gpa, 0);
		cr_assert_eq(info.nsev, 5);
		cr_assert_eq(info.sev[0].gpa, 0x800000);
		cr_assert_eq(info.sev[0].size, 0x9000);
		cr_assert_eq(info.sev[2].type, OVMF_SEV_SECRETS);
		cr_assert_eq(info.sev[3].type, OVMF_SEV_CPUID);
		cr_assert_eq(info.sev[4].size, 0x11000);
		if (f == 0) {
			cr_assert(info.has_tdvf);
			cr_assert_eq(info.ntdvf, 6);
			cr_assert_eq(info.tdvf[0].gpa, 0xffe20000ULL);
			cr_assert_eq(info.tdvf[0].attributes, OVMF_TDVF_ATTR_MR_EXTEND);
			cr_assert_eq(info.tdvf[4].type, OVMF_TDVF_TD_HOB);
		} else {
			/* split CODE file: its TDVF BFV lies past the end */
			cr_assert_not(info.has_tdvf);
		}
	}
	if (!seen)
		cr_skip_test("Debian OVMF images absent (make deps installs package ovmf)");
}

/* Every truncation of a real image parses or fails cleanly (ASan build). */
Test(ovmf, truncations_of_a_real_image)
{
	FILE *fp = fopen("/usr/share/ovmf/OVMF.fd", "rb");
	static uint8_t buf[2 << 20];
	size_t n;

	if (!fp)
		cr_skip_test("/usr/share/ovmf/OVMF.fd absent");
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	for (size_t cut = 1; cut < 4096; cut += 3) {
		uint8_t *tail = malloc(cut);

		memcpy(tail, buf + n - cut, cut);
		int r = ovmf_parse(tail, cut, &info, err, sizeof(err));
		cr_assert(r == 0 || r == -EINVAL);
		free(tail);
	}
}
