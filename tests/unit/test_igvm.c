/* tests/unit/test_igvm.c: the IGVM parser and the IGVM -> plan builder.
 * Owns: tests of loader/igvm.c only, on files made by igvm_build.h.
 * Must not depend on fixtures: optional public files are only cross-checked
 * when present. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loader/igvm.h"
#include "tests/unit/igvm_build.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define M_NATIVE 0x1u
#define M_SNP 0x2u
#define M_TDX 0x4u

static uint8_t page_a[4096], page_b[4096], page_c[4096], vmsa0[4096], vmsa_ap[4096];
static char err[256];

static void init(void)
{
	log_set_level(LOG_ERR);
	memset(page_a, 0xA1, sizeof(page_a));
	memset(page_b, 0xB2, sizeof(page_b));
	memset(page_c, 0xC3, sizeof(page_c));
	memset(vmsa0, 0, sizeof(vmsa0));
	vmsa0[0x3B0] = 0x21;          /* SEV_FEATURES: SNPActive | DebugSwap */
	vmsa0[0x100] = 0x5A;
	memset(vmsa_ap, 0, sizeof(vmsa_ap));
	vmsa_ap[0x3B0] = 0x01;
	vmsa_ap[0x100] = 0xA5;
	err[0] = 0;
}

TestSuite(igvm, .init = init);

/* A native file: 2 data pages + 1 zero page contiguous at 1 MiB, a page at
 * 2 MiB, a parameter area with VP count / memory map / cmdline / env info
 * inserted at 3 MiB. */
static uint8_t *native_file(uint32_t version, size_t *len)
{
	struct ib b;
	uint8_t *f;

	ib_init(&b, version);
	ib_platform(&b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
	ib_page(&b, 0x100000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_a);
	ib_page(&b, 0x101000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_b);
	ib_page(&b, 0x102000, M_NATIVE, 0, IGVM_PAGE_NORMAL, NULL);
	ib_page(&b, 0x200000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_c);
	ib_param_area(&b, 0x2000, 5, NULL);
	ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 5, 0);
	ib_param(&b, IGVM_VHT_ENVIRONMENT_INFO, 5, 4);
	ib_param(&b, IGVM_VHT_MEMORY_MAP, 5, 0x100);
	ib_param(&b, IGVM_VHT_COMMAND_LINE, 5, 0x1000);
	ib_insert(&b, 0x300000, M_NATIVE, 5);
	f = ib_finish(&b, len);
	ib_free(&b);
	return f;
}

/* An SNP (+ native) file. */
static uint8_t *snp_file(size_t *len, bool with_vmsa)
{
	struct ib b;
	uint8_t *f;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_policy(&b, 0x30000, M_SNP);
	ib_page(&b, 0x800000, M_SNP | M_NATIVE, 0, IGVM_PAGE_NORMAL, page_a);
	ib_page(&b, 0x801000, M_SNP | M_NATIVE, 0, IGVM_PAGE_NORMAL, page_b);
	ib_page(&b, 0x802000, M_SNP, 0, IGVM_PAGE_NORMAL, NULL);          /* zero */
	ib_page(&b, 0x803000, M_SNP, IGVM_PAGE_F_UNMEASURED, IGVM_PAGE_NORMAL, page_c);
	ib_page(&b, 0x804000, M_SNP, 0, IGVM_PAGE_SECRETS, NULL);
	ib_page(&b, 0x805000, M_SNP, 0, IGVM_PAGE_CPUID_DATA, page_c);
	ib_page(&b, 0x900000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_c);     /* native only */
	ib_param_area(&b, 0x1000, 1, NULL);
	ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 1, 8);
	ib_insert(&b, 0x806000, M_SNP, 1);
	ib_id_block(&b, M_SNP, 1);
	if (with_vmsa)
		ib_vp_context(&b, PLAN_VMSA_GPA, M_SNP, 0, vmsa0);
	f = ib_finish(&b, len);
	ib_free(&b);
	return f;
}

/* ---- CRC ---- */

