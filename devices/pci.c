/* devices/pci.c: i440FX host bridge, PIIX3 ISA bridge, PIIX4 PM function
 * and configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2; Intel
 * 82371AB PIIX4 datasheet for PIRQRC[A:D] at 0x60-0x63, PMBA at 0x40,
 * PMREGMISC at 0x80 and the PM1/PM timer block).
 * Owns: config space of every function, BAR decode and INTx routing, and
 * the i440FX PAM registers' storage (the memory remap they ask for is the
 * VMM's, reached through the PAM hook).
 * Must not touch device internals: BAR accesses go through pci_dev_ops. */
#include "devices/pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/resetreg.h"
#include "vmm/base/bus.h"
#include "vmm/base/clock.h"
#include "vmm/base/irq.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* 8086:1237 82441FX, 8086:7000 82371SB PIIX3 ISA, 8086:7113 82371AB PIIX4
 * ACPI (QEMU hw/pci-host/i440fx.c, hw/isa/piix.c, hw/acpi/piix4.c use the
 * same IDs, and SeaBIOS keys its i440FX setup on them). */
#define PCI_VENDOR_INTEL   0x8086
#define PCI_DEV_I440FX     0x1237
#define PCI_DEV_PIIX3_ISA  0x7000
#define PCI_DEV_PIIX4_PM   0x7113

#define PIIX_PIRQRC        0x60     /* 4 bytes: bit 7 disable, 3:0 IRQ */
#define PIIX4_PMBA         0x40     /* PM base address, bits 15:6 */
#define PIIX4_PMREGMISC    0x80     /* bit 0 PMIOSE: PM I/O space enable */
#define PIIX4_DEVACTB      0x58     /* bit 25 APMC_EN: SMI on APM control writes */

/* PM1 block (ACPI 6.5, 4.8.3.1/4.8.3.2) at PMBA */
#define PM1_STS            0x00
#define PM1_EN             0x02
#define PM1_CNT            0x04
#define PM_TMR             0x08
#define PM1_CNT_SCI_EN     0x0001
#define PM1_CNT_SLP_TYP    0x1c00
#define PM1_CNT_SLP_EN     0x2000
#define PM1_STS_TMR        0x0001

/* APM control port (PIIX4 APMC/APMS): SeaBIOS's FADT names 0xB2 as SMI_CMD
 * with ACPI_ENABLE 0xF1 / ACPI_DISABLE 0xF0 (src/fw/acpi.c). */
#define APM_CNT_PORT       0xb2
#define APM_ACPI_ENABLE    0xf1
#define APM_ACPI_DISABLE   0xf0

#define PCI_NUM_GSI        24

struct pci_dev {
	struct pci_bus *pb;
	unsigned slot, func;
	uint8_t cfg[256];
	uint8_t wmask[256];
	uint64_t bar_size[PCI_NUM_BARS];
	unsigned bar_flags[PCI_NUM_BARS];
	bool bar_used[PCI_NUM_BARS];
	bool bar_upper[PCI_NUM_BARS];   /* upper half of a 64-bit BAR */
	unsigned cap_free;              /* next free capability offset */
	unsigned cap_last;              /* offset of the last capability, 0 none */
	const struct pci_dev_ops *ops;
	void *opaque;
	int intx;                       /* level the device asks for */
	int intx_gsi;                   /* GSI currently held high, -1 none */
};

struct pci_bus {
	struct irq_chip *irq;
	struct vm_req_sink *req;
	struct resetreg *rst;
	uint64_t mmio_base, mmio_end;
	pthread_mutex_t lock;           /* config space and BAR decode */
	pthread_mutex_t intx_lock;      /* leaf: INTx state and gsi_count */
	uint32_t cfg_addr;
	struct pci_dev *dev[PCI_MAX_SLOTS][PCI_MAX_FUNCS];
	struct pci_dev *host, *isa, *pm;
	unsigned gsi_count[PCI_NUM_GSI];
	uint64_t pm_t0_ns;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	pci_pam_hook_fn *pam_hook;
	void *pam_opaque;
};

