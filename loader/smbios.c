/* loader/smbios.c: builds the guest's SMBIOS 3.0 tables from [smbios] and
 * reads SMBIOS structure tables back (bounds-checked).
 * Owns: the structure layouts and the entry point only; it must not touch
 * fw_cfg, guest memory or anything of the host (no time, no host DMI). */
#include "loader/smbios.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/layout.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* Handles: one block per type, like QEMU hw/smbios/smbios.c (T0_BASE 0x000,
 * T1 0x100, T2 0x200, T3 0x300, T4 0x400, T16 0x1000, T17 0x1100,
 * T19 0x1300, T127 0x7F00). */
#define H_T0   0x0000
#define H_T1   0x0100
#define H_T2   0x0200
#define H_T3   0x0300
#define H_T4   0x0400
#define H_T16  0x1000
#define H_T17  0x1100
#define H_T19  0x1300
#define H_T127 0x7F00

/* A growing byte buffer with one structure "open" at a time. */
struct sb {
	uint8_t *buf;
	size_t len, cap;
	int err;
	size_t start;           /* current structure's first byte */
	unsigned nstr;          /* strings added to it so far */
	size_t strs;            /* where its string set starts */
	unsigned nstructs;
	size_t max_struct;
};

static void sb_reserve(struct sb *b, size_t more)
{
	size_t ncap;
	uint8_t *n;

	if (b->err || b->len + more <= b->cap)
		return;
	ncap = b->cap ? b->cap : 1024;
	while (ncap < b->len + more)
		ncap *= 2;
	n = realloc(b->buf, ncap);
	if (!n) {
		b->err = -ENOMEM;
		return;
	}
	memset(n + b->cap, 0, ncap - b->cap);
	b->buf = n;
	b->cap = ncap;
}

static void put8(struct sb *b, size_t off, uint8_t v)
{
	if (!b->err)
		b->buf[b->start + off] = v;
}

static void put16(struct sb *b, size_t off, uint16_t v)
{
	if (!b->err)
		le_wr16(b->buf + b->start + off, v);
}

static void put32(struct sb *b, size_t off, uint32_t v)
{
	if (!b->err)
		le_wr32(b->buf + b->start + off, v);
}

static void put64(struct sb *b, size_t off, uint64_t v)
{
	if (!b->err)
		le_wr64(b->buf + b->start + off, v);
}

/* Open a structure: header {type, length, handle}, zeroed formatted area. */
static void sb_begin(struct sb *b, uint8_t type, uint8_t length, uint16_t handle)
{
	sb_reserve(b, length);
	if (b->err)
		return;
	b->start = b->len;
	memset(b->buf + b->len, 0, length);
	b->len += length;
	b->strs = b->len;
	b->nstr = 0;
	put8(b, 0, type);
	put8(b, 1, length);
	put16(b, 2, handle);
}

/* Add a string, set the formatted-area byte @off to its number (0 when
 * @s is NULL or empty: SMBIOS strings cannot be empty, DSP0134 6.1.3). */
static void sb_str(struct sb *b, size_t off, const char *s)
{
	size_t n;

	if (!s || !*s) {
		put8(b, off, 0);
		return;
	}
	n = strlen(s);
	sb_reserve(b, n + 1);
	if (b->err)
		return;
	memcpy(b->buf + b->len, s, n + 1);
	b->len += n + 1;
	put8(b, off, (uint8_t)++b->nstr);
}

/* Close: a structure without strings ends with two NULs, one with strings
 * with one more NUL after the last string's (DSP0134 6.1.3). */
static void sb_end(struct sb *b)
{
	size_t add = b->nstr ? 1 : 2;

	sb_reserve(b, add);
	if (b->err)
		return;
	memset(b->buf + b->len, 0, add);
	b->len += add;
	b->nstructs++;
	if (b->len - b->start > b->max_struct)
		b->max_struct = b->len - b->start;
}

