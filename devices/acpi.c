/* devices/acpi.c: builds the ACPI tables of the i440FX/PIIX4 platform and
 * the BIOS linker/loader script that lets SeaBIOS, qboot or OVMF place them.
 * Owns: table layouts, a tiny AML emitter, the loader commands.  Must not
 * touch fw_cfg, guest memory or device state: it only returns byte blobs. */

/* Sources: ACPI 6.5 spec (5.2.5 RSDP, 5.2.6 header, 5.2.7 RSDT, 5.2.8 XSDT,
 * 5.2.9 FADT, 5.2.10 FACS, 5.2.12 MADT, 5.2.3.2 GAS, 6.4 resource
 * descriptors, 20.2 AML grammar); QEMU hw/acpi/bios-linker-loader.c (loader
 * ABI), hw/i386/acpi-build.c and hw/i386/acpi-common.c (what a PC machine
 * puts in its tables).
 *
 * Differences from QEMU's PC machine, on purpose:
 *  - FADT revision 3 (244 bytes, ACPI 2.0 layout, what QEMU's q35 uses):
 *    QEMU's PC machine forces revision 1 ("w2k requires FADT(rev1)",
 *    acpi_get_pm_info), which has no RESET_REG, IAPC_BOOT_ARCH or X_ fields;
 *    we want the 0xCF9 reset register and a 64-bit XSDT.
 *  - RSDP revision 2 with both RSDT and XSDT (QEMU PC: revision 0, RSDT).
 *  - The DSDT is a small hand-built one (no hotplug, no _PRT, no CPU objects).
 *  - No padding of the blobs (QEMU pads tables to 128 KiB and the loader to
 *    4 KiB for migration); the loader is a whole number of 128-byte commands.
 * Like QEMU, every checksum byte in the blobs is 0 (QEMU asserts it) and every
 * pointer holds the target's offset inside its file: the firmware adds the
 * allocation address (ADD_POINTER) and then fills the checksum
 * (ADD_CHECKSUM). */
#include "devices/acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/layout.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define ACPI_OEM_ID        "FUKI  "     /* 6 bytes */
#define ACPI_OEM_TABLE_ID  "FUKIVMM "   /* 8 bytes */
#define ACPI_CREATOR_ID    "FUKI"
#define ACPI_HDR_LEN       36           /* ACPI 6.5, 5.2.6 Table 5.4 */
#define ACPI_HDR_CKSUM     9

/* ACPI 6.5, 5.2.5.3 Table 5.3: RSDP */
#define RSDP_LEN           36
#define RSDP_CKSUM         8
#define RSDP_OEMID         9
#define RSDP_REV           15
#define RSDP_RSDT          16
#define RSDP_LENGTH        20
#define RSDP_XSDT          24
#define RSDP_XCKSUM        32

/* ACPI 6.5, 5.2.9 Table 5.9: FADT field offsets */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_SMI_CMD       48
#define FADT_ACPI_ENABLE   52
#define FADT_ACPI_DISABLE  53
#define FADT_PM1A_EVT_BLK  56
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM_TMR_BLK    76
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_P_LVL2_LAT    96
#define FADT_P_LVL3_LAT    98
#define FADT_CENTURY       108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK  208

/* ACPI 6.5, Table 5.10: FADT flags */
#define FADT_F_WBINVD          (1u << 0)
#define FADT_F_PROC_C1         (1u << 2)
#define FADT_F_SLP_BUTTON      (1u << 5)
#define FADT_F_RESET_REG_SUP   (1u << 10)
#define FADT_F_FORCE_APIC_CLUSTER_MODEL (1u << 18)
/* ACPI 6.5, Table 5.11: IA-PC boot architecture flags */
#define IAPC_LEGACY_DEVICES    (1u << 0)
#define IAPC_8042              (1u << 1)

/* ACPI 6.5, 5.2.3.2 Table 5.1: Generic Address Structure */
#define GAS_SYSTEM_IO      1
#define GAS_ACCESS_BYTE    1

/* ACPI 6.5, 5.2.10 Table 5.14: FACS (no checksum) */
#define FACS_LEN           64

