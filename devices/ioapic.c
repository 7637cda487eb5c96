/* devices/ioapic.c: userspace 82093AA-style I/O APIC for KVM's split irqchip.
 * Owns: the redirection table, line levels, Remote IRR and the MSI encoding
 * of each entry.  Must not touch KVM, the bus internals or any other device:
 * interrupts leave only through the sink given at creation. */
#include "devices/ioapic.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/layout.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

_Static_assert(IOAPIC_PINS == LAYOUT_IOAPIC_PINS, "vmm/base/layout.h and the model disagree on pins");

struct ioapic_route {
	uint64_t addr;
	uint32_t data;
	bool masked;
};

struct ioapic {
	pthread_mutex_t lock;          /* error-checking: re-entry is refused */
	struct ioapic_sink sink;
	uint32_t ioregsel;             /* 8 bits used */
	uint8_t id;                    /* 4 bits used */
	uint64_t rte[IOAPIC_PINS];
	bool line[IOAPIC_PINS];        /* electrical level driven by the device */
	uint32_t eoi_count[IOAPIC_PINS]; /* successive re-deliveries on EOI */
	bool warned[IOAPIC_PINS];      /* undeliverable mode logged for this entry */
	struct ioapic_route reported[IOAPIC_PINS];
	struct ioapic_stats stats;
	bool no_eoi;                   /* the platform cannot report EOIs (TDX) */
};

/* Every line a guest can provoke goes through a shared bucket per source
 * (vmm/base/ratelimit.h): one per message below. */
static struct ratelimit rl_vector = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);
static struct ratelimit rl_mode = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);
static struct ratelimit rl_sink = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);
static struct ratelimit rl_access = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);
static struct ratelimit rl_pin = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);
static struct ratelimit rl_storm = RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);

static bool ioapic_lock(struct ioapic *io, const char *what)
{
	int rc = pthread_mutex_lock(&io->lock);

	if (rc) {
		/* EDEADLK: a sink callback called back into the model. */
		log_err("ioapic: %s refused: lock error %d (re-entered from a sink callback?)",
			what, rc);
		return false;
	}
	return true;
}

static void ioapic_unlock(struct ioapic *io)
{
	pthread_mutex_unlock(&io->lock);
}

static unsigned rte_mode(uint64_t rte)
{
	return (rte >> IOAPIC_RTE_DELMODE_SHIFT) & 7;
}

static uint8_t rte_vector(uint64_t rte)
{
	return rte & IOAPIC_RTE_VECTOR;
}

static bool rte_masked(uint64_t rte)
{
	return rte & IOAPIC_RTE_MASK;
}

/* Level semantics (Remote IRR, EOI) apply to fixed and lowest-priority
 * entries only: NMI, INIT and SMI are always treated as edge-triggered
 * (82093AA datasheet 3.2.4, delivery mode descriptions). */
static bool rte_is_level(uint64_t rte)
{
	unsigned m = rte_mode(rte);

	return (rte & IOAPIC_RTE_LEVEL) && (m == IOAPIC_DM_FIXED || m == IOAPIC_DM_LOWPRI);
}

/* Level semantics as this IOAPIC can honour them: not without EOI reports
 * (ioapic_set_no_eoi), where level entries act as edge-triggered. */
static bool io_level(const struct ioapic *io, uint64_t rte)
{
	return rte_is_level(rte) && !io->no_eoi;
}

/* Whether this model would ever send the entry: fixed/lowest-priority with a
 * vector the LAPIC accepts (SDM vol. 3 11.5.3: vectors 0-15 raise "illegal
 * vector"), NMI or INIT.  ExtINT has no 8259 behind it; SMI is dropped (no
 * SMM in confidential guests); modes 3 and 6 are reserved. */
static bool rte_deliverable(uint64_t rte)
{
	switch (rte_mode(rte)) {
	case IOAPIC_DM_FIXED:
	case IOAPIC_DM_LOWPRI:
		return rte_vector(rte) >= 16;
	case IOAPIC_DM_NMI:
	case IOAPIC_DM_INIT:
		return true;
	default:
		return false;
	}
}