Test(igvm, crc32_check_value)
{
	/* The CRC-32/ISO-HDLC check value (the catalogue's "123456789"). */
	cr_assert_eq(igvm_crc32(0, "123456789", 9), 0xCBF43926u);
	/* Running: the same in two steps. */
	cr_assert_eq(igvm_crc32(igvm_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
	cr_assert_eq(igvm_crc32(0, "", 0), 0u);
}

/* ---- parser: valid files ---- */

Test(igvm, parse_v1_native_and_walk_headers)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct igvm_file f;
	struct igvm_iter it;
	struct igvm_header h;
	unsigned n = 0, pages = 0;
	int rc = igvm_open(&f, buf, len, err, sizeof(err));

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(f.version, 1);
	cr_assert_eq(f.vh_off, 24);
	cr_assert_eq(f.nplatforms, 1);
	cr_assert_eq(f.platforms[0].type, IGVM_PLATFORM_NATIVE);
	cr_assert_eq(f.nheaders, 11);
	cr_assert_eq(f.nareas, 1);
	igvm_iter_init(&f, &it);
	while ((rc = igvm_next(&f, &it, &h, err, sizeof(err))) > 0) {
		n++;
		cr_assert(h.known);
		if (h.type == IGVM_VHT_PAGE_DATA) {
			pages++;
			cr_assert_eq(h.mask, M_NATIVE);
			cr_assert_eq(h.u.page.size, 4096);
			if (h.u.page.gpa == 0x102000)
				cr_assert_null(h.u.page.data);
			if (h.u.page.gpa == 0x101000)
				cr_assert_eq(memcmp(h.u.page.data, page_b, 4096), 0);
		}
		if (h.type == IGVM_VHT_MEMORY_MAP) {
			cr_assert_eq(h.u.param.index, 5);
			cr_assert_eq(h.u.param.byte_offset, 0x100);
		}
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(n, 11);
	cr_assert_eq(pages, 4);
	free(buf);
}

Test(igvm, parse_v2_header_fields)
{
	size_t len;
	uint8_t *buf = native_file(2, &len);
	struct igvm_file f;

	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.version, 2);
	cr_assert_eq(f.vh_off, 32);
	cr_assert_eq(f.arch, IGVM_ARCH_X64);
	cr_assert_eq(f.page_size, 4096);

	/* Page size other than 4 KiB, unknown architecture. */
	buf[28] = 0x00; buf[29] = 0x20;     /* 8 KiB */
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "page size"), "%s", err);
	buf[28] = 0; buf[29] = 0x10;
	buf[24] = 7;
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -ENOTSUP);
	/* aarch64 parses, but a plan is x64 only. */
	buf[24] = IGVM_ARCH_AARCH64;
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.arch, IGVM_ARCH_AARCH64);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 1, .memory = 256 << 20 };
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -ENOTSUP);
	free(buf);
}

Test(igvm, format_version_3_and_bad_magic_rejected)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct igvm_file f;

	buf[4] = 3;
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -ENOTSUP);
	buf[4] = 1;
	buf[0] = 'X';
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "magic"), "%s", err);
	free(buf);
}

/* ---- checksum ---- */

Test(igvm, checksum_covers_fixed_and_variable_headers_only)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct igvm_file f;

	/* A variable header byte (the second page's gpa). */
	buf[24 + 8 + 16 + 8 + 24 + 1] ^= 0x10;
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "checksum"), "%s", err);
	buf[24 + 8 + 16 + 8 + 24 + 1] ^= 0x10;
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), 0, "%s", err);
	/* The checksum field itself. */
	buf[20] ^= 1;
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	buf[20] ^= 1;
	/* File data is not covered. */
	buf[len - 1] ^= 0xFF;
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), 0, "%s", err);
	free(buf);
}

/* ---- truncation and offsets ---- */

Test(igvm, every_truncation_is_rejected)
{
	size_t len;
	uint8_t *buf = native_file(2, &len);
	struct igvm_file f;

	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, buf, n);
		cr_assert_lt(igvm_open(&f, cut, n, err, sizeof(err)), 0, "length %zu accepted", n);
		/* Even with the size field and checksum made consistent. */
		if (n >= 32) {
			le_wr32(cut + 16, (uint32_t)n);
			ib_fix_checksum(cut, n);
			int rc = igvm_open(&f, cut, n, err, sizeof(err));

			cr_assert_lt(rc, 0, "consistent truncation to %zu accepted", n);
		}
		free(cut);
	}
	free(buf);
}

Test(igvm, bad_fixed_header_offsets)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct igvm_file f;
	uint8_t save[24];

	memcpy(save, buf, 24);
	le_wr32(buf + 8, 16);                       /* inside the fixed header */
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	memcpy(buf, save, 24);
	le_wr32(buf + 8, 28);                       /* unaligned */
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	memcpy(buf, save, 24);
	le_wr32(buf + 12, (uint32_t)len);           /* vh past the end */
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "past the end"), "%s", err);
	memcpy(buf, save, 24);
	le_wr32(buf + 12, 0xFFFFFFF0u);             /* huge, wraps in 32 bits */
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	memcpy(buf, save, 24);
	le_wr32(buf + 16, (uint32_t)len + 1);       /* total size lies */
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "total_file_size"), "%s", err);
	free(buf);
}

static int open_one(struct ib *b, struct igvm_file *f, uint8_t **keep)
{
	size_t len;
	uint8_t *buf = ib_finish(b, &len);
	int rc = igvm_open(f, buf, len, err, sizeof(err));

	ib_free(b);
	if (keep)
		*keep = buf;
	else
		free(buf);
	return rc;
}