uint8_t smbios_sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Type 0, BIOS Information (DSP0134 7.1), 3.1 layout: 0x1A bytes. */
static void build_t0(struct sb *b, const struct smbios_ids *sm)
{
	sb_begin(b, SMBIOS_TYPE_BIOS, 0x1A, H_T0);
	sb_str(b, 0x04, sm->bios_vendor);
	sb_str(b, 0x05, sm->bios_version);
	put16(b, 0x06, 0xE800);             /* starting segment, as QEMU */
	sb_str(b, 0x08, sm->bios_date);
	put8(b, 0x09, 0);                   /* ROM size: 64 KiB units - 1 */
	put64(b, 0x0A, 1ULL << 3);          /* "BIOS characteristics not supported" */
	put8(b, 0x12, 0);
	/* ext byte 2: bit 2 targeted content distribution, bit 3 UEFI, bit 4
	 * virtual machine (7.1.2.2) */
	put8(b, 0x13, 0x1C);
	put8(b, 0x14, sm->bios_major);
	put8(b, 0x15, sm->bios_minor);
	put8(b, 0x16, 0xFF);                /* no embedded controller */
	put8(b, 0x17, 0xFF);
	put16(b, 0x18, 0);                  /* extended ROM size */
	sb_end(b);
}

/* Type 1, System Information (7.2): 0x1B bytes. */
static void build_t1(struct sb *b, const struct smbios_ids *sm)
{
	sb_begin(b, SMBIOS_TYPE_SYSTEM, 0x1B, H_T1);
	sb_str(b, 0x04, sm->manufacturer);
	sb_str(b, 0x05, sm->product);
	sb_str(b, 0x06, sm->version);
	sb_str(b, 0x07, sm->serial);
	if (sm->uuid_set) {
		/* 7.2.1: the first three fields are little-endian on the wire,
		 * the config holds RFC 4122 (big-endian) byte order. */
		static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
						   8, 9, 10, 11, 12, 13, 14, 15 };

		for (unsigned i = 0; i < 16; i++)
			put8(b, 0x08 + i, sm->uuid[order[i]]);
	}                                   /* else all zero: "not present" */
	put8(b, 0x18, 0x06);                /* wake-up type: power switch */
	sb_str(b, 0x19, sm->sku);
	sb_str(b, 0x1A, sm->family);
	sb_end(b);
}

/* Type 2, Baseboard Information (7.3): 0x0F bytes, no contained handles. */
static void build_t2(struct sb *b, const struct smbios_ids *sm)
{
	sb_begin(b, SMBIOS_TYPE_BASEBOARD, 0x0F, H_T2);
	sb_str(b, 0x04, sm->board_manufacturer);
	sb_str(b, 0x05, sm->board_product);
	sb_str(b, 0x06, sm->board_version);
	sb_str(b, 0x07, sm->board_serial);
	sb_str(b, 0x08, sm->board_asset);
	put8(b, 0x09, 0x01);                /* feature flags: hosting board */
	put8(b, 0x0A, 0);                   /* location in chassis: none */
	put16(b, 0x0B, H_T3);
	put8(b, 0x0D, 0x0A);                /* board type: motherboard */
	put8(b, 0x0E, 0);
	sb_end(b);
}

/* Type 3, System Enclosure (7.4): 2.7 layout with no contained elements
 * (0x15 + 0*0 + SKU byte = 0x16 bytes). */
static void build_t3(struct sb *b, const struct smbios_ids *sm)
{
	sb_begin(b, SMBIOS_TYPE_CHASSIS, 0x16, H_T3);
	sb_str(b, 0x04, sm->chassis_manufacturer);
	put8(b, 0x05, sm->chassis_type & 0x7F);
	sb_str(b, 0x06, sm->chassis_version);
	sb_str(b, 0x07, sm->chassis_serial);
	sb_str(b, 0x08, sm->chassis_asset);
	put8(b, 0x09, 0x03);                /* boot-up state: safe */
	put8(b, 0x0A, 0x03);                /* power supply state: safe */
	put8(b, 0x0B, 0x03);                /* thermal state: safe */
	put8(b, 0x0C, 0x02);                /* security status: unknown */
	put32(b, 0x0D, 0);                  /* OEM defined */
	put8(b, 0x11, 0);                   /* height unspecified */
	put8(b, 0x12, 0);                   /* power cords unspecified */
	put8(b, 0x13, 0);                   /* contained element count */
	put8(b, 0x14, 0);                   /* contained element record length */
	put8(b, 0x15, 0);                   /* SKU: none */
	sb_end(b);
}