/* ---------------- INTx ---------------- */

/* PIRQ register value -> ISA IRQ, or -1.  PIIX4 datasheet: IRQ 0-2, 8 and
 * 13 are reserved encodings. */
static int pci_pirq_to_gsi(uint8_t v)
{
	unsigned irq = v & 0x0f;

	if (v & 0x80)
		return -1;
	if (irq < 3 || irq == 8 || irq == 13)
		return -1;
	return (int)irq;
}

/* PIIX swizzle: pin A of slot s uses PIRQ (s - 1) & 3 (QEMU and SeaBIOS
 * agree: pirq = (pin - 1 + slot - 1) & 3). */
static int pci_route_locked(struct pci_dev *d)
{
	struct pci_bus *pb = d->pb;
	unsigned pirq = (d->slot + 3) & 3;
	uint8_t v;
	uint16_t cmd;

	if (!pb->isa)
		return -1;
	v = __atomic_load_n(&pb->isa->cfg[PIIX_PIRQRC + pirq], __ATOMIC_RELAXED);
	cmd = (uint16_t)(__atomic_load_n(&d->cfg[PCI_COMMAND + 1], __ATOMIC_RELAXED) << 8);
	if (cmd & PCI_COMMAND_INTX_DISABLE)
		return -1;
	return pci_pirq_to_gsi(v);
}

static void pci_gsi_hold(struct pci_bus *pb, int gsi, int delta)
{
	if (gsi < 0 || gsi >= PCI_NUM_GSI)
		return;
	if (delta > 0) {
		if (pb->gsi_count[gsi]++ == 0)
			irq_set_level(pb->irq, (unsigned)gsi, 1);
	} else if (pb->gsi_count[gsi] > 0) {
		if (--pb->gsi_count[gsi] == 0)
			irq_set_level(pb->irq, (unsigned)gsi, 0);
	}
}

/* Called with intx_lock held: make the GSI held match level and route. */
static void pci_intx_update(struct pci_dev *d)
{
	int want = d->intx ? pci_route_locked(d) : -1;

	if (want == d->intx_gsi)
		return;
	pci_gsi_hold(d->pb, d->intx_gsi, -1);
	pci_gsi_hold(d->pb, want, +1);
	d->intx_gsi = want;
}