Test(igvm, page_data_file_offset_must_be_in_data_section)
{
	struct ib b;
	struct igvm_file f;
	size_t pos;
	uint8_t x[IGVM_SZ_PAGE_DATA] = { 0 };

	/* An offset pointing into the variable headers. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	le_wr64(x, 0x1000);
	le_wr32(x + 8, M_NATIVE);
	le_wr32(x + 12, 24);
	ib_raw(&b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
	ib_data(&b, page_a, 4096);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	cr_assert(strstr(err, "data section"), "%s", err);

	/* Relative offset such that only part of the page is in the file. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	pos = ib_raw(&b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
	ib_reloc(&b, pos + 12, 2048);
	ib_data(&b, page_a, 4096);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);

	/* 0xFFFFFFFF offset. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	le_wr32(x + 12, 0xFFFFFFFFu);
	ib_raw(&b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, header_lengths_and_padding)
{
	struct ib b;
	struct igvm_file f;
	uint8_t x[32] = { 0 };
	uint8_t *buf;
	size_t len;

	/* PAGE_DATA with the wrong length. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	le_wr32(x + 8, M_NATIVE);
	ib_raw(&b, IGVM_VHT_PAGE_DATA, x, 16);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	cr_assert(strstr(err, "length"), "%s", err);

	/* A length running past the variable headers (huge: no wrap). */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, NULL);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	le_wr32(buf + 24 + 24 + 4, 0xFFFFFFFCu);
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "overruns"), "%s", err);
	free(buf);

	/* Non-zero padding after the 20-byte VP_CONTEXT. */
	ib_init(&b, 1);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_vp_context(&b, PLAN_VMSA_GPA, M_SNP, 0, vmsa0);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), 0, "%s", err);
	buf[24 + 24 + 8 + 20] = 1;
	ib_fix_checksum(buf, len);
	cr_assert_eq(igvm_open(&f, buf, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "padding"), "%s", err);
	free(buf);

	/* Trailing bytes too short for a type/length pair. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	{
		uint8_t *g = calloc(1, len + 4);

		memcpy(g, buf, len);
		le_wr32(g + 12, 24 + 4);
		le_wr32(g + 16, (uint32_t)len + 4);
		ib_fix_checksum(g, len + 4);
		cr_assert_eq(igvm_open(&f, g, len + 4, err, sizeof(err)), -EINVAL);
		free(g);
	}
	free(buf);
}

/* ---- header types and masks ---- */

