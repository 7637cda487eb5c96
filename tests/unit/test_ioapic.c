/* tests/unit/test_ioapic.c: the userspace IOAPIC model driven through its
 * MMIO registers, pin levels and EOIs, with a fake sink that records every
 * MSI and route report.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "devices/ioapic.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/layout.h"
#include "vmm/base/log.h"

/* ---- fake sink ---- */

#define MAXREC 64

struct msi_rec {
	unsigned pin;
	uint64_t addr;
	uint32_t data;
};

struct route_rec {
	unsigned pin;
	uint64_t addr;
	uint32_t data;
	bool masked;
};

struct fake {
	unsigned n_msi;             /* total deliver calls */
	struct msi_rec msi[MAXREC]; /* first MAXREC of them */
	struct msi_rec last;
	unsigned n_route;
	struct route_rec route[MAXREC];
	int rc;                     /* what deliver returns */
	struct ioapic *reenter;     /* deliver calls back into this model */
};

static struct fake F;
static struct ioapic *io;

static int fake_deliver(void *opaque, unsigned pin, uint64_t addr, uint32_t data)
{
	struct fake *f = opaque;
	struct msi_rec r = { pin, addr, data };

	if (f->n_msi < MAXREC)
		f->msi[f->n_msi] = r;
	f->last = r;
	f->n_msi++;
	if (f->reenter) {
		/* hostile: both must be refused, not deadlock or recurse */
		ioapic_eoi(f->reenter, data & 0xff);
		ioapic_set_level(f->reenter, pin, 0);
	}
	return f->rc;
}

static void fake_route(void *opaque, unsigned pin, uint64_t addr, uint32_t data, bool masked)
{
	struct fake *f = opaque;

	if (f->n_route < MAXREC)
		f->route[f->n_route] = (struct route_rec){ pin, addr, data, masked };
	f->n_route++;
}

static void setup(void)
{
	struct ioapic_sink sink = { fake_deliver, fake_route, &F };

	log_set_level(LOG_ERR);
	memset(&F, 0, sizeof(F));
	io = ioapic_create(&sink);
	cr_assert_not_null(io);
}

static void teardown(void)
{
	ioapic_destroy(io);
	io = NULL;
}

/* ---- register helpers (32-bit little-endian MMIO) ---- */

static void mmio_w32(uint64_t off, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	ioapic_mmio(io, off, b, 4, true);
}

