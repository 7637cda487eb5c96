/* tests/unit/test_pci.c: the i440FX/PIIX chipset model through real PIO and
 * MMIO buses: IDs, mechanism #1, BAR sizing and decode, capabilities, PIRQ
 * routing, the ACPI PM timer and power off.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "devices/pci.h"
#include "devices/resetreg.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"

struct rec_irq {
	int level[24];
	unsigned calls;
};

static int rec_set_level(void *opaque, unsigned gsi, int level)
{
	struct rec_irq *r = opaque;

	if (gsi < 24)
		r->level[gsi] = level;
	r->calls++;
	return 0;
}

struct rec_sink {
	unsigned calls;
	enum vm_req last;
};

static void rec_request(void *opaque, enum vm_req req, int status)
{
	struct rec_sink *s = opaque;

	s->calls++;
	s->last = req;
}

static struct bus pio, mmio;
static struct rec_irq irqs;
static struct irq_chip chip = { rec_set_level, &irqs };
static struct rec_sink sinkrec;
static struct vm_req_sink sink = { rec_request, &sinkrec };
static struct resetreg *rst;
static struct pci_bus *pb;

#define HOLE_BASE 0xc0000000ULL
#define HOLE_END  0xfec00000ULL

static void setup(void)
{
	memset(&irqs, 0, sizeof(irqs));
	memset(&sinkrec, 0, sizeof(sinkrec));
	bus_init(&pio);
	bus_init(&mmio);
	rst = resetreg_create(&sink);
	pb = pci_create(&chip, &sink, rst, HOLE_BASE, HOLE_END);
	cr_assert_not_null(pb);
	cr_assert_eq(pci_attach(pb, &pio, &mmio), 0);
}

static void teardown(void)
{
	pci_destroy(pb);
	resetreg_destroy(rst);
	bus_free(&pio);
	bus_free(&mmio);
}

static void out32(uint16_t port, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	bus_access(&pio, port, b, 4, true);
}

static uint32_t in_n(uint16_t port, unsigned len)
{
	uint8_t b[4] = { 0 };

	bus_access(&pio, port, b, len, false);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void out_n(uint16_t port, uint32_t v, unsigned len)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	bus_access(&pio, port, b, len, true);
}

static uint32_t cfg_rd(unsigned slot, unsigned func, unsigned off, unsigned len)
{
	out32(0xcf8, 0x80000000u | slot << 11 | func << 8 | (off & 0xfc));
	return in_n(0xcfc + (off & 3), len);
}

static void cfg_wr(unsigned slot, unsigned func, unsigned off, uint32_t v, unsigned len)
{
	out32(0xcf8, 0x80000000u | slot << 11 | func << 8 | (off & 0xfc));
	out_n(0xcfc + (off & 3), v, len);
}

TestSuite(pci, .init = setup, .fini = teardown);

Test(pci, chipset_ids)
{
	cr_assert_eq(cfg_rd(0, 0, 0, 4), 0x12378086);
	cr_assert_eq(cfg_rd(1, 0, 0, 4), 0x70008086);
	cr_assert_eq(cfg_rd(1, 3, 0, 4), 0x71138086);
	cr_assert_eq(cfg_rd(1, 0, PCI_HEADER_TYPE, 1), 0x80, "PIIX is multi-function");
	cr_assert_eq(cfg_rd(0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
	cr_assert_eq(cfg_rd(1, 0, PCI_CLASS_DEVICE, 2), 0x0601);
	cr_assert_eq(cfg_rd(7, 0, 0, 4), 0xffffffff, "empty slot");
	cr_assert_eq(cfg_rd(1, 3, 0x58, 4) & (1u << 25), 1u << 25, "APMC_EN: no SMM setup wanted");
	cr_assert_eq(cfg_rd(1, 1, 0, 4), 0xffffffff, "empty function");
	/* enable bit clear: no config cycle */
	out32(0xcf8, 0x00000000);
	cr_assert_eq(in_n(0xcfc, 4), 0xffffffff);
	/* bus 1 does not exist */
	out32(0xcf8, 0x80010000);
	cr_assert_eq(in_n(0xcfc, 4), 0xffffffff);
	/* CONFIG_ADDRESS reads back (reserved low bits clear) */
	out32(0xcf8, 0x80000803);
	cr_assert_eq(in_n(0xcf8, 4), 0x80000800);
	/* sub-dword reads of the data port */
	cr_assert_eq(cfg_rd(0, 0, 2, 2), 0x1237);
	cr_assert_eq(cfg_rd(0, 0, 1, 1), 0x80);
}

