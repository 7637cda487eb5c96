/* tests/unit/test_acpi.c: devices/acpi.c, checked the way firmware sees it.
 * A simulated firmware runs etc/table-loader against copies of the blobs
 * (ALLOCATE at fixed guest addresses, ADD_POINTER, ADD_CHECKSUM as SeaBIOS
 * romfile_loader.c does), then the tables are walked from the RSDP.
 * Field offsets are written out here from the ACPI 6.5 spec on purpose, so
 * a wrong offset in devices/acpi.c does not cancel out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi.h"
#include "vmm/base/le.h"
#include "devices/fwcfg.h"
#include "devices/pci.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/irq.h"
#include "vmm/vm/acpitables.h"

/* Where the simulated firmware places the two files. */
#define SIM_FSEG_BASE 0xF5A30ULL      /* deliberately not 16-aligned */
#define SIM_HIGH_BASE 0x7FFD1010ULL   /* deliberately not 64-aligned */

struct sim_file {
	const char *name;
	const uint8_t *blob;
	size_t len;
	uint8_t *mem;       /* copy placed at addr once allocated */
	uint64_t addr;
};

struct sim {
	struct acpi_tables t;
	struct sim_file f[2];
};

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static struct acpi_config cfg_default(unsigned ncpus)
{
	struct acpi_config c = {
		.ncpus = ncpus,
		.pm_base = 0x600,
		.pci_mem_start = 0x80000000,
		.pci_mem_end = 0xFEC00000,
		.pci_io_start = 0xC000,
		.pci_io_end = 0x10000,
		.legacy_pic = true,
	};
	return c;
}

/* A file name field: NUL-terminated within 56 bytes. */
static const char *cmd_name(const uint8_t *field)
{
	cr_assert(memchr(field, 0, ACPI_LOADER_FILESZ) != NULL, "file name not terminated");
	return (const char *)field;
}

static struct sim_file *sim_find(struct sim *s, const char *name)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	cr_assert_fail("loader names unknown file \"%s\"", name);
	return NULL;
}

/* Run the loader like firmware. */
static void sim_run(struct sim *s)
{
	const struct acpi_blob *l = &s->t.loader;

	cr_assert_eq(l->len % ACPI_LOADER_ENTRY_SIZE, 0, "loader length %zu", l->len);
	cr_assert_gt(l->len, 0);
	for (size_t off = 0; off < l->len; off += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = l->data + off;
		uint32_t cmd = le_rd32(e);
		struct sim_file *d, *src;

		switch (cmd) {
		case ACPI_LOADER_ALLOCATE: {
			uint32_t align = le_rd32(e + ACPI_LOADER_OFF_ALIGN);
			uint8_t zone = e[ACPI_LOADER_OFF_ZONE];
			uint64_t base;

			d = sim_find(s, cmd_name(e + ACPI_LOADER_OFF_FILE));
			cr_assert_null(d->mem, "%s allocated twice", d->name);
			cr_assert(align && !(align & (align - 1)), "align %u", align);
			if (zone == ACPI_LOADER_ZONE_FSEG) {
				base = SIM_FSEG_BASE;
			} else {
				cr_assert_eq(zone, ACPI_LOADER_ZONE_HIGH, "zone %u", zone);
				base = SIM_HIGH_BASE;
			}
			d->addr = (base + align - 1) & ~(uint64_t)(align - 1);
			d->mem = malloc(d->len);
			cr_assert_not_null(d->mem);
			memcpy(d->mem, d->blob, d->len);
			break;
		}
		case ACPI_LOADER_ADD_POINTER: {
			uint32_t po = le_rd32(e + ACPI_LOADER_OFF_PTR_OFF);
			uint8_t sz = e[ACPI_LOADER_OFF_PTR_SIZE];
			uint64_t v = 0;

			d = sim_find(s, cmd_name(e + ACPI_LOADER_OFF_FILE));
			src = sim_find(s, cmd_name(e + ACPI_LOADER_OFF_SRC));
			cr_assert_not_null(d->mem, "pointer into unallocated %s", d->name);
			cr_assert_not_null(src->mem, "pointer to unallocated %s", src->name);
			cr_assert(sz == 1 || sz == 2 || sz == 4 || sz == 8, "size %u", sz);
			cr_assert_leq((uint64_t)po + sz, d->len);
			memcpy(&v, d->mem + po, sz);
			cr_assert_lt(v, src->len, "pointer at %s+%u holds %llu, past %s",
				     d->name, po, (unsigned long long)v, src->name);
			v += src->addr;
			if (sz < 8)
				cr_assert_lt(v, 1ULL << (8 * sz));
			memcpy(d->mem + po, &v, sz);
			break;
		}
		case ACPI_LOADER_ADD_CHECKSUM: {
			uint32_t r = le_rd32(e + ACPI_LOADER_OFF_CK_OFF);
			uint32_t st = le_rd32(e + ACPI_LOADER_OFF_CK_START);
			uint32_t n = le_rd32(e + ACPI_LOADER_OFF_CK_LEN);

			d = sim_find(s, cmd_name(e + ACPI_LOADER_OFF_FILE));
			cr_assert_not_null(d->mem);
			cr_assert_lt(r, d->len);
			cr_assert_leq((uint64_t)st + n, d->len);
			cr_assert_eq(d->blob[r], 0, "checksum byte %s+%u not 0 in the blob", d->name, r);
			d->mem[r] -= sum8(d->mem + st, n);
			break;
		}
		default:
			cr_assert_fail("unknown loader command %u at %zu", cmd, off);
		}
	}
	cr_assert_not_null(s->f[0].mem, "rsdp never allocated");
	cr_assert_not_null(s->f[1].mem, "tables never allocated");
}