/* MSI form of an entry (Intel SDM vol. 3 11.11.1 address, 11.11.2 data). */
static void rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data)
{
	uint64_t dest = (rte >> IOAPIC_RTE_DEST_SHIFT) & 0xff;
	unsigned mode = rte_mode(rte);

	*addr = IOAPIC_MSI_ADDR_BASE | dest << IOAPIC_MSI_ADDR_DEST_SHIFT |
		((rte & IOAPIC_RTE_DESTMODE) ? IOAPIC_MSI_ADDR_DM : 0) |
		(mode == IOAPIC_DM_LOWPRI ? IOAPIC_MSI_ADDR_RH : 0);
	*data = rte_vector(rte) | mode << 8 |
		(rte_is_level(rte) ? IOAPIC_MSI_DATA_LEVEL : 0) | IOAPIC_MSI_DATA_ASSERT;
}

static bool pin_asserted(const struct ioapic *io, unsigned pin)
{
	return io->line[pin] != !!(io->rte[pin] & IOAPIC_RTE_POLARITY);
}

static void ioapic_report_route(struct ioapic *io, unsigned pin, bool force)
{
	struct ioapic_route r;

	rte_to_msi(io->rte[pin], &r.addr, &r.data);
	if (io->no_eoi)
		r.data &= ~IOAPIC_MSI_DATA_LEVEL;
	r.masked = rte_masked(io->rte[pin]) || !rte_deliverable(io->rte[pin]);
	if (!force && r.addr == io->reported[pin].addr && r.data == io->reported[pin].data &&
	    r.masked == io->reported[pin].masked)
		return;
	io->reported[pin] = r;
	if (io->sink.route)
		io->sink.route(io->sink.opaque, pin, r.addr, r.data, r.masked);
}

/* Send pin's interrupt now (lock held; the caller checked mask, assertion
 * and Remote IRR).  Level entries get Remote IRR when the sink accepts. */
static bool ioapic_service(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];
	unsigned mode = rte_mode(rte);
	uint64_t addr;
	uint32_t data;
	int rc;

	if (!rte_deliverable(rte)) {
		io->stats.dropped++;
		if (mode == IOAPIC_DM_FIXED || mode == IOAPIC_DM_LOWPRI) {
			log_rl(LOG_WARN, &rl_vector, "ioapic: pin %u vector %u < 16 (mode %u) dropped",
			       pin, rte_vector(rte), mode);
		} else if (!io->warned[pin]) {
			io->warned[pin] = true;
			log_rl(LOG_WARN, &rl_mode, "ioapic: pin %u delivery mode %u (%s) unsupported, dropped",
			       pin, mode, mode == IOAPIC_DM_EXTINT ? "ExtINT, no PIC" :
			       mode == IOAPIC_DM_SMI ? "SMI" : "reserved");
		}
		return false;
	}
	rte_to_msi(rte, &addr, &data);
	if (io->no_eoi)
		data &= ~IOAPIC_MSI_DATA_LEVEL;
	rc = io->sink.deliver(io->sink.opaque, pin, addr, data);
	if (rc < 0) {
		io->stats.dropped++;
		log_rl(LOG_WARN, &rl_sink, "ioapic: pin %u MSI addr 0x%llx data 0x%x not delivered: %d",
		       pin, (unsigned long long)addr, data, rc);
		return false;
	}
	io->stats.delivered++;
	if (io_level(io, rte))
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	return true;
}

/* Level entry: deliver if asserted, unmasked and Remote IRR clear. */
static void ioapic_service_level(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];

	if (io_level(io, rte) && !rte_masked(rte) && !(rte & IOAPIC_RTE_REMOTE_IRR) &&
	    pin_asserted(io, pin))
		ioapic_service(io, pin);
}

static void ioapic_reset_locked(struct ioapic *io)
{
	io->ioregsel = 0;
	io->id = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		io->rte[i] = IOAPIC_RTE_MASK;
		io->eoi_count[i] = 0;
		io->warned[i] = false;
	}
}

struct ioapic *ioapic_create(const struct ioapic_sink *sink)
{
	pthread_mutexattr_t attr;
	struct ioapic *io;

	if (!sink || !sink->deliver) {
		log_err("ioapic: create needs a sink with deliver");
		return NULL;
	}
	io = calloc(1, sizeof(*io));
	if (!io) {
		log_err("ioapic: out of memory");
		return NULL;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&io->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	io->sink = *sink;
	ioapic_reset_locked(io);
	/* The power-on routes (all masked) count as reported. */
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		rte_to_msi(io->rte[i], &io->reported[i].addr, &io->reported[i].data);
		io->reported[i].masked = true;
	}
	return io;
}

