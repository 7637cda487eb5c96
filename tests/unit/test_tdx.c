/* tests/unit/test_tdx.c: TDX plan builder, TD HOB, MRTD and RTMR predictions.
 * Real event logs and quotes are read from ../shared/testdata when present;
 * tests that need them (or /usr/share/ovmf/OVMF.fd) skip with a message. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "loader/ovmf.h"
#include "loader/plan.h"
#include "tdx/tdx.h"

#define TESTDATA "../shared/testdata"
#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = v;
	}
}

static void sha384(const void *d, size_t n, uint8_t out[48])
{
	unsigned olen;

	cr_assert(EVP_Digest(d, n, out, &olen, EVP_sha384(), NULL));
}

static void assert_hex(const uint8_t *got, const char *want_hex)
{
	uint8_t want[48];

	unhex(want_hex, want, 48);
	if (memcmp(got, want, 48)) {
		char g[97];

		for (int i = 0; i < 48; i++)
			sprintf(g + 2 * i, "%02x", got[i]);
		cr_assert_fail("digest %s, expected %s", g, want_hex);
	}
}

/* TDVF sections of Debian 12 ovmf 2022.11-6+deb12u2 /usr/share/ovmf/OVMF.fd,
 * in metadata order (measurements.md 0.4; re-read by ovmf_parse below). */
static const struct ovmf_tdvf_section debian_secs[] = {
	{ .data_offset = 0x20000, .raw_size = 0x1E0000, .gpa = 0xFFE20000,
	  .mem_size = 0x1E0000, .type = OVMF_TDVF_BFV, .attributes = 1 },
	{ .data_offset = 0, .raw_size = 0x20000, .gpa = 0xFFE00000,
	  .mem_size = 0x20000, .type = OVMF_TDVF_CFV, .attributes = 0 },
	{ .gpa = 0x810000, .mem_size = 0x10000, .type = OVMF_TDVF_TEMP_MEM },
	{ .gpa = 0x80B000, .mem_size = 0x2000, .type = OVMF_TDVF_TEMP_MEM },
	{ .gpa = 0x809000, .mem_size = 0x2000, .type = OVMF_TDVF_TD_HOB },
	{ .gpa = 0x800000, .mem_size = 0x6000, .type = OVMF_TDVF_TEMP_MEM },
};
#define NDEB (sizeof(debian_secs) / sizeof(debian_secs[0]))

static struct tdx_params params(uint64_t mem, bool two_pass)
{
	struct tdx_params tp;

	memset(&tp, 0, sizeof(tp));
	tp.memory = mem;
	tp.nvcpus = 2;
	tp.two_pass = two_pass;
	tp.attributes = 0x10000000;
	tp.xfam = 0x61ae7;
	tp.mrconfigid[0] = 0xaa;
	return tp;
}

/* A fake 2 MiB image for the Debian layout: only the bytes matter here. */
static uint8_t *fake_image(size_t len)
{
	uint8_t *img = malloc(len);

	cr_assert(img);
	for (size_t i = 0; i < len; i++)
		img[i] = (uint8_t)(i * 7 + (i >> 12));
	return img;
}

/* ---------- plan builder ---------- */

Test(tdx_plan, debian_layout_regions)
{
	struct launch_plan p;
	struct tdx_params tp = params(2ULL << 30, false);
	uint8_t *img = fake_image(0x200000);
	char err[256];

	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, img, 0x200000, debian_secs, NDEB, &tp,
					     err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.platform, PLAN_TDX);
	cr_assert_eq(p.nregions, NDEB);
	cr_assert_eq(p.fw_gpa, 0xFFE00000ULL);
	cr_assert_eq(p.nvcpus, 2);
	cr_assert_eq(p.tdx.hob_gpa, 0x809000ULL);
	cr_assert_eq(p.tdx.attributes, 0x10000000ULL);
	cr_assert_eq(p.tdx.xfam, 0x61ae7ULL);
	cr_assert_eq(p.tdx.mrconfigid[0], 0xaa);
	for (size_t i = 0; i < NDEB; i++) {
		cr_assert_eq(p.regions[i].gpa, debian_secs[i].gpa);
		cr_assert_eq(p.regions[i].size, debian_secs[i].mem_size);
		cr_assert_eq(p.regions[i].tdx_type, debian_secs[i].type);
		cr_assert_eq(!!(p.regions[i].flags & PLAN_F_MEASURE), debian_secs[i].attributes == 1);
	}
	/* BFV/CFV carry the image bytes at DataOffset (the plan's own copy) */
	cr_assert_eq(p.regions[0].data_len, 0x1E0000);
	cr_assert(p.regions[0].data != img + 0x20000);
	cr_assert_eq(memcmp(p.regions[0].data, img + 0x20000, 0x1E0000), 0);
	cr_assert_eq(memcmp(p.regions[1].data, img, 0x20000), 0);
	/* TempMem zero-filled, TD_HOB carries the HOB */
	cr_assert_null(p.regions[2].data);
	cr_assert_null(p.regions[5].data);
	cr_assert_not_null(p.regions[4].data);
	cr_assert_eq(p.regions[4].data[0], 1);        /* PHIT type */
	cr_assert_str_eq(p.regions[4].what, "TD_HOB");
	plan_free(&p);
	free(img);
}