static uint32_t mmio_r32(uint64_t off)
{
	uint8_t b[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	ioapic_mmio(io, off, b, 4, false);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wreg(uint32_t sel, uint32_t v)
{
	mmio_w32(IOAPIC_REG_SELECT, sel);
	mmio_w32(IOAPIC_REG_WINDOW, v);
}

static uint32_t rreg(uint32_t sel)
{
	mmio_w32(IOAPIC_REG_SELECT, sel);
	return mmio_r32(IOAPIC_REG_WINDOW);
}

/* Linux's order: high half (destination) first, then low half. */
static void set_rte(unsigned pin, uint64_t v)
{
	wreg(0x11 + 2 * pin, v >> 32);
	wreg(0x10 + 2 * pin, (uint32_t)v);
}

static uint64_t get_rte(unsigned pin)
{
	return (uint64_t)rreg(0x11 + 2 * pin) << 32 | rreg(0x10 + 2 * pin);
}

#define EDGE(vec)  ((uint64_t)(vec))
#define LEVEL(vec) ((uint64_t)(vec) | IOAPIC_RTE_LEVEL)

TestSuite(ioapic, .init = setup, .fini = teardown);

/* ---- registers ---- */

Test(ioapic, version_and_id_registers)
{
	cr_assert_eq(rreg(IOAPIC_IND_VERSION), 0x00170011);
	wreg(IOAPIC_IND_VERSION, 0);
	cr_assert_eq(rreg(IOAPIC_IND_VERSION), 0x00170011, "version is read-only");

	cr_assert_eq(rreg(IOAPIC_IND_ID), 0);
	wreg(IOAPIC_IND_ID, 0xffffffff);
	cr_assert_eq(rreg(IOAPIC_IND_ID), 0x0f000000, "only ID bits 27:24 are writable");
	wreg(IOAPIC_IND_ID, 0x02000000);
	cr_assert_eq(rreg(IOAPIC_IND_ID), 0x02000000);
	cr_assert_eq(rreg(IOAPIC_IND_ARB), 0x02000000);
	wreg(IOAPIC_IND_ARB, 0x0f000000);
	cr_assert_eq(rreg(IOAPIC_IND_ARB), 0x02000000, "arbitration is read-only");

	mmio_w32(IOAPIC_REG_SELECT, 0x12345601);
	cr_assert_eq(mmio_r32(IOAPIC_REG_SELECT), 0x01, "IOREGSEL is 8 bits");
	cr_assert_eq(mmio_r32(IOAPIC_REG_WINDOW), 0x00170011);
}

Test(ioapic, entry_readback_and_read_only_bits)
{
	/* power-on: masked, nothing else */
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		cr_assert_eq(get_rte(p), IOAPIC_RTE_MASK, "pin %u", p);

	wreg(0x10 + 2 * 7, 0xffffffff);
	wreg(0x11 + 2 * 7, 0xab000000);
	cr_assert_eq(rreg(0x10 + 2 * 7), 0xffffffff & ~(uint32_t)IOAPIC_RTE_RO_BITS,
		     "delivery status and remote IRR cannot be written");
	cr_assert_eq(rreg(0x11 + 2 * 7), 0xab000000);
	cr_assert_eq(ioapic_get_entry(io, 7), 0xab000000ULL << 32 | 0xffffafffULL);

	/* a set Remote IRR survives a write that clears bit 14 */
	set_rte(3, LEVEL(0x40));
	ioapic_set_level(io, 3, 1);
	cr_assert(get_rte(3) & IOAPIC_RTE_REMOTE_IRR);
	wreg(0x10 + 2 * 3, (uint32_t)LEVEL(0x40) | IOAPIC_RTE_DELIVS);
	cr_assert_eq(get_rte(3), LEVEL(0x40) | IOAPIC_RTE_REMOTE_IRR);
	/* switching to edge clears a stuck Remote IRR (what Linux relies on) */
	wreg(0x10 + 2 * 3, (uint32_t)EDGE(0x40));
	cr_assert_eq(get_rte(3), EDGE(0x40));
}

/* ---- edge ---- */

Test(ioapic, edge_delivers_once_per_rising_edge)
{
	set_rte(4, EDGE(0x30));
	cr_assert_eq(F.n_msi, 0);
	ioapic_set_level(io, 4, 1);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(F.last.pin, 4);
	cr_assert_eq(F.last.data, 0x4030);
	ioapic_set_level(io, 4, 1);
	cr_assert_eq(F.n_msi, 1, "a held line is no new edge");
	ioapic_eoi(io, 0x30);
	cr_assert_eq(F.n_msi, 1, "EOI does nothing for edge entries");
	ioapic_set_level(io, 4, 0);
	cr_assert_eq(F.n_msi, 1);
	ioapic_set_level(io, 4, 1);
	cr_assert_eq(F.n_msi, 2);
	cr_assert_eq(get_rte(4) & IOAPIC_RTE_REMOTE_IRR, 0);
}

Test(ioapic, edge_masked_is_lost)
{
	set_rte(4, EDGE(0x30) | IOAPIC_RTE_MASK);
	ioapic_set_level(io, 4, 1);
	ioapic_set_level(io, 4, 0);
	ioapic_set_level(io, 4, 1);
	cr_assert_eq(F.n_msi, 0);
	set_rte(4, EDGE(0x30));
	cr_assert_eq(F.n_msi, 0, "edges seen while masked are not held pending");
	ioapic_set_level(io, 4, 0);
	ioapic_set_level(io, 4, 1);
	cr_assert_eq(F.n_msi, 1);
}

/* ---- level ---- */

Test(ioapic, level_remote_irr_and_eoi)
{
	set_rte(10, LEVEL(0x41));
	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(F.last.data, 0xc041, "level + assert bits");
	cr_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);

	ioapic_set_level(io, 10, 1);
	ioapic_set_level(io, 10, 0);
	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 1, "no re-delivery while Remote IRR is set");

	ioapic_eoi(io, 0x42);
	cr_assert_eq(F.n_msi, 1, "EOI of another vector");
	cr_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);

	ioapic_eoi(io, 0x41);
	cr_assert_eq(F.n_msi, 2, "EOI re-delivers while asserted");
	cr_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);

	ioapic_set_level(io, 10, 0);
	ioapic_eoi(io, 0x41);
	cr_assert_eq(F.n_msi, 2, "deasserted + EOI stops");
	cr_assert_eq(get_rte(10) & IOAPIC_RTE_REMOTE_IRR, 0);

	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 3, "next assertion delivers again");
}