static void sim_build(struct sim *s, const struct acpi_config *c)
{
	memset(s, 0, sizeof(*s));
	cr_assert_eq(acpi_build(c, &s->t), 0);
	s->f[0] = (struct sim_file){ ACPI_FILE_RSDP, s->t.rsdp.data, s->t.rsdp.len, NULL, 0 };
	s->f[1] = (struct sim_file){ ACPI_FILE_TABLES, s->t.tables.data, s->t.tables.len, NULL, 0 };
	sim_run(s);
}

static void sim_free(struct sim *s)
{
	free(s->f[0].mem);
	free(s->f[1].mem);
	acpi_tables_free(&s->t);
}

/* Guest-physical [addr, addr+len) inside one allocation, or fail. */
static const uint8_t *sim_ptr(struct sim *s, uint64_t addr, size_t len)
{
	for (int i = 0; i < 2; i++) {
		struct sim_file *f = &s->f[i];

		if (addr >= f->addr && addr - f->addr + len <= f->len)
			return f->mem + (addr - f->addr);
	}
	cr_assert_fail("guest address 0x%llx+%zu is in no table", (unsigned long long)addr, len);
	return NULL;
}

/* A table with a standard header at @addr: signature and checksum checked. */
static const uint8_t *sim_table(struct sim *s, uint64_t addr, const char *sig)
{
	const uint8_t *h = sim_ptr(s, addr, 36);
	uint32_t len = le_rd32(h + 4);

	cr_assert_eq(memcmp(h, sig, 4), 0, "table at 0x%llx is %.4s, want %s",
		     (unsigned long long)addr, (const char *)h, sig);
	cr_assert_geq(len, 36);
	h = sim_ptr(s, addr, len);
	cr_assert_eq(sum8(h, len), 0, "%s checksum", sig);
	cr_assert_eq(memcmp(h + 10, "FUKI  ", 6), 0);
	cr_assert_eq(memcmp(h + 16, "FUKIVMM ", 8), 0);
	return h;
}

static const uint8_t *sim_rsdp(struct sim *s)
{
	const uint8_t *r = sim_ptr(s, s->f[0].addr, 36);

	return r;
}

