/* tests/guest/smp.c: smp.rom.  The BSP reads NB_CPUS, copies the real-mode
 * trampoline to AP_TRAMP_ADDR and wakes every AP with INIT-SIPI-SIPI (LAPIC
 * ICR, all-excluding-self).  Each AP enters protected mode, takes an index
 * with lock xadd, increments SMP_COUNT and parks (entry.S).  PASS when
 * 1 + SMP_COUNT == NB_CPUS within a bounded wait. */
#include "rt.h"

extern const uint8_t ap_tramp_start[], ap_tramp_end[];

#define LAPIC_SVR      0xF0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define ICR_BUSY       (1u << 12)
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_ASSERT     (1u << 14)
#define ICR_INIT       (5u << 8)
#define ICR_STARTUP    (6u << 8)

static void delay(uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		cpu_pause();
}

static void icr_send(uint32_t lo)
{
	mmio_write32(LAPIC_BASE + LAPIC_ICR_HI, 0);
	mmio_write32(LAPIC_BASE + LAPIC_ICR_LO, lo);
	for (uint32_t i = 0; i < 10000 && (mmio_read32(LAPIC_BASE + LAPIC_ICR_LO) & ICR_BUSY); i++)
		cpu_pause();
}

void guest_main(void)
{
	gputs("guest: hello from smp\n");
	uint32_t ncpu = gfw_read_u16(FW_CFG_NB_CPUS);
	uint32_t bsp_id = mmio_read32(LAPIC_BASE + 0x20) >> 24;

	gprintf("smp: nb_cpus %u, bsp apic id %u\n", ncpu, bsp_id);
	if (ncpu == 0)
		guest_fail("fw_cfg NB_CPUS is 0");

	memcpy((void *)AP_TRAMP_ADDR, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	mmio_write32(SMP_NEXT_INDEX, 1);
	mmio_write32(SMP_COUNT, 0);
	memset((void *)SMP_APIC_IDS, 0xff, SMP_MAX_IDS * 4);

	if (ncpu > 1) {
		/* software-enable the LAPIC, spurious vector 0xff */
		mmio_write32(LAPIC_BASE + LAPIC_SVR, mmio_read32(LAPIC_BASE + LAPIC_SVR) | 0x1ff);
		icr_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
		delay(1000);
		icr_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | AP_SIPI_VECTOR);
		delay(1000);
		icr_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | AP_SIPI_VECTOR);
	}
	/* bounded wait: ~2M pause iterations is several seconds emulated */
	for (uint32_t i = 0; i < 2000000 && mmio_read32(SMP_COUNT) < ncpu - 1; i++)
		cpu_pause();

	uint32_t up = 1 + mmio_read32(SMP_COUNT);
	uint32_t shown = up - 1 < SMP_MAX_IDS ? up - 1 : SMP_MAX_IDS;

	for (uint32_t i = 1; i <= shown && i < SMP_MAX_IDS; i++)
		gprintf("smp: ap index %u apic id %u\n", i, mmio_read32(SMP_APIC_IDS + 4 * i));
	gprintf("smp: %u cpus up\n", up);
	if (up != ncpu)
		guest_fail("smp: %u cpus up, fw_cfg NB_CPUS says %u", up, ncpu);
	guest_pass();
}