Test(ioapic, level_eoi_shared_vector)
{
	/* two level pins with one vector: one EOI serves both */
	set_rte(16, LEVEL(0x50));
	set_rte(17, LEVEL(0x50));
	ioapic_set_level(io, 16, 1);
	ioapic_set_level(io, 17, 1);
	cr_assert_eq(F.n_msi, 2);
	ioapic_set_level(io, 16, 0);
	ioapic_eoi(io, 0x50);
	cr_assert_eq(F.n_msi, 3);
	cr_assert_eq(F.last.pin, 17);
	cr_assert_eq(get_rte(16) & IOAPIC_RTE_REMOTE_IRR, 0);
}

Test(ioapic, active_low)
{
	/* level, active low: line 0 asserts, so unmasking delivers at once */
	set_rte(11, LEVEL(0x60) | IOAPIC_RTE_POLARITY);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(F.last.pin, 11);
	ioapic_set_level(io, 11, 1);          /* deassert */
	ioapic_eoi(io, 0x60);
	cr_assert_eq(F.n_msi, 1);
	ioapic_set_level(io, 11, 0);          /* assert */
	cr_assert_eq(F.n_msi, 2);

	/* edge, active low: the falling edge delivers */
	ioapic_set_level(io, 12, 1);
	set_rte(12, EDGE(0x61) | IOAPIC_RTE_POLARITY);
	cr_assert_eq(F.n_msi, 2);
	ioapic_set_level(io, 12, 0);
	cr_assert_eq(F.n_msi, 3);
	cr_assert_eq(F.last.data & 0xff, 0x61);
	ioapic_set_level(io, 12, 1);
	cr_assert_eq(F.n_msi, 3);
}

Test(ioapic, unmask_asserted_level_delivers)
{
	set_rte(9, LEVEL(0x70) | IOAPIC_RTE_MASK);
	ioapic_set_level(io, 9, 1);
	cr_assert_eq(F.n_msi, 0);
	cr_assert_eq(get_rte(9) & IOAPIC_RTE_REMOTE_IRR, 0);
	wreg(0x10 + 2 * 9, (uint32_t)LEVEL(0x70));
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(F.last.pin, 9);
	/* a rewrite of the same entry does not deliver twice */
	wreg(0x10 + 2 * 9, (uint32_t)LEVEL(0x70));
	cr_assert_eq(F.n_msi, 1);

	/* masked while Remote IRR set; EOI clears it but does not deliver */
	wreg(0x10 + 2 * 9, (uint32_t)(LEVEL(0x70) | IOAPIC_RTE_MASK));
	ioapic_eoi(io, 0x70);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(get_rte(9) & IOAPIC_RTE_REMOTE_IRR, 0);
	wreg(0x10 + 2 * 9, (uint32_t)LEVEL(0x70));
	cr_assert_eq(F.n_msi, 2);
}