void ioapic_destroy(struct ioapic *io)
{
	if (!io)
		return;
	pthread_mutex_destroy(&io->lock);
	free(io);
}

static void ioapic_bus_access(void *opaque, uint64_t offset, uint8_t *data,
			      unsigned len, bool is_write)
{
	ioapic_mmio(opaque, offset, data, len, is_write);
}

int ioapic_attach(struct ioapic *io, struct bus *mmio)
{
	int rc = bus_register(mmio, LAYOUT_IOAPIC, IOAPIC_MMIO_LEN, ioapic_bus_access, io,
			      "ioapic");

	if (rc)
		log_err("ioapic: register MMIO 0x%llx+0x%x: %d",
			(unsigned long long)LAYOUT_IOAPIC, IOAPIC_MMIO_LEN, rc);
	return rc;
}

void ioapic_reset(struct ioapic *io)
{
	if (!io || !ioapic_lock(io, "reset"))
		return;
	ioapic_reset_locked(io);
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		ioapic_report_route(io, i, false);
	ioapic_unlock(io);
}

void ioapic_set_level(struct ioapic *io, unsigned pin, int level)
{
	bool was, now;

	if (!io || !ioapic_lock(io, "set_level"))
		return;
	if (pin >= IOAPIC_PINS) {
		io->stats.bad_access++;
		log_rl(LOG_WARN, &rl_pin, "ioapic: set_level on pin %u (>= %u) ignored", pin,
		       IOAPIC_PINS);
		goto out;
	}
	was = pin_asserted(io, pin);
	if (io->line[pin] != (level != 0))
		io->eoi_count[pin] = 0;
	io->line[pin] = level != 0;
	now = pin_asserted(io, pin);

	if (io_level(io, io->rte[pin]))
		ioapic_service_level(io, pin);
	else if (!was && now && !rte_masked(io->rte[pin]))
		/* Edges on a masked pin are lost, not held (82093AA 3.2.4). */
		ioapic_service(io, pin);
out:
	ioapic_unlock(io);
}

void ioapic_set_no_eoi(struct ioapic *io, bool no_eoi)
{
	if (!io || !ioapic_lock(io, "set_no_eoi"))
		return;
	io->no_eoi = no_eoi;
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		if (no_eoi)
			io->rte[i] &= ~IOAPIC_RTE_REMOTE_IRR;
		ioapic_report_route(io, i, false);
	}
	ioapic_unlock(io);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	if (!io || !ioapic_lock(io, "eoi"))
		return;
	/* Each pin is looked at once: an EOI costs at most IOAPIC_PINS
	 * deliveries, however stormy the guest. */
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		uint64_t rte = io->rte[i];

		if (rte_vector(rte) != vector || !io_level(io, rte))
			continue;
		io->rte[i] &= ~IOAPIC_RTE_REMOTE_IRR;
		if (rte_masked(rte) || !pin_asserted(io, i)) {
			io->eoi_count[i] = 0;
			continue;
		}
		if (io->eoi_count[i] < UINT32_MAX)
			io->eoi_count[i]++;
		if (io->eoi_count[i] == IOAPIC_EOI_STORM) {
			io->stats.storms++;
			log_rl(LOG_WARN, &rl_storm,
			       "ioapic: pin %u vector %u re-delivered on %u successive EOIs "
			       "(level interrupt storm; guest does not quiesce the device)",
			       i, vector, IOAPIC_EOI_STORM);
		}
		ioapic_service(io, i);
	}
	ioapic_unlock(io);
}

static uint32_t ioapic_read_indirect(struct ioapic *io)
{
	uint32_t sel = io->ioregsel;
	unsigned idx;

	switch (sel) {
	case IOAPIC_IND_ID:
	case IOAPIC_IND_ARB:   /* KVM returns the ID for both */
		return (uint32_t)io->id << 24;
	case IOAPIC_IND_VERSION:
		return IOAPIC_VERSION_REG;
	default:
		break;
	}
	if (sel < IOAPIC_IND_REDTBL)
		return 0xffffffffu;   /* no register at this index: all ones, as KVM reads */
	idx = (sel - IOAPIC_IND_REDTBL) >> 1;
	if (idx >= IOAPIC_PINS)
		return 0xffffffffu;
	return (sel & 1) ? (uint32_t)(io->rte[idx] >> 32) : (uint32_t)io->rte[idx];
}

