/* tests/unit/igvm_build.h: a small IGVM writer for tests and fuzz seeds.
 * Owns: producing well-formed (or deliberately broken) IGVM bytes.  Test
 * code only: the product never writes IGVM.  Layout per igvm_defs
 * (microsoft/igvm igvm_defs/src/lib.rs): fixed header, variable headers
 * right after it, then file data; CRC-32 over the fixed header (checksum
 * field zero) and the variable headers. */
#ifndef FUKI_TEST_IGVM_BUILD_H
#define FUKI_TEST_IGVM_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/igvm.h"
#include "vmm/base/le.h"

struct ib {
	uint32_t version, arch, page_size;
	uint8_t *vh;
	size_t vh_len, vh_cap;
	uint8_t *data;
	size_t data_len, data_cap;
	size_t patch[4096];       /* vh positions of u32 file offsets to relocate */
	size_t npatch;
};

static inline void ib_grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	*buf = realloc(*buf, c);
	if (!*buf)
		abort();
	memset(*buf + *cap, 0, c - *cap);
	*cap = c;
}

static inline void ib_init(struct ib *b, uint32_t version)
{
	memset(b, 0, sizeof(*b));
	b->version = version;
	b->arch = IGVM_ARCH_X64;
	b->page_size = IGVM_PAGE_4K;
}