/* ---- MSI encoding ---- */

Test(ioapic, msi_encoding)
{
	set_rte(1, 0x05ULL << 56 | EDGE(0x30));   /* physical, fixed */
	ioapic_set_level(io, 1, 1);
	cr_assert_eq(F.last.addr, 0xfee05000ULL);
	cr_assert_eq(F.last.data, 0x00004030);

	/* logical destination, lowest priority, level */
	set_rte(2, 0x0fULL << 56 | IOAPIC_RTE_DESTMODE |
		   (uint64_t)IOAPIC_DM_LOWPRI << 8 | LEVEL(0x31));
	ioapic_set_level(io, 2, 1);
	cr_assert_eq(F.last.addr, 0xfee0f00cULL);
	cr_assert_eq(F.last.data, 0x0000c131);

	/* physical, fixed, destination 0xff (broadcast) */
	set_rte(3, 0xffULL << 56 | EDGE(0xfe));
	ioapic_set_level(io, 3, 1);
	cr_assert_eq(F.last.addr, 0xfeeff000ULL);
	cr_assert_eq(F.last.data, 0x000040fe);

	/* NMI programmed level is sent (and treated) as edge */
	set_rte(5, 0x01ULL << 56 | (uint64_t)IOAPIC_DM_NMI << 8 | LEVEL(0x02));
	ioapic_set_level(io, 5, 1);
	cr_assert_eq(F.last.addr, 0xfee01000ULL);
	cr_assert_eq(F.last.data, 0x00004402);
	cr_assert_eq(get_rte(5) & IOAPIC_RTE_REMOTE_IRR, 0);

	/* INIT */
	set_rte(6, 0x02ULL << 56 | (uint64_t)IOAPIC_DM_INIT << 8);
	ioapic_set_level(io, 6, 1);
	cr_assert_eq(F.last.addr, 0xfee02000ULL);
	cr_assert_eq(F.last.data, 0x00004500);
	cr_assert_eq(F.n_msi, 5);
}