/* Address of the table with @sig listed in the XSDT (and the same in the RSDT). */
static uint64_t sim_lookup(struct sim *s, const char *sig)
{
	const uint8_t *r = sim_rsdp(s);
	const uint8_t *rsdt = sim_table(s, le_rd32(r + 16), "RSDT");
	const uint8_t *xsdt = sim_table(s, le_rd64(r + 24), "XSDT");
	unsigned n = (le_rd32(xsdt + 4) - 36) / 8;

	cr_assert_eq((le_rd32(rsdt + 4) - 36) / 4, n, "RSDT and XSDT list different counts");
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = le_rd64(xsdt + 36 + 8 * i);

		cr_assert_eq(a, le_rd32(rsdt + 36 + 4 * i), "RSDT/XSDT entry %u differ", i);
		if (!memcmp(sim_ptr(s, a, 4), sig, 4))
			return a;
	}
	cr_assert_fail("%s not in XSDT", sig);
	return 0;
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */

Test(acpi, loader_names_only_the_two_files)
{
	struct acpi_config c = cfg_default(2);
	struct acpi_tables t;
	unsigned allocs = 0;

	cr_assert_eq(acpi_build(&c, &t), 0);
	cr_assert_eq(t.loader.len % 128, 0);
	for (size_t off = 0; off < t.loader.len; off += 128) {
		const uint8_t *e = t.loader.data + off;
		uint32_t cmd = le_rd32(e);
		const char *names[2] = { cmd_name(e + 4), NULL };

		cr_assert(cmd >= 1 && cmd <= 3, "command %u", cmd);
		if (cmd == ACPI_LOADER_ALLOCATE) {
			allocs++;
			cr_assert_eq(off / 128 + 1, allocs, "ALLOCATE after other commands");
			if (!strcmp(names[0], ACPI_FILE_RSDP)) {
				cr_assert_eq(e[ACPI_LOADER_OFF_ZONE], ACPI_LOADER_ZONE_FSEG);
				cr_assert_eq(le_rd32(e + ACPI_LOADER_OFF_ALIGN), 16);
			} else {
				cr_assert_eq(e[ACPI_LOADER_OFF_ZONE], ACPI_LOADER_ZONE_HIGH);
				cr_assert_geq(le_rd32(e + ACPI_LOADER_OFF_ALIGN), 64, "FACS needs 64");
			}
		}
		if (cmd == ACPI_LOADER_ADD_POINTER)
			names[1] = cmd_name(e + ACPI_LOADER_OFF_SRC);
		for (int i = 0; i < 2 && names[i]; i++)
			cr_assert(!strcmp(names[i], ACPI_FILE_RSDP) ||
				  !strcmp(names[i], ACPI_FILE_TABLES), "file %s", names[i]);
	}
	cr_assert_eq(allocs, 2);
	acpi_tables_free(&t);
	cr_assert_null(t.loader.data);
}

Test(acpi, rsdp_checksums_and_pointers)
{
	struct acpi_config c = cfg_default(4);
	struct sim s;
	const uint8_t *r;

	sim_build(&s, &c);
	cr_assert_eq(s.t.rsdp.len, 36);
	/* unpatched blob: checksums left for the loader */
	cr_assert_eq(s.t.rsdp.data[8], 0);
	cr_assert_eq(s.t.rsdp.data[32], 0);
	r = sim_rsdp(&s);
	cr_assert_eq(s.f[0].addr % 16, 0);
	cr_assert_eq(memcmp(r, "RSD PTR ", 8), 0);
	cr_assert_eq(sum8(r, 20), 0, "RSDP checksum");
	cr_assert_eq(sum8(r, 36), 0, "RSDP extended checksum");
	cr_assert_eq(r[15], 2, "revision");
	cr_assert_eq(le_rd32(r + 20), 36, "length");
	cr_assert_eq(memcmp(r + 9, "FUKI  ", 6), 0);
	cr_assert_geq(le_rd32(r + 16), s.f[1].addr);
	cr_assert_geq(le_rd64(r + 24), s.f[1].addr);
	sim_table(&s, le_rd32(r + 16), "RSDT");
	sim_table(&s, le_rd64(r + 24), "XSDT");
	cr_assert_eq(sim_lookup(&s, "FACP") != 0, true);
	cr_assert_eq(sim_lookup(&s, "APIC") != 0, true);
	sim_free(&s);
}

