/* devices/pci.h: PCI bus 0 of an i440FX/PIIX machine.
 * Owns: configuration mechanism #1 (ports 0xCF8-0xCFF, with the reset
 * control byte at 0xCF9 forwarded to devices/resetreg), the host bridge
 * 00:00.0 (8086:1237; its PAM registers call a VMM hook that remaps the
 * BIOS area), the PIIX3 ISA bridge 00:01.0 (8086:7000, PIRQ route
 * registers 0x60-0x63), the PIIX4 PM function 00:01.3 (8086:7113, ACPI PM
 * timer and PM1 control), BAR sizing and the dispatch of BAR accesses.
 * Must not know what a device behind a BAR does: it calls the device's
 * bar_access callback. */
#ifndef FUKI_PCI_H
#define FUKI_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct bus;
struct irq_chip;
struct vm_req_sink;
struct resetreg;

/* PCI Local Bus spec 3.0, 6.1 (type 0 header offsets) */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CLASS_DEVICE    0x0a
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_COMMAND_IO      0x1
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_STATUS_INTERRUPT 0x08

#define PCI_BAR_IO          0x1     /* bit 0 of an I/O BAR */
#define PCI_BAR_MEM64       0x4     /* type 10b of a memory BAR */

#define PCI_CONFIG_ADDR     0xcf8
#define PCI_CONFIG_DATA     0xcfc

#define PCI_MAX_SLOTS       32
#define PCI_MAX_FUNCS       8
#define PCI_NUM_BARS        6

/* Where guest software may place BARs.  Memory: the 32-bit hole from the
 * end of low RAM up to the IOAPIC (vmm/base/layout.h).  I/O: 0xC000-0xFFFF, where
 * SeaBIOS and qboot place I/O BARs. */
#define PCI_IO_WINDOW_BASE  0xc000
#define PCI_IO_WINDOW_END   0x10000
/* The PIIX4 PM I/O block (64 bytes) decodes at PMBA (config 0x40, bits
 * 15:6) while PMREGMISC (config 0x80) bit 0 PMIOSE is set, wherever that is
 * outside the fixed devices' ports (the PCI bus is the PIO bus's fallback
 * decoder).  SeaBIOS programs 0x600 (src/hw/pci_ids.h PORT_ACPI_PM_BASE),
 * qboot 0x600 too; OVMF on i440FX 0xB000 (OvmfPkg/Include/OvmfPlatforms.h
 * PIIX4_PMBA_VALUE).  PCI_PM_DEFAULT_BASE is what the ACPI tables describe
 * while no firmware has enabled the block. */
#define PCI_PM_DEFAULT_BASE 0x600
#define PIIX4_PM_IO_LEN     64

/* ACPI PM timer: 3.579545 MHz (ACPI 6.5, 4.8.3.3), 24 bits wide unless the
 * FADT says TMR_VAL_EXT; SeaBIOS's FADT for PIIX4 does not. */
#define PCI_PM_TIMER_HZ     3579545ULL
#define PCI_PM_TIMER_MASK   0xffffffu

struct pci_bus;
struct pci_dev;

/* i440FX PAM0-PAM6 (Intel 82441FX PCI and Memory Controller datasheet,
 * "PAM - Programmable Attribute Map Registers", config 59h-5Fh).  PAM0 bits 5:4 cover
 * 0xF0000-0xFFFFF; PAMn (n = 1..6) covers 0xC0000 + (n-1) * 32 KiB, its low
 * nibble the first 16 KiB and its high nibble the second.  In each nibble
 * bit 0 is RE (reads go to DRAM), bit 1 WE (writes go to DRAM); with both
 * clear the range goes to PCI.  All zero after reset. */
#define I440FX_PAM0         0x59
#define I440FX_PAM_REGS     7
#define I440FX_PAM_RE       0x1
#define I440FX_PAM_WE       0x2

/* Called, with the bus's config lock held, after a guest write that
 * touched PAM0-PAM6; @pam holds the seven registers.  The hook must not
 * call back into the bus.  pci_reset() restores the registers to zero
 * without calling it: a reset's owner rebuilds the memory map itself. */
typedef void pci_pam_hook_fn(void *opaque, const uint8_t pam[I440FX_PAM_REGS]);