static int build_with(struct ovmf_tdvf_section *s, unsigned n, size_t fw_len,
		      uint64_t mem, char *err, size_t errlen)
{
	struct launch_plan p;
	struct tdx_params tp = params(mem, false);
	uint8_t *img = fake_image(fw_len ? fw_len : 4096);
	int ret;

	plan_init(&p, PLAN_TDX);
	ret = tdx_build_plan_sections(&p, img, fw_len, s, n, &tp, err, errlen);
	plan_free(&p);
	free(img);
	return ret;
}

static void expect_reject(void (*mutate)(struct ovmf_tdvf_section *), const char *needle)
{
	struct ovmf_tdvf_section s[NDEB];
	char err[256] = "";

	memcpy(s, debian_secs, sizeof(s));
	mutate(s);
	cr_assert_eq(build_with(s, NDEB, 0x200000, 2ULL << 30, err, sizeof(err)), -EINVAL,
		     "accepted a bad layout (%s)", needle);
	cr_assert(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

static void m_overlap(struct ovmf_tdvf_section *s) { s[3].gpa = 0x80A000; }
static void m_unaligned(struct ovmf_tdvf_section *s) { s[2].gpa = 0x810800; }
static void m_unaligned_size(struct ovmf_tdvf_section *s) { s[2].mem_size = 0x10800; }
static void m_past_image(struct ovmf_tdvf_section *s) { s[0].data_offset = 0x30000; }
static void m_past_4g(struct ovmf_tdvf_section *s) { s[0].gpa = 0xFFF00000; }
static void m_huge(struct ovmf_tdvf_section *s) { s[2].gpa = 0xFFFFFFFFFFFFF000ULL; }
static void m_no_hob(struct ovmf_tdvf_section *s) { s[4].type = OVMF_TDVF_TEMP_MEM; }
static void m_two_hobs(struct ovmf_tdvf_section *s) { s[3].type = OVMF_TDVF_TD_HOB; }
static void m_permmem(struct ovmf_tdvf_section *s) { s[3].type = OVMF_TDVF_PERM_MEM; }
static void m_payload(struct ovmf_tdvf_section *s) { s[3].type = OVMF_TDVF_PAYLOAD; }
static void m_unknown(struct ovmf_tdvf_section *s) { s[3].type = 77; }
static void m_raw_in_temp(struct ovmf_tdvf_section *s) { s[3].raw_size = 0x1000; }
static void m_bfv_no_raw(struct ovmf_tdvf_section *s) { s[0].raw_size = 0; }
static void m_raw_gt_mem(struct ovmf_tdvf_section *s) { s[1].raw_size = 0x21000; }
static void m_cfv_low(struct ovmf_tdvf_section *s) { s[1].gpa = 0x1000000; }
static void m_temp_high(struct ovmf_tdvf_section *s) { s[2].gpa = 0xC0000000; }
static void m_aug_hob(struct ovmf_tdvf_section *s) { s[4].attributes = 2; }
static void m_aug_bfv(struct ovmf_tdvf_section *s) { s[0].attributes = 3; }
static void m_bad_attr(struct ovmf_tdvf_section *s) { s[2].attributes = 0x10; }
static void m_zero_size(struct ovmf_tdvf_section *s) { s[2].mem_size = 0; }

Test(tdx_plan, rejects_bad_layouts)
{
	expect_reject(m_overlap, "overlap");
	expect_reject(m_unaligned, "not page aligned");
	expect_reject(m_unaligned_size, "multiple of 4 KiB");
	expect_reject(m_past_image, "past the end");
	expect_reject(m_past_4g, "past 4 GiB");
	expect_reject(m_huge, "past 4 GiB");
	expect_reject(m_no_hob, "no TD_HOB");
	expect_reject(m_two_hobs, "more than one TD_HOB");
	expect_reject(m_permmem, "unsupported type 4 (PermMem)");
	expect_reject(m_payload, "unsupported type 5");
	expect_reject(m_unknown, "unsupported type 77");
	expect_reject(m_raw_in_temp, "RawDataSize 0x1000 != 0");
	expect_reject(m_bfv_no_raw, "RawDataSize 0");
	expect_reject(m_raw_gt_mem, "> MemoryDataSize");
	expect_reject(m_cfv_low, "firmware window");
	expect_reject(m_temp_high, "not inside guest RAM");
	expect_reject(m_aug_hob, "PAGE.AUG");
	expect_reject(m_aug_bfv, "PAGE.AUG");
	expect_reject(m_bad_attr, "unknown attributes");
	expect_reject(m_zero_size, "multiple of 4 KiB");
}

Test(tdx_plan, rejects_bad_arguments)
{
	char err[256];
	struct ovmf_tdvf_section s[NDEB];

	memcpy(s, debian_secs, sizeof(s));
	cr_assert_eq(build_with(s, NDEB, 0x200001, 2ULL << 30, err, sizeof(err)), -EINVAL);
	cr_assert_eq(build_with(s, 0, 0x200000, 2ULL << 30, err, sizeof(err)), -EINVAL);
	/* memory too small for the TempMem sections at 8 MiB */
	cr_assert_eq(build_with(s, NDEB, 0x200000, 4ULL << 20, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "not inside guest RAM"), "%s", err);
}

/* ---------- TD HOB ---------- */

Test(tdx_hob, ranges_2g)
{
	struct tdx_ram_range r[TDX_HOB_MAX_RANGES];
	unsigned n;
	char err[256];
	static const struct tdx_ram_range want[] = {
		{ 0, 0x800000, 7 }, { 0x800000, 0x6000, 0 }, { 0x806000, 0x3000, 7 },
		{ 0x809000, 0x2000, 0 }, { 0x80B000, 0x2000, 0 }, { 0x80D000, 0x3000, 7 },
		{ 0x810000, 0x10000, 0 }, { 0x820000, 0x80000000 - 0x820000, 7 },
	};

	cr_assert_eq(tdx_hob_ranges(2ULL << 30, debian_secs, NDEB, r, TDX_HOB_MAX_RANGES,
				    &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(r[i].start, want[i].start, "range %u", i);
		cr_assert_eq(r[i].length, want[i].length, "range %u", i);
		cr_assert_eq(r[i].type, want[i].type, "range %u", i);
	}
}

Test(tdx_hob, ranges_above_4g_and_encoding)
{
	uint8_t buf[0x2000];
	size_t len, mlen;
	char err[256];
	uint64_t v;

	/* 4 GiB: 2 GiB below (Q35 rule), 2 GiB at 4 GiB */
	cr_assert_eq(tdx_build_hob(4ULL << 30, 0x809000, debian_secs, NDEB, buf, sizeof(buf),
				   &len, &mlen, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mlen, 56 + 9 * 48);
	cr_assert_eq(len, mlen + 8);
	memcpy(&v, buf + 48, 8);
	cr_assert_eq(v, 0x809000 + len);                   /* EfiEndOfHobList */
	memcpy(&v, buf + 56 + 7 * 48 + 32, 8);
	cr_assert_eq(v, 0x820000);
	memcpy(&v, buf + 56 + 7 * 48 + 40, 8);
	cr_assert_eq(v, 0x80000000 - 0x820000);
	memcpy(&v, buf + 56 + 8 * 48 + 32, 8);
	cr_assert_eq(v, 1ULL << 32);
	memcpy(&v, buf + 56 + 8 * 48 + 40, 8);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(buf[56 + 8 * 48 + 24], 7);
	cr_assert_eq(buf[mlen], 0xff);
	cr_assert_eq(buf[mlen + 1], 0xff);
	/* too small a buffer */
	cr_assert_eq(tdx_build_hob(4ULL << 30, 0x809000, debian_secs, NDEB, buf, 100,
				   &len, &mlen, err, sizeof(err)), -ENOSPC);
}

static void hob_digest_for(uint64_t mem, uint8_t out[48])
{
	uint8_t buf[0x2000];
	size_t len, mlen;
	char err[256];

	cr_assert_eq(tdx_build_hob(mem, 0x809000, debian_secs, NDEB, buf, sizeof(buf),
				   &len, &mlen, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tdx_hob_digest(buf, mlen, out), 0);
}

/* The n-th 96-hex-digit value following "digest" in a dstack JSON fixture. */
static bool json_digest(const char *js, int nth, uint8_t out[48])
{
	const char *q = js;

	for (int i = 0; i <= nth; i++) {
		q = strstr(q, "digest");
		if (!q)
			return false;
		q += 6;
	}
	while (*q && !strchr("0123456789abcdef", *q))
		q++;
	unhex(q, out, 48);
	return true;
}

static char *load_lite(void)
{
	size_t len;
	char *js = (char *)read_file(TESTDATA "/dstack/tdx-lite-getquote.json", &len);

	if (!js)
		return NULL;
	js = realloc(js, len + 1);
	js[len] = 0;
	return js;
}

/* dstack verifier fixture: real TDX quote, QEMU 8.2.2, 2 GiB, OVMF with the
 * TempMem/TD_HOB layout of the Debian table (its metadata td_hob field lists
 * pages 0x800+6, 0x809+2, 0x80b+2, 0x810+0x10). */
Test(tdx_hob, matches_real_log_2g)
{
	char *js = load_lite();
	uint8_t want[48], got[48];

	if (!js) {
		cr_skip_test("testdata absent: " TESTDATA "/dstack/tdx-lite-getquote.json");
		return;
	}
	cr_assert(json_digest(js, 0, want));
	hob_digest_for(2ULL << 30, got);
	cr_assert_eq(memcmp(got, want, 48), 0, "TD HOB digest differs from the real log");
	free(js);
}

/* Minimal CCEL / TCG2 crypto-agile log walker (TCG PC Client PFP 10.2):
 * first a TCG_PCR_EVENT (SHA-1 format), then TCG_PCR_EVENT2 entries. */
static bool ccel_find(const uint8_t *b, size_t len, uint32_t type, uint8_t digest[48],
		      const uint8_t **data, uint32_t *dlen)
{
	size_t off;
	uint32_t sz;

	if (len < 32)
		return false;
	memcpy(&sz, b + 28, 4);
	off = 32 + sz;
	while (off + 12 <= len) {
		uint32_t pcr, et, cnt;

		memcpy(&pcr, b + off, 4);
		memcpy(&et, b + off + 4, 4);
		memcpy(&cnt, b + off + 8, 4);
		if (pcr == 0xffffffff || et == 0xffffffff || cnt == 0 || cnt > 4)
			return false;
		off += 12;
		const uint8_t *dg = NULL;
		for (uint32_t i = 0; i < cnt; i++) {
			uint16_t alg;
			size_t dl;

			if (off + 2 > len)
				return false;
			memcpy(&alg, b + off, 2);
			dl = alg == 0x4 ? 20 : alg == 0xb ? 32 : alg == 0xc ? 48 : alg == 0xd ? 64 : 0;
			if (!dl)
				return false;
			if (alg == 0xc)
				dg = b + off + 2;
			off += 2 + dl;
		}
		if (off + 4 > len)
			return false;
		memcpy(&sz, b + off, 4);
		off += 4;
		if (sz > len - off)
			return false;
		if (et == type && dg) {
			memcpy(digest, dg, 48);
			*data = b + off;
			*dlen = sz;
			return true;
		}
		off += sz;
	}
	return false;
}

/* dstack cc-eventlog sample: a real CCEL (QEMU direct boot, no EFI-stub
 * events).  Checked here: the log walks, its TD HOB sits at the TD_HOB
 * section GPA 0x809000, its constant events equal ours and its CFV event is
 * H(empty 4 MiB VARS store).  NOT checked: its TD HOB digest (2b630fa1...)
 * could not be reproduced with the TempMem/TD_HOB pages above for any RAM
 * size from 1 MiB to 16 GiB (nor with other below/above-4G splits): the
 * memory size and TDVF layout of that TD are unknown. */
Test(tdx_hob, real_ccel_structure)
{
	size_t len;
	uint8_t *b = read_file(TESTDATA "/dstack/ccel.bin", &len);
	uint8_t got[48], mine[48];
	const uint8_t *data;
	uint32_t dlen;
	uint64_t tbl;
	static const struct { uint32_t type; enum tdx_const_event ev; } evs[] = {
		{ 0x80000001, TDX_EV_SECUREBOOT }, { 0x4, TDX_EV_SEPARATOR },
		{ 0x80000002, TDX_EV_BOOTORDER }, { 0x80000007, TDX_EV_CALLING_EFI_APP },
	};

	if (!b) {
		cr_skip_test("testdata absent: " TESTDATA "/dstack/ccel.bin");
		return;
	}
	cr_assert(ccel_find(b, len, 0x8000000B, got, &data, &dlen), "no HANDOFF_TABLES2 event");
	/* UEFI_HANDOFF_TABLE_POINTERS2: u8 len, "TdxTable", u64 count, {GUID, u64 ptr} */
	cr_assert_geq(dlen, 1 + 8 + 8 + 24);
	cr_assert_eq(memcmp(data + 1, "TdxTable", 8), 0);
	memcpy(&tbl, data + 1 + data[0] + 8 + 16, 8);
	cr_assert_eq(tbl, 0x809000, "HOB at 0x%llx", (unsigned long long)tbl);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		cr_assert(ccel_find(b, len, evs[i].type, got, &data, &dlen));
		cr_assert_eq(tdx_const_event_digest(evs[i].ev, mine), 0);
		cr_assert_eq(memcmp(got, mine, 48), 0, "event type 0x%x", evs[i].type);
	}
	cr_assert(ccel_find(b, len, 0x8000000A, got, &data, &dlen));
	{
		size_t vl;
		uint8_t *vars = read_file("/usr/share/OVMF/OVMF_VARS_4M.fd", &vl);

		if (vars) {
			sha384(vars, vl, mine);
			cr_assert_eq(memcmp(got, mine, 48), 0, "CFV event != H(OVMF_VARS_4M.fd)");
			free(vars);
		}
	}
	free(b);
}

/* ---------- MRTD ---------- */

/* Expected MRTD of Debian 12 OVMF.fd (ovmf 2022.11-6+deb12u2, sha256
 * 7b456907...dd773), single-pass order.  Cross-check: confidential-containers/
 * td-shim @ 125eeab58f69b891175c8803b4a824bfed7389c1,
 *   python3 td-shim-tools/src/bin/td-shim-tee-info-hash/td_shim_tee_info_hash.py
 *           -i /usr/share/ovmf/OVMF.fd -l off
 * (that tool uses the single-pass order: per page PAGE.ADD then 16 MR.EXTENDs). */
#define DEBIAN_MRTD_SINGLE \
	"4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"

/* Same image, legacy two-pass order: the td-shim script above, edited
 * locally so that each section's MR.EXTEND loop runs in a second pass over
 * its pages after all its PAGE.ADDs (the edit is not part of this tree). */
#define DEBIAN_MRTD_TWO_PASS \
	"acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"

static bool load_debian(uint8_t **img, size_t *len)
{
	*img = read_file(DEBIAN_OVMF, len);
	if (!*img)
		return false;
	if (*len != 0x200000) {
		free(*img);
		return false;
	}
	return true;
}

Test(tdx_mrtd, debian_ovmf_matches_td_shim)
{
	uint8_t *img, mrtd[48];
	size_t len;
	struct launch_plan p;
	struct tdx_params tp = params(2ULL << 30, false);
	char err[256];

	if (!load_debian(&img, &len)) {
		cr_skip_test(DEBIAN_OVMF " absent or not the 2 MiB Debian 12 image");
		return;
	}
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan(&p, img, len, &tp, err, sizeof(err)), 0, "%s", err);
	/* ovmf_parse finds the section list of the notes */
	cr_assert_eq(p.nregions, NDEB);
	for (size_t i = 0; i < NDEB; i++) {
		cr_assert_eq(p.regions[i].gpa, debian_secs[i].gpa);
		cr_assert_eq(p.regions[i].size, debian_secs[i].mem_size);
	}
	cr_assert_eq(tdx_measure_mrtd(&p, mrtd), 0);
	assert_hex(mrtd, DEBIAN_MRTD_SINGLE);
	/* MRTD does not depend on memory size, vCPUs or TD attributes (the HOB
	 * region is not extended) */
	plan_free(&p);
	tp = params(8ULL << 30, false);
	tp.nvcpus = 7;
	tp.attributes = 1;
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan(&p, img, len, &tp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tdx_measure_mrtd(&p, mrtd), 0);
	assert_hex(mrtd, DEBIAN_MRTD_SINGLE);
	plan_free(&p);
	/* two-pass */
	tp.two_pass = true;
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan(&p, img, len, &tp, err, sizeof(err)), 0, "%s", err);
	cr_assert(p.tdx.two_pass);
	cr_assert_eq(tdx_measure_mrtd(&p, mrtd), 0);
	assert_hex(mrtd, DEBIAN_MRTD_TWO_PASS);
	plan_free(&p);
	free(img);
}

/* Independent recomputation of MRTD straight from the section list and image
 * (no plan), in either order: guards the plan fold. */
static void ref_mrtd(const uint8_t *img, const struct ovmf_tdvf_section *s, unsigned n,
		     bool two_pass, uint8_t out[48])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned olen;

	EVP_DigestInit_ex(c, EVP_sha384(), NULL);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pages = s[i].mem_size / 4096;

		for (int pass = 0; pass < 2; pass++) {
			for (uint64_t pg = 0; pg < pages; pg++) {
				uint8_t blk[128], chunk[256];

				if (pass == 0) {
					memset(blk, 0, 128);
					memcpy(blk, "MEM.PAGE.ADD", 12);
					uint64_t g = s[i].gpa + pg * 4096;
					memcpy(blk + 16, &g, 8);
					EVP_DigestUpdate(c, blk, 128);
				}
				if (!(s[i].attributes & 1) || (pass == 0 && two_pass) ||
				    (pass == 1 && !two_pass))
					continue;
				for (int k = 0; k < 16; k++) {
					uint64_t g = s[i].gpa + pg * 4096 + k * 256;
					uint64_t o = pg * 4096 + k * 256;

					memset(blk, 0, 128);
					memcpy(blk, "MR.EXTEND", 9);
					memcpy(blk + 16, &g, 8);
					memset(chunk, 0, 256);
					for (int b = 0; b < 256; b++)
						if (o + b < s[i].raw_size)
							chunk[b] = img[s[i].data_offset + o + b];
					EVP_DigestUpdate(c, blk, 128);
					EVP_DigestUpdate(c, chunk, 256);
				}
			}
		}
	}
	EVP_DigestFinal_ex(c, out, &olen);
	EVP_MD_CTX_free(c);
}