static inline void ib_free(struct ib *b)
{
	free(b->vh);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Append file data; returns its offset inside the data section. */
static inline uint32_t ib_data(struct ib *b, const void *d, size_t n)
{
	size_t at = b->data_len;

	ib_grow(&b->data, &b->data_cap, at + n);
	memcpy(b->data + at, d, n);
	b->data_len += n;
	return (uint32_t)at;
}

/* Append one variable header (type, length, body, zero padding to 8);
 * returns the vh position of its body. */
static inline size_t ib_raw(struct ib *b, uint32_t type, const void *body, uint32_t len)
{
	size_t at = b->vh_len, padded = (len + 7u) & ~7u;

	ib_grow(&b->vh, &b->vh_cap, at + 8 + padded);
	le_wr32(b->vh + at, type);
	le_wr32(b->vh + at + 4, len);
	memset(b->vh + at + 8, 0, padded);
	if (len)
		memcpy(b->vh + at + 8, body, len);
	b->vh_len += 8 + padded;
	return at + 8;
}

/* Mark the u32 at vh position @pos as a data-relative offset to relocate,
 * after storing @rel there. */
static inline void ib_reloc(struct ib *b, size_t pos, uint32_t rel)
{
	le_wr32(b->vh + pos, rel);
	if (b->npatch < sizeof(b->patch) / sizeof(b->patch[0]))
		b->patch[b->npatch++] = pos;
}

static inline void ib_platform(struct ib *b, uint32_t mask, uint8_t vtl, uint8_t type,
			       uint16_t version, uint64_t boundary)
{
	uint8_t x[IGVM_SZ_SUPPORTED_PLATFORM] = { 0 };

	le_wr32(x, mask);
	x[4] = vtl;
	x[5] = type;
	le_wr16(x + 6, version);
	le_wr64(x + 8, boundary);
	ib_raw(b, IGVM_VHT_SUPPORTED_PLATFORM, x, sizeof(x));
}

static inline void ib_policy(struct ib *b, uint64_t policy, uint32_t mask)
{
	uint8_t x[IGVM_SZ_GUEST_POLICY] = { 0 };

	le_wr64(x, policy);
	le_wr32(x + 8, mask);
	ib_raw(b, IGVM_VHT_GUEST_POLICY, x, sizeof(x));
}

/* @data: 4 KiB (or 2 MiB with IGVM_PAGE_F_2MB) of contents, NULL = zero page. */
static inline void ib_page(struct ib *b, uint64_t gpa, uint32_t mask, uint32_t flags,
			   uint16_t type, const void *data)
{
	uint8_t x[IGVM_SZ_PAGE_DATA] = { 0 };
	size_t pos;

	le_wr64(x, gpa);
	le_wr32(x + 8, mask);
	le_wr32(x + 16, flags);
	le_wr16(x + 20, type);
	pos = ib_raw(b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
	if (data)
		ib_reloc(b, pos + 12, ib_data(b, data, (flags & IGVM_PAGE_F_2MB) ?
						 IGVM_PAGE_2M : IGVM_PAGE_4K));
}

static inline void ib_param_area(struct ib *b, uint64_t bytes, uint32_t index,
				 const void *init)
{
	uint8_t x[IGVM_SZ_PARAMETER_AREA] = { 0 };
	size_t pos;

	le_wr64(x, bytes);
	le_wr32(x + 8, index);
	pos = ib_raw(b, IGVM_VHT_PARAMETER_AREA, x, sizeof(x));
	if (init)
		ib_reloc(b, pos + 12, ib_data(b, init, (size_t)bytes));
}

static inline void ib_insert(struct ib *b, uint64_t gpa, uint32_t mask, uint32_t index)
{
	uint8_t x[IGVM_SZ_PARAMETER_INSERT] = { 0 };

	le_wr64(x, gpa);
	le_wr32(x + 8, mask);
	le_wr32(x + 12, index);
	ib_raw(b, IGVM_VHT_PARAMETER_INSERT, x, sizeof(x));
}

/* VP_COUNT_PARAMETER, MEMORY_MAP, COMMAND_LINE, ENVIRONMENT_INFO, MADT... */
static inline void ib_param(struct ib *b, uint32_t type, uint32_t index, uint32_t offset)
{
	uint8_t x[IGVM_SZ_PARAMETER];

	le_wr32(x, index);
	le_wr32(x + 4, offset);
	ib_raw(b, type, x, sizeof(x));
}

/* @ctx: 4 KiB (VMSA for SEV-SNP, native context padded with zeros). */
static inline void ib_vp_context(struct ib *b, uint64_t gpa, uint32_t mask, uint16_t vp,
				 const void *ctx)
{
	uint8_t x[IGVM_SZ_VP_CONTEXT] = { 0 };
	size_t pos;

	le_wr64(x, gpa);
	le_wr32(x + 8, mask);
	le_wr16(x + 16, vp);
	pos = ib_raw(b, IGVM_VHT_VP_CONTEXT, x, sizeof(x));
	if (ctx)
		ib_reloc(b, pos + 12, ib_data(b, ctx, IGVM_PAGE_4K));
}

static inline void ib_required(struct ib *b, uint64_t gpa, uint32_t mask, uint32_t bytes)
{
	uint8_t x[IGVM_SZ_REQUIRED_MEMORY] = { 0 };

	le_wr64(x, gpa);
	le_wr32(x + 8, mask);
	le_wr32(x + 12, bytes);
	ib_raw(b, IGVM_VHT_REQUIRED_MEMORY, x, sizeof(x));
}

/* IGVM_VHS_SNP_ID_BLOCK with recognisable bytes: ld = 0x11.., family 0x22..,
 * image 0x33.., guest_svn 7, algorithms 1/1, signatures and keys 0x44.. */
static inline void ib_id_block(struct ib *b, uint32_t mask, uint8_t author_key)
{
	uint8_t x[IGVM_SZ_SNP_ID_BLOCK];

	memset(x, 0x44, sizeof(x));
	le_wr32(x, mask);
	x[4] = author_key;
	x[5] = x[6] = x[7] = 0;
	memset(x + 8, 0x11, 48);
	memset(x + 56, 0x22, 16);
	memset(x + 72, 0x33, 16);
	le_wr32(x + 88, 1);      /* version */
	le_wr32(x + 92, 7);      /* guest_svn */
	le_wr32(x + 96, 1);      /* id_key_algorithm */
	le_wr32(x + 100, 1);     /* author_key_algorithm */
	le_wr32(x + 248, 2);     /* id key curve P-384 */
	le_wr32(x + 252, 0);
	le_wr32(x + 544, 2);
	le_wr32(x + 548, 0);
	ib_raw(b, IGVM_VHT_SNP_ID_BLOCK, x, sizeof(x));
}

/* Recompute the checksum of a finished file in place (after a test edits
 * the fixed or variable headers). */
static inline void ib_fix_checksum(uint8_t *f, size_t len)
{
	uint32_t ver = f[4] | f[5] << 8, fixed = ver >= 2 ? 32 : 24;
	uint32_t vo = f[8] | f[9] << 8 | f[10] << 16 | (uint32_t)f[11] << 24;
	uint32_t vs = f[12] | f[13] << 8 | f[14] << 16 | (uint32_t)f[15] << 24;
	uint8_t hdr[32];
	uint32_t crc;

	memcpy(hdr, f, fixed);
	memset(hdr + 20, 0, 4);
	crc = igvm_crc32(0, hdr, fixed);
	if (vo <= len && vs <= len - vo)
		crc = igvm_crc32(crc, f + vo, vs);
	le_wr32(f + 20, crc);
}

/* Lay the file out: fixed header, variable headers, data.  malloc'd. */
static inline uint8_t *ib_finish(struct ib *b, size_t *len)
{
	uint32_t fixed = b->version >= 2 ? IGVM_FIXED_V2_SIZE : IGVM_FIXED_V1_SIZE;
	uint32_t data_off = fixed + (uint32_t)b->vh_len;
	size_t total = data_off + b->data_len;
	uint8_t *f = calloc(1, total ? total : 1);

	if (!f)
		abort();
	for (size_t i = 0; i < b->npatch; i++) {
		uint8_t *p = b->vh + b->patch[i];
		uint32_t rel = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;

		le_wr32(p, rel + data_off);
	}
	b->npatch = 0;
	le_wr32(f, IGVM_MAGIC);
	le_wr32(f + 4, b->version);
	le_wr32(f + 8, fixed);
	le_wr32(f + 12, (uint32_t)b->vh_len);
	le_wr32(f + 16, (uint32_t)total);
	if (b->version >= 2) {
		le_wr32(f + 24, b->arch);
		le_wr32(f + 28, b->page_size);
	}
	if (b->vh_len)
		memcpy(f + fixed, b->vh, b->vh_len);
	if (b->data_len)
		memcpy(f + data_off, b->data, b->data_len);
	ib_fix_checksum(f, total);
	*len = total;
	return f;
}

#endif