/* Type 4, Processor Information (7.5), 3.0 layout: 0x30 bytes.  One socket
 * holding every vCPU as a core: QEMU since 6.2 prefers cores over sockets
 * for a bare "-smp N" (hw/core/machine-smp.c), and builds one type 4 per
 * socket. */
static void build_t4(struct sb *b, unsigned ncpus)
{
	sb_begin(b, SMBIOS_TYPE_PROCESSOR, 0x30, H_T4);
	sb_str(b, 0x04, "CPU 0");
	put8(b, 0x05, 0x03);                /* central processor */
	put8(b, 0x06, 0xFE);                /* family: see family 2 */
	sb_str(b, 0x07, "fukivmm");
	put64(b, 0x08, 0);                  /* processor ID: not host-derived */
	sb_str(b, 0x10, "fukivmm virtual CPU");
	put8(b, 0x11, 0);                   /* voltage unknown */
	put16(b, 0x12, 0);                  /* external clock unknown */
	put16(b, 0x14, 2000);               /* max speed MHz (QEMU default) */
	put16(b, 0x16, 2000);               /* current speed MHz */
	put8(b, 0x18, 0x41);                /* socket populated, CPU enabled */
	put8(b, 0x19, 0x01);                /* upgrade: other */
	put16(b, 0x1A, 0xFFFF);             /* no cache information */
	put16(b, 0x1C, 0xFFFF);
	put16(b, 0x1E, 0xFFFF);
	put8(b, 0x20, 0);                   /* serial, asset, part: none */
	put8(b, 0x21, 0);
	put8(b, 0x22, 0);
	put8(b, 0x23, ncpus > 255 ? 0xFF : (uint8_t)ncpus);   /* core count */
	put8(b, 0x24, ncpus > 255 ? 0xFF : (uint8_t)ncpus);   /* cores enabled */
	put8(b, 0x25, ncpus > 255 ? 0xFF : (uint8_t)ncpus);   /* thread count */
	put16(b, 0x26, 0x0004);             /* characteristics: 64-bit capable */
	put16(b, 0x28, 0x0001);             /* family 2: other */
	put16(b, 0x2A, (uint16_t)ncpus);    /* core count 2 */
	put16(b, 0x2C, (uint16_t)ncpus);    /* core enabled 2 */
	put16(b, 0x2E, (uint16_t)ncpus);    /* thread count 2 */
	sb_end(b);
}

/* Type 16, Physical Memory Array (7.17), 2.7 layout: 0x17 bytes. */
static void build_t16(struct sb *b, uint64_t memory, unsigned ndimms)
{
	uint64_t kib = memory >> 10;

	sb_begin(b, SMBIOS_TYPE_MEM_ARRAY, 0x17, H_T16);
	put8(b, 0x04, 0x01);                /* location: other */
	put8(b, 0x05, 0x03);                /* use: system memory */
	put8(b, 0x06, 0x06);                /* error correction: multi-bit ECC (QEMU) */
	if (kib < 0x80000000ULL) {
		put32(b, 0x07, (uint32_t)kib);
		put64(b, 0x0F, 0);
	} else {
		put32(b, 0x07, 0x80000000U);    /* see extended maximum capacity */
		put64(b, 0x0F, memory);
	}
	put16(b, 0x0B, 0xFFFE);             /* no error information */
	put16(b, 0x0D, (uint16_t)ndimms);
	sb_end(b);
}

