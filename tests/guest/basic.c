/* tests/guest/basic.c: basic.rom, the fw_cfg smoke test.  Prints the
 * signature, ID, NB_CPUS, RAM_SIZE and the file directory (by PIO/DMA), reads
 * etc/e820 by DMA and prints it.  PASS when the signature is "QEMU", DMA is
 * advertised and e820 has a RAM entry starting at 0. */
#include "rt.h"

#define E820_MAX 64
struct e820_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

static struct gfw_file dir[128];
static struct e820_entry e820[E820_MAX];

void guest_main(void)
{
	char sig[5] = { 0 };

	gputs("guest: hello from basic\n");
	gfw_select(FW_CFG_SIGNATURE);
	gfw_pio_read(sig, 4);
	uint32_t id = gfw_read_u32(FW_CFG_ID);
	uint16_t ncpu = gfw_read_u16(FW_CFG_NB_CPUS);
	uint64_t ram = gfw_read_u64(FW_CFG_RAM_SIZE);

	gprintf("fw_cfg: signature \"%c%c%c%c\"\n", sig[0] >= 32 && sig[0] < 127 ? sig[0] : '?',
		sig[1] >= 32 && sig[1] < 127 ? sig[1] : '?', sig[2] >= 32 && sig[2] < 127 ? sig[2] : '?',
		sig[3] >= 32 && sig[3] < 127 ? sig[3] : '?');
	gprintf("fw_cfg: id 0x%x (dma %s)\n", id, (id & FW_CFG_VERSION_DMA) ? "yes" : "no");
	gprintf("fw_cfg: nb_cpus %u\n", ncpu);
	gprintf("fw_cfg: ram_size 0x%llx (%llu MiB)\n", ram, ram >> 20);
	if (memcmp(sig, "QEMU", 4) != 0)
		guest_fail("fw_cfg signature is not QEMU");
	if (!(id & FW_CFG_VERSION_DMA))
		guest_fail("fw_cfg does not advertise DMA (id 0x%x)", id);

	uint32_t total = 0;
	int n = gfw_list_files(dir, 128, &total);

	if (n < 0)
		guest_fail("fw_cfg: DMA read of the file directory failed");
	gprintf("fw_cfg: %u files\n", total);
	int e820_i = -1;

	for (int i = 0; i < n; i++) {
		gprintf("file 0x%04x %8u %s\n", dir[i].select, dir[i].size, dir[i].name);
		if (strcmp(dir[i].name, "etc/e820") == 0)
			e820_i = i;
	}
	if (e820_i < 0)
		guest_fail("fw_cfg has no etc/e820 file");

	uint32_t len = dir[e820_i].size;

	if (len % sizeof(struct e820_entry))
		guest_fail("etc/e820 size %u is not a multiple of %u", len,
			   (uint32_t)sizeof(struct e820_entry));
	if (len > sizeof(e820))
		len = sizeof(e820);
	if (gfw_dma_read(dir[e820_i].select, e820, len) != 0)
		guest_fail("DMA read of etc/e820 failed");
	int ram_at_0 = 0;

	for (uint32_t i = 0; i < len / sizeof(struct e820_entry); i++) {
		gprintf("e820: 0x%016llx-0x%016llx type %u\n", e820[i].addr,
			e820[i].addr + e820[i].len - 1, e820[i].type);
		if (e820[i].type == 1 && e820[i].addr == 0 && e820[i].len)
			ram_at_0 = 1;
	}
	if (!ram_at_0)
		guest_fail("etc/e820 has no RAM entry starting at 0");
	guest_pass();
}