/* ACPI 6.5, 5.2.12: MADT */
#define MADT_PCAT_COMPAT   1u
#define MADT_LAPIC         0   /* Table 5.22, 8 bytes */
#define MADT_IOAPIC        1   /* Table 5.24, 12 bytes */
#define MADT_ISO           2   /* Table 5.25, 10 bytes */
#define MADT_LAPIC_NMI     4   /* Table 5.29, 6 bytes */
#define MADT_REV           3   /* QEMU acpi-common.c acpi_build_madt */
#define MADT_ISO_LEVEL_HIGH 0xd /* Table 5.26: active high (01), level (11) */
/* QEMU ACPI_BUILD_PCI_IRQS: ISA IRQs 5, 9, 10, 11 get an identity override
 * (level, active high); 9 is the SCI. */
static const uint8_t madt_pci_irqs[] = { 5, 9, 10, 11 };

#define ACPI_MAX_CPUS      255  /* xAPIC IDs 0..254 (255 is broadcast) */

/* ------------------------------------------------------------------------
 * Growing byte buffer.  An allocation failure is sticky: every later write
 * is dropped and the builder reports -ENOMEM at the end. */
struct abuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static bool abuf_reserve(struct abuf *b, size_t n)
{
	size_t cap;
	uint8_t *np;