Test(tdx_mrtd, orders_and_padding_match_reference)
{
	/* a small synthetic image: BFV partly raw (zero padding), measured CFV */
	static const struct ovmf_tdvf_section s[] = {
		{ .data_offset = 0x3000, .raw_size = 0x1800, .gpa = 0xFFFFB000,
		  .mem_size = 0x3000, .type = OVMF_TDVF_BFV, .attributes = 1 },
		{ .data_offset = 0, .raw_size = 0x1000, .gpa = 0xFFFFA000,
		  .mem_size = 0x1000, .type = OVMF_TDVF_CFV, .attributes = 1 },
		{ .gpa = 0x809000, .mem_size = 0x1000, .type = OVMF_TDVF_TD_HOB },
		{ .gpa = 0x800000, .mem_size = 0x2000, .type = OVMF_TDVF_TEMP_MEM },
	};
	uint8_t *img = fake_image(0x6000);
	uint8_t a[48], b[48], single[48];
	struct launch_plan p;
	char err[256];

	for (int two = 0; two < 2; two++) {
		struct tdx_params tp = params(1ULL << 30, two);

		plan_init(&p, PLAN_TDX);
		cr_assert_eq(tdx_build_plan_sections(&p, img, 0x6000, s, 4, &tp, err,
						     sizeof(err)), 0, "%s", err);
		cr_assert_eq(p.regions[0].data_len, 0x1800);
		cr_assert_eq(tdx_measure_mrtd(&p, a), 0);
		ref_mrtd(img, s, 4, two, b);
		cr_assert_eq(memcmp(a, b, 48), 0, "two_pass=%d", two);
		if (!two)
			memcpy(single, a, 48);
		else
			cr_assert_neq(memcmp(single, a, 48), 0, "orders must differ");
		plan_free(&p);
	}
	free(img);
}

