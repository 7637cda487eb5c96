/* tests/guest/tenant.c: tenant.rom and (TENANT_RESET) tenant-reset.rom, the
 * firmware a provider swaps in through etc/vmlaunchupdate.  Prints its banner,
 * bumps the tenant boot counter, reads the struct and prints the opaque
 * region (validated: it is host-controlled).  tenant.rom then PASSes;
 * tenant-reset.rom resets once (0xCF9) so a one-shot swap can return to the
 * provider, and FAILs if it is booted a second time; tenant-cycle.rom
 * (TENANT_CYCLE) resets on every boot (provider-cycle.rom counts);
 * tenant-wait.rom (TENANT_WAIT_S=2, inside igvm-hostile.rom's bootable IGVM
 * image) waits that many seconds by the CMOS clock before it PASSes, so the
 * host can watch the rebuilt VMM. */
#include "vlu.h"

#define OPAQUE_SHOW_MAX 256

static void show_opaque(uint64_t addr, uint64_t size)
{
	gprintf("tenant: opaque addr 0x%llx size %llu\n", addr, size);
	if (!addr || !size)
		return;
	if (addr >= 0xB0000000ull || size > 0x100000ull || addr + size > 0xB0000000ull) {
		gputs("tenant: opaque region outside low RAM, not read\n");
		return;
	}
	const uint8_t *p = (const uint8_t *)(uint32_t)addr;
	uint32_t n = size < OPAQUE_SHOW_MAX ? (uint32_t)size : OPAQUE_SHOW_MAX;
	uint32_t len = 0;
	int printable = 1;

	while (len < n && p[len])
		len++;
	for (uint32_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			printable = 0;
	for (uint32_t i = len; i < n; i++)       /* only NULs may follow */
		if (p[i])
			printable = 0;
	if (printable && len) {
		gputs("tenant: opaque \"");
		for (uint32_t i = 0; i < len; i++)
			gputc((char)p[i]);
		gputs("\"\n");
		return;
	}
	gputs("tenant: opaque bytes");
	for (uint32_t i = 0; i < n; i++)
		gprintf(" %02x", p[i]);
	gputc('\n');
}

void guest_main(void)
{
	gputs("tenant: hello from tenant firmware\n");
	uint32_t n = bootrec_advance(BOOTREC_TENANT, NULL);

	gprintf("tenant: boot %u\n", n);
	uint16_t key = vlu_find("tenant");
	struct vlu v;

	vlu_read("tenant", key, &v);
	gprintf("tenant: vmlaunchupdate version %u status %u control 0x%llx caps 0x%llx\n",
		v.version, v.status, v.control, v.capabilities);
	show_opaque(v.opaque_addr, v.opaque_size);
#if defined(TENANT_CYCLE)
	gputs("tenant: resetting back to the provider\n");
	reset_cf9();
#elif defined(TENANT_RESET)
	if (n == 1) {
		gputs("tenant: resetting back to the provider\n");
		reset_cf9();
	}
	guest_fail("tenant: booted %u times, the host did not return to the provider", n);
#else
#ifdef TENANT_WAIT_S
	gprintf("tenant: waiting %u s\n", TENANT_WAIT_S);
	for (unsigned left = TENANT_WAIT_S + 1; left;) {   /* the first tick may come at once */
		outb(0x70, 0x00);
		uint8_t s0 = inb(0x71), s1;

		do {
			cpu_pause();
			outb(0x70, 0x00);
			s1 = inb(0x71);
		} while (s1 == s0);
		left--;
	}
#endif
	guest_pass();
#endif
}