Test(acpi, table_checksum_bytes_zero_in_blob)
{
	struct acpi_config c = cfg_default(4);
	struct acpi_tables t;
	size_t off = 0;
	unsigned n = 0;

	cr_assert_eq(acpi_build(&c, &t), 0);
	while (off + 8 <= t.tables.len) {
		uint32_t len = le_rd32(t.tables.data + off + 4);

		cr_assert_geq(len, 36);
		if (memcmp(t.tables.data + off, "FACS", 4))
			cr_assert_eq(t.tables.data[off + 9], 0, "%.4s checksum byte",
				     (const char *)t.tables.data + off);
		off += len;
		n++;
	}
	cr_assert_eq(off, t.tables.len, "tables are back to back");
	cr_assert_eq(n, 6, "FACS DSDT FACP APIC RSDT XSDT");
	acpi_tables_free(&t);
}

Test(acpi, fadt_fields)
{
	struct acpi_config c = cfg_default(4);
	struct sim s;
	const uint8_t *f, *facs, *dsdt;

	c.pm_base = 0xb000;
	sim_build(&s, &c);
	f = sim_table(&s, sim_lookup(&s, "FACP"), "FACP");
	cr_assert_eq(le_rd32(f + 4), 244, "FADT length");
	cr_assert_eq(f[8], 3, "FADT revision");
	cr_assert_eq(le_rd16(f + 46), 9, "SCI_INT");
	cr_assert_eq(le_rd32(f + 48), 0xB2, "SMI_CMD");
	cr_assert_eq(f[52], 0xF1);
	cr_assert_eq(f[53], 0xF0);
	cr_assert_eq(le_rd32(f + 56), 0xb000, "PM1a_EVT_BLK");
	cr_assert_eq(le_rd32(f + 60), 0, "PM1b_EVT_BLK");
	cr_assert_eq(le_rd32(f + 64), 0xb004, "PM1a_CNT_BLK");
	cr_assert_eq(le_rd32(f + 76), 0xb008, "PM_TMR_BLK");
	cr_assert_eq(f[88], 4);
	cr_assert_eq(f[89], 2);
	cr_assert_eq(f[91], 4);
	cr_assert_eq(le_rd16(f + 109), 0x3, "IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042");
	{
		uint32_t fl = le_rd32(f + 112);

		cr_assert_eq(fl, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10), "flags 0x%x", fl);
		cr_assert_eq(fl & (1u << 8), 0, "TMR_VAL_EXT must be clear: 24-bit timer");
	}
	/* RESET_REG: SystemIO, 8 bits, offset 0, port 0xCF9, value 6 */
	cr_assert_eq(f[116], 1);
	cr_assert_eq(f[117], 8);
	cr_assert_eq(f[118], 0);
	cr_assert_eq(le_rd64(f + 120), 0xCF9);
	cr_assert_eq(f[128], 0x06);
	/* X_ blocks agree with the 32-bit ones */
	cr_assert_eq(f[148], 1);
	cr_assert_eq(f[149], 32);
	cr_assert_eq(le_rd64(f + 152), 0xb000);
	cr_assert_eq(f[172], 1);
	cr_assert_eq(f[173], 16);
	cr_assert_eq(le_rd64(f + 176), 0xb004);
	cr_assert_eq(f[208], 1);
	cr_assert_eq(f[209], 32);
	cr_assert_eq(le_rd64(f + 212), 0xb008);
	cr_assert_eq(le_rd64(f + 160 + 4), 0, "X_PM1b_EVT_BLK");
	/* FACS and DSDT pointers */
	cr_assert_eq(le_rd64(f + 132), 0, "X_FIRMWARE_CTRL unused when FIRMWARE_CTRL set");
	cr_assert_eq(le_rd64(f + 140), le_rd32(f + 40), "X_DSDT == DSDT");
	cr_assert_eq(le_rd32(f + 36) % 64, 0, "FACS 64-byte aligned");
	facs = sim_ptr(&s, le_rd32(f + 36), 64);
	cr_assert_eq(memcmp(facs, "FACS", 4), 0);
	cr_assert_eq(le_rd32(facs + 4), 64);
	dsdt = sim_table(&s, le_rd64(f + 140), "DSDT");
	cr_assert_gt(le_rd32(dsdt + 4), 36);
	sim_free(&s);
}