static void ioapic_write_indirect(struct ioapic *io, uint32_t val)
{
	uint32_t sel = io->ioregsel;
	uint64_t old, rte;
	unsigned idx;

	switch (sel) {
	case IOAPIC_IND_ID:
		io->id = (val >> 24) & 0xf;
		return;
	case IOAPIC_IND_VERSION:
	case IOAPIC_IND_ARB:
		return;   /* read-only */
	default:
		break;
	}
	idx = (sel - IOAPIC_IND_REDTBL) >> 1;
	if (sel < IOAPIC_IND_REDTBL || idx >= IOAPIC_PINS) {
		io->stats.bad_access++;
		log_rl(LOG_DEBUG, &rl_access, "ioapic: write 0x%x to register 0x%x ignored", val,
		       sel);
		return;
	}
	old = io->rte[idx];
	if (sel & 1)
		rte = (old & 0xffffffffULL) | (uint64_t)val << 32;
	else
		rte = (old & ~0xffffffffULL) | val;
	rte = (rte & ~IOAPIC_RTE_RO_BITS) | (old & IOAPIC_RTE_RO_BITS);
	/* Linux and Xen clear a stuck Remote IRR by switching the entry to edge
	 * (KVM arch/x86/kvm/ioapic.c ioapic_write_indirect does the same). */
	if (!rte_is_level(rte))
		rte &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[idx] = rte;
	if (rte != old) {
		io->eoi_count[idx] = 0;
		io->warned[idx] = false;
	}
	ioapic_report_route(io, idx, false);
	/* Unmasking (or switching to level) an asserted pin delivers now. */
	ioapic_service_level(io, idx);
}

void ioapic_mmio(struct ioapic *io, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	uint32_t val = 0;

	if (!io || !data)
		return;
	if (!is_write && len)
		memset(data, 0, len);
	if (!ioapic_lock(io, "mmio"))
		return;
	/* Only 32-bit accesses to IOREGSEL and IOWIN (82093AA 3.1: registers
	 * are accessed as dwords); everything else reads 0, writes drop. */
	if (len != 4 || (offset != IOAPIC_REG_SELECT && offset != IOAPIC_REG_WINDOW)) {
		io->stats.bad_access++;
		log_rl(LOG_DEBUG, &rl_access, "ioapic: %s of %u bytes at offset 0x%llx ignored",
		       is_write ? "write" : "read", len, (unsigned long long)offset);
		goto out;
	}
	if (is_write) {
		val = le_rd32(data);
		if (offset == IOAPIC_REG_SELECT)
			io->ioregsel = val & 0xff;
		else
			ioapic_write_indirect(io, val);
	} else {
		val = offset == IOAPIC_REG_SELECT ? io->ioregsel : ioapic_read_indirect(io);
		le_wr32(data, val);
	}
out:
	ioapic_unlock(io);
}

void ioapic_sync_routes(struct ioapic *io)
{
	if (!io || !ioapic_lock(io, "sync_routes"))
		return;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		ioapic_report_route(io, i, true);
	ioapic_unlock(io);
}

static int ioapic_chip_set_level(void *opaque, unsigned gsi, int level)
{
	ioapic_set_level(opaque, gsi, level);
	return gsi < IOAPIC_PINS ? 0 : -EINVAL;
}

void ioapic_init_irq_chip(struct ioapic *io, struct irq_chip *chip)
{
	chip->set_level = ioapic_chip_set_level;
	chip->opaque = io;
}

uint64_t ioapic_get_entry(struct ioapic *io, unsigned pin)
{
	uint64_t v = 0;

	if (!io || pin >= IOAPIC_PINS || !ioapic_lock(io, "get_entry"))
		return 0;
	v = io->rte[pin];
	ioapic_unlock(io);
	return v;
}

void ioapic_get_stats(struct ioapic *io, struct ioapic_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!io || !ioapic_lock(io, "get_stats"))
		return;
	*out = io->stats;
	ioapic_unlock(io);
}