void pci_set_intx(struct pci_dev *d, int level)
{
	struct pci_bus *pb = d->pb;

	pthread_mutex_lock(&pb->intx_lock);
	d->intx = !!level;
	if (level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	pci_intx_update(d);
	pthread_mutex_unlock(&pb->intx_lock);
}

static void pci_intx_reroute_all(struct pci_bus *pb)
{
	pthread_mutex_lock(&pb->intx_lock);
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		for (unsigned f = 0; f < PCI_MAX_FUNCS; f++)
			if (pb->dev[s][f])
				pci_intx_update(pb->dev[s][f]);
	pthread_mutex_unlock(&pb->intx_lock);
}

int pci_intx_gsi(struct pci_dev *d)
{
	int g;

	pthread_mutex_lock(&d->pb->intx_lock);
	g = pci_route_locked(d);
	pthread_mutex_unlock(&d->pb->intx_lock);
	return g;
}

/* ---------------- BARs ---------------- */

static uint64_t pci_bar_addr_locked(struct pci_dev *d, unsigned bar)
{
	uint16_t cmd = (uint16_t)le_rdn(&d->cfg[PCI_COMMAND], 2);
	uint64_t a;

	if (bar >= PCI_NUM_BARS || !d->bar_used[bar] || d->bar_upper[bar])
		return 0;
	a = le_rdn(&d->cfg[PCI_BAR0 + 4 * bar], 4);
	if (d->bar_flags[bar] & PCI_BAR_IO) {
		if (!(cmd & PCI_COMMAND_IO))
			return 0;
		return a & ~3ULL;
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		return 0;
	if (d->bar_flags[bar] & PCI_BAR_MEM64)
		a |= le_rdn(&d->cfg[PCI_BAR0 + 4 * bar + 4], 4) << 32;
	return a & ~15ULL;
}

uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar)
{
	uint64_t a;

	pthread_mutex_lock(&d->pb->lock);
	a = pci_bar_addr_locked(d, bar);
	pthread_mutex_unlock(&d->pb->lock);
	return a;
}

uint64_t pci_bar_decode_locked(struct pci_dev *d, unsigned bar)
{
	uint64_t a = pci_bar_addr_locked(d, bar);

	if (!a)
		return 0;
	if (d->bar_flags[bar] & PCI_BAR_IO)
		return a >= PCI_IO_WINDOW_BASE && a + d->bar_size[bar] <= PCI_IO_WINDOW_END ? a : 0;
	return a >= d->pb->mmio_base && a + d->bar_size[bar] <= d->pb->mmio_end &&
	       a + d->bar_size[bar] > a ? a : 0;
}

/* Find the decoding BAR for [addr, addr+len). */
static struct pci_dev *pci_bar_find(struct pci_bus *pb, bool io, uint64_t addr, unsigned len,
				    unsigned *bar_out, uint64_t *off_out)
{
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		for (unsigned f = 0; f < PCI_MAX_FUNCS; f++) {
			struct pci_dev *d = pb->dev[s][f];

			if (!d)
				continue;
			for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
				uint64_t base;

				if (!d->bar_used[b] || d->bar_upper[b] ||
				    !!(d->bar_flags[b] & PCI_BAR_IO) != io)
					continue;
				base = pci_bar_addr_locked(d, b);
				if (!base || addr < base || addr - base >= d->bar_size[b] ||
				    d->bar_size[b] - (addr - base) < len)
					continue;
				*bar_out = b;
				*off_out = addr - base;
				return d;
			}
		}
	}
	return NULL;
}

void pci_bar_dispatch(struct pci_dev *d, unsigned bar, uint64_t off, uint8_t *data,
		      unsigned len, bool is_write)
{
	if (d->ops && d->ops->bar_access) {
		d->ops->bar_access(d->opaque, bar, off, data, len, is_write);
		return;
	}
	if (!is_write)
		memset(data, 0xff, len);
}

static void pci_window_access(struct pci_bus *pb, bool io, uint64_t addr, uint8_t *data,
			      unsigned len, bool is_write)
{
	struct pci_dev *d;
	unsigned bar = 0;
	uint64_t off = 0;

	pthread_mutex_lock(&pb->lock);
	d = pci_bar_find(pb, io, addr, len, &bar, &off);
	pthread_mutex_unlock(&pb->lock);
	if (!d) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_bar_dispatch(d, bar, off, data, len, is_write);
}

static void pci_mmio_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
			bool is_write)
{
	struct pci_bus *pb = opaque;

	pci_window_access(pb, false, pb->mmio_base + offset, data, len, is_write);
}

static bool pci_pm_claim(struct pci_bus *pb, uint64_t port, uint8_t *data, unsigned len,
			 bool is_write);

static void pci_iowin_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
			 bool is_write)
{
	/* the PM block may be placed inside the BAR window too */
	if (pci_pm_claim(opaque, PCI_IO_WINDOW_BASE + offset, data, len, is_write))
		return;
	pci_window_access(opaque, true, PCI_IO_WINDOW_BASE + offset, data, len, is_write);
}

/* ---------------- config space ---------------- */