Test(igvm, unknown_headers_optional_skipped_required_rejected)
{
	struct ib b;
	struct igvm_file f;
	struct igvm_iter it;
	struct igvm_header h;
	uint8_t junk[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t *buf;
	unsigned skipped = 0;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_raw(&b, IGVM_VHT_OPTIONAL | 0x3FF, junk, sizeof(junk));
	ib_raw(&b, IGVM_VHT_OPTIONAL | 0x7777, junk, 5);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, page_a);
	cr_assert_eq(open_one(&b, &f, &buf), 0, "%s", err);
	igvm_iter_init(&f, &it);
	while (igvm_next(&f, &it, &h, err, sizeof(err)) > 0)
		skipped += !h.known;
	cr_assert_eq(skipped, 2);
	free(buf);

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_raw(&b, 0x3FF, junk, sizeof(junk));
	cr_assert_eq(open_one(&b, &f, NULL), -ENOTSUP);

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_raw(&b, 0, junk, 8);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_raw(&b, IGVM_VHT_RESERVED_306, junk, 8);
	cr_assert_lt(open_one(&b, &f, NULL), 0);

	/* A known type with the optional bit set is still parsed (and checked). */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	{
		uint8_t x[IGVM_SZ_PAGE_DATA] = { 0 };

		le_wr64(x, 0x1001);        /* unaligned */
		le_wr32(x + 8, M_NATIVE);
		ib_raw(&b, IGVM_VHT_OPTIONAL | IGVM_VHT_PAGE_DATA, x, sizeof(x));
	}
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, sections_must_not_go_back)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, NULL);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	cr_assert(strstr(err, "later header section"), "%s", err);

	ib_init(&b, 1);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_page(&b, 0x1000, M_SNP, 0, 0, NULL);
	ib_policy(&b, 0x30000, M_SNP);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, platform_header_rules)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);                                     /* two bits */
	ib_platform(&b, 0x3, 0, 0, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* VTL 1 */
	ib_platform(&b, 0x1, 1, 0, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* version 2 */
	ib_platform(&b, 0x1, 0, 0, 2, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* unknown type */
	ib_platform(&b, 0x1, 0, 9, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* native + boundary */
	ib_platform(&b, 0x1, 0, 0, 1, 1ULL << 46);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* same mask twice */
	ib_platform(&b, 0x1, 0, 0, 1, 0);
	ib_platform(&b, 0x1, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* same type twice */
	ib_platform(&b, 0x1, 0, IGVM_PLATFORM_TDX, 1, 0);
	ib_platform(&b, 0x2, 0, IGVM_PLATFORM_TDX, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* no platform at all */
	ib_page(&b, 0x1000, 1, 0, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                     /* all four known x64 */
	ib_platform(&b, 0x1, 0, IGVM_PLATFORM_NATIVE, 1, 0);
	ib_platform(&b, 0x2, 2, IGVM_PLATFORM_VSM, 1, 0);
	ib_platform(&b, 0x4, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_platform(&b, 0x8, 0, IGVM_PLATFORM_TDX, 1, 1ULL << 47);
	ib_platform(&b, 0x10, 0, IGVM_PLATFORM_SEV, 1, 0);
	ib_platform(&b, 0x20, 0, IGVM_PLATFORM_SEV_ES, 1, 0);
	cr_assert_eq(open_one(&b, &f, NULL), 0, "%s", err);
	cr_assert_eq(f.nplatforms, 6);
	cr_assert_eq(f.masks, 0x3F);
	cr_assert_eq(igvm_find_platform(&f, IGVM_PLATFORM_TDX)->shared_gpa_boundary, 1ULL << 47);
}

Test(igvm, masks_must_name_declared_platforms)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_SNP, 0, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	cr_assert(strstr(err, "mask"), "%s", err);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, 0, 0, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_policy(&b, 1, M_NATIVE | M_TDX);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	/* VP_CONTEXT must name exactly one platform. */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_vp_context(&b, PLAN_VMSA_GPA, M_NATIVE | M_SNP, 0, vmsa0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	/* and not TDX (architectural reset state). */
	ib_init(&b, 1);
	ib_platform(&b, M_TDX, 0, IGVM_PLATFORM_TDX, 1, 0);
	ib_vp_context(&b, 0, M_TDX, 0, vmsa0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, every_header_kind_decodes)
{
	struct ib b;
	struct igvm_file f;
	struct igvm_iter it;
	struct igvm_header h;
	uint8_t *buf;
	uint8_t native_ctx[4096] = { 0 };
	uint8_t reloc[IGVM_SZ_RELOCATABLE_REGION] = { 0 }, ptr[IGVM_SZ_PAGE_TABLE_RELOCATION] = { 0 };
	uint8_t er[IGVM_SZ_ERROR_RANGE] = { 0 };
	uint8_t vbs[IGVM_SZ_VBS_MEASUREMENT] = { 0 };
	bool seen[0x320] = { false };

	native_ctx[0x80] = 0xF0;   /* rip */
	ib_init(&b, 2);
	ib_platform(&b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_platform(&b, 0x8, 2, IGVM_PLATFORM_VSM, 1, 0);
	ib_policy(&b, 0x30000, M_SNP);
	le_wr32(reloc, M_NATIVE);
	le_wr64(reloc + 8, 0x200000);            /* alignment */
	le_wr64(reloc + 16, 0x400000);           /* gpa */
	le_wr64(reloc + 24, 0x200000);           /* size */
	le_wr64(reloc + 32, 0x200000);           /* min */
	le_wr64(reloc + 40, 0x40000000);         /* max */
	ib_raw(&b, IGVM_VHT_RELOCATABLE_REGION, reloc, sizeof(reloc));
	le_wr32(ptr, M_NATIVE);
	le_wr64(ptr + 8, 0x10000);
	le_wr64(ptr + 16, 0x8000);
	le_wr64(ptr + 24, 0x3000);
	ib_raw(&b, IGVM_VHT_PAGE_TABLE_RELOCATION_REGION, ptr, sizeof(ptr));
	ib_param_area(&b, 0x1000, 0, page_a);
	ib_page(&b, 0x200000, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	ib_insert(&b, 0x5000, M_NATIVE, 0);
	ib_vp_context(&b, 0, M_NATIVE, 0, native_ctx);
	ib_vp_context(&b, PLAN_VMSA_GPA, M_SNP, 0, vmsa0);
	ib_required(&b, 0x100000, M_NATIVE, 0x100000);
	ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 0, 0);
	ib_param(&b, IGVM_VHT_SRAT, 0, 0);
	ib_param(&b, IGVM_VHT_MADT, 0, 0);
	ib_param(&b, IGVM_VHT_MMIO_RANGES, 0, 0);
	ib_id_block(&b, M_SNP, 0);
	ib_param(&b, IGVM_VHT_MEMORY_MAP, 0, 0);
	le_wr64(er, 0x7000);
	le_wr32(er + 8, M_SNP);
	le_wr32(er + 12, 0x1000);
	ib_raw(&b, IGVM_VHT_ERROR_RANGE, er, sizeof(er));
	ib_param(&b, IGVM_VHT_COMMAND_LINE, 0, 0);
	ib_param(&b, IGVM_VHT_SLIT, 0, 0);
	ib_param(&b, IGVM_VHT_PPTT, 0, 0);
	le_wr32(vbs, 0x8);
	ib_raw(&b, IGVM_VHT_VBS_MEASUREMENT, vbs, sizeof(vbs));
	ib_param(&b, IGVM_VHT_DEVICE_TREE, 0, 0);
	ib_param(&b, IGVM_VHT_ENVIRONMENT_INFO, 0, 0);
	cr_assert_eq(open_one(&b, &f, &buf), 0, "%s", err);
	igvm_iter_init(&f, &it);
	while (igvm_next(&f, &it, &h, err, sizeof(err)) > 0) {
		cr_assert(h.known);
		cr_assert_lt(h.type, 0x320);
		cr_assert_str_neq(igvm_type_name(h.type), "unknown");
		seen[h.type] = true;
		switch (h.type) {
		case IGVM_VHT_RELOCATABLE_REGION:
			cr_assert_eq(h.u.reloc.gpa, 0x400000);
			cr_assert_eq(h.u.reloc.max_gpa, 0x40000000);
			break;
		case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION:
			cr_assert_eq(h.u.pt_reloc.used_size, 0x3000);
			break;
		case IGVM_VHT_PARAMETER_AREA:
			cr_assert_eq(memcmp(h.u.param_area.data, page_a, 4096), 0);
			break;
		case IGVM_VHT_PAGE_DATA:
			cr_assert_eq(h.u.page.size, IGVM_PAGE_2M);
			break;
		case IGVM_VHT_VP_CONTEXT:
			if (h.mask == M_NATIVE)
				cr_assert_eq(h.u.vp.platform_type, IGVM_PLATFORM_NATIVE);
			else
				cr_assert_eq(h.u.vp.data[0x3B0], 0x21);
			break;
		case IGVM_VHT_REQUIRED_MEMORY:
			cr_assert_eq(h.u.required.bytes, 0x100000);
			break;
		case IGVM_VHT_SNP_ID_BLOCK:
			cr_assert_eq(h.mask, M_SNP);
			break;
		case IGVM_VHT_ERROR_RANGE:
			cr_assert_eq(h.u.error_range.gpa, 0x7000);
			break;
		}
	}
	for (unsigned t = 0x301; t <= 0x313; t++)
		if (t != 0x306)
			cr_assert(seen[t], "type 0x%x not seen", t);
	cr_assert(seen[0x101] && seen[0x102] && seen[0x103]);
	free(buf);
}

Test(igvm, native_context_must_be_zero_past_its_fields)
{
	struct ib b;
	struct igvm_file f;
	uint8_t ctx[4096] = { 0 };

	ctx[IGVM_NATIVE_CONTEXT_X64_SIZE] = 1;
	ib_init(&b, 2);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_vp_context(&b, 0, M_NATIVE, 0, ctx);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, parameter_area_rules)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);                                  /* duplicate index */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0x1000, 3, NULL);
	ib_param_area(&b, 0x1000, 3, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* not page sized */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0x800, 3, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* hostile size */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0xFFFFFFFFFFFFF000ULL, 3, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* undeclared */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 9, 0);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* offset past the end */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0x1000, 3, NULL);
	ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 3, 0xFFD);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* huge offset */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0x1000, 3, NULL);
	ib_param(&b, IGVM_VHT_MEMORY_MAP, 3, 0xFFFFFFFFu);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* insert wraps */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_param_area(&b, 0x2000, 3, NULL);
	ib_insert(&b, 0xFFFFFFFFFFFFF000ULL, M_NATIVE, 3);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);                                  /* insert before declare */
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_insert(&b, 0x1000, M_NATIVE, 3);
	ib_param_area(&b, 0x1000, 3, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

Test(igvm, too_many_parameter_areas_rejected_without_allocation)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	for (unsigned i = 0; i <= IGVM_MAX_PARAM_AREAS; i++)
		ib_param_area(&b, IGVM_MAX_PARAM_AREA_BYTES, i, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	cr_assert(strstr(err, "parameter areas"), "%s", err);
}

Test(igvm, page_gpa_alignment_and_wrap)
{
	struct ib b;
	struct igvm_file f;

	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1800, M_NATIVE, 0, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0xFFFFFFFFFFE00000ULL, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0x8, 0, NULL);      /* reserved flag */
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 4, NULL);        /* unknown data type */
	cr_assert_eq(open_one(&b, &f, NULL), -EINVAL);
}

/* ---- plan: native ---- */

Test(igvm, plan_native_coalesces_and_fills_parameters)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 3, .memory = 0xC0000000ULL, .cmdline = "console=ttyS0" };
	int rc = igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err));

	cr_assert_eq(rc, 0, "%s", err);
	free(buf);                        /* the plan must not point into the file */
	cr_assert_eq(p.platform, PLAN_PLAIN);
	cr_assert_eq(p.nvcpus, 3);
	cr_assert_eq(p.nregions, 3);
	cr_assert_eq(p.regions[0].gpa, 0x100000);
	cr_assert_eq(p.regions[0].size, 0x3000);
	cr_assert_eq(memcmp(p.regions[0].data, page_a, 4096), 0);
	cr_assert_eq(memcmp(p.regions[0].data + 4096, page_b, 4096), 0);
	/* the zero page is zero fill past the data, not a copy */
	cr_assert_eq(p.regions[0].data_len, 0x2000);
	cr_assert_eq(p.regions[1].gpa, 0x200000);
	cr_assert_eq(p.regions[1].size, 0x1000);
	cr_assert_eq(p.regions[1].data[4095], 0xC3);
	cr_assert_eq(p.regions[2].gpa, 0x300000);
	cr_assert_eq(p.regions[2].size, 0x2000);

	const uint8_t *a = p.regions[2].data;
	cr_assert_eq(le_rd32(a), 3);                       /* VP count */
	cr_assert_eq(le_rd32(a + 4), IGVM_ENV_MEMORY_IS_SHARED);
	/* memory map: 3 GiB -> 2 GiB below 4G (Q35 rule) + 1 GiB above */
	cr_assert_eq(le_rd64(a + 0x100), 0);
	cr_assert_eq(le_rd64(a + 0x108), 0x80000000ULL / 4096);
	cr_assert_eq(le_rd32(a + 0x110), IGVM_MEMMAP_MEMORY);
	cr_assert_eq(le_rd64(a + 0x118), 0x100000000ULL / 4096);
	cr_assert_eq(le_rd64(a + 0x120), 0x40000000ULL / 4096);
	cr_assert_eq(le_rd64(a + 0x138), 0);              /* terminator */
	cr_assert_str_eq((const char *)a + 0x1000, "console=ttyS0");
	plan_free(&p);
}