/* A device's BAR accesses.  Called without any PCI lock held; the device
 * serialises itself.  @offset is relative to the BAR start. */
struct pci_dev_ops {
	void (*bar_access)(void *opaque, unsigned bar, uint64_t offset, uint8_t *data,
			   unsigned len, bool is_write);
	/* After a config-space write of [off, off+len) was applied (optional). */
	void (*config_write)(void *opaque, unsigned off, unsigned len);
	/* Reads at or above 0x40 may be served by the device (optional):
	 * return true if it filled data. */
	bool (*config_read)(void *opaque, unsigned off, uint8_t *data, unsigned len);
};

struct pci_bus *pci_create(struct irq_chip *irq, struct vm_req_sink *req,
			   struct resetreg *rst, uint64_t mmio_base, uint64_t mmio_end);
/* Register 0xCF8-0xCFF, the I/O window and the MMIO hole, and become @pio's
 * fallback decoder (the PM block at PMBA). */
int pci_attach(struct pci_bus *pb, struct bus *pio, struct bus *mmio);
/* Where the PM block decodes now: PMBA & 0xFFC0 while PMIOSE is set, else 0. */
uint16_t pci_pm_base(struct pci_bus *pb);
/* Power-on state: BARs unprogrammed, PIRQs disabled, PM block off.
 * Devices' own reset is their owner's business. */
void pci_reset(struct pci_bus *pb);
void pci_destroy(struct pci_bus *pb);
/* Install (or with NULL remove) the PAM hook of the host bridge. */
void pci_set_pam_hook(struct pci_bus *pb, pci_pam_hook_fn *hook, void *opaque);

/* A type-0 function at 00:slot.func.  NULL if the slot is taken or out of
 * range.  @class_code is class<<16 | subclass<<8 | prog-if. */
struct pci_dev *pci_add_device(struct pci_bus *pb, unsigned slot, unsigned func,
			       uint16_t vendor, uint16_t device, uint32_t class_code,
			       uint8_t revision, const struct pci_dev_ops *ops, void *opaque);
/* First free slot >= 2 (0 and 1 are the chipset), or -ENOSPC. */
int pci_free_slot(const struct pci_bus *pb);
void pci_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id);
/* @size a power of two >= 16 (memory) or >= 4 (I/O); @flags PCI_BAR_IO or
 * PCI_BAR_MEM64 (which takes bar and bar+1). */
int pci_add_bar(struct pci_dev *d, unsigned bar, uint64_t size, unsigned flags);
/* Reserve @len bytes of capability space (>= 0x40) with ID @id, linked
 * into the list; returns its offset or -ENOSPC. */
int pci_add_cap(struct pci_dev *d, uint8_t id, unsigned len);
/* Raw config-space storage and the guest-writable mask, for the owner's
 * capability contents. */
uint8_t *pci_config(struct pci_dev *d);
uint8_t *pci_wmask(struct pci_dev *d);
/* INTx pin A (the only one used): assert/deassert.  Routed through the
 * PIIX3 PIRQ registers with the PIIX slot swizzle; thread-safe, takes only
 * a leaf lock. */
void pci_set_intx(struct pci_dev *d, int level);
/* Guest address of a programmed, enabled BAR; 0 when not decoded. */
uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar);
/* The same with the bus's config lock already held (inside a config_write
 * hook), and only when the BAR decodes: memory BARs inside the MMIO hole,
 * I/O BARs inside the I/O window; else 0. */
uint64_t pci_bar_decode_locked(struct pci_dev *d, unsigned bar);
/* The GSI pin A of @d currently routes to, or -1 (disabled). */
int pci_intx_gsi(struct pci_dev *d);

/* Config-space access as mechanism #1 would do it (tests, and the
 * virtio-pci PCI-configuration-access capability). */
void pci_config_access(struct pci_bus *pb, unsigned slot, unsigned func, unsigned off,
		       uint8_t *data, unsigned len, bool is_write);
/* Dispatch a BAR access (used by the PCI-configuration-access window). */
void pci_bar_dispatch(struct pci_dev *d, unsigned bar, uint64_t off, uint8_t *data,
		      unsigned len, bool is_write);

#endif