static void pci_config_access_locked(struct pci_bus *pb, unsigned slot, unsigned func,
				     unsigned off, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_dev *d;

	if (slot >= PCI_MAX_SLOTS || func >= PCI_MAX_FUNCS || off >= 256 || len > 256 - off ||
	    !(d = pb->dev[slot][func])) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		if (off >= 0x40 && d->ops && d->ops->config_read &&
		    d->ops->config_read(d->opaque, off, data, len))
			return;
		memcpy(data, &d->cfg[off], len);
		return;
	}
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = d->wmask[off + i];

		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | (data[i] & m));
	}
	if (d == pb->isa && off < PIIX_PIRQRC + 4 && off + len > PIIX_PIRQRC) {
		pci_intx_reroute_all(pb);
		log_debug_rl("pci: PIRQ routes %02x %02x %02x %02x", d->cfg[0x60], d->cfg[0x61],
			     d->cfg[0x62], d->cfg[0x63]);
	}
	if (off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND)
		pci_intx_reroute_all(pb);
	if (d == pb->host && pb->pam_hook && off < I440FX_PAM0 + I440FX_PAM_REGS &&
	    off + len > I440FX_PAM0) {
		log_debug_rl("pci: PAM %02x %02x %02x %02x %02x %02x %02x", d->cfg[0x59],
			     d->cfg[0x5a], d->cfg[0x5b], d->cfg[0x5c], d->cfg[0x5d], d->cfg[0x5e],
			     d->cfg[0x5f]);
		pb->pam_hook(pb->pam_opaque, &d->cfg[I440FX_PAM0]);
	}
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d->opaque, off, len);
}

void pci_config_access(struct pci_bus *pb, unsigned slot, unsigned func, unsigned off,
		       uint8_t *data, unsigned len, bool is_write)
{
	pthread_mutex_lock(&pb->lock);
	pci_config_access_locked(pb, slot, func, off, data, len, is_write);
	pthread_mutex_unlock(&pb->lock);
}

/* Ports 0xCF8-0xCFF.  Only a dword access to 0xCF8 reaches CONFIG_ADDRESS
 * (PCI 3.0, 3.2.2.3.2); a byte at 0xCF9 is the reset control register. */
static void pci_cf8_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		       bool is_write)
{
	struct pci_bus *pb = opaque;

	if (offset == 0 && len == 4) {
		pthread_mutex_lock(&pb->lock);
		if (is_write)
			pb->cfg_addr = le_rdn(data, 4) & 0x80fffffcu;
		else
			le_wrn(data, pb->cfg_addr, 4);
		pthread_mutex_unlock(&pb->lock);
		return;
	}
	if (offset == 1 && len == 1 && pb->rst) {
		resetreg_io(pb->rst, data, is_write);
		return;
	}
	if (offset >= 4 && offset + len <= 8) {
		uint32_t a;

		pthread_mutex_lock(&pb->lock);
		a = pb->cfg_addr;
		if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0) {
			/* disabled, or a bus behind no bridge */
			if (!is_write)
				memset(data, 0xff, len);
		} else {
			pci_config_access_locked(pb, (a >> 11) & 0x1f, (a >> 8) & 7,
						 (a & 0xfc) + (unsigned)(offset - 4), data, len,
						 is_write);
		}
		pthread_mutex_unlock(&pb->lock);
		return;
	}
	if (!is_write)
		memset(data, 0xff, len);
}

/* ---------------- PIIX4 PM ---------------- */

static uint32_t pci_pm_timer(struct pci_bus *pb)
{
	uint64_t ns = clock_now_ns() - pb->pm_t0_ns;
	/* ticks = ns * 3579545 / 1e9 without overflow for ~160 years */
	uint64_t ticks = (ns / 1000000000ULL) * PCI_PM_TIMER_HZ +
			 (ns % 1000000000ULL) * PCI_PM_TIMER_HZ / 1000000000ULL;

	return (uint32_t)ticks & PCI_PM_TIMER_MASK;
}

