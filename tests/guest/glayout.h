/* tests/guest/glayout.h: fixed guest-physical addresses used by the test
 * firmware images (shared by the assembly entry code and the C runtime).
 * Owns: the guest RAM map of tests/guest only; the VMM never relies on it.
 * Only #defines here: this file is included from .S files too. */
#ifndef GUEST_GLAYOUT_H
#define GUEST_GLAYOUT_H

/* Descriptor tables live in RAM: a GDT inside the ROM hangs the far jump
 * under KVM's emulator (see docs/environment notes). */
#define GDT_ADDR        0x00000500  /* null, code32 (0x08), data32 (0x10) */
#define GDTR_ADDR       0x00000520  /* 6-byte pseudo-descriptor */
#define SEL_CODE32      0x08
#define SEL_DATA32      0x10

/* Boot counters (two copies each, far apart, see rt.c bootrec_*). */
#define BOOTREC_MAIN_A   0x00000600
#define BOOTREC_TENANT_A 0x00000640
#define BOOTREC_MAIN_B   0x00090000
#define BOOTREC_TENANT_B 0x00090040

/* SMP mailbox: written by the BSP, updated by the APs with locked ops. */
#define SMP_NEXT_INDEX  0x00000700  /* u32, next AP index (BSP is 0) */
#define SMP_COUNT       0x00000704  /* u32, APs checked in */
#define SMP_APIC_IDS    0x00000710  /* u32[SMP_MAX_IDS], APIC id by index */
#define SMP_MAX_IDS     64

#define AP_TRAMP_ADDR   0x00008000  /* real-mode AP trampoline page */
#define AP_SIPI_VECTOR  (AP_TRAMP_ADDR >> 12)

#define IDT_ADDR        0x00001000  /* 256 interrupt gates (rt_idt_*), below the trampoline */
#define DATA_ADDR       0x00010000  /* .data then .bss (VMA) */
#define STACK_TOP       0x00080000  /* BSP stack, grows down */

#define OPAQUE_ADDR     0x00100000  /* provider -> tenant hand-over string */
#define RAM_SENTINEL_LO 0x00180000  /* reset.rom: RAM-kept sentinel */
#define IMAGE_COPY_ADDR 0x00200000  /* provider: tenant image copy (4K aligned) */

#define LAPIC_BASE      0xFEE00000

/* Debug-exit port (QEMU isa-debug-exit: status = (v << 1) | 1). */
#define DEBUG_EXIT_PORT 0xf4
#define GUEST_PASS_CODE 0x20        /* exit status 65 */
#define GUEST_FAIL_CODE 0x21        /* exit status 67 */

#endif