Test(acpi, fadt_without_legacy_pic)
{
	struct acpi_config c = cfg_default(16);
	struct sim s;
	const uint8_t *f;

	c.legacy_pic = false;
	sim_build(&s, &c);
	f = sim_table(&s, sim_lookup(&s, "FACP"), "FACP");
	cr_assert_eq(le_rd16(f + 109), 0, "no legacy devices, no 8042 flag");
	cr_assert_neq(le_rd32(f + 112) & (1u << 18), 0, "cluster model above 8 CPUs");
	sim_free(&s);
}

struct madt_seen {
	unsigned nlapic, nioapic, niso, nnmi, other;
	bool irq0_to_2;
	uint32_t flags;
};

static void check_madt(unsigned ncpus, bool legacy_pic, struct madt_seen *m)
{
	struct acpi_config c = cfg_default(ncpus);
	struct sim s;
	const uint8_t *t;
	uint32_t len;
	bool seen_iso[16] = { false };

	c.legacy_pic = legacy_pic;
	memset(m, 0, sizeof(*m));
	sim_build(&s, &c);
	t = sim_table(&s, sim_lookup(&s, "APIC"), "APIC");
	len = le_rd32(t + 4);
	cr_assert_eq(le_rd32(t + 36), 0xFEE00000, "local APIC address");
	m->flags = le_rd32(t + 40);
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = t + off;

		cr_assert_leq(off + 2, len);
		cr_assert_geq(e[1], 2);
		cr_assert_leq(off + e[1], len, "entry at %u runs past the table", off);
		switch (e[0]) {
		case 0:
			cr_assert_eq(e[1], 8);
			cr_assert_eq(e[2], m->nlapic, "processor UID");
			cr_assert_eq(e[3], m->nlapic, "APIC ID");
			cr_assert_eq(le_rd32(e + 4) & 1, 1, "enabled");
			m->nlapic++;
			break;
		case 1:
			cr_assert_eq(e[1], 12);
			cr_assert_eq(e[2], 0, "IOAPIC ID");
			cr_assert_eq(le_rd32(e + 4), 0xFEC00000);
			cr_assert_eq(le_rd32(e + 8), 0, "GSI base");
			m->nioapic++;
			break;
		case 2:
			cr_assert_eq(e[1], 10);
			cr_assert_eq(e[2], 0, "bus ISA");
			cr_assert_lt(e[3], 16);
			cr_assert_not(seen_iso[e[3]], "IRQ %u overridden twice", e[3]);
			seen_iso[e[3]] = true;
			if (e[3] == 0) {
				cr_assert_eq(le_rd32(e + 4), 2);
				cr_assert_eq(le_rd16(e + 8), 0);
				m->irq0_to_2 = true;
			} else {
				cr_assert_eq(le_rd32(e + 4), e[3], "identity override");
				cr_assert_eq(le_rd16(e + 8), 0xd, "level, active high");
			}
			m->niso++;
			break;
		case 4:
			cr_assert_eq(e[1], 6);
			cr_assert_eq(e[2], 0xff, "all processors");
			cr_assert_eq(e[5], 1, "LINT1");
			m->nnmi++;
			break;
		default:
			m->other++;
		}
		off += e[1];
	}
	cr_assert(seen_iso[9], "SCI IRQ 9 override");
	sim_free(&s);
}