Test(igvm, plan_native_rejections)
{
	size_t len;
	uint8_t *buf = native_file(1, &len);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 1 };
	struct ib b;

	/* memory map without a RAM size */
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "MEMORY_MAP"), "%s", err);
	cr_assert_eq(p.nregions, 0);
	/* no SNP / TDX platform in a native file */
	prm.memory = 1 << 30;
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), -ENOTSUP);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_TDX, &prm, err, sizeof(err)), -ENOTSUP);
	/* 0 vCPUs */
	prm.nvcpus = 0;
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -EINVAL);
	prm.nvcpus = 1;
	/* command line too long for its area */
	{
		char *big = malloc(0x1001);

		memset(big, 'x', 0x1000);
		big[0x1000] = 0;
		prm.cmdline = big;
		cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)),
			     -EINVAL);
		prm.cmdline = NULL;
		free(big);
	}
	free(buf);

	/* VTL 2 platform */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 2, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, page_a);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "VTL"), "%s", err);
	free(buf);

	/* native VP context: no register state in the plan */
	uint8_t ctx[4096] = { 0 };
	ib_init(&b, 2);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, page_a);
	ib_vp_context(&b, 0, M_NATIVE, 0, ctx);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -ENOTSUP);
	free(buf);

	/* MADT parameter, parameter after its insert, insert twice */
	for (int k = 0; k < 3; k++) {
		ib_init(&b, 1);
		ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
		ib_page(&b, 0x1000, M_NATIVE, 0, 0, page_a);
		ib_param_area(&b, 0x1000, 1, NULL);
		if (k == 0)
			ib_param(&b, IGVM_VHT_MADT, 1, 0);
		ib_insert(&b, 0x2000, M_NATIVE, 1);
		if (k == 1)
			ib_param(&b, IGVM_VHT_VP_COUNT_PARAMETER, 1, 0);
		if (k == 2)
			ib_insert(&b, 0x3000, M_NATIVE, 1);
		buf = ib_finish(&b, &len);
		ib_free(&b);
		cr_assert_lt(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), 0,
			     "case %d accepted", k);
		free(buf);
	}

	/* REQUIRED_MEMORY outside RAM */
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
	ib_page(&b, 0x1000, M_NATIVE, 0, 0, page_a);
	ib_required(&b, 0xC0000000ULL, M_NATIVE, 0x1000);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), -EINVAL);
	prm.memory = 0;   /* unknown RAM: not checked */
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err)), 0, "%s", err);
	plan_free(&p);
	free(buf);
}

