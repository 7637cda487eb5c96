/* devices/ioapic.h: userspace I/O APIC (82093AA as KVM presents it: version
 * 0x11, 24 pins, no EOI register) for KVM's split irqchip.
 * Owns: the redirection table, the pin line levels and the Remote IRR state;
 * turns pin changes into MSIs handed to a sink.  Knows nothing of KVM: the
 * VMM wires the sink (KVM_SIGNAL_MSI, GSI routes) and the EOI exits.
 *
 * Locking: one mutex per model.  Lock order: bus lock (MMIO path) or a
 * device's own lock (set_level from a device) -> this model's lock -> the
 * VMM's locks taken inside the sink callbacks.  The sink must never call
 * back into the model (a re-entrant call is detected, logged and dropped). */
#ifndef FUKI_IOAPIC_H
#define FUKI_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS     24
#define IOAPIC_MMIO_LEN 0x1000   /* at vmm/base/layout.h LAYOUT_IOAPIC */

/* MMIO registers (82093AA datasheet 3.1; Linux arch/x86/kvm/ioapic.h). */
#define IOAPIC_REG_SELECT  0x00   /* IOREGSEL: 8-bit register index */
#define IOAPIC_REG_WINDOW  0x10   /* IOWIN: data of the selected register */
/* Indirect registers (82093AA datasheet 3.2). */
#define IOAPIC_IND_ID      0x00   /* bits 27:24 APIC ID */
#define IOAPIC_IND_VERSION 0x01   /* bits 23:16 max redirection entry, 7:0 version */
#define IOAPIC_IND_ARB     0x02   /* bits 27:24 arbitration ID */
#define IOAPIC_IND_REDTBL  0x10   /* 0x10+2n low half, 0x11+2n high half of entry n */
#define IOAPIC_VERSION_ID  0x11   /* KVM's IOAPIC_VERSION_ID (no EOI register) */
#define IOAPIC_VERSION_REG (((IOAPIC_PINS - 1u) << 16) | IOAPIC_VERSION_ID)

/* Redirection entry fields (82093AA datasheet 3.2.4). */
#define IOAPIC_RTE_VECTOR     0xffULL
#define IOAPIC_RTE_DELMODE_SHIFT 8          /* bits 10:8 */
#define IOAPIC_RTE_DESTMODE   (1ULL << 11)  /* 1: logical */
#define IOAPIC_RTE_DELIVS     (1ULL << 12)  /* delivery status, read-only */
#define IOAPIC_RTE_POLARITY   (1ULL << 13)  /* 1: active low */
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)  /* read-only */
#define IOAPIC_RTE_LEVEL      (1ULL << 15)  /* trigger mode, 1: level */
#define IOAPIC_RTE_MASK       (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56            /* bits 63:56 */
#define IOAPIC_RTE_RO_BITS    (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)

/* Delivery modes (82093AA datasheet 3.2.4, bits 10:8; Intel SDM vol. 3
 * 11.11.2 for the same encoding in MSI data). */
#define IOAPIC_DM_FIXED    0
#define IOAPIC_DM_LOWPRI   1
#define IOAPIC_DM_SMI      2
#define IOAPIC_DM_NMI      4
#define IOAPIC_DM_INIT     5
#define IOAPIC_DM_EXTINT   7

/* MSI address/data (Intel SDM vol. 3 11.11.1 and 11.11.2). */
#define IOAPIC_MSI_ADDR_BASE     0xFEE00000ULL
#define IOAPIC_MSI_ADDR_DEST_SHIFT 12          /* bits 19:12 destination ID */
#define IOAPIC_MSI_ADDR_DM       (1ULL << 2)   /* 1: logical destination */
#define IOAPIC_MSI_ADDR_RH       (1ULL << 3)   /* redirection hint */
#define IOAPIC_MSI_DATA_ASSERT   (1u << 14)
#define IOAPIC_MSI_DATA_LEVEL    (1u << 15)

/* A pin that re-delivers on this many successive EOIs with no line change
 * is logged as an interrupt storm (KVM's IOAPIC_SUCCESSIVE_IRQ_MAX_COUNT);
 * delivery goes on, one re-delivery per pin per EOI call. */
#define IOAPIC_EOI_STORM 10000

struct bus;
struct irq_chip;