static void pci_pm_reg(struct pci_bus *pb, unsigned off, uint8_t *data, unsigned len,
		       bool is_write)
{
	uint8_t regs[16];
	uint32_t v;

	if (!is_write) {
		memset(regs, 0, sizeof(regs));
		le_wrn(&regs[PM1_STS], pb->pm1_sts, 2);
		le_wrn(&regs[PM1_EN], pb->pm1_en, 2);
		le_wrn(&regs[PM1_CNT], pb->pm1_cnt, 2);
		le_wrn(&regs[PM_TMR], pci_pm_timer(pb), 4);
		memset(data, 0, len);
		for (unsigned i = 0; i < len; i++)
			if (off + i < sizeof(regs))
				data[i] = regs[off + i];
		return;
	}
	v = le_rdn(data, len);
	if (off == PM1_STS && len >= 2) {
		pb->pm1_sts &= (uint16_t)~v;      /* write 1 to clear */
	} else if (off == PM1_EN && len >= 2) {
		pb->pm1_en = (uint16_t)v;
	} else if (off == PM1_STS && len == 4) {
		pb->pm1_sts &= (uint16_t)~v;
		pb->pm1_en = (uint16_t)(v >> 16);
	} else if (off == PM1_CNT) {
		if (len == 1)
			v = (pb->pm1_cnt & 0xff00u) | (v & 0xff);
		if (v & PM1_CNT_SLP_EN) {
			/* No sleeping state is implemented: every SLP_EN is
			 * taken as S5 (PIIX4 _S5 type is 0 in SeaBIOS's DSDT). */
			log_info_rl("pci: guest set SLP_EN (SLP_TYP %u): power off",
				    (unsigned)((v & PM1_CNT_SLP_TYP) >> 10));
			vm_request(pb->req, VM_REQ_POWEROFF, 0);
		}
		pb->pm1_cnt = (uint16_t)(v & ~PM1_CNT_SLP_EN);
	} else if (off == PM1_CNT + 1 && len == 1) {
		v = (pb->pm1_cnt & 0xffu) | (v << 8);
		if (v & PM1_CNT_SLP_EN) {
			log_info_rl("pci: guest set SLP_EN (SLP_TYP %u): power off",
				    (unsigned)((v & PM1_CNT_SLP_TYP) >> 10));
			vm_request(pb->req, VM_REQ_POWEROFF, 0);
		}
		pb->pm1_cnt = (uint16_t)(v & ~PM1_CNT_SLP_EN);
	}
}

/* The PM block decodes where PMBA (bits 15:6) puts it while PMREGMISC
 * PMIOSE is set, as on the 82371AB and in QEMU (hw/acpi/piix4.c
 * pm_io_space_update): nothing else gates it.  Called with pb->lock held;
 * 0 when the block is off. */
static uint16_t pci_pm_base_locked(const struct pci_bus *pb)
{
	if (!(pb->pm->cfg[PIIX4_PMREGMISC] & 1))
		return 0;
	return (uint16_t)(le_rdn(&pb->pm->cfg[PIIX4_PMBA], 4) & 0xffc0u);
}

uint16_t pci_pm_base(struct pci_bus *pb)
{
	uint16_t base;

	pthread_mutex_lock(&pb->lock);
	base = pci_pm_base_locked(pb);
	pthread_mutex_unlock(&pb->lock);
	return base;
}

/* Take [port, port+len) if it lies wholly in the enabled PM block. */
static bool pci_pm_claim(struct pci_bus *pb, uint64_t port, uint8_t *data, unsigned len,
			 bool is_write)
{
	uint16_t base;
	bool hit;

	pthread_mutex_lock(&pb->lock);
	base = pci_pm_base_locked(pb);
	hit = base && port >= base && port + len <= (uint64_t)base + PIIX4_PM_IO_LEN;
	if (hit)
		pci_pm_reg(pb, (unsigned)(port - base), data, len, is_write);
	pthread_mutex_unlock(&pb->lock);
	return hit;
}

