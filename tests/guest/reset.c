/* tests/guest/reset.c: reset.rom (RESET_COUNT 20) and reset100.rom (100).
 * Every boot prints "boot N"; until RESET_COUNT resets have been done it
 * resets itself, rotating cf9 -> kbd (0x64) -> triple fault; boot
 * RESET_COUNT + 1 prints "resets: RESET_COUNT ok" and PASSes.
 * Checks (FAIL otherwise): both copies of the boot record are valid and equal
 * (rt.c), RAM sentinels written at boot 1 (RAM_SENTINEL_LO and the last 4 KiB
 * of low RAM) are intact, and the record remembers the method just used. */
#include "rt.h"

#ifndef RESET_COUNT
#define RESET_COUNT 20
#endif

#define SENTINEL 0x5e471e11u

static uint32_t ram_top_sentinel(void)
{
	uint64_t ram = gfw_read_u64(FW_CFG_RAM_SIZE);
	uint64_t low = ram < 0xB0000000ull ? ram : 0xB0000000ull;

	if (low < 0x00400000ull)          /* tiny RAM: keep below 4 MiB */
		return 0;
	return (uint32_t)low - 0x1000;
}

void guest_main(void)
{
	uint32_t prev;
	uint32_t n = bootrec_advance(BOOTREC_MAIN, &prev);
	uint32_t top = ram_top_sentinel();

	if (n == 1) {
		gprintf("guest: hello from reset (%u resets)\n", (uint32_t)RESET_COUNT);
		mmio_write32(RAM_SENTINEL_LO, SENTINEL);
		if (top)
			mmio_write32(top, SENTINEL ^ top);
	} else {
		if (prev != (n - 2) % RESET_METHODS)
			guest_fail("boot %u: record says last reset was %s, expected %s", n,
				   reset_method_name(prev), reset_method_name((n - 2) % RESET_METHODS));
		if (mmio_read32(RAM_SENTINEL_LO) != SENTINEL)
			guest_fail("boot %u: RAM sentinel at 0x%x lost", n, RAM_SENTINEL_LO);
		if (top && mmio_read32(top) != (SENTINEL ^ top))
			guest_fail("boot %u: RAM sentinel at 0x%x lost", n, top);
	}
	gprintf("boot %u", n);
	if (n > 1)
		gprintf(" (after %s)", reset_method_name(prev));
	gputc('\n');
	if (n > RESET_COUNT + 1)
		guest_fail("boot %u: more boots than resets requested", n);
	if (n == RESET_COUNT + 1) {
		gprintf("resets: %u ok\n", (uint32_t)RESET_COUNT);
		guest_pass();
	}
	uint32_t m = (n - 1) % RESET_METHODS;

	bootrec_set_method(BOOTREC_MAIN, m);
	reset_by(m);
}