struct ioapic_sink {
	/* Send one interrupt in MSI form (address/data as Intel SDM 11.11).  @pin is the
	 * source pin.  Called with the model's lock held: must not call back into it.
	 * Returns >= 0 when the interrupt was accepted; < 0 means not sent (a
	 * level-triggered entry then keeps Remote IRR clear). */
	int (*deliver)(void *opaque, unsigned pin, uint64_t addr, uint32_t data);
	/* The redirection entry of @pin changed; @addr/@data are its MSI form, @masked
	 * when the entry is masked.  Lets the VMM mirror level-triggered entries into
	 * KVM's GSI routes (KVM derives its EOI-exit bitmap from them).  Optional.
	 * Also called with the lock held.  @masked is also true for entries this
	 * model never delivers (ExtINT, SMI, reserved modes, fixed/lowest-priority
	 * vector < 16).  Called only when (addr, data, masked) differs from what was
	 * last reported for @pin, and for every pin by ioapic_sync_routes(). */
	void (*route)(void *opaque, unsigned pin, uint64_t addr, uint32_t data, bool masked);
	void *opaque;
};

struct ioapic;

struct ioapic_stats {
	uint64_t delivered;   /* sink->deliver calls that returned >= 0 */
	uint64_t dropped;     /* interrupts not sent (bad vector/mode, sink error) */
	uint64_t storms;      /* pins that crossed IOAPIC_EOI_STORM re-deliveries */
	uint64_t bad_access;  /* MMIO accesses of the wrong size/offset, bad pins */
};

/* @sink is copied; sink->deliver is required.  The model starts in the
 * ioapic_reset() state with all lines low.  NULL on bad arguments or
 * allocation failure. */
struct ioapic *ioapic_create(const struct ioapic_sink *sink);
void ioapic_destroy(struct ioapic *io);
/* Register the MMIO window [LAYOUT_IOAPIC, +IOAPIC_MMIO_LEN) on @mmio. */
int ioapic_attach(struct ioapic *io, struct bus *mmio);
/* Power-on state: all entries masked (every other bit 0), ID, IOREGSEL and
 * Remote IRRs clear, storm counters cleared.  Line levels are kept: they
 * are the devices' outputs, and a device that is reset lowers its own line
 * through ioapic_set_level() (one that is not keeps driving it).  Since
 * everything is masked, nothing is delivered until the guest unmasks; an
 * asserted level pin then delivers at once.  Pins whose route changed are
 * reported to sink->route. */
void ioapic_reset(struct ioapic *io);
/* A device drives @pin to @level (thread-safe; any thread).  @level != 0 is
 * electrically high; the entry's polarity decides whether that asserts.
 * Pins >= IOAPIC_PINS are logged and ignored. */
void ioapic_set_level(struct ioapic *io, unsigned pin, int level);
/* The guest's LAPIC EOI'd @vector (KVM_EXIT_IOAPIC_EOI): clear Remote IRR of the
 * level-triggered entries with that vector and re-deliver those still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/* For a platform that cannot report EOIs to the VMM (TDX: the TDX module
 * virtualises the LAPIC and KVM cannot intercept EOIs; QEMU's
 * eoi_intercept_unsupported): level-triggered entries then behave as
 * edge-triggered ones -- one interrupt per assertion, no Remote IRR, sent
 * as edge MSIs -- since Remote IRR could never be cleared.  A line that
 * stays asserted after the guest's handler is not re-delivered. */
void ioapic_set_no_eoi(struct ioapic *io, bool no_eoi);
/* The MMIO access the bus callback performs; exposed for tests. */
void ioapic_mmio(struct ioapic *io, uint64_t offset, uint8_t *data, unsigned len, bool is_write);

/* Report every pin's route to sink->route, changed or not (after the VMM
 * rebuilt its KVM VM and lost the GSI routes). */
void ioapic_sync_routes(struct ioapic *io);
/* Fill @chip so that irq_set_level(chip, gsi, level) drives pin @gsi. */
void ioapic_init_irq_chip(struct ioapic *io, struct irq_chip *chip);
/* Raw 64-bit redirection entry of @pin (0 for a bad pin); for tests. */
uint64_t ioapic_get_entry(struct ioapic *io, unsigned pin);
void ioapic_get_stats(struct ioapic *io, struct ioapic_stats *out);

#endif