/* The PIO bus's fallback: ports no fixed device owns may belong to the PM
 * block wherever the firmware placed it (SeaBIOS and qboot: 0x600, OVMF on
 * i440FX: 0xB000). */
static bool pci_pio_fallback(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			     bool is_write)
{
	return pci_pm_claim(opaque, addr, data, len, is_write);
}

static void pci_apm_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		       bool is_write)
{
	struct pci_bus *pb = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (offset != 0)
		return;
	pthread_mutex_lock(&pb->lock);
	if (data[0] == APM_ACPI_ENABLE)
		pb->pm1_cnt |= PM1_CNT_SCI_EN;
	else if (data[0] == APM_ACPI_DISABLE)
		pb->pm1_cnt &= (uint16_t)~PM1_CNT_SCI_EN;
	pthread_mutex_unlock(&pb->lock);
}

/* ---------------- setup ---------------- */

struct pci_dev *pci_add_device(struct pci_bus *pb, unsigned slot, unsigned func,
			       uint16_t vendor, uint16_t device, uint32_t class_code,
			       uint8_t revision, const struct pci_dev_ops *ops, void *opaque)
{
	struct pci_dev *d;

	if (slot >= PCI_MAX_SLOTS || func >= PCI_MAX_FUNCS || pb->dev[slot][func]) {
		log_err("pci: slot %u.%u is taken or invalid", slot, func);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		log_err("pci: out of memory");
		return NULL;
	}
	d->pb = pb;
	d->slot = slot;
	d->func = func;
	d->ops = ops;
	d->opaque = opaque;
	d->intx_gsi = -1;
	d->cap_free = 0x40;
	le_wrn(&d->cfg[PCI_VENDOR_ID], vendor, 2);
	le_wrn(&d->cfg[PCI_DEVICE_ID], device, 2);
	d->cfg[PCI_REVISION_ID] = revision;
	le_wrn(&d->cfg[PCI_CLASS_PROG], class_code, 3);
	le_wrn(&d->wmask[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	      PCI_COMMAND_INTX_DISABLE, 2);
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->wmask[0x0c] = 0xff;          /* cache line size */
	d->wmask[0x0d] = 0xff;          /* latency timer */
	pb->dev[slot][func] = d;
	if (func > 0 && pb->dev[slot][0])
		pb->dev[slot][0]->cfg[PCI_HEADER_TYPE] |= 0x80;
	return d;
}

int pci_free_slot(const struct pci_bus *pb)
{
	for (unsigned s = 2; s < PCI_MAX_SLOTS; s++)
		if (!pb->dev[s][0])
			return (int)s;
	return -ENOSPC;
}

void pci_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id)
{
	le_wrn(&d->cfg[PCI_SUBSYSTEM_VENDOR_ID], vendor, 2);
	le_wrn(&d->cfg[PCI_SUBSYSTEM_ID], id, 2);
}

int pci_add_bar(struct pci_dev *d, unsigned bar, uint64_t size, unsigned flags)
{
	bool io = flags & PCI_BAR_IO, m64 = !io && (flags & PCI_BAR_MEM64);
	uint64_t mask;

	if (bar >= PCI_NUM_BARS || (m64 && bar + 1 >= PCI_NUM_BARS) || d->bar_used[bar] ||
	    (m64 && d->bar_used[bar + 1]) || size < (io ? 4u : 16u) || (size & (size - 1)) ||
	    (io && size > 256) || (!m64 && size > (1ULL << 31))) {
		log_err("pci: %02x.%u: bad BAR %u (size 0x%llx flags 0x%x)", d->slot, d->func, bar,
			(unsigned long long)size, flags);
		return -EINVAL;
	}
	d->bar_used[bar] = true;
	d->bar_size[bar] = size;
	d->bar_flags[bar] = io ? PCI_BAR_IO : (m64 ? PCI_BAR_MEM64 : 0);
	mask = ~(size - 1) & ~(io ? 3ULL : 15ULL);
	le_wrn(&d->cfg[PCI_BAR0 + 4 * bar], io ? PCI_BAR_IO : (m64 ? PCI_BAR_MEM64 : 0), 4);
	le_wrn(&d->wmask[PCI_BAR0 + 4 * bar], (uint32_t)(mask & (io ? 0xffffu : 0xffffffffu)), 4);
	if (m64) {
		d->bar_used[bar + 1] = true;
		d->bar_upper[bar + 1] = true;
		le_wrn(&d->wmask[PCI_BAR0 + 4 * bar + 4], (uint32_t)(mask >> 32), 4);
	}
	return 0;
}