Test(acpi, madt_1_4_64_255_cpus)
{
	static const unsigned n[] = { 1, 4, 64, 255 };

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		struct madt_seen m;

		check_madt(n[i], true, &m);
		cr_assert_eq(m.nlapic, n[i]);
		cr_assert_eq(m.nioapic, 1);
		cr_assert_eq(m.nnmi, 1);
		cr_assert_eq(m.other, 0);
		cr_assert_not(m.irq0_to_2, "KVM's default routing: IRQ0 on pin 0, no override");
		cr_assert_eq(m.niso, 4, "5, 9, 10, 11");
		cr_assert_eq(m.flags & 1, 1, "PCAT_COMPAT");
	}
}

Test(acpi, madt_without_legacy_pic)
{
	struct madt_seen m;

	check_madt(4, false, &m);
	cr_assert_eq(m.nlapic, 4);
	cr_assert_not(m.irq0_to_2);
	cr_assert_eq(m.niso, 4);
	cr_assert_eq(m.flags & 1, 0, "no PCAT_COMPAT");
}

Test(acpi, dsdt_contents)
{
	struct acpi_config c = cfg_default(2);
	struct sim s;
	const uint8_t *f, *d;
	uint32_t len;
	/* Name(_S5_, Package(4){0,0,0,0}) */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };
	/* Name(_HID, EISAID("PNP0A03")): DWordPrefix 0x030AD041 */
	static const uint8_t hid_pci[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
	static const uint8_t hid_com[] = { 0x0C, 0x41, 0xD0, 0x05, 0x01 };
	static const uint8_t hid_kbd[] = { 0x0C, 0x41, 0xD0, 0x03, 0x03 };
	static const uint8_t hid_rtc[] = { 0x0C, 0x41, 0xD0, 0x0B, 0x00 };
	/* IO(Decode16, 0x3F8, 0x3F8, 0, 8) and IRQNoFlags(){4} */
	static const uint8_t com_io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08, 0x22, 0x10, 0x00 };
	/* DWordMemory for [0x80000000, 0xFEC00000) */
	static const uint8_t pcimem[] = { 0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0,
					  0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xBF, 0xFE,
					  0, 0, 0, 0, 0x00, 0x00, 0xC0, 0x7E };
	/* WordIO 0x0D00-0xFFFF, EntireRange */
	static const uint8_t io_hi[] = { 0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0,
					 0x00, 0x0D, 0xFF, 0xFF, 0, 0, 0x00, 0xF3 };
	static const uint8_t pci0_dev[] = { 0x5B, 0x82 };

	sim_build(&s, &c);
	f = sim_table(&s, sim_lookup(&s, "FACP"), "FACP");
	d = sim_table(&s, le_rd64(f + 140), "DSDT");
	len = le_rd32(d + 4);
	cr_assert_geq(d[8], 2, "DSDT revision 2: 64-bit integers");
	cr_assert(contains(d + 36, len - 36, s5, sizeof(s5)), "\\_S5 package");
	cr_assert(contains(d + 36, len - 36, hid_pci, sizeof(hid_pci)), "PNP0A03");
	cr_assert(contains(d + 36, len - 36, hid_com, sizeof(hid_com)), "PNP0501");
	cr_assert(contains(d + 36, len - 36, hid_kbd, sizeof(hid_kbd)), "PNP0303");
	cr_assert(contains(d + 36, len - 36, hid_rtc, sizeof(hid_rtc)), "PNP0B00");
	cr_assert(contains(d + 36, len - 36, com_io, sizeof(com_io)), "COM1 resources");
	cr_assert(contains(d + 36, len - 36, pcimem, sizeof(pcimem)), "PCI window");
	cr_assert(contains(d + 36, len - 36, io_hi, sizeof(io_hi)), "I/O 0xD00-0xFFFF");
	cr_assert(contains(d + 36, len - 36, pci0_dev, sizeof(pci0_dev)), "a Device()");
	cr_assert(contains(d + 36, len - 36, (const uint8_t *)"PCI0", 4));
	/* the Scope(\_SB) PkgLength covers exactly the rest of the table */
	{
		const uint8_t *p = d + 36 + sizeof(s5);
		uint32_t pk;
		unsigned nb;

		cr_assert_eq(p[0], 0x10, "ScopeOp after _S5");
		nb = p[1] >> 6;
		pk = p[1] & (nb ? 0x0f : 0x3f);
		for (unsigned i = 0; i < nb; i++)
			pk |= (uint32_t)p[2 + i] << (4 + 8 * i);
		cr_assert_eq(36 + sizeof(s5) + 1 + pk, len, "scope PkgLength %u", pk);
	}
	sim_free(&s);
}