Test(tdx_mrtd, page_aug_not_measured)
{
	struct ovmf_tdvf_section s[NDEB + 1];
	uint8_t *img = fake_image(0x200000);
	uint8_t with[48], without[48];
	struct launch_plan p;
	struct tdx_params tp = params(2ULL << 30, false);
	char err[256];

	memcpy(s, debian_secs, sizeof(debian_secs));
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, img, 0x200000, s, NDEB, &tp, err, sizeof(err)), 0);
	cr_assert_eq(tdx_measure_mrtd(&p, without), 0);
	plan_free(&p);
	/* an extra PAGE.AUG TempMem leaves MRTD unchanged ... */
	s[NDEB] = (struct ovmf_tdvf_section){ .gpa = 0x900000, .mem_size = 0x4000,
		.type = OVMF_TDVF_TEMP_MEM, .attributes = OVMF_TDVF_ATTR_PAGE_AUG };
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, img, 0x200000, s, NDEB + 1, &tp, err,
					     sizeof(err)), 0, "%s", err);
	cr_assert(p.regions[NDEB].flags & PLAN_F_PAGE_AUG);
	cr_assert_eq(tdx_measure_mrtd(&p, with), 0);
	cr_assert_eq(memcmp(with, without, 48), 0);
	plan_free(&p);
	/* ... while a PAGE.ADDed one changes it */
	s[NDEB].attributes = 0;
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, img, 0x200000, s, NDEB + 1, &tp, err,
					     sizeof(err)), 0, "%s", err);
	cr_assert_eq(tdx_measure_mrtd(&p, with), 0);
	cr_assert_neq(memcmp(with, without, 48), 0);
	plan_free(&p);
	free(img);
}

