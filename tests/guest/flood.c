/* tests/guest/flood.c: the hostile guests of test_hostile.sh's flood and
 * stop cases, one image per FLOOD_KIND; none of them ever ends by itself
 * (the test stops the VMM with SIGTERM):
 *   FLOOD_DOORBELL (flood-doorbell.rom): rejected doorbell requests
 *     (image address 0) back to back, for ever;
 *   FLOOD_VIRTIO (flood-virtio.rom): finds the virtio-blk function, maps
 *     BAR 0 and writes an invalid queue_size (3: not a power of two) for ever;
 *   FLOOD_UART (flood-uart.rom): serial output as fast as the vCPU goes,
 *     numbered 32-byte lines;
 *   FLOOD_SPIN (spin-cli.rom): one line, then cli and a tight loop;
 *   FLOOD_RESET (flood-reset.rom): resets the machine (0xCF9) at once at
 *     every boot, for ever.
 * Each prints "flood: KIND running" first. */
#include "vlu.h"

#define FLOOD_DOORBELL 1
#define FLOOD_VIRTIO   2
#define FLOOD_UART     3
#define FLOOD_SPIN     4
#define FLOOD_RESET    5

#ifndef FLOOD_KIND
#error "FLOOD_KIND must be set"
#endif

#if FLOOD_KIND == FLOOD_DOORBELL
static void flood(void)
{
	uint16_t key = vlu_find("flood");
	struct vlu v;

	vlu_read("flood", key, &v);
	gputs("flood: doorbell running\n");
	for (;;) {
		v.status = 0;
		v.control = VLU_FORMAT_RAW_ROM;
		v.fw_image_addr = 0;          /* refused: BAD_RANGE */
		v.fw_image_size = 0x10000;
		v.opaque_addr = 0;
		v.opaque_size = 0;
		gfw_dma_write(key, &v, sizeof(v));
	}
}
#elif FLOOD_KIND == FLOOD_VIRTIO
#define PCI_CFG_ADDR 0xcf8
#define PCI_CFG_DATA 0xcfc
#define BAR_ADDR     0xC0000000u      /* the start of the PCI hole with 64M RAM */
#define CC_Q_SELECT  0x16             /* virtio 1.2, 4.1.4.3 common cfg */
#define CC_Q_SIZE    0x18

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static uint32_t cfg_read32(unsigned slot, unsigned off)
{
	outl(PCI_CFG_ADDR, 0x80000000u | (slot << 11) | (off & 0xfc));
	return inl(PCI_CFG_DATA);
}

static void cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	outl(PCI_CFG_ADDR, 0x80000000u | (slot << 11) | (off & 0xfc));
	outl(PCI_CFG_DATA, v);
}

static void flood(void)
{
	unsigned slot;

	for (slot = 0; slot < 32; slot++)
		if (cfg_read32(slot, 0) == 0x10421af4u)
			break;
	if (slot == 32)
		guest_fail("flood: no virtio-blk function on bus 0");
	cfg_write32(slot, 0x10, BAR_ADDR);   /* BAR 0, 64-bit: low half */
	cfg_write32(slot, 0x14, 0);          /* high half */
	cfg_write32(slot, 0x04, 0x0002);     /* memory space on */
	gputs("flood: virtio running\n");
	for (;;) {
		*(volatile uint16_t *)(BAR_ADDR + CC_Q_SELECT) = 0;
		*(volatile uint16_t *)(BAR_ADDR + CC_Q_SIZE) = 3;
	}
}
#elif FLOOD_KIND == FLOOD_UART
/* 4 KiB of lines at a time with rep outsb: one exit moves a page (KVM
 * hands string port I/O over a page at a time), so even an emulated
 * vCPU fills a pipe within a second or two */
static char page[4096];

static void flood(void)
{
	gputs("flood: uart running\n");
	for (uint32_t i = 0; i < sizeof(page); i += 32)
		memcpy(page + i, "flood line 0123456789abcdefghi\n\n", 32);
	for (;;) {
		const char *p = page;
		uint32_t n = sizeof(page);

		__asm__ volatile("cld; rep outsb"
				 : "+S"(p), "+c"(n)
				 : "d"((uint16_t)SERIAL_PORT)
				 : "memory");
	}
}
#elif FLOOD_KIND == FLOOD_SPIN
static void flood(void)
{
	gputs("flood: spin running\n");
	__asm__ volatile("cli\n1: jmp 1b" : : : "memory");
}
#elif FLOOD_KIND == FLOOD_RESET
static void flood(void)
{
	gputs("flood: reset running\n");
	reset_cf9();
}
#endif

void guest_main(void)
{
	flood();
	guest_fail("flood: returned");
}