int pci_add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
	unsigned off = (d->cap_free + 3) & ~3u;

	if (len < 2 || off + len > 256) {
		log_err("pci: %02x.%u: no room for capability 0x%02x (%u bytes)", d->slot, d->func,
			id, len);
		return -ENOSPC;
	}
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (uint8_t)off;
	else
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_last = off;
	d->cap_free = off + len;
	return (int)off;
}

uint8_t *pci_config(struct pci_dev *d)
{
	return d->cfg;
}

uint8_t *pci_wmask(struct pci_dev *d)
{
	return d->wmask;
}

/* Chipset config defaults that a power-on restores. */
static void pci_chipset_defaults(struct pci_bus *pb)
{
	/* PIRQRC[A:D]: 0x80 (routing disabled) after reset */
	memset(&pb->isa->cfg[PIIX_PIRQRC], 0x80, 4);
	memset(&pb->pm->cfg[PIIX4_PMBA], 0, 4);
	pb->pm->cfg[PIIX4_PMBA] = 1;    /* bit 0 hardwired: I/O space indicator */
	pb->pm->cfg[PIIX4_PMREGMISC] = 0;
	/* No SMM: report APMC_EN as already set, as QEMU does without SMM
	 * (hw/acpi/piix4.c), so SeaBIOS skips its SMI-based SMM relocation
	 * (src/fw/smm.c waits for an SMI that would never come). */
	le_wrn(&pb->pm->cfg[PIIX4_DEVACTB], 1u << 25, 4);
	pb->pm1_sts = pb->pm1_en = pb->pm1_cnt = 0;
	/* i440FX PAM0-PAM6: 0 (everything to PCI, i.e. the BIOS ROM) */
	memset(&pb->host->cfg[I440FX_PAM0], 0, I440FX_PAM_REGS);
}

struct pci_bus *pci_create(struct irq_chip *irq, struct vm_req_sink *req,
			   struct resetreg *rst, uint64_t mmio_base, uint64_t mmio_end)
{
	struct pci_bus *pb;

	if (mmio_end <= mmio_base) {
		log_err("pci: empty MMIO hole 0x%llx-0x%llx", (unsigned long long)mmio_base,
			(unsigned long long)mmio_end);
		return NULL;
	}
	pb = calloc(1, sizeof(*pb));
	if (!pb) {
		log_err("pci: out of memory");
		return NULL;
	}
	pb->irq = irq;
	pb->req = req;
	pb->rst = rst;
	pb->mmio_base = mmio_base;
	pb->mmio_end = mmio_end;
	pthread_mutex_init(&pb->lock, NULL);
	pthread_mutex_init(&pb->intx_lock, NULL);
	pb->pm_t0_ns = clock_now_ns();
	pb->host = pci_add_device(pb, 0, 0, PCI_VENDOR_INTEL, PCI_DEV_I440FX, 0x060000, 0x02,
				  NULL, NULL);
	pb->isa = pci_add_device(pb, 1, 0, PCI_VENDOR_INTEL, PCI_DEV_PIIX3_ISA, 0x060100, 0x00,
				 NULL, NULL);
	pb->pm = pci_add_device(pb, 1, 3, PCI_VENDOR_INTEL, PCI_DEV_PIIX4_PM, 0x068000, 0x03,
				NULL, NULL);
	if (!pb->host || !pb->isa || !pb->pm) {
		pci_destroy(pb);
		return NULL;
	}
	/* i440FX: DRB, SMRAM 0x72 etc. are plain storage; PAM 0x59-0x5f is
	 * storage plus the PAM hook */
	memset(&pb->host->wmask[0x50], 0xff, 0x30);
	/* PIIX3: 0x40-0xff device-specific, kept as storage (SeaBIOS writes
	 * the PIRQs and a few misc registers) */
	memset(&pb->isa->wmask[0x40], 0xff, 0xc0);
	/* PIIX4 PM: PMBA bits 15:6, PMREGMISC bit 0, SMBus base/ctl */
	le_wrn(&pb->pm->wmask[PIIX4_PMBA], 0xffc0, 4);
	pb->pm->wmask[PIIX4_PMREGMISC] = 0x01;
	le_wrn(&pb->pm->wmask[0x90], 0xfff0, 4);
	pb->pm->wmask[0xd2] = 0x0f;
	pb->pm->cfg[0x90] = 1;
	pci_chipset_defaults(pb);
	return pb;
}