Test(tdx_mrtd, rejects_non_tdx_plan)
{
	struct launch_plan p;
	uint8_t m[48];

	plan_init(&p, PLAN_SNP);
	cr_assert_eq(tdx_measure_mrtd(&p, m), -EINVAL);
	plan_free(&p);
}

/* ---------- RTMR ---------- */

/* Constant event digests of measurements.md section 3, full values as they
 * appear in the dstack tdx-lite fixture's event log (real hardware). */
static const char *const const_digests[TDX_EV_COUNT] = {
	[TDX_EV_SECUREBOOT] = "9dc3a1f80bcec915391dcda5ffbb15e7419f77eab462bbf72b42166fb70d50325e37b36f93537a863769bcf9bedae6fb",
	[TDX_EV_PK] = "6f2e3cbc14f9def86980f5f66fd85e99d63e69a73014ed8a5633ce56eca5b64b692108c56110e22acadcef58c3250f1b",
	[TDX_EV_KEK] = "d607c0efb41c0d757d69bca0615c3a9ac0b1db06c557d992e906c6b7dee40e0e031640c7bfd7bcd35844ef9edeadc6f9",
	[TDX_EV_DB] = "08a74f8963b337acb6c93682f934496373679dd26af1089cb4eaf0c30cf260a12e814856385ab8843e56a9acea19e127",
	[TDX_EV_DBX] = "18cc6e01f0c6ea99aa23f8a280423e94ad81d96d0aeb5180504fc0f7a40cb3619dd39bd6a95ec1680a86ed6ab0f9828d",
	[TDX_EV_SEPARATOR] = "394341b7182cd227c5c6b07ef8000cdfd86136c4292b8e576573ad7ed9ae41019f5818b4b971c9effc60e1ad9f1289f0",
	[TDX_EV_BOOTORDER] = "1dd6f7b457ad880d840d41c961283bab688e94e4b59359ea45686581e90feccea3c624b1226113f824f315eb60ae0a7c",
	[TDX_EV_BOOT0000] = "23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6e967c58fd2a98bfa74c298",
	[TDX_EV_CALLING_EFI_APP] = "77a0dab2312b4e1e57a84d865a21e5b2ee8d677a21012ada819d0a98988078d3d740f6346bfe0abaa938ca20439a8d71",
	[TDX_EV_EBS_INVOCATION] = "214b0bef1379756011344877743fdc2a5382bac6e70362d624ccf3f654407c1b4badf7d8f9295dd3dabdef65b27677e0",
	[TDX_EV_EBS_SUCCESS] = "0a2e01c85deae718a530ad8c6d20a84009babe6c8989269e950d8cf440c6e997695e64d455c4174a652cd080f6230b74",
};