Test(acpi, deterministic)
{
	struct acpi_config c = cfg_default(8);
	struct acpi_tables a, b;

	cr_assert_eq(acpi_build(&c, &a), 0);
	cr_assert_eq(acpi_build(&c, &b), 0);
	cr_assert_eq(a.tables.len, b.tables.len);
	cr_assert_eq(memcmp(a.tables.data, b.tables.data, a.tables.len), 0);
	cr_assert_eq(a.loader.len, b.loader.len);
	cr_assert_eq(memcmp(a.loader.data, b.loader.data, a.loader.len), 0);
	cr_assert_eq(memcmp(a.rsdp.data, b.rsdp.data, a.rsdp.len), 0);
	acpi_tables_free(&a);
	acpi_tables_free(&b);
}

Test(acpi, bad_config)
{
	struct acpi_config c;
	struct acpi_tables t;

	c = cfg_default(0);
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	cr_assert_null(t.tables.data);
	c = cfg_default(256);
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	c = cfg_default(255);
	cr_assert_eq(acpi_build(&c, &t), 0);
	acpi_tables_free(&t);
	c = cfg_default(1);
	c.pm_base = 0;
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	c = cfg_default(1);
	c.pci_mem_start = c.pci_mem_end;
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	c = cfg_default(1);
	c.pci_mem_end = 0x100000001ULL;
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	c = cfg_default(1);
	c.pci_io_end = 0x10001;
	cr_assert_eq(acpi_build(&c, &t), -EINVAL);
	cr_assert_eq(acpi_build(NULL, &t), -EINVAL);
	c = cfg_default(1);
	cr_assert_eq(acpi_build(&c, NULL), -EINVAL);
	acpi_tables_free(NULL);
}

/* ---- the served tables follow the PIIX4 PM block (vmm/vm/acpitables.c) ---- */

static int nop_level(void *opaque, unsigned gsi, int level)
{
	(void)opaque; (void)gsi; (void)level;
	return 0;
}

static void nop_request(void *opaque, enum vm_req req, int status)
{
	(void)opaque; (void)req; (void)status;
}

/* Select fw_cfg file @name as firmware does (directory, then the key) and
 * read it whole into @buf; returns its length. */
static size_t fw_read_file(struct fwcfg *fw, const char *name, uint8_t *buf, size_t cap)
{
	uint8_t cnt[4], ent[64];
	uint32_t n, len = 0;
	uint16_t key = 0;

	fwcfg_select(fw, FW_CFG_FILE_DIR);
	for (int i = 0; i < 4; i++)
		cnt[i] = fwcfg_read_data(fw);
	n = (uint32_t)cnt[0] << 24 | cnt[1] << 16 | cnt[2] << 8 | cnt[3];
	for (uint32_t i = 0; i < n; i++) {
		for (int j = 0; j < 64; j++)
			ent[j] = fwcfg_read_data(fw);
		if (!strcmp((const char *)ent + 8, name)) {
			len = (uint32_t)ent[0] << 24 | ent[1] << 16 | ent[2] << 8 | ent[3];
			key = (uint16_t)(ent[4] << 8 | ent[5]);
		}
	}
	cr_assert_neq(key, 0, "no fw_cfg file %s", name);
	cr_assert_leq(len, cap);
	fwcfg_select(fw, key);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = fwcfg_read_data(fw);
	return len;
}