Test(igvm, plan_rejects_overlapping_pages)
{
	struct ib b;
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 1, .memory = 1 << 30 };
	uint8_t *buf;
	size_t len;

	for (int k = 0; k < 3; k++) {
		ib_init(&b, 1);
		ib_platform(&b, M_NATIVE, 0, 0, 1, 0);
		ib_page(&b, 0x200000, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
		ib_param_area(&b, 0x2000, 1, NULL);
		if (k == 0)       /* the same 4K page twice, not adjacent in order */
			ib_page(&b, 0x3FF000, M_NATIVE, 0, 0, page_a);
		if (k == 1)       /* a parameter area straddling the 2M page end */
			ib_insert(&b, 0x3FF000, M_NATIVE, 1);
		if (k == 2)       /* disjoint: accepted */
			ib_insert(&b, 0x400000, M_NATIVE, 1);
		buf = ib_finish(&b, &len);
		ib_free(&b);
		int rc = igvm_build_plan(&p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err));

		if (k < 2) {
			cr_assert_eq(rc, -EINVAL, "case %d", k);
			cr_assert(strstr(err, "overlaps"), "%s", err);
		} else {
			cr_assert_eq(rc, 0, "%s", err);
			cr_assert_eq(p.nregions, 2);
			cr_assert_eq(p.regions[0].size, IGVM_PAGE_2M);
			cr_assert_null(p.regions[0].data);
			plan_free(&p);
		}
		free(buf);
	}
}