Test(tdx_rtmr, constant_event_digests)
{
	uint8_t d[48];

	for (int ev = 0; ev < TDX_EV_COUNT; ev++) {
		cr_assert_eq(tdx_const_event_digest(ev, d), 0);
		assert_hex(d, const_digests[ev]);
	}
	cr_assert_eq(tdx_const_event_digest(TDX_EV_COUNT, d), -EINVAL);
}

Test(tdx_rtmr, extend_and_loadopts)
{
	uint8_t r[48] = { 0 }, d[48], buf[96], want[48];
	static const uint8_t u16[] = { 'a', 0, ' ', 0, 'b', 0, 0, 0 };
	static const uint8_t u16i[] = { 'x', 0, ' ', 0, 'i', 0, 'n', 0, 'i', 0, 't', 0, 'r', 0,
		'd', 0, '=', 0, 'i', 0, 'n', 0, 'i', 0, 't', 0, 'r', 0, 'd', 0, 0, 0 };

	memset(d, 0x5a, 48);
	memset(buf, 0, 48);
	memcpy(buf + 48, d, 48);
	sha384(buf, 96, want);
	cr_assert_eq(tdx_rtmr_extend(r, d), 0);
	cr_assert_eq(memcmp(r, want, 48), 0);

	cr_assert_eq(tdx_loadopts_digest("a b", false, d), 0);
	sha384(u16, sizeof(u16), want);
	cr_assert_eq(memcmp(d, want, 48), 0);
	cr_assert_eq(tdx_loadopts_digest("x", true, d), 0);
	sha384(u16i, sizeof(u16i), want);
	cr_assert_eq(memcmp(d, want, 48), 0);
	cr_assert_eq(tdx_loadopts_digest(NULL, false, d), 0);
	sha384(u16 + 6, 2, want);
	cr_assert_eq(memcmp(d, want, 48), 0);
}

