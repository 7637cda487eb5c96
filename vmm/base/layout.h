/* vmm/base/layout.h: the guest-physical memory map every platform shares.
 * Owns: where RAM, the PCI/MMIO hole and the firmware sit.  `run` maps
 * memory by it, the e820 table and the TDX TD HOB are built from it, so a
 * prediction and a launch see the same map. */
#ifndef FUKI_LAYOUT_H
#define FUKI_LAYOUT_H

#include <stdint.h>

#define LAYOUT_4G            0x100000000ULL
#define LAYOUT_1M            0x100000ULL
#define LAYOUT_VGA_START     0xA0000ULL       /* legacy VGA hole, not RAM */
#define LAYOUT_VGA_END       0xC0000ULL
#define LAYOUT_EBDA_START    0x9FC00ULL       /* e820 reports RAM up to here */
#define LAYOUT_IOAPIC        0xFEC00000ULL
#define LAYOUT_IOAPIC_PINS   24               /* GSIs 0-23 (82093AA; KVM's too) */
#define LAYOUT_LAPIC         0xFEE00000ULL
#define LAYOUT_TSS_ADDR      0xFEFFD000ULL    /* KVM_SET_TSS_ADDR (3 pages) */
#define LAYOUT_IDENT_MAP     0xFEFFC000ULL    /* KVM_SET_IDENTITY_MAP_ADDR (1 page) */

/* RAM below 4 GiB ends where the 32-bit hole starts: the Q35 rule, so the
 * TD HOB matches what QEMU users expect (0xB0000000, or 0x80000000 once RAM
 * reaches 0xB0000000). */
static inline uint64_t layout_lowmem_limit(uint64_t ram)
{
	return ram >= 0xB0000000ULL ? 0x80000000ULL : 0xB0000000ULL;
}

static inline uint64_t layout_below_4g(uint64_t ram)
{
	uint64_t lim = layout_lowmem_limit(ram);

	return ram < lim ? ram : lim;
}

static inline uint64_t layout_above_4g(uint64_t ram)
{
	return ram - layout_below_4g(ram);
}

#endif