/* ---- plan: SEV-SNP ---- */

Test(igvm, plan_snp_page_types_vmsa_policy_id_block)
{
	size_t len;
	uint8_t *buf = snp_file(&len, true);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 1, .memory = 1 << 30 };
	int rc = igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err));

	cr_assert_eq(rc, 0, "%s", err);
	free(buf);
	cr_assert_eq(p.platform, PLAN_SNP);
	/* normal (2 data pages + 1 zero page, one region), unmeasured,
	 * secrets, cpuid, parameter area */
	cr_assert_eq(p.nregions, 5);
	cr_assert_eq(p.regions[0].gpa, 0x800000);
	cr_assert_eq(p.regions[0].size, 0x3000);
	cr_assert_eq(p.regions[0].snp_type, PLAN_SNP_NORMAL);
	cr_assert_eq(p.regions[0].data[0x1000], 0xB2);
	cr_assert_eq(p.regions[0].data_len, 0x2000);
	cr_assert_eq(p.regions[1].snp_type, PLAN_SNP_UNMEASURED);
	cr_assert_eq(p.regions[1].data[0], 0xC3);
	cr_assert_eq(p.regions[2].snp_type, PLAN_SNP_SECRETS);
	cr_assert_eq(p.regions[2].gpa, 0x804000);
	cr_assert_eq(p.regions[3].snp_type, PLAN_SNP_CPUID);
	cr_assert_eq(p.regions[3].data[7], 0xC3);
	cr_assert_eq(p.regions[4].snp_type, PLAN_SNP_UNMEASURED);
	cr_assert_eq(p.regions[4].gpa, 0x806000);
	cr_assert_eq(le_rd32(p.regions[4].data + 8), 1);  /* VP count */
	/* the native-only page is absent */
	for (size_t i = 0; i < p.nregions; i++)
		cr_assert_neq(p.regions[i].gpa, 0x900000);
	/* VMSA, policy, features */
	cr_assert_not_null(p.vmsa);
	cr_assert_eq(memcmp(p.vmsa[0], vmsa0, 4096), 0);
	cr_assert_eq(p.snp.sev_features, 0x21);
	cr_assert_eq(p.snp.policy, 0x30000);
	/* ID block: ld, family, image, version 1, svn 7, policy */
	cr_assert(p.snp.id_block_en);
	cr_assert(p.snp.auth_key_en);
	cr_assert_eq(p.snp.id_block[0], 0x11);
	cr_assert_eq(p.snp.id_block[47], 0x11);
	cr_assert_eq(p.snp.id_block[48], 0x22);
	cr_assert_eq(p.snp.id_block[64], 0x33);
	cr_assert_eq(le_rd32(p.snp.id_block + 80), 1);
	cr_assert_eq(le_rd32(p.snp.id_block + 84), 7);
	cr_assert_eq(le_rd64(p.snp.id_block + 88), 0x30000);
	/* ID_AUTH_INFO: algorithms, signature r/s, key curve/qx/qy */
	cr_assert_eq(le_rd32(p.snp.id_auth), 1);
	cr_assert_eq(le_rd32(p.snp.id_auth + 4), 1);
	cr_assert_eq(p.snp.id_auth[0x40], 0x44);
	cr_assert_eq(p.snp.id_auth[0x40 + 143], 0x44);
	cr_assert_eq(p.snp.id_auth[0x40 + 144], 0);
	cr_assert_eq(le_rd32(p.snp.id_auth + 0x240), 2);
	cr_assert_eq(p.snp.id_auth[0x244], 0x44);
	cr_assert_eq(p.snp.id_auth[0x244 + 144], 0);
	cr_assert_eq(le_rd32(p.snp.id_auth + 0x880), 2);
	cr_assert_eq(p.snp.id_auth[0x680], 0x44);
	cr_assert_eq(p.snp.id_auth[4095], 0);
	plan_free(&p);
}

Test(igvm, plan_snp_native_zero_option)
{
	size_t len;
	uint8_t *buf = snp_file(&len, true);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 1, .memory = 1 << 30, .snp_native_zero = true };

	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nregions, 6);
	cr_assert_eq(p.regions[0].size, 0x2000);
	cr_assert_eq(p.regions[1].gpa, 0x802000);
	cr_assert_eq(p.regions[1].snp_type, PLAN_SNP_ZERO);
	cr_assert_null(p.regions[1].data);
	plan_free(&p);
	free(buf);
}