Test(ioapic, undeliverable_entries_dropped)
{
	struct ioapic_stats st;

	set_rte(1, EDGE(0x05));                          /* vector < 16 */
	set_rte(2, (uint64_t)IOAPIC_DM_EXTINT << 8);     /* no PIC */
	set_rte(3, (uint64_t)IOAPIC_DM_SMI << 8 | 0x40);
	set_rte(4, LEVEL(0x0f));
	for (unsigned p = 1; p <= 4; p++) {
		ioapic_set_level(io, p, 1);
		ioapic_set_level(io, p, 0);
		ioapic_set_level(io, p, 1);
	}
	cr_assert_eq(F.n_msi, 0);
	ioapic_get_stats(io, &st);
	cr_assert_eq(st.dropped, 8);
	cr_assert_eq(st.delivered, 0);
	cr_assert_eq(get_rte(4) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* their routes are reported masked */
	cr_assert(F.n_route >= 4);
	for (unsigned i = 0; i < F.n_route; i++)
		cr_assert(F.route[i].masked, "route %u (pin %u)", i, F.route[i].pin);
}

/* ---- route callback ---- */

Test(ioapic, route_on_entry_writes)
{
	wreg(0x11 + 2 * 20, 0x03000000);
	cr_assert_eq(F.n_route, 1);
	cr_assert_eq(F.route[0].pin, 20);
	cr_assert_eq(F.route[0].addr, 0xfee03000ULL);
	cr_assert(F.route[0].masked);

	wreg(0x10 + 2 * 20, (uint32_t)LEVEL(0x80));
	cr_assert_eq(F.n_route, 2);
	cr_assert_eq(F.route[1].pin, 20);
	cr_assert_eq(F.route[1].addr, 0xfee03000ULL);
	cr_assert_eq(F.route[1].data, 0xc080);
	cr_assert_not(F.route[1].masked);

	wreg(0x10 + 2 * 20, (uint32_t)LEVEL(0x80));
	cr_assert_eq(F.n_route, 2, "unchanged entry is not re-reported");

	wreg(0x10 + 2 * 20, (uint32_t)(LEVEL(0x80) | IOAPIC_RTE_MASK));
	cr_assert_eq(F.n_route, 3);
	cr_assert(F.route[2].masked);

	ioapic_sync_routes(io);
	cr_assert_eq(F.n_route, 3 + IOAPIC_PINS);

	/* reset reports only what changed (pin 20 was already masked but its
	 * vector/destination go back to 0) */
	ioapic_reset(io);
	cr_assert_eq(F.n_route, 4 + IOAPIC_PINS);
	cr_assert_eq(F.route[3 + IOAPIC_PINS].pin, 20);
	cr_assert(F.route[3 + IOAPIC_PINS].masked);
	cr_assert_eq(F.route[3 + IOAPIC_PINS].addr, 0xfee00000ULL);
}

/* ---- hostile MMIO ---- */

Test(ioapic, hostile_mmio)
{
	static const uint64_t offs[] = { 0x0, 0x1, 0x2, 0x4, 0x8, 0xc, 0xf, 0x10, 0x11, 0x14,
					 0x20, 0x3c, 0x40, 0x44, 0x80, 0xff, 0x100, 0x110,
					 0xff8, 0xffc, 0xfff, 0x1000, ~0ULL };
	static const unsigned lens[] = { 0, 1, 2, 3, 8 };
	struct ioapic_stats st;

	set_rte(0, EDGE(0x30));
	mmio_w32(IOAPIC_REG_SELECT, IOAPIC_IND_VERSION);
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (unsigned j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint8_t b[8];

			memset(b, 0xff, sizeof(b));
			ioapic_mmio(io, offs[i], b, lens[j], true);
			memset(b, 0x5a, sizeof(b));
			ioapic_mmio(io, offs[i], b, lens[j], false);
			for (unsigned k = 0; k < lens[j]; k++)
				cr_assert_eq(b[k], 0, "off 0x%llx len %u byte %u",
					     (unsigned long long)offs[i], lens[j], k);
			for (unsigned k = lens[j]; k < 8; k++)
				cr_assert_eq(b[k], 0x5a, "wrote past len");
		}
		if (offs[i] != IOAPIC_REG_SELECT && offs[i] != IOAPIC_REG_WINDOW) {
			uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };

			ioapic_mmio(io, offs[i], b, 4, true);
			cr_assert_eq(mmio_r32(offs[i]), 0);
		}
	}
	/* none of that changed the selected register or the table */
	cr_assert_eq(mmio_r32(IOAPIC_REG_SELECT), IOAPIC_IND_VERSION);
	cr_assert_eq(mmio_r32(IOAPIC_REG_WINDOW), 0x00170011);
	cr_assert_eq(get_rte(0), EDGE(0x30));
	ioapic_get_stats(io, &st);
	cr_assert_gt(st.bad_access, 100);

	/* unimplemented register indices read all ones, writes are dropped */
	static const uint32_t sels[] = { 0x03, 0x0f, 0x10 + 2 * IOAPIC_PINS,
					 0x11 + 2 * IOAPIC_PINS, 0x40, 0xfe, 0xff };
	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		wreg(sels[i], 0);
		cr_assert_eq(rreg(sels[i]), 0xffffffff, "register 0x%x", sels[i]);
	}
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		cr_assert_eq(get_rte(p), p ? IOAPIC_RTE_MASK : EDGE(0x30), "pin %u", p);

	/* NULL buffers and bad pins */
	ioapic_mmio(io, 0, NULL, 4, false);
	ioapic_set_level(io, IOAPIC_PINS, 1);
	ioapic_set_level(io, ~0u, 1);
	cr_assert_eq(F.n_msi, 0);
	cr_assert_eq(ioapic_get_entry(io, IOAPIC_PINS), 0);
}