/* Type 17, Memory Device (7.18), 2.8 layout: 0x28 bytes. */
static void build_t17(struct sb *b, unsigned idx, uint64_t size)
{
	char loc[24];
	uint64_t mib = size >> 20;

	snprintf(loc, sizeof(loc), "DIMM %u", idx);
	sb_begin(b, SMBIOS_TYPE_MEM_DEVICE, 0x28, (uint16_t)(H_T17 + idx));
	put16(b, 0x04, H_T16);
	put16(b, 0x06, 0xFFFE);
	put16(b, 0x08, 0xFFFF);             /* total width unknown */
	put16(b, 0x0A, 0xFFFF);             /* data width unknown */
	if (size % (1ULL << 20)) {
		put16(b, 0x0C, (uint16_t)(0x8000 | (size >> 10)));  /* KiB granularity */
	} else if (mib < 0x7FFF) {
		put16(b, 0x0C, (uint16_t)mib);
	} else {
		put16(b, 0x0C, 0x7FFF);         /* see extended size */
		put32(b, 0x1C, (uint32_t)mib);
	}
	put8(b, 0x0E, 0x09);                /* form factor: DIMM */
	put8(b, 0x0F, 0);
	sb_str(b, 0x10, loc);
	put8(b, 0x11, 0);                   /* bank locator: none */
	put8(b, 0x12, 0x07);                /* memory type: RAM */
	put16(b, 0x13, 0x0002);             /* type detail: other */
	put16(b, 0x15, 0);                  /* speed unknown */
	sb_str(b, 0x17, "fukivmm");
	put8(b, 0x18, 0);
	put8(b, 0x19, 0);
	put8(b, 0x1A, 0);
	put8(b, 0x1B, 0);                   /* rank unknown */
	put16(b, 0x20, 0);                  /* configured speed unknown */
	put16(b, 0x22, 0);                  /* voltages unknown */
	put16(b, 0x24, 0);
	put16(b, 0x26, 0);
	sb_end(b);
}

/* Type 19, Memory Array Mapped Address (7.20), 2.7 layout: 0x1F bytes.
 * @end is exclusive. */
static void build_t19(struct sb *b, unsigned idx, uint64_t start, uint64_t end)
{
	uint64_t skib = start >> 10, ekib = (end >> 10) - 1;

	sb_begin(b, SMBIOS_TYPE_MEM_ARRAY_MAPPED, 0x1F, (uint16_t)(H_T19 + idx));
	if (ekib < 0xFFFFFFFFULL) {
		put32(b, 0x04, (uint32_t)skib);
		put32(b, 0x08, (uint32_t)ekib);
	} else {
		put32(b, 0x04, 0xFFFFFFFFU);    /* see extended addresses */
		put32(b, 0x08, 0xFFFFFFFFU);
		put64(b, 0x0F, start);
		put64(b, 0x17, end - 1);
	}
	put16(b, 0x0C, H_T16);
	put8(b, 0x0E, 1);                   /* partition width */
	sb_end(b);
}

int smbios_build(const struct smbios_ids *sm, uint64_t memory, unsigned ncpus,
		 struct smbios_blob *out)
{
	struct sb b;
	uint64_t lo, hi, left;
	unsigned ndimms, i;
	uint8_t *a = out->anchor;

	memset(out, 0, sizeof(*out));
	if (!sm || memory < (1ULL << 20) || memory % 1024 || ncpus == 0 || ncpus > 0xFFFF) {
		log_err("smbios: cannot build tables for memory %llu bytes, %u vCPUs",
			(unsigned long long)memory, ncpus);
		return -EINVAL;
	}
	memset(&b, 0, sizeof(b));
	build_t0(&b, sm);
	build_t1(&b, sm);
	build_t2(&b, sm);
	build_t3(&b, sm);
	build_t4(&b, ncpus);
	ndimms = (unsigned)((memory + SMBIOS_MAX_DIMM - 1) / SMBIOS_MAX_DIMM);
	build_t16(&b, memory, ndimms);
	for (i = 0, left = memory; i < ndimms; i++, left -= SMBIOS_MAX_DIMM)
		build_t17(&b, i, left < SMBIOS_MAX_DIMM ? left : SMBIOS_MAX_DIMM);
	lo = layout_below_4g(memory);
	hi = layout_above_4g(memory);
	build_t19(&b, 0, 0, lo);
	if (hi)
		build_t19(&b, 1, LAYOUT_4G, LAYOUT_4G + hi);
	sb_begin(&b, SMBIOS_TYPE_END, 4, H_T127);
	sb_end(&b);
	if (b.err) {
		free(b.buf);
		log_err("smbios: out of memory building the tables");
		return b.err;
	}

	/* SMBIOS 3.0 entry point (DSP0134 5.2.2). */
	memcpy(a, "_SM3_", 5);
	a[0x06] = SMBIOS3_ANCHOR_LEN;
	a[0x07] = SMBIOS_VERSION_MAJOR;
	a[0x08] = SMBIOS_VERSION_MINOR;
	a[0x09] = 0;                        /* docrev */
	a[0x0A] = 0x01;                     /* entry point revision: 3.0 */
	a[0x0B] = 0;
	le_wr32(a + 0x0C, (uint32_t)b.len); /* structure table maximum size */
	/* 0x10..0x17: table address, patched by firmware */
	a[0x05] = (uint8_t)(0x100 - smbios_sum8(a, SMBIOS3_ANCHOR_LEN));