Test(igvm, plan_snp_vmsas_for_every_vcpu)
{
	size_t len;
	uint8_t *buf = snp_file(&len, true);
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 4, .memory = 1 << 30 };

	/* APs have no context in the file and no default: rejected */
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "vCPU 1"), "%s", err);
	prm.ap_vmsa = vmsa_ap;
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nvcpus, 4);
	cr_assert_eq(p.vmsa[0][0x100], 0x5A);
	for (int i = 1; i < 4; i++)
		cr_assert_eq(memcmp(p.vmsa[i], vmsa_ap, 4096), 0);
	cr_assert_eq(p.snp.sev_features, 0x21);
	plan_free(&p);
	free(buf);

	/* No VP context at all: the default serves the BSP too. */
	buf = snp_file(&len, false);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.vmsa[0][0x100], 0xA5);
	cr_assert_eq(p.snp.sev_features, 0x1);
	plan_free(&p);
	free(buf);
}

Test(igvm, plan_snp_rejections)
{
	struct ib b;
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 2, .memory = 1 << 30, .ap_vmsa = vmsa_ap };
	uint8_t *buf;
	size_t len;

	/* no policy */
	ib_init(&b, 1);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_page(&b, 0x1000, M_SNP, 0, 0, page_a);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "GUEST_POLICY"), "%s", err);
	free(buf);
	/* VP index out of range; duplicate VP; shared page; vTOM */
	for (int k = 0; k < 4; k++) {
		ib_init(&b, 1);
		ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, k == 3 ? 1ULL << 46 : 0);
		ib_policy(&b, 0x30000, M_SNP);
		ib_page(&b, 0x1000, M_SNP, k == 2 ? IGVM_PAGE_F_SHARED : 0, 0, page_a);
		ib_vp_context(&b, PLAN_VMSA_GPA, M_SNP, k == 0 ? 2 : 0, vmsa0);
		if (k == 1)
			ib_vp_context(&b, PLAN_VMSA_GPA, M_SNP, 0, vmsa0);
		buf = ib_finish(&b, &len);
		ib_free(&b);
		cr_assert_lt(igvm_build_plan(&p, buf, len, PLAN_SNP, &prm, err, sizeof(err)), 0,
			     "case %d accepted", k);
		cr_assert_eq(p.nregions, 0);
		cr_assert_null(p.vmsa);
		free(buf);
	}
}

/* ---- plan: TDX ---- */

Test(igvm, plan_tdx_measure_flags_and_policy)
{
	struct ib b;
	struct launch_plan p;
	struct igvm_params prm = { .nvcpus = 2, .memory = 1 << 30 };
	uint8_t *buf;
	size_t len;

	ib_init(&b, 1);
	ib_platform(&b, M_TDX, 0, IGVM_PLATFORM_TDX, 1, 1ULL << 47);
	ib_policy(&b, 0x2, M_TDX);                        /* sept_ve_disable */
	ib_page(&b, 0xFFE00000ULL, M_TDX, 0, 0, page_a);
	ib_page(&b, 0xFFE01000ULL, M_TDX, 0, 0, page_b);
	ib_page(&b, 0xFFE02000ULL, M_TDX, 0, 0, NULL);   /* zero: added, not extended */
	ib_page(&b, 0xFFE03000ULL, M_TDX, IGVM_PAGE_F_UNMEASURED, 0, page_c);
	buf = ib_finish(&b, &len);
	ib_free(&b);
	cr_assert_eq(igvm_build_plan(&p, buf, len, PLAN_TDX, &prm, err, sizeof(err)), 0, "%s", err);
	/* the added-only pages: a zero page, then a data page, which starts a
	 * region of its own (a region's buffer holds file bytes only) */
	cr_assert_eq(p.nregions, 3);
	cr_assert_eq(p.regions[0].size, 0x2000);
	cr_assert(p.regions[0].flags & PLAN_F_MEASURE);
	cr_assert_eq(p.regions[1].gpa, 0xFFE02000ULL);
	cr_assert_eq(p.regions[1].size, 0x1000);
	cr_assert_null(p.regions[1].data);
	cr_assert_not(p.regions[1].flags & PLAN_F_MEASURE);
	cr_assert_eq(p.regions[2].gpa, 0xFFE03000ULL);
	cr_assert_eq(p.regions[2].size, 0x1000);
	cr_assert_not(p.regions[2].flags & PLAN_F_MEASURE);
	cr_assert_eq(p.regions[2].data[0], 0xC3);
	cr_assert_eq(p.tdx.attributes, 1ULL << 28);
	cr_assert_null(p.vmsa);
	plan_free(&p);
	free(buf);
}

/* ---- optional cross-check on a public fixture ---- */

Test(igvm, public_fixture_cross_check_when_present)
{
	static const char *const paths[] = {
		"../shared/testdata/igvm/hello.igvm",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		FILE *fp = fopen(paths[i], "rb");
		struct igvm_file f;
		uint8_t *buf;
		long n;

		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		buf = malloc(n > 0 ? n : 1);
		cr_assert_eq(fread(buf, 1, n, fp), (size_t)n);
		fclose(fp);
		cr_assert_eq(igvm_open(&f, buf, n, err, sizeof(err)), 0, "%s: %s", paths[i], err);
		cr_assert_gt(f.nplatforms, 0);
		free(buf);
		return;
	}
	cr_skip_test("no public IGVM fixture present (hello.igvm): skipped");
}