Test(pci, cf9_is_reset_control)
{
	out32(0xcf8, 0x80000000);
	out_n(0xcf9, 0x02, 1);
	cr_assert_eq(sinkrec.calls, 0);
	cr_assert_eq(in_n(0xcf9, 1), 0x02);
	out_n(0xcf9, 0x06, 1);
	cr_assert_eq(sinkrec.calls, 1);
	cr_assert_eq(sinkrec.last, VM_REQ_RESET);
	/* the byte access did not disturb CONFIG_ADDRESS */
	cr_assert_eq(in_n(0xcf8, 4), 0x80000000);
}

struct dummy {
	unsigned calls, bar;
	uint64_t off;
	bool write;
	uint8_t val;
};

static void dummy_bar(void *opaque, unsigned bar, uint64_t off, uint8_t *data, unsigned len,
		      bool is_write)
{
	struct dummy *d = opaque;

	d->calls++;
	d->bar = bar;
	d->off = off;
	d->write = is_write;
	if (is_write)
		d->val = data[0];
	else
		memset(data, 0x5a, len);
}

static const struct pci_dev_ops dummy_ops = { .bar_access = dummy_bar };

Test(pci, bar_sizing_and_decode)
{
	struct dummy dm = { 0 };
	struct pci_dev *d = pci_add_device(pb, 3, 0, 0x1234, 0x5678, 0xff0000, 0, &dummy_ops, &dm);
	uint8_t b[4];

	cr_assert_not_null(d);
	cr_assert_eq(pci_add_bar(d, 0, 0x4000, 0), 0);
	cr_assert_eq(pci_add_bar(d, 1, 0x20, PCI_BAR_IO), 0);
	cr_assert_eq(pci_add_bar(d, 2, 0x100000, PCI_BAR_MEM64), 0);
	cr_assert_lt(pci_add_bar(d, 3, 0x1000, 0), 0, "BAR 3 is the upper half of BAR 2");
	cr_assert_lt(pci_add_bar(d, 4, 0x3000, 0), 0, "size must be a power of two");
	cr_assert_eq(pci_free_slot(pb), 2);

	cfg_wr(3, 0, PCI_BAR0, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0, 4), 0xffffc000);
	cfg_wr(3, 0, PCI_BAR0 + 4, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0 + 4, 4), 0x0000ffe1);
	cfg_wr(3, 0, PCI_BAR0 + 8, 0xffffffff, 4);
	cfg_wr(3, 0, PCI_BAR0 + 12, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0 + 8, 4), 0xfff00004);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0 + 12, 4), 0xffffffff);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0 + 20, 4), 0, "unimplemented BAR reads 0");

	cfg_wr(3, 0, PCI_BAR0, 0xe0000000, 4);
	cfg_wr(3, 0, PCI_BAR0 + 4, 0xc040, 4);
	/* not decoded until the command register enables it */
	cr_assert_eq(bus_access(&mmio, 0xe0000010, b, 4, false), 0);
	cr_assert_eq(dm.calls, 0);
	cr_assert_eq(b[0], 0xff);
	cfg_wr(3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	cr_assert_eq(pci_bar_addr(d, 0), 0xe0000000);
	bus_access(&mmio, 0xe0000010, b, 4, false);
	cr_assert_eq(dm.calls, 1);
	cr_assert_eq(dm.bar, 0);
	cr_assert_eq(dm.off, 0x10);
	cr_assert_eq(b[0], 0x5a);
	b[0] = 0x77;
	bus_access(&pio, 0xc045, b, 1, true);
	cr_assert_eq(dm.bar, 1);
	cr_assert_eq(dm.off, 5);
	cr_assert_eq(dm.val, 0x77);
	/* access straddling the BAR end is not decoded */
	dm.calls = 0;
	bus_access(&mmio, 0xe0003ffe, b, 4, false);
	cr_assert_eq(dm.calls, 0);
	/* move the BAR: the old address goes dead, the new one decodes */
	cfg_wr(3, 0, PCI_BAR0, 0xe0100000, 4);
	bus_access(&mmio, 0xe0000010, b, 4, false);
	cr_assert_eq(dm.calls, 0);
	bus_access(&mmio, 0xe0100020, b, 4, false);
	cr_assert_eq(dm.calls, 1);
	cr_assert_eq(dm.off, 0x20);
	/* a system reset unprograms BARs and the command register */
	pci_reset(pb);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0, 4), 0);
	cr_assert_eq(cfg_rd(3, 0, PCI_BAR0 + 8, 4), 4, "64-bit type bits survive");
	cr_assert_eq(pci_bar_addr(d, 0), 0);
}