	out->tables = b.buf;
	out->tables_len = b.len;
	out->nstructs = b.nstructs;
	out->max_struct = b.max_struct;
	return 0;
}

void smbios_blob_free(struct smbios_blob *b)
{
	free(b->tables);
	memset(b, 0, sizeof(*b));
}

/* ---- reader ---- */

int smbios_struct_at(const uint8_t *tab, size_t len, size_t off, struct smbios_struct *s)
{
	const uint8_t *p, *end;

	memset(s, 0, sizeof(*s));
	if (!tab || off >= len || len - off < 4)
		return 0;
	p = tab + off;
	end = tab + len;
	s->type = p[0];
	s->length = p[1];
	s->handle = le_rd16(p + 2);
	if (s->length < 4 || s->length > (size_t)(end - p))
		return -EINVAL;
	s->data = p;
	s->strings = p + s->length;
	/* The string set ends at the first double NUL; an empty set is two
	 * NULs (DSP0134 6.1.3). */
	for (const uint8_t *q = s->strings; q + 1 < end; q++) {
		if (q[0] == 0 && q[1] == 0) {
			s->strings_len = (size_t)(q + 2 - s->strings);
			s->total = s->length + s->strings_len;
			return s->type == SMBIOS_TYPE_END ? 0 : 1;
		}
	}
	return -EINVAL;
}

const char *smbios_struct_string(const struct smbios_struct *s, unsigned n)
{
	const char *p = (const char *)s->strings;
	size_t left = s->strings_len;

	if (n == 0 || !p)
		return NULL;
	for (unsigned i = 1; left > 0 && *p; i++) {
		const char *e = memchr(p, 0, left);

		if (!e)
			return NULL;
		if (i == n)
			return p;
		left -= (size_t)(e + 1 - p);
		p = e + 1;
	}
	return NULL;
}

int smbios_info_parse(const uint8_t *tab, size_t len, struct smbios_info *out)
{
	/* Minimum formatted-area sizes systemd-stub requires (src/boot/smbios.c:
	 * sizeof(SmbiosTableType0/1/2)); type 0 release bytes need 0x16. */
	bool seen[4] = { false, false, false, false };
	struct smbios_struct s;
	size_t off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = smbios_struct_at(tab, len, off, &s)) == 1) {
		if (s.type <= 3 && !seen[s.type]) {
			seen[s.type] = true;
			switch (s.type) {
			case SMBIOS_TYPE_BIOS:
				if (s.length < 0x14)
					break;
				out->bios_vendor = smbios_struct_string(&s, s.data[0x04]);
				out->bios_version = smbios_struct_string(&s, s.data[0x05]);
				if (s.length >= 0x16) {
					out->bios_release_valid = true;
					out->bios_major = s.data[0x14];
					out->bios_minor = s.data[0x15];
				}
				break;
			case SMBIOS_TYPE_SYSTEM:
				if (s.length < 0x1B)
					break;
				out->manufacturer = smbios_struct_string(&s, s.data[0x04]);
				out->product = smbios_struct_string(&s, s.data[0x05]);
				out->sku = smbios_struct_string(&s, s.data[0x19]);
				out->family = smbios_struct_string(&s, s.data[0x1A]);
				break;
			case SMBIOS_TYPE_BASEBOARD:
				if (s.length < 0x08)
					break;
				out->board_manufacturer = smbios_struct_string(&s, s.data[0x04]);
				out->board_product = smbios_struct_string(&s, s.data[0x05]);
				break;
			case SMBIOS_TYPE_CHASSIS:
				if (s.length < 0x06)
					break;
				out->have_chassis = true;
				out->chassis_type = s.data[0x05] & 0x7F;
				break;
			}
		}
		if (seen[0] && seen[1] && seen[2] && seen[3])
			return 0;
		off += s.total;
	}
	if (r < 0) {
		log_debug("smbios: malformed structure at offset %zu of %zu", off, len);
		return -EINVAL;
	}
	return 0;
}
