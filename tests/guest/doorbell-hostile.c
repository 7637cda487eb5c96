/* tests/guest/doorbell-hostile.c: doorbell-hostile.rom.  Sends a list of bad
 * requests to etc/vmlaunchupdate, each as one DMA write, re-reads the struct
 * and prints "case NAME status S" (decimal).  Never resets; PASSes after the
 * last case (the host-side test judges the statuses).  Ends with CTL_DISABLE
 * followed by a valid request that must be ignored. */
#include "vlu.h"

#define IMG_SIZE 0x10000u      /* a valid-looking image: this ROM's last 64 KiB */

static uint16_t key;
static struct vlu base;

struct hcase {
	const char *name;
	uint64_t control, addr, size;
	uint32_t write_len;        /* bytes written from offset 0 (56 = whole) */
};

static void run_case(const char *name, uint64_t control, uint64_t addr, uint64_t size,
		     uint32_t write_len)
{
	struct vlu v = base;

	v.status = 0;
	v.control = control;
	v.fw_image_addr = addr;
	v.fw_image_size = size;
	v.opaque_addr = OPAQUE_ADDR;
	v.opaque_size = 16;
	int rc = gfw_dma_write(key, &v, write_len);

	if (rc != 0)
		gprintf("case %s dma error %d\n", name, rc);
	vlu_read("doorbell", key, &v);
	gprintf("case %s status %u\n", name, v.status);
}

void guest_main(void)
{
	gputs("guest: hello from doorbell-hostile\n");
	key = vlu_find("doorbell");
	vlu_read("doorbell", key, &base);
	gprintf("doorbell: version %u status %u caps 0x%llx control 0x%llx\n", base.version,
		base.status, base.capabilities, base.control);

	uint64_t ram = gfw_read_u64(FW_CFG_RAM_SIZE);
	uint64_t low = ram < 0xB0000000ull ? ram : 0xB0000000ull;
	const uint64_t raw = VLU_FORMAT_RAW_ROM;
	const uint64_t img = IMAGE_COPY_ADDR;

	gprintf("doorbell: ram_size 0x%llx\n", ram);
	if (low < img + IMG_SIZE)
		guest_fail("doorbell: RAM 0x%llx too small for the image at 0x%x", ram, IMAGE_COPY_ADDR);
	memcpy((void *)IMAGE_COPY_ADDR, (const void *)(uint32_t)(0x100000000ull - IMG_SIZE), IMG_SIZE);
	memcpy((void *)OPAQUE_ADDR, "hostile opaque\0", 16);

	const struct hcase cases[] = {
		{ "addr0", raw, 0, IMG_SIZE, 56 },
		{ "size0", raw, img, 0, 56 },
		{ "size-over-16m", raw, img, 0x1000000ull + 0x1000, 56 },
		{ "overflow", raw, 0xFFFFFFFFFFFFF000ull, 0x2000, 56 },
		{ "past-ram", raw, low - 0x1000, IMG_SIZE, 56 },
		{ "mmio-hole", raw, 0xC0000000ull, IMG_SIZE, 56 },
		{ "firmware-region", raw, 0xFFFF0000ull, IMG_SIZE, 56 },
		{ "size-unaligned", raw, img, IMG_SIZE + 0x800, 56 },
		{ "unknown-format", 1ull << 40, img, IMG_SIZE, 56 },
		{ "both-formats", raw | VLU_FORMAT_IGVM, img, IMG_SIZE, 56 },
		{ "igvm-only", VLU_FORMAT_IGVM, img, IMG_SIZE, 56 },
		{ "partial-write", raw, img, IMG_SIZE, 24 },
	};

	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(cases[i].name, cases[i].control, cases[i].addr, cases[i].size,
			 cases[i].write_len);

	/* CTL_DISABLE, then a valid request that must be ignored */
	run_case("disable", VLU_CTL_DISABLE, 0, 0, 56);
	struct vlu v;

	vlu_read("doorbell", key, &v);
	uint32_t disable_status = v.status;

	run_case("after-disable", raw, img, IMG_SIZE, 56);
	vlu_read("doorbell", key, &v);
	gprintf("case after-disable control 0x%llx image 0x%llx+0x%llx\n", v.control,
		v.fw_image_addr, v.fw_image_size);
	gprintf("doorbell: disable left status %u, after-disable status %u, control bit0 %u\n",
		disable_status, v.status, (uint32_t)(v.control & VLU_CTL_DISABLE));
	gputs("doorbell: all cases sent\n");
	guest_pass();
}