	if (b->oom)
		return false;
	if (n <= b->cap - b->len)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static void abuf_put(struct abuf *b, const void *d, size_t n)
{
	if (n == 0 || !abuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void abuf_zero(struct abuf *b, size_t n)
{
	if (!abuf_reserve(b, n))
		return;
	memset(b->p + b->len, 0, n);
	b->len += n;
}

static void abuf_le(struct abuf *b, uint64_t v, unsigned n)
{
	uint8_t t[8];

	le_wrn(t, v, n);
	abuf_put(b, t, n);
}

static void abuf_u8(struct abuf *b, uint8_t v) { abuf_le(b, v, 1); }

/* Overwrite @n bytes at @off (already written). */
static void abuf_set_le(struct abuf *b, size_t off, uint64_t v, unsigned n)
{
	if (b->oom || off + n > b->len)
		return;
	le_wrn(b->p + off, v, n);
}

static void abuf_release(struct abuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------------
 * Linker/loader commands (QEMU hw/acpi/bios-linker-loader.c). */
static void loader_cmd(struct abuf *l, uint8_t cmd[ACPI_LOADER_ENTRY_SIZE])
{
	abuf_put(l, cmd, ACPI_LOADER_ENTRY_SIZE);
}

static void put_name(uint8_t *p, const char *name)
{
	/* names are constants shorter than 56: strncpy pads with NULs */
	strncpy((char *)p, name, ACPI_LOADER_FILESZ - 1);
}

static void loader_allocate(struct abuf *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t c[ACPI_LOADER_ENTRY_SIZE] = { 0 };

	le_wr32(c, ACPI_LOADER_ALLOCATE);
	put_name(c + ACPI_LOADER_OFF_FILE, file);
	le_wr32(c + ACPI_LOADER_OFF_ALIGN, align);
	c[ACPI_LOADER_OFF_ZONE] = zone;
	loader_cmd(l, c);
}

static void loader_add_pointer(struct abuf *l, const char *dst, uint32_t off,
			       uint8_t size, const char *src)
{
	uint8_t c[ACPI_LOADER_ENTRY_SIZE] = { 0 };

	le_wr32(c, ACPI_LOADER_ADD_POINTER);
	put_name(c + ACPI_LOADER_OFF_FILE, dst);
	put_name(c + ACPI_LOADER_OFF_SRC, src);
	le_wr32(c + ACPI_LOADER_OFF_PTR_OFF, off);
	c[ACPI_LOADER_OFF_PTR_SIZE] = size;
	loader_cmd(l, c);
}

static void loader_add_checksum(struct abuf *l, const char *file, uint32_t result,
				uint32_t start, uint32_t len)
{
	uint8_t c[ACPI_LOADER_ENTRY_SIZE] = { 0 };

	le_wr32(c, ACPI_LOADER_ADD_CHECKSUM);
	put_name(c + ACPI_LOADER_OFF_FILE, file);
	le_wr32(c + ACPI_LOADER_OFF_CK_OFF, result);
	le_wr32(c + ACPI_LOADER_OFF_CK_START, start);
	le_wr32(c + ACPI_LOADER_OFF_CK_LEN, len);
	loader_cmd(l, c);
}

/* A pointer field at @off of etc/acpi/tables to offset @target of the same
 * file: the blob holds @target, the loader adds the file's address. */
static void table_pointer(struct abuf *t, struct abuf *l, size_t off, size_t target,
			  unsigned size)
{
	abuf_set_le(t, off, target, size);
	loader_add_pointer(l, ACPI_FILE_TABLES, (uint32_t)off, (uint8_t)size, ACPI_FILE_TABLES);
}

/* ------------------------------------------------------------------------
 * System description table header (ACPI 6.5, 5.2.6). */
static size_t table_begin(struct abuf *t, const char *sig, uint8_t rev)
{
	size_t start = t->len;

	abuf_put(t, sig, 4);
	abuf_le(t, 0, 4);                         /* Length: table_end */
	abuf_u8(t, rev);
	abuf_u8(t, 0);                            /* Checksum: the loader */
	abuf_put(t, ACPI_OEM_ID, 6);
	abuf_put(t, ACPI_OEM_TABLE_ID, 8);
	abuf_le(t, 1, 4);                         /* OEM Revision */
	abuf_put(t, ACPI_CREATOR_ID, 4);
	abuf_le(t, 1, 4);                         /* Creator Revision */
	return start;
}

static void table_end(struct abuf *t, struct abuf *l, size_t start)
{
	size_t len = t->len - start;

	abuf_set_le(t, start + 4, len, 4);
	loader_add_checksum(l, ACPI_FILE_TABLES, (uint32_t)(start + ACPI_HDR_CKSUM),
			    (uint32_t)start, (uint32_t)len);
}

/* ACPI 6.5, 5.2.3.2: Generic Address Structure (12 bytes) */
static void gas_io(struct abuf *t, uint16_t port, uint8_t bit_width, uint8_t access)
{
	abuf_u8(t, GAS_SYSTEM_IO);
	abuf_u8(t, bit_width);
	abuf_u8(t, 0);                            /* bit offset */
	abuf_u8(t, access);
	abuf_le(t, port, 8);
}

/* ------------------------------------------------------------------------
 * AML emitter (ACPI 6.5, 20.2).  Containers with a PkgLength are built in a
 * child buffer, then wrapped by aml_wrap(). */
#define AML_ZERO_OP     0x00
#define AML_ONE_OP      0x01
#define AML_NAME_OP     0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_STRING_PREFIX 0x0D
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP    0x10
#define AML_BUFFER_OP   0x11
#define AML_PACKAGE_OP  0x12
#define AML_EXT_PREFIX  0x5B
#define AML_DEVICE_OP   0x82   /* after 0x5B */
#define AML_ROOT_CHAR   '\\'
#define AML_DUAL_NAME   0x2E
#define AML_MULTI_NAME  0x2F

/* PkgLength (20.2.4): counts itself.  Up to 2^28 - 1. */
static void aml_pkglen(struct abuf *b, size_t body)
{
	size_t total;

	if (body + 1 < 0x40) {
		abuf_u8(b, (uint8_t)(body + 1));
		return;
	}
	for (unsigned extra = 1; extra <= 3; extra++) {
		total = body + 1 + extra;
		if (total < (1u << (4 + 8 * extra))) {
			abuf_u8(b, (uint8_t)((extra << 6) | (total & 0xf)));
			for (unsigned i = 0; i < extra; i++)
				abuf_u8(b, (uint8_t)(total >> (4 + 8 * i)));
			return;
		}
	}
	b->oom = true;   /* over 256 MiB: cannot happen here; fail the build */
}

/* NameString (20.2.2) from "\_SB.PCI0"-style text: optional root prefix,
 * segments of up to 4 characters padded with '_'. */
static void aml_namestring(struct abuf *b, const char *name)
{
	const char *p = name;
	unsigned nseg = 1;

	if (*p == AML_ROOT_CHAR) {
		abuf_u8(b, AML_ROOT_CHAR);
		p++;
	}
	if (!*p) {
		abuf_u8(b, 0);   /* NullName */
		return;
	}
	for (const char *q = p; *q; q++)
		nseg += *q == '.';
	if (nseg == 2) {
		abuf_u8(b, AML_DUAL_NAME);
	} else if (nseg > 2) {
		abuf_u8(b, AML_MULTI_NAME);
		abuf_u8(b, (uint8_t)nseg);
	}
	while (*p) {
		char seg[4] = { '_', '_', '_', '_' };
		unsigned n = 0;

		while (*p && *p != '.') {
			if (n < 4)
				seg[n++] = *p;
			p++;
		}
		abuf_put(b, seg, 4);
		if (*p == '.')
			p++;
	}
}

/* Integer with the shortest encoding (20.2.3 ComputationalData). */
static void aml_int(struct abuf *b, uint64_t v)
{
	if (v == 0) {
		abuf_u8(b, AML_ZERO_OP);
	} else if (v == 1) {
		abuf_u8(b, AML_ONE_OP);
	} else if (v <= 0xff) {
		abuf_u8(b, AML_BYTE_PREFIX);
		abuf_u8(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		abuf_u8(b, AML_WORD_PREFIX);
		abuf_le(b, v, 2);
	} else if (v <= 0xffffffffu) {
		abuf_u8(b, AML_DWORD_PREFIX);
		abuf_le(b, v, 4);
	} else {
		abuf_u8(b, AML_QWORD_PREFIX);
		abuf_le(b, v, 8);
	}
}

static void aml_string(struct abuf *b, const char *s)
{
	abuf_u8(b, AML_STRING_PREFIX);
	abuf_put(b, s, strlen(s) + 1);
}

/* EISAID("PNP0A03"): three letters of 5 bits each and four hex digits,
 * packed big-endian into a DWord (ACPI 6.5, 6.1.5 _HID; iasl's EISAID()). */
static uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++)
		v = (v << 5) | ((uint32_t)(id[i] - 0x40) & 0x1f);
	for (int i = 3; i < 7; i++) {
		char ch = id[i];
		uint32_t d = ch <= '9' ? (uint32_t)(ch - '0') : (uint32_t)((ch | 0x20) - 'a' + 10);

		v = (v << 4) | (d & 0xf);
	}
	/* v holds 31 bits MSB-first; the stored integer is its byte swap */
	return __builtin_bswap32(v);
}

static void aml_eisaid(struct abuf *b, const char *id)
{
	abuf_u8(b, AML_DWORD_PREFIX);
	abuf_le(b, aml_eisaid_value(id), 4);
}

/* Emit @op (1 or 2 bytes), PkgLength(@body) and @body; frees @body. */
static void aml_wrap(struct abuf *parent, const uint8_t *op, size_t oplen, struct abuf *body)
{
	if (body->oom)
		parent->oom = true;
	abuf_put(parent, op, oplen);
	aml_pkglen(parent, body->len);
	if (body->len)
		abuf_put(parent, body->p, body->len);
	abuf_release(body);
}

/* Scope or Device: @op, PkgLength, NameString, then @body's terms. */
static void aml_named_block(struct abuf *parent, const uint8_t *op, size_t oplen,
			    const char *name, struct abuf *body)
{
	struct abuf inner = { 0 };

	aml_namestring(&inner, name);
	abuf_put(&inner, body->p, body->len);
	if (body->oom)
		inner.oom = true;
	abuf_release(body);
	aml_wrap(parent, op, oplen, &inner);
}

static void aml_scope(struct abuf *parent, const char *name, struct abuf *body)
{
	static const uint8_t op[] = { AML_SCOPE_OP };

	aml_named_block(parent, op, sizeof(op), name, body);
}

static void aml_device(struct abuf *parent, const char *name, struct abuf *body)
{
	static const uint8_t op[] = { AML_EXT_PREFIX, AML_DEVICE_OP };

	aml_named_block(parent, op, sizeof(op), name, body);
}

/* Name(@name, Buffer(){@res + EndTag}) for a resource template. */
static void aml_name_restemplate(struct abuf *parent, const char *name, struct abuf *res)
{
	static const uint8_t op[] = { AML_BUFFER_OP };
	struct abuf inner = { 0 };

	/* End Tag (6.4.2.9): 0x79, checksum 0 ("treated as correct") */
	abuf_u8(res, 0x79);
	abuf_u8(res, 0x00);
	aml_int(&inner, res->len);               /* BufferSize */
	abuf_put(&inner, res->p, res->len);
	if (res->oom)
		inner.oom = true;
	abuf_release(res);
	abuf_u8(parent, AML_NAME_OP);
	aml_namestring(parent, name);
	aml_wrap(parent, op, sizeof(op), &inner);
}

static void aml_name_int(struct abuf *b, const char *name, uint64_t v)
{
	abuf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	aml_int(b, v);
}

static void aml_name_eisaid(struct abuf *b, const char *name, const char *id)
{
	abuf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	aml_eisaid(b, id);
}

/* ---- resource descriptors (ACPI 6.5, 6.4) ---- */

/* 6.4.2.5 I/O Port Descriptor, decodes 16 bits */
static void res_io(struct abuf *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	abuf_u8(r, 0x47);
	abuf_u8(r, 0x01);                         /* Decode16 */
	abuf_le(r, min, 2);
	abuf_le(r, max, 2);
	abuf_u8(r, align);
	abuf_u8(r, len);
}

/* 6.4.2.1 IRQ Descriptor without flags byte (IRQNoFlags: edge, active high) */
static void res_irq_noflags(struct abuf *r, unsigned irq)
{
	abuf_u8(r, 0x22);
	abuf_le(r, 1u << irq, 2);
}

/* General flags of the address space descriptors (6.4.3.5 Table 6.48):
 * bit 3 MaxFixed, bit 2 MinFixed, bit 1 PosDecode (0), bit 0 producer (0). */
#define RES_ADDR_FIXED_PRODUCER 0x0C

/* 6.4.3.5.3 Word Address Space Descriptor; @type 1 I/O, 2 bus number */
static void res_word(struct abuf *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	abuf_u8(r, 0x88);
	abuf_le(r, 13, 2);
	abuf_u8(r, type);
	abuf_u8(r, RES_ADDR_FIXED_PRODUCER);
	abuf_u8(r, tflags);
	abuf_le(r, 0, 2);                         /* granularity */
	abuf_le(r, min, 2);
	abuf_le(r, max, 2);
	abuf_le(r, 0, 2);                         /* translation */
	abuf_le(r, (uint32_t)max - min + 1, 2);
}

/* 6.4.3.5.2 DWord Address Space Descriptor, memory; @cacheable sets MEM=1
 * (Table 6.50: bit 0 read-write, bits 2:1 cacheability). */
static void res_dword_mem(struct abuf *r, bool cacheable, uint32_t min, uint32_t max)
{
	abuf_u8(r, 0x87);
	abuf_le(r, 23, 2);
	abuf_u8(r, 0);                            /* memory range */
	abuf_u8(r, RES_ADDR_FIXED_PRODUCER);
	abuf_u8(r, (uint8_t)(0x01 | (cacheable ? 0x02 : 0x00)));
	abuf_le(r, 0, 4);                         /* granularity */
	abuf_le(r, min, 4);
	abuf_le(r, max, 4);
	abuf_le(r, 0, 4);                         /* translation */
	abuf_le(r, (uint64_t)max - min + 1, 4);
}

/* ISA device under PCI0: _HID, _UID, _CRS with I/O ranges and one IRQ. */
static void dsdt_isa_device(struct abuf *pci0, const char *name, const char *hid,
			    unsigned uid, const char *ddn, const uint16_t (*io)[2],
			    unsigned nio, uint8_t align, unsigned irq)
{
	struct abuf dev = { 0 }, res = { 0 };

	aml_name_eisaid(&dev, "_HID", hid);
	aml_name_int(&dev, "_UID", uid);
	if (ddn) {
		/* _DDN (ACPI 6.5, 6.1.4): the DOS device name */
		abuf_u8(&dev, AML_NAME_OP);
		aml_namestring(&dev, "_DDN");
		aml_string(&dev, ddn);
	}
	for (unsigned i = 0; i < nio; i++)
		res_io(&res, io[i][0], io[i][0], align, (uint8_t)io[i][1]);
	res_irq_noflags(&res, irq);
	aml_name_restemplate(&dev, "_CRS", &res);
	aml_device(pci0, name, &dev);
}

static void build_dsdt_body(struct abuf *d, const struct acpi_config *c)
{
	struct abuf sb = { 0 }, pci0 = { 0 }, crs = { 0 };
	static const uint16_t com1_io[][2] = { { 0x3F8, 8 } };
	static const uint16_t kbd_io[][2] = { { 0x60, 1 }, { 0x64, 1 } };
	static const uint16_t rtc_io[][2] = { { 0x70, 2 } };

	/* \_S5: SLP_TYP 0 (the PIIX4 model powers off on any SLP_EN write) */
	{
		static const uint8_t op[] = { AML_PACKAGE_OP };
		struct abuf pkg = { 0 };

		abuf_u8(&pkg, 4);                 /* NumElements */
		for (int i = 0; i < 4; i++)
			aml_int(&pkg, 0);
		abuf_u8(d, AML_NAME_OP);
		aml_namestring(d, "_S5_");
		aml_wrap(d, op, sizeof(op), &pkg);
	}

	/* \_SB.PCI0: host bridge (QEMU build_dsdt: PNP0A03, _ADR 0, _UID 0) */
	aml_name_eisaid(&pci0, "_HID", "PNP0A03");
	aml_name_int(&pci0, "_ADR", 0);
	aml_name_int(&pci0, "_UID", 0);
	res_word(&crs, 2, 0, 0x00, 0xFF);                       /* buses 0-255 */
	res_io(&crs, 0x0CF8, 0x0CF8, 1, 8);                     /* config ports */
	res_word(&crs, 1, 3, 0x0000, 0x0CF7);                   /* EntireRange */
	res_word(&crs, 1, 3, 0x0D00, 0xFFFF);
	res_dword_mem(&crs, true, (uint32_t)LAYOUT_VGA_START, (uint32_t)LAYOUT_VGA_END - 1);
	res_dword_mem(&crs, false, (uint32_t)c->pci_mem_start, (uint32_t)(c->pci_mem_end - 1));
	aml_name_restemplate(&pci0, "_CRS", &crs);

	dsdt_isa_device(&pci0, "COM1", "PNP0501", 1, "COM1", com1_io, 1, 0x00, 4);
	dsdt_isa_device(&pci0, "KBD_", "PNP0303", 0, NULL, kbd_io, 2, 0x01, 1);
	dsdt_isa_device(&pci0, "RTC_", "PNP0B00", 0, NULL, rtc_io, 1, 0x01, 8);

	aml_device(&sb, "PCI0", &pci0);
	aml_scope(d, "\\_SB_", &sb);
}

/* ------------------------------------------------------------------------ */

static int acpi_check_config(const struct acpi_config *c)
{
	if (c->ncpus == 0 || c->ncpus > ACPI_MAX_CPUS) {
		log_err("acpi: %u vCPUs: need 1..%u", c->ncpus, ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (c->pm_base == 0 || (c->pm_base & 0x3f) || c->pm_base > 0xffc0) {
		log_err("acpi: PM base 0x%x is not a 64-byte aligned I/O block", c->pm_base);
		return -EINVAL;
	}
	if (c->pci_mem_start >= c->pci_mem_end || c->pci_mem_end > LAYOUT_4G ||
	    c->pci_mem_start < LAYOUT_VGA_END) {
		log_err("acpi: PCI memory window [0x%llx, 0x%llx) is not a 32-bit window",
			(unsigned long long)c->pci_mem_start, (unsigned long long)c->pci_mem_end);
		return -EINVAL;
	}
	if (c->pci_io_start >= c->pci_io_end || c->pci_io_end > 0x10000 ||
	    c->pci_io_start < 0x0D00) {
		log_err("acpi: PCI I/O window [0x%x, 0x%x) outside 0xD00..0x10000",
			c->pci_io_start, c->pci_io_end);
		return -EINVAL;
	}
	return 0;
}

static void build_facs(struct abuf *t)
{
	abuf_put(t, "FACS", 4);
	abuf_le(t, FACS_LEN, 4);
	/* HW signature, waking vectors, lock, flags, version: all 0 like
	 * QEMU build_facs (nothing to wake from: no S3/S4) */
	abuf_zero(t, FACS_LEN - 8);
}

static void build_fadt(struct abuf *t, struct abuf *l, const struct acpi_config *c,
		       size_t facs, size_t dsdt)
{
	size_t s = table_begin(t, "FACP", ACPI_FADT_REV);
	uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
			 FADT_F_RESET_REG_SUP;

	/* QEMU init_common_fadt_data: cluster model above 8 CPUs */
	if (c->ncpus > 8)
		flags |= FADT_F_FORCE_APIC_CLUSTER_MODEL;
	abuf_zero(t, ACPI_FADT_LEN - ACPI_HDR_LEN);
	if (t->oom)
		return;
	/* FIRMWARE_CTRL (32-bit) and DSDT/X_DSDT like QEMU build_fadt; the
	 * X_FIRMWARE_CTRL stays 0 (only one of the two may be set). */
	table_pointer(t, l, s + FADT_FIRMWARE_CTRL, facs, 4);
	table_pointer(t, l, s + FADT_DSDT, dsdt, 4);
	table_pointer(t, l, s + FADT_X_DSDT, dsdt, 8);
	abuf_set_le(t, s + FADT_SCI_INT, ACPI_SCI_IRQ, 2);
	abuf_set_le(t, s + FADT_SMI_CMD, ACPI_SMI_CMD_PORT, 4);
	abuf_set_le(t, s + FADT_ACPI_ENABLE, ACPI_ENABLE_VALUE, 1);
	abuf_set_le(t, s + FADT_ACPI_DISABLE, ACPI_DISABLE_VALUE, 1);
	abuf_set_le(t, s + FADT_PM1A_EVT_BLK, c->pm_base, 4);
	abuf_set_le(t, s + FADT_PM1A_CNT_BLK, c->pm_base + 4u, 4);
	abuf_set_le(t, s + FADT_PM_TMR_BLK, c->pm_base + 8u, 4);
	abuf_set_le(t, s + FADT_PM1_EVT_LEN, 4, 1);
	abuf_set_le(t, s + FADT_PM1_CNT_LEN, 2, 1);
	abuf_set_le(t, s + FADT_PM_TMR_LEN, 4, 1);
	abuf_set_le(t, s + FADT_P_LVL2_LAT, 0xfff, 2);   /* C2 unsupported (>100) */
	abuf_set_le(t, s + FADT_P_LVL3_LAT, 0xfff, 2);   /* C3 unsupported (>1000) */
	abuf_set_le(t, s + FADT_CENTURY, ACPI_RTC_CENTURY, 1);
	abuf_set_le(t, s + FADT_IAPC_BOOT_ARCH,
		    c->legacy_pic ? (IAPC_LEGACY_DEVICES | IAPC_8042) : 0, 2);
	abuf_set_le(t, s + FADT_FLAGS, flags, 4);
	abuf_set_le(t, s + FADT_RESET_VALUE, ACPI_RESET_VALUE, 1);
	{
		/* GAS blocks are written through a scratch buffer */
		struct abuf g = { 0 };

		gas_io(&g, ACPI_RESET_PORT, 8, GAS_ACCESS_BYTE);
		gas_io(&g, c->pm_base, 32, 0);                 /* X_PM1a_EVT_BLK */
		gas_io(&g, (uint16_t)(c->pm_base + 4), 16, 0); /* X_PM1a_CNT_BLK */
		gas_io(&g, (uint16_t)(c->pm_base + 8), 32, 0); /* X_PM_TMR_BLK */
		if (g.oom) {
			t->oom = true;
		} else {
			memcpy(t->p + s + FADT_RESET_REG, g.p, 12);
			memcpy(t->p + s + FADT_X_PM1A_EVT_BLK, g.p + 12, 12);
			memcpy(t->p + s + FADT_X_PM1A_CNT_BLK, g.p + 24, 12);
			memcpy(t->p + s + FADT_X_PM_TMR_BLK, g.p + 36, 12);
		}
		abuf_release(&g);
	}
	table_end(t, l, s);
}

static void build_madt(struct abuf *t, struct abuf *l, const struct acpi_config *c)
{
	size_t s = table_begin(t, "APIC", MADT_REV);

	abuf_le(t, LAYOUT_LAPIC, 4);
	abuf_le(t, c->legacy_pic ? MADT_PCAT_COMPAT : 0, 4);
	for (unsigned i = 0; i < c->ncpus; i++) {
		abuf_u8(t, MADT_LAPIC);
		abuf_u8(t, 8);
		abuf_u8(t, (uint8_t)i);           /* ACPI processor UID */
		abuf_u8(t, (uint8_t)i);           /* APIC ID */
		abuf_le(t, 1, 4);                 /* Enabled */
	}
	abuf_u8(t, MADT_IOAPIC);
	abuf_u8(t, 12);
	abuf_u8(t, 0);                            /* I/O APIC ID */
	abuf_u8(t, 0);
	abuf_le(t, LAYOUT_IOAPIC, 4);
	abuf_le(t, 0, 4);                         /* GSI base */
	/* No IRQ0 -> GSI 2 override, unlike QEMU: fukivmm keeps KVM's default
	 * GSI routing (arch/x86/kvm/irq_comm.c: GSI n to IOAPIC pin n), so the
	 * in-kernel PIT's IRQ0 arrives on IOAPIC pin 0, where an OS without an
	 * override looks for it.  QEMU re-routes GSI 0 to pin 2 itself. */
	for (size_t i = 0; i < sizeof(madt_pci_irqs); i++) {
		abuf_u8(t, MADT_ISO);
		abuf_u8(t, 10);
		abuf_u8(t, 0);
		abuf_u8(t, madt_pci_irqs[i]);
		abuf_le(t, madt_pci_irqs[i], 4);
		abuf_le(t, MADT_ISO_LEVEL_HIGH, 2);
	}
	abuf_u8(t, MADT_LAPIC_NMI);
	abuf_u8(t, 6);
	abuf_u8(t, 0xff);                         /* all processors */
	abuf_le(t, 0, 2);                         /* flags: conforms */
	abuf_u8(t, 1);                            /* LINT1 */
	table_end(t, l, s);
}

/* RSDT (4-byte entries) or XSDT (8-byte entries) listing @ents. */
static size_t build_sdt(struct abuf *t, struct abuf *l, const char *sig, unsigned esz,
			const size_t *ents, unsigned n)
{
	size_t s = table_begin(t, sig, 1);

	for (unsigned i = 0; i < n; i++) {
		size_t off = t->len;

		abuf_zero(t, esz);
		table_pointer(t, l, off, ents[i], esz);
	}
	table_end(t, l, s);
	return s;
}

int acpi_build(const struct acpi_config *c, struct acpi_tables *out)
{
	struct abuf t = { 0 }, l = { 0 }, r = { 0 };
	size_t facs, dsdt, fadt, madt, rsdt, xsdt, ents[2];
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!c) {
		log_err("acpi: no config");
		return -EINVAL;
	}
	rc = acpi_check_config(c);
	if (rc)
		return rc;

	/* Allocation commands first (QEMU prepends them). */
	loader_allocate(&l, ACPI_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
	loader_allocate(&l, ACPI_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);

	/* FACS first: offset 0 of a 64-byte aligned allocation is 64-aligned
	 * (ACPI 6.5, 5.2.10).  It has no checksum. */
	facs = t.len;
	build_facs(&t);

	dsdt = table_begin(&t, "DSDT", 2);        /* rev 2: 64-bit integers */
	build_dsdt_body(&t, c);
	table_end(&t, &l, dsdt);

	fadt = t.len;
	build_fadt(&t, &l, c, facs, dsdt);
	madt = t.len;
	build_madt(&t, &l, c);

	ents[0] = fadt;
	ents[1] = madt;
	rsdt = build_sdt(&t, &l, "RSDT", 4, ents, 2);
	xsdt = build_sdt(&t, &l, "XSDT", 8, ents, 2);

	/* RSDP revision 2 (ACPI 6.5, 5.2.5.3) */
	abuf_put(&r, "RSD PTR ", 8);
	abuf_u8(&r, 0);                           /* checksum, first 20 bytes */
	abuf_put(&r, ACPI_OEM_ID, 6);
	abuf_u8(&r, 2);                           /* revision */
	abuf_le(&r, rsdt, 4);
	abuf_le(&r, RSDP_LEN, 4);
	abuf_le(&r, xsdt, 8);
	abuf_u8(&r, 0);                           /* extended checksum */
	abuf_zero(&r, 3);
	loader_add_pointer(&l, ACPI_FILE_RSDP, RSDP_RSDT, 4, ACPI_FILE_TABLES);
	loader_add_pointer(&l, ACPI_FILE_RSDP, RSDP_XSDT, 8, ACPI_FILE_TABLES);
	/* the 20-byte checksum first: the extended one covers its byte */
	loader_add_checksum(&l, ACPI_FILE_RSDP, RSDP_CKSUM, 0, 20);
	loader_add_checksum(&l, ACPI_FILE_RSDP, RSDP_XCKSUM, 0, RSDP_LEN);

	if (t.oom || l.oom || r.oom) {
		log_err("acpi: out of memory building tables (%zu bytes so far)", t.len);
		abuf_release(&t);
		abuf_release(&l);
		abuf_release(&r);
		return -ENOMEM;
	}
	out->rsdp.data = r.p;
	out->rsdp.len = r.len;
	out->tables.data = t.p;
	out->tables.len = t.len;
	out->loader.data = l.p;
	out->loader.len = l.len;
	log_debug("acpi: %u CPUs, tables %zu bytes, loader %zu commands",
		  c->ncpus, t.len, l.len / ACPI_LOADER_ENTRY_SIZE);
	return 0;
}

void acpi_tables_free(struct acpi_tables *t)
{
	if (!t)
		return;
	free(t->rsdp.data);
	free(t->tables.data);
	free(t->loader.data);
	memset(t, 0, sizeof(*t));
}