/* ---- reset ---- */

Test(ioapic, reset_masks_everything)
{
	wreg(IOAPIC_IND_ID, 0x05000000);
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		set_rte(p, (uint64_t)p << 56 | LEVEL(0x20 + p));
	ioapic_set_level(io, 8, 1);
	cr_assert_eq(F.n_msi, 1);
	cr_assert(get_rte(8) & IOAPIC_RTE_REMOTE_IRR);

	ioapic_reset(io);
	cr_assert_eq(mmio_r32(IOAPIC_REG_SELECT), 0);
	cr_assert_eq(rreg(IOAPIC_IND_ID), 0);
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		cr_assert_eq(get_rte(p), IOAPIC_RTE_MASK, "pin %u", p);
	ioapic_set_level(io, 8, 1);
	ioapic_eoi(io, 0x28);
	cr_assert_eq(F.n_msi, 1, "masked after reset");

	/* line levels are kept: pin 8 is still driven high */
	set_rte(8, LEVEL(0x90));
	cr_assert_eq(F.n_msi, 2);
	cr_assert_eq(F.last.pin, 8);
	cr_assert_eq(F.last.data & 0xff, 0x90);
}

/* ---- robustness ---- */

Test(ioapic, eoi_storm_keeps_delivering_bounded)
{
	struct ioapic_stats st;
	unsigned n = IOAPIC_EOI_STORM + 5;

	set_rte(13, LEVEL(0xa0));
	ioapic_set_level(io, 13, 1);
	for (unsigned i = 0; i < n; i++)
		ioapic_eoi(io, 0xa0);
	cr_assert_eq(F.n_msi, 1 + n, "one re-delivery per EOI, no more");
	ioapic_get_stats(io, &st);
	cr_assert_eq(st.storms, 1, "a storm is reported once");
	cr_assert_eq(st.delivered, 1 + n);

	/* a line change restarts the count */
	ioapic_set_level(io, 13, 0);
	ioapic_eoi(io, 0xa0);
	ioapic_set_level(io, 13, 1);
	for (unsigned i = 0; i < IOAPIC_EOI_STORM - 1; i++)
		ioapic_eoi(io, 0xa0);
	ioapic_get_stats(io, &st);
	cr_assert_eq(st.storms, 1);
}

Test(ioapic, reentrant_sink_is_refused)
{
	F.reenter = io;
	set_rte(14, LEVEL(0xb0));
	ioapic_set_level(io, 14, 1);
	cr_assert_eq(F.n_msi, 1, "the nested EOI did not re-deliver");
	cr_assert(get_rte(14) & IOAPIC_RTE_REMOTE_IRR);
	F.reenter = NULL;
	ioapic_eoi(io, 0xb0);
	cr_assert_eq(F.n_msi, 2, "the nested set_level(0) was dropped too");
}

Test(ioapic, sink_failure_keeps_remote_irr_clear)
{
	struct ioapic_stats st;

	F.rc = -EIO;
	set_rte(15, LEVEL(0xc0));
	ioapic_set_level(io, 15, 1);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(get_rte(15) & IOAPIC_RTE_REMOTE_IRR, 0);
	F.rc = 0;
	ioapic_set_level(io, 15, 1);   /* device re-asserts: retried */
	cr_assert_eq(F.n_msi, 2);
	cr_assert(get_rte(15) & IOAPIC_RTE_REMOTE_IRR);
	ioapic_get_stats(io, &st);
	cr_assert_eq(st.dropped, 1);
	cr_assert_eq(st.delivered, 1);
}

Test(ioapic, create_needs_deliver)
{
	struct ioapic_sink s = { NULL, fake_route, &F };

	cr_assert_null(ioapic_create(NULL));
	cr_assert_null(ioapic_create(&s));
	ioapic_destroy(NULL);
	ioapic_set_level(NULL, 0, 1);
	ioapic_eoi(NULL, 0x30);
}