int pci_attach(struct pci_bus *pb, struct bus *pio, struct bus *mmio)
{
	int r;

	r = bus_register(pio, PCI_CONFIG_ADDR, 8, pci_cf8_io, pb, "pci-config");
	if (!r)
		r = bus_set_fallback(pio, pci_pio_fallback, pb);
	if (!r)
		r = bus_register(pio, PCI_IO_WINDOW_BASE, PCI_IO_WINDOW_END - PCI_IO_WINDOW_BASE,
				 pci_iowin_io, pb, "pci-io");
	if (!r)
		r = bus_register(mmio, pb->mmio_base, pb->mmio_end - pb->mmio_base, pci_mmio_io,
				 pb, "pci-mmio");
	if (r) {
		log_err("pci: cannot register the chipset ports or MMIO hole: %d", r);
		return r;
	}
	/* APM control: optional, another device may own 0xB2 */
	(void)bus_register(pio, APM_CNT_PORT, 2, pci_apm_io, pb, "piix4-apm");
	return 0;
}

void pci_reset(struct pci_bus *pb)
{
	pthread_mutex_lock(&pb->lock);
	pb->cfg_addr = 0;
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		for (unsigned f = 0; f < PCI_MAX_FUNCS; f++) {
			struct pci_dev *d = pb->dev[s][f];

			if (!d)
				continue;
			memset(&d->cfg[PCI_COMMAND], 0, 2);
			d->cfg[PCI_INTERRUPT_LINE] = 0;
			for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
				uint32_t lowbits = le_rdn(&d->cfg[PCI_BAR0 + 4 * b], 4) &
						   (d->bar_flags[b] & PCI_BAR_IO ? 3u : 15u);

				if (d->bar_used[b])
					le_wrn(&d->cfg[PCI_BAR0 + 4 * b], d->bar_upper[b] ? 0 : lowbits, 4);
			}
		}
	}
	pci_chipset_defaults(pb);
	pb->pm_t0_ns = clock_now_ns();
	pthread_mutex_unlock(&pb->lock);
	pci_intx_reroute_all(pb);
}

void pci_set_pam_hook(struct pci_bus *pb, pci_pam_hook_fn *hook, void *opaque)
{
	pthread_mutex_lock(&pb->lock);
	pb->pam_hook = hook;
	pb->pam_opaque = opaque;
	pthread_mutex_unlock(&pb->lock);
}

void pci_destroy(struct pci_bus *pb)
{
	if (!pb)
		return;
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		for (unsigned f = 0; f < PCI_MAX_FUNCS; f++)
			free(pb->dev[s][f]);
	pthread_mutex_destroy(&pb->lock);
	pthread_mutex_destroy(&pb->intx_lock);
	free(pb);
}
