/* tests/guest/provider.c: provider.rom (permanent swap to tenant.rom),
 * provider-oneshot.rom (PROVIDER_ONESHOT: CTL_HOST_IGVM, payload
 * tenant-reset.rom), provider-big.rom (2 MiB tenant payload),
 * provider-cycle.rom (PROVIDER_CYCLE=N: one-shot swaps to tenant-cycle.rom
 * until the tenant has booted N times) and provider-toctou.rom
 * (PROVIDER_TOCTOU: overwrites the image in RAM after the accepted write;
 * the host must launch the copy it took at write time) and
 * provider-wait.rom (PROVIDER_WAIT_S=3: waits that many seconds by the CMOS
 * clock before ringing, so a host test can change the policy first).
 * Boot 1: checks etc/vmlaunchupdate (version 1, FORMAT_RAW_ROM), copies the
 * tenant to IMAGE_COPY_ADDR, puts an opaque string at OPAQUE_ADDR, requests
 * the swap with ONE 56-byte DMA write, re-reads the status and resets by
 * 0xCF9 on success.  A later boot after the tenant ran (tenant boot counter)
 * prints "provider: back again" and PASSes.
 * The zero padding in front of a padded payload (provider-big) is not copied:
 * RAM is zero-filled at first boot and this runs on boot 1 only. */
#include "vlu.h"

extern const uint8_t tenant_image_start[], tenant_image_data[], tenant_image_end[];

#if defined(PROVIDER_ONESHOT) || defined(PROVIDER_CYCLE)
#define PROVIDER_CONTROL (VLU_FORMAT_RAW_ROM | VLU_CTL_HOST_IGVM)
#else
#define PROVIDER_CONTROL VLU_FORMAT_RAW_ROM
#endif

static const char opaque_msg[] = "opaque: provider says hi";

#ifdef PROVIDER_WAIT_S
/* The RTC seconds register (MC146818 index 0, BCD by default): wall-clock
 * time, independent of how fast guest code runs. */
static uint8_t rtc_seconds(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

static void wait_seconds(unsigned n)
{
	uint8_t last = rtc_seconds();

	while (n) {
		uint8_t now = rtc_seconds();

		if (now != last) {
			last = now;
			n--;
		}
		cpu_pause();
	}
}
#endif

void guest_main(void)
{
	gputs("provider: booting\n");
	uint32_t n = bootrec_advance(BOOTREC_MAIN, NULL);
	uint32_t t = bootrec_peek(BOOTREC_TENANT);

	gprintf("provider: boot %u, tenant boots %u\n", n, t);
#ifdef PROVIDER_CYCLE
	/* provider and tenant alternate: provider boot n follows tenant boot n-1 */
	if (n != t + 1)
		guest_fail("provider: boot %u after %u tenant boots: the swaps did not alternate", n, t);
	if (t >= PROVIDER_CYCLE) {
		gprintf("provider: %u swaps done\n", t);
		guest_pass();
	}
#else
	if (t >= 1) {
		gputs("provider: back again\n");
		guest_pass();
	}
	if (n > 1)
		guest_fail("provider: boot %u but the tenant never ran", n);
#endif

#ifdef PROVIDER_WAIT_S
	gprintf("provider: waiting %u s before ringing the doorbell\n", PROVIDER_WAIT_S);
	wait_seconds(PROVIDER_WAIT_S + 1);   /* the first tick may come at once */
#endif
	uint16_t key = vlu_find("provider");
	struct vlu v;

	vlu_read("provider", key, &v);
	gprintf("provider: version %u status %u caps 0x%llx control 0x%llx\n", v.version,
		v.status, v.capabilities, v.control);
	if (v.version != VLU_VERSION)
		guest_fail("provider: %s version %u, expected %u", VLU_FILE, v.version, VLU_VERSION);
	if (!(v.capabilities & VLU_FORMAT_RAW_ROM))
		guest_fail("provider: capabilities 0x%llx lack FORMAT_RAW_ROM", v.capabilities);

	uint32_t size = (uint32_t)(tenant_image_end - tenant_image_start);

	if (!size || size % 4096)
		guest_fail("provider: payload size %u is not a multiple of 4 KiB", size);
	uint32_t pad = (uint32_t)(tenant_image_data - tenant_image_start);

	memcpy((void *)(IMAGE_COPY_ADDR + pad), tenant_image_data, size - pad);
	gprintf("provider: copied 0x%x bytes to 0x%x (0x%x bytes of zero padding left to RAM)\n",
		size - pad, IMAGE_COPY_ADDR + pad, pad);
	memcpy((void *)OPAQUE_ADDR, opaque_msg, sizeof(opaque_msg));

	v.control = PROVIDER_CONTROL;
	v.fw_image_addr = IMAGE_COPY_ADDR;
	v.fw_image_size = size;
	v.opaque_addr = OPAQUE_ADDR;
	v.opaque_size = sizeof(opaque_msg);
	gprintf("provider: request control 0x%llx image 0x%x+0x%x opaque 0x%x+%u\n",
		v.control, IMAGE_COPY_ADDR, size, OPAQUE_ADDR, (uint32_t)sizeof(opaque_msg));
	if (gfw_dma_write(key, &v, sizeof(v)) != 0)
		guest_fail("provider: DMA write of %s failed", VLU_FILE);
	vlu_read("provider", key, &v);
	gprintf("provider: status %u\n", v.status);
	if (v.status != VLU_SUCCESS)
		guest_fail("provider: update refused with status %u", v.status);
#ifdef PROVIDER_TOCTOU
	/* the host took its copy at write time: scribbling over the image now
	 * must not change what is launched */
	memset((void *)(IMAGE_COPY_ADDR + pad), 0xCC, size - pad);
	gputs("provider: image in RAM overwritten after the accepted write\n");
#endif
	gputs("provider: resetting into the tenant\n");
	reset_cf9();
}