/* PM1a_EVT_BLK and X_PM_TMR_BLK's address of the FADT in etc/acpi/tables */
static void fadt_pm(const uint8_t *t, size_t len, uint32_t *evt, uint64_t *x_tmr)
{
	for (size_t off = 0; off + 244 <= len; off++) {
		if (!memcmp(t + off, "FACP", 4)) {
			*evt = le_rd32(t + off + 56);
			*x_tmr = le_rd64(t + off + 208 + 4);
			return;
		}
	}
	cr_assert_fail("no FACP in etc/acpi/tables");
}

static void pm_cfg(struct pci_bus *pb, unsigned off, uint32_t v, unsigned len)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	pci_config_access(pb, 1, 3, off, b, len, true);
}

Test(acpi, served_tables_follow_the_pm_block)
{
	static struct guestmem gm;
	struct irq_chip chip = { nop_level, NULL };
	struct vm_req_sink sink = { nop_request, NULL };
	struct acpi_config c = cfg_default(2);
	struct pci_bus *pb;
	struct fwcfg *fw;
	struct vm_acpi *a;
	static uint8_t buf[65536], first[65536];
	size_t len, len0;
	uint32_t evt;
	uint64_t xtmr;

	gm_init(&gm);
	pb = pci_create(&chip, &sink, NULL, 0x80000000ULL, 0xfec00000ULL);
	fw = fwcfg_create(&gm);
	cr_assert(pb && fw);
	c.pm_base = 0x1234;                 /* ignored */
	a = vm_acpi_create(fw, pb, &c);
	cr_assert_not_null(a);
	cr_assert_eq(vm_acpi_pm_base(a), PCI_PM_DEFAULT_BASE, "block off: the default");
	len0 = fw_read_file(fw, ACPI_FILE_TABLES, first, sizeof(first));
	fadt_pm(first, len0, &evt, &xtmr);
	cr_assert_eq(evt, 0x600);
	cr_assert_eq(xtmr, 0x608);

	/* OVMF: PMBA 0xB000 and PMIOSE in PEI, the tables read in DXE */
	pm_cfg(pb, 0x40, 0xb000, 4);
	pm_cfg(pb, 0x80, 1, 1);
	len = fw_read_file(fw, ACPI_FILE_TABLES, buf, sizeof(buf));
	cr_assert_eq(len, len0, "same size");
	fadt_pm(buf, len, &evt, &xtmr);
	cr_assert_eq(evt, 0xb000, "PM1a_EVT_BLK 0x%x", evt);
	cr_assert_eq(xtmr, 0xb008);
	cr_assert_eq(vm_acpi_pm_base(a), 0xb000);
	/* selecting the loader or the RSDP first rebuilds too (after a reset,
	 * SeaBIOS programs 0x600 again) */
	pci_reset(pb);
	pm_cfg(pb, 0x40, 0x601, 4);
	pm_cfg(pb, 0x80, 1, 1);
	fw_read_file(fw, ACPI_FILE_LOADER, buf, sizeof(buf));
	cr_assert_eq(vm_acpi_pm_base(a), 0x600);
	len = fw_read_file(fw, ACPI_FILE_TABLES, buf, sizeof(buf));
	cr_assert_eq(len, len0);
	cr_assert(!memcmp(buf, first, len), "byte for byte the 0x600 tables");
	/* other files' selection does not rebuild */
	pm_cfg(pb, 0x40, 0xb001, 4);
	fwcfg_select(fw, FW_CFG_SIGNATURE);
	cr_assert_eq(vm_acpi_pm_base(a), 0x600);

	fwcfg_destroy(fw);
	vm_acpi_destroy(a);
	pci_destroy(pb);
}