/* ---- wiring ---- */

Test(ioapic, bus_attach_and_irq_chip)
{
	struct bus mmio;
	struct irq_chip chip;
	uint8_t b[4];

	bus_init(&mmio);
	cr_assert_eq(ioapic_attach(io, &mmio), 0);
	cr_assert_eq(ioapic_attach(io, &mmio), -EEXIST);
	b[0] = IOAPIC_IND_VERSION;
	b[1] = b[2] = b[3] = 0;
	cr_assert_eq(bus_access(&mmio, LAYOUT_IOAPIC, b, 4, true), 0);
	cr_assert_eq(bus_access(&mmio, LAYOUT_IOAPIC + 0x10, b, 4, false), 0);
	cr_assert_eq(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24, 0x00170011);
	cr_assert_eq(bus_access(&mmio, LAYOUT_IOAPIC + IOAPIC_MMIO_LEN, b, 4, false), -ENOENT);

	ioapic_init_irq_chip(io, &chip);
	set_rte(4, EDGE(0x34));
	cr_assert_eq(irq_set_level(&chip, 4, 1), 0);
	cr_assert_eq(F.n_msi, 1);
	cr_assert_eq(F.last.pin, 4);
	cr_assert_eq(irq_set_level(&chip, IOAPIC_PINS, 1), -EINVAL);
	bus_free(&mmio);
}

struct toggler {
	unsigned pin;
	unsigned edges;
};

static void *toggle_thread(void *arg)
{
	struct toggler *t = arg;

	for (unsigned i = 0; i < t->edges; i++) {
		ioapic_set_level(io, t->pin, 1);
		ioapic_set_level(io, t->pin, 0);
	}
	return NULL;
}

Test(ioapic, concurrent_pins)
{
	struct toggler t[3] = { { 4, 2000 }, { 5, 2000 }, { 6, 2000 } };
	pthread_t th[3];
	struct ioapic_stats st;

	for (unsigned i = 0; i < 3; i++)
		set_rte(t[i].pin, EDGE(0x30 + i));
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, toggle_thread, &t[i]), 0);
	/* the guest keeps reading the table meanwhile */
	for (unsigned i = 0; i < 2000; i++)
		cr_assert_eq(get_rte(4 + i % 3), EDGE(0x30 + i % 3));
	for (unsigned i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ioapic_get_stats(io, &st);
	cr_assert_eq(st.delivered, 6000);
	cr_assert_eq(F.n_msi, 6000);
}

/* No EOI reports (TDX): a level entry acts as an edge one -- one edge MSI
 * per assertion, never Remote IRR -- so it cannot get stuck waiting for an
 * EOI that will not come. */
Test(ioapic, no_eoi_level_acts_as_edge)
{
	unsigned routes;

	set_rte(10, LEVEL(0x41));
	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 1);
	cr_assert(get_rte(10) & IOAPIC_RTE_REMOTE_IRR);
	routes = F.n_route;
	ioapic_set_no_eoi(io, true);
	cr_assert_eq(get_rte(10) & IOAPIC_RTE_REMOTE_IRR, 0, "stale Remote IRR dropped");
	cr_assert_gt(F.n_route, routes, "the route is re-reported as edge");
	cr_assert_eq(F.route[F.n_route - 1].data & IOAPIC_MSI_DATA_LEVEL, 0);

	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 1, "still asserted: no new edge");
	ioapic_set_level(io, 10, 0);
	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 2, "each assertion delivers");
	cr_assert_eq(F.last.data, 0x4041, "edge MSI: assert bit, no level bit");
	cr_assert_eq(get_rte(10) & IOAPIC_RTE_REMOTE_IRR, 0);
	ioapic_eoi(io, 0x41);
	cr_assert_eq(F.n_msi, 2, "EOI does nothing");
	ioapic_set_level(io, 10, 0);
	ioapic_set_level(io, 10, 1);
	cr_assert_eq(F.n_msi, 3);
}