Test(pci, capability_list)
{
	struct pci_dev *d = pci_add_device(pb, 4, 0, 0x1234, 0x1, 0, 0, NULL, NULL);
	int a, b;

	cr_assert_eq(cfg_rd(4, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	a = pci_add_cap(d, 0x11, 12);
	b = pci_add_cap(d, 0x09, 16);
	cr_assert_geq(a, 0x40);
	cr_assert_geq(b, a + 12);
	cr_assert_eq(cfg_rd(4, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
	cr_assert_eq(cfg_rd(4, 0, PCI_CAPABILITY_LIST, 1), (unsigned)a);
	cr_assert_eq(cfg_rd(4, 0, a, 1), 0x11);
	cr_assert_eq(cfg_rd(4, 0, a + 1, 1), (unsigned)b);
	cr_assert_eq(cfg_rd(4, 0, b, 1), 0x09);
	cr_assert_eq(cfg_rd(4, 0, b + 1, 1), 0, "end of list");
	/* read-only: a guest write does not change the IDs */
	cfg_wr(4, 0, a, 0, 1);
	cr_assert_eq(cfg_rd(4, 0, a, 1), 0x11);
	cr_assert_lt(pci_add_cap(d, 0x09, 200), 0);
}

Test(pci, pirq_routing)
{
	struct pci_dev *d = pci_add_device(pb, 3, 0, 0x1234, 0x1, 0, 0, NULL, NULL);

	/* slot 3 pin A -> PIRQ (3-1)&3 = C; disabled after reset */
	cr_assert_eq(cfg_rd(1, 0, 0x60, 4), 0x80808080);
	pci_set_intx(d, 1);
	cr_assert_eq(irqs.calls, 0, "PIRQC disabled: nothing raised");
	cfg_wr(1, 0, 0x62, 11, 1);
	cr_assert_eq(irqs.level[11], 1, "routing enabled while asserted");
	cr_assert_eq(pci_intx_gsi(d), 11);
	cfg_wr(1, 0, 0x62, 10, 1);
	cr_assert_eq(irqs.level[11], 0);
	cr_assert_eq(irqs.level[10], 1);
	cfg_wr(3, 0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	cr_assert_eq(irqs.level[10], 0, "INTx disable masks the line");
	cfg_wr(3, 0, PCI_COMMAND, 0, 2);
	cr_assert_eq(irqs.level[10], 1);
	pci_set_intx(d, 0);
	cr_assert_eq(irqs.level[10], 0);
	/* reserved encodings (IRQ 2, 8, 13) are treated as disabled */
	cfg_wr(1, 0, 0x62, 8, 1);
	cr_assert_eq(pci_intx_gsi(d), -1);
}

Test(pci, shared_gsi_is_or_of_devices)
{
	/* slots 3 and 7 both use PIRQC */
	struct pci_dev *a = pci_add_device(pb, 3, 0, 0x1234, 0x1, 0, 0, NULL, NULL);
	struct pci_dev *b = pci_add_device(pb, 7, 0, 0x1234, 0x2, 0, 0, NULL, NULL);

	cfg_wr(1, 0, 0x60, 0x0b0b0a0a, 4);
	pci_set_intx(a, 1);
	pci_set_intx(b, 1);
	pci_set_intx(a, 0);
	cr_assert_eq(irqs.level[11], 1, "b still holds the line");
	pci_set_intx(b, 0);
	cr_assert_eq(irqs.level[11], 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

Test(pci, pm_timer)
{
	uint32_t t0, t1;
	uint64_t n0, n1, expect;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	cr_assert_eq(in_n(0x608, 4), 0xffffffff, "PM block off before PMBA/PMIOSE");
	cfg_wr(1, 3, 0x40, 0x601, 4);
	cr_assert_eq(cfg_rd(1, 3, 0x40, 4), 0x601);
	cr_assert_eq(in_n(0x608, 4), 0xffffffff, "still off: PMIOSE clear");
	cfg_wr(1, 3, 0x80, 1, 1);
	n0 = now_ns();
	t0 = in_n(0x608, 4);
	nanosleep(&ts, NULL);
	t1 = in_n(0x608, 4);
	n1 = now_ns();
	cr_assert_eq(t0 & ~0xffffffu, 0, "24-bit timer");
	expect = (n1 - n0) * 3579545ULL / 1000000000ULL;
	cr_assert_leq(((t1 - t0) & 0xffffff), expect + 10,
		      "ticks %u for %llu ns", (t1 - t0) & 0xffffff, (unsigned long long)(n1 - n0));
	cr_assert_geq(((t1 - t0) & 0xffffff), 3579545ULL * 20 / 1000 - 10);
}

Test(pci, power_off)
{
	cfg_wr(1, 3, 0x40, 0x641, 4);   /* PM block moved to 0x640 */
	cfg_wr(1, 3, 0x80, 1, 1);
	/* SCI_EN through the APM port (SMI_CMD, ACPI_ENABLE) */
	cr_assert_eq(in_n(0x644, 2) & 1, 0);
	out_n(0xb2, 0xf1, 1);
	cr_assert_eq(in_n(0x644, 2) & 1, 1);
	/* SLP_TYP alone does nothing */
	out_n(0x644, 0x0001 | (5 << 10), 2);
	cr_assert_eq(sinkrec.calls, 0);
	cr_assert_eq(in_n(0x644, 2), 0x0001 | (5 << 10));
	/* the old base is dead */
	out_n(0x604, 0x2000, 2);
	cr_assert_eq(sinkrec.calls, 0);
	out_n(0x644, 0x2000 | 0x0001, 2);
	cr_assert_eq(sinkrec.calls, 1);
	cr_assert_eq(sinkrec.last, VM_REQ_POWEROFF);
	cr_assert_eq(in_n(0x644, 2) & 0x2000, 0, "SLP_EN reads as 0");
	/* PM1_STS is write-1-to-clear; PM1_EN is plain */
	out_n(0x642, 0x0120, 2);
	cr_assert_eq(in_n(0x642, 2), 0x0120);
	/* reset turns the block off again */
	pci_reset(pb);
	cr_assert_eq(in_n(0x648, 4), 0xffffffff);
}

/* The PM block follows PMBA and PMIOSE anywhere in I/O space, as OVMF
 * needs (0xB000), without taking the ports of fixed devices; with PMIOSE
 * clear it decodes nowhere. */
static void fixed_dev(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		      bool is_write)
{
	(void)offset;
	(*(unsigned *)opaque)++;
	if (!is_write)
		memset(data, 0x5a, len);
}

Test(pci, pm_block_follows_pmba)
{
	unsigned fixed_calls = 0;

	cr_assert_eq(pci_pm_base(pb), 0, "off after power-on");
	cr_assert_eq(bus_register(&pio, 0x3f8, 8, fixed_dev, &fixed_calls, "fixed"), 0);
	/* OVMF's order (OvmfPkg PlatformInitLib): PMBA 0xB000, then PMIOSE */
	cfg_wr(1, 3, 0x40, 0xb000, 4);
	cr_assert_eq(cfg_rd(1, 3, 0x40, 4), 0xb001, "bit 0 reads 1 (I/O space)");
	cr_assert_eq(pci_pm_base(pb), 0);
	cr_assert_eq(in_n(0xb008, 4), 0xffffffff, "PMIOSE clear: no decode");
	cfg_wr(1, 3, 0x80, 1, 1);
	cr_assert_eq(pci_pm_base(pb), 0xb000);
	cr_assert_eq(in_n(0xb008, 4) & ~0xffffffu, 0, "PM timer at PMBA + 8");
	cr_assert_eq(in_n(0x608, 4), 0xffffffff, "nothing left at 0x600");
	out_n(0xb004, 0x0001, 2);
	cr_assert_eq(in_n(0xb004, 2), 0x0001, "PM1_CNT at PMBA + 4");
	cr_assert_eq(in_n(0xb03c, 4), 0, "last dword of the 64-byte block");
	cr_assert_eq(in_n(0xb03e, 4), 0xffffffff, "straddles the end: not decoded");
	/* PMIOSE off again: gone, the register values kept */
	cfg_wr(1, 3, 0x80, 0, 1);
	cr_assert_eq(in_n(0xb004, 2), 0xffff);
	cr_assert_eq(pci_pm_base(pb), 0);
	/* bits 5:1 are not part of the base; bits 31:16 read 0 */
	cfg_wr(1, 3, 0x40, 0xffff1ffe, 4);
	cr_assert_eq(cfg_rd(1, 3, 0x40, 4), 0x1fc1);
	cfg_wr(1, 3, 0x80, 1, 1);
	cr_assert_eq(pci_pm_base(pb), 0x1fc0);
	cr_assert_eq(in_n(0x1fc4, 2), 0x0001);
	/* inside the PCI I/O BAR window too */
	cfg_wr(1, 3, 0x40, 0xc040, 4);
	cr_assert_eq(in_n(0xc044, 2), 0x0001);
	/* a fixed device keeps its ports where the block overlaps it */
	cfg_wr(1, 3, 0x40, 0x3c0, 4);
	cr_assert_eq(in_n(0x3f8, 1), 0x5a);
	cr_assert_eq(fixed_calls, 1);
	cr_assert_eq(in_n(0x3c4, 2), 0x0001);
	/* SeaBIOS's and qboot's 0x600 */
	cfg_wr(1, 3, 0x40, 0x601, 4);
	cr_assert_eq(pci_pm_base(pb), 0x600);
	cr_assert_eq(in_n(0x604, 2), 0x0001);
	cr_assert_eq(in_n(0x3c4, 2), 0xffff, "the old base is dead");
	pci_reset(pb);
	cr_assert_eq(pci_pm_base(pb), 0);
	cr_assert_eq(in_n(0x604, 2), 0xffff);
}

/* The i440FX PAM hook: called after each write that touches PAM0-PAM6 with
 * all seven registers, never for other host-bridge writes, and not by
 * pci_reset (whose owner rebuilds the map itself). */
struct pam_rec {
	unsigned calls;
	uint8_t pam[I440FX_PAM_REGS];
};

static void pam_record(void *opaque, const uint8_t pam[I440FX_PAM_REGS])
{
	struct pam_rec *r = opaque;

	r->calls++;
	memcpy(r->pam, pam, I440FX_PAM_REGS);
}

Test(pci, pam_hook)
{
	struct pam_rec rec = { 0 };

	pci_set_pam_hook(pb, pam_record, &rec);
	/* unrelated host-bridge registers: no call */
	cfg_wr(0, 0, 0x50, 0x12, 1);
	cfg_wr(0, 0, 0x60, 0xffffffff, 4);
	cr_assert_eq(rec.calls, 0);
	/* PAM0 (0x59): the BIOS segment 0xF0000 readable + writable */
	cfg_wr(0, 0, I440FX_PAM0, 0x30, 1);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.pam[0], 0x30);
	cr_assert_eq(cfg_rd(0, 0, I440FX_PAM0, 1), 0x30);
	/* a dword at 0x58 covers PAM0-PAM2: one call with all of them */
	cfg_wr(0, 0, 0x58, 0x11223344, 4);
	cr_assert_eq(rec.calls, 2);
	cr_assert_eq(rec.pam[0], 0x33);
	cr_assert_eq(rec.pam[1], 0x22);
	cr_assert_eq(rec.pam[2], 0x11);
	/* PAM6 (0x5F) through the last byte of the dword at 0x5C */
	cfg_wr(0, 0, 0x5f, 0x01, 1);
	cr_assert_eq(rec.calls, 3);
	cr_assert_eq(rec.pam[6], 0x01);
	/* 0x60 is past PAM6: no call */
	cfg_wr(0, 0, 0x60, 0x5a, 1);
	cr_assert_eq(rec.calls, 3);
	/* another function's 0x59 is not the host bridge's */
	cfg_wr(1, 0, I440FX_PAM0, 0x30, 1);
	cr_assert_eq(rec.calls, 3);
	/* reset: registers back to zero, without a call */
	pci_reset(pb);
	cr_assert_eq(rec.calls, 3);
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
		cr_assert_eq(cfg_rd(0, 0, I440FX_PAM0 + i, 1), 0, "PAM%u after reset", i);
	/* removing the hook stops the calls */
	pci_set_pam_hook(pb, NULL, NULL);
	cfg_wr(0, 0, I440FX_PAM0, 0x10, 1);
	cr_assert_eq(rec.calls, 3);
	cr_assert_eq(cfg_rd(0, 0, I440FX_PAM0, 1), 0x10);
}