Test(tdx_rtmr, cfv_digest_is_vars_template)
{
	struct launch_plan p;
	struct tdx_params tp = params(2ULL << 30, false);
	uint8_t *img = fake_image(0x200000), d[48], want[48];
	char err[256];

	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(&p, img, 0x200000, debian_secs, NDEB, &tp, err,
					     sizeof(err)), 0);
	cr_assert_eq(tdx_cfv_digest(&p, d), 0);
	sha384(img, 0x20000, want);
	cr_assert_eq(memcmp(d, want, 48), 0);
	plan_free(&p);
	plan_init(&p, PLAN_TDX);
	cr_assert_eq(tdx_cfv_digest(&p, d), -ENOENT);
	plan_free(&p);
	free(img);
}

/* Full RTMR[0..2] prediction against the real quote of the dstack fixture:
 * the HOB digest is ours (2 GiB), the constant events are ours, the CFV is
 * H(Debian OVMF_VARS_4M.fd) when that file is present (an empty 4 MiB VARS
 * store, identical to the fixture's CFV); the VMM/guest-specific digests
 * (ACPI blobs, kernel PE, load options, initrd) are taken from its log. */
Test(tdx_rtmr, predict_matches_real_quote)
{
	char *js = load_lite();
	struct tdx_boot_digests d;
	uint8_t rtmr[4][48], q[48];
	const char *quote;

	if (!js) {
		cr_skip_test("testdata absent: " TESTDATA "/dstack/tdx-lite-getquote.json");
		return;
	}
	memset(&d, 0, sizeof(d));
	hob_digest_for(2ULL << 30, d.hob);
	cr_assert(json_digest(js, 1, d.cfv));
	{
		size_t vl;
		uint8_t *vars = read_file("/usr/share/OVMF/OVMF_VARS_4M.fd", &vl);

		if (vars) {
			uint8_t h[48];

			sha384(vars, vl, h);
			cr_assert_eq(memcmp(h, d.cfv, 48), 0, "CFV event != H(OVMF_VARS_4M.fd)");
			free(vars);
		}
	}
	cr_assert(json_digest(js, 8, d.acpi_loader));
	cr_assert(json_digest(js, 9, d.acpi_rsdp));
	cr_assert(json_digest(js, 10, d.acpi_tables));
	cr_assert(json_digest(js, 11, d.kernel_pe));
	d.has_stub_events = true;
	cr_assert(json_digest(js, 16, d.loadopts));
	d.has_initrd = true;
	cr_assert(json_digest(js, 17, d.initrd));
	cr_assert_eq(tdx_rtmr_predict(&d, rtmr), 0);

	quote = strstr(js, "\"quote\"");
	cr_assert(quote);
	quote = strchr(quote + 7, '"') + 1;
	for (int i = 0; i < 3; i++) {
		/* TD quote v4: 48-byte header, TD report body RTMR0 at 328 */
		unhex(quote + 2 * (48 + 328 + 48 * i), q, 48);
		cr_assert_eq(memcmp(rtmr[i], q, 48), 0, "RTMR%d differs from the quote", i);
	}
	free(js);
}
