/* tests/unit/test_fwcfg_content.c: the board's fw_cfg items read back through
 * the device's file directory: the e820 map's bytes, the CPU count and the
 * boot order's paths.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <endian.h>
#include <string.h>

#include "vmm/base/guestmem.h"
#include "vmm/base/layout.h"
#include "vmm/base/log.h"
#include "vmm/vm/fwcfg_content.h"

static struct guestmem gm;
static struct fwcfg *fw;
static struct vm_config cfg;

static void setup(void)
{
	log_set_level(LOG_ERR);
	gm_init(&gm);
	fw = fwcfg_create(&gm);
	cr_assert_not_null(fw);
	memset(&cfg, 0, sizeof(cfg));
	for (unsigned i = 0; i < CFG_MAX_DISKS; i++)
		cfg.disks[i].bootindex = -1;
}

static void teardown(void)
{
	fwcfg_destroy(fw);
}

TestSuite(fwcfg_content, .init = setup, .fini = teardown);

static void read_item(uint16_t key, void *out, size_t n)
{
	uint8_t *o = out;

	fwcfg_select(fw, key);
	while (n--)
		*o++ = fwcfg_read_data(fw);
}

/* The named file's contents (malloc'ed) and size, or NULL. */
static uint8_t *read_file(const char *name, size_t *len)
{
	uint32_t count;

	read_item(FW_CFG_FILE_DIR, &count, 4);
	count = be32toh(count);
	for (uint32_t i = 0; i < count; i++) {
		struct { uint32_t size; uint16_t select, reserved; char name[56]; } e;

		/* the directory again, up to entry i */
		fwcfg_select(fw, FW_CFG_FILE_DIR);
		for (size_t k = 0; k < 4 + (size_t)i * sizeof(e); k++)
			fwcfg_read_data(fw);
		for (size_t k = 0; k < sizeof(e); k++)
			((uint8_t *)&e)[k] = fwcfg_read_data(fw);
		if (strcmp(e.name, name))
			continue;
		*len = be32toh(e.size);
		uint8_t *buf = malloc(*len + 1);

		cr_assert_not_null(buf);
		read_item(be16toh(e.select), buf, *len);
		return buf;
	}
	return NULL;
}

Test(fwcfg_content, e820_below_4g_only)
{
	struct fwcfg_machine m = { .cfg = &cfg, .ram_size = 512ULL << 20,
				   .below_4g = 512ULL << 20, .nvcpus = 2 };
	struct e820_entry e[E820_MAX_ENTRIES];

	cr_assert_eq(fwcfg_content_e820(&m, e), 2);
	cr_assert_eq(e[0].addr, 0);
	cr_assert_eq(e[0].len, 512ULL << 20);
	cr_assert_eq(e[0].type, E820_RAM);
	cr_assert_eq(e[1].addr, LAYOUT_IDENT_MAP);
	cr_assert_eq(e[1].len, 0x4000);
	cr_assert_eq(e[1].type, E820_RESERVED);
}

Test(fwcfg_content, e820_and_cpu_items_as_bytes)
{
	uint64_t below = layout_below_4g(6ULL << 30), above = layout_above_4g(6ULL << 30);
	struct fwcfg_machine m = { .cfg = &cfg, .ram_size = 6ULL << 30, .below_4g = below,
				   .above_4g = above, .nvcpus = 3 };
	uint8_t want[3 * 20], *got;
	size_t len = 0;
	uint16_t ncpus, maxcpus;
	uint64_t ramsize;

	cr_assert(above > 0);
	cr_assert_eq(fwcfg_content_setup(fw, &m, NULL, NULL, 0), 0);
	got = read_file("etc/e820", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, sizeof(want));
	/* {u64 addr, u64 len, u32 type} little-endian, packed */
	memset(want, 0, sizeof(want));
	for (unsigned i = 0; i < 8; i++) {
		want[8 + i] = (uint8_t)(below >> (8 * i));
		want[20 + i] = (uint8_t)(LAYOUT_IDENT_MAP >> (8 * i));
		want[40 + i] = (uint8_t)(LAYOUT_4G >> (8 * i));
		want[48 + i] = (uint8_t)(above >> (8 * i));
	}
	want[16] = E820_RAM;
	want[28] = 0x00;
	want[29] = 0x40;            /* 0x4000 */
	want[36] = E820_RESERVED;
	want[56] = E820_RAM;
	cr_assert_arr_eq(got, want, sizeof(want));
	free(got);

	read_item(FW_CFG_NB_CPUS, &ncpus, 2);
	read_item(FW_CFG_MAX_CPUS, &maxcpus, 2);
	read_item(FW_CFG_RAM_SIZE, &ramsize, 8);
	cr_assert_eq(le16toh(ncpus), 3);
	cr_assert_eq(le16toh(maxcpus), 3);
	cr_assert_eq(le64toh(ramsize), 6ULL << 30);

	got = read_file("etc/sercon-port", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, 2);
	cr_assert_eq(got[0] | got[1] << 8, 0x3f8);
	free(got);
	cr_assert_null(read_file("bootorder", &len));
}

Test(fwcfg_content, bootorder_lists_disks_by_bootindex)
{
	unsigned slots[CFG_MAX_DISKS] = { 3, 4, 5 };
	const char want[] = "/pci@i0cf8/scsi@5/disk@0,0\n/pci@i0cf8/scsi@3/disk@0,0";
	uint8_t *got;
	size_t len = 0;

	cfg.ndisks = 3;
	cfg.disks[0].bootindex = 2;
	cfg.disks[1].bootindex = -1;     /* not bootable: not listed */
	cfg.disks[2].bootindex = 1;
	cr_assert_eq(fwcfg_content_bootorder(fw, &cfg, slots, NULL, 0), 0);
	got = read_file("bootorder", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, sizeof(want));            /* NUL-terminated */
	cr_assert_arr_eq(got, want, sizeof(want));
	free(got);
}

Test(fwcfg_content, bootorder_puts_the_linuxboot_rom_first)
{
	unsigned slots[CFG_MAX_DISKS] = { 10 };
	const char want[] = "/rom@genroms/linuxboot_dma.bin\n/pci@i0cf8/scsi@a/disk@0,0";
	char kernel[] = "/x/bzImage", rom[] = "/usr/share/seabios/linuxboot_dma.bin";
	uint8_t *got;
	size_t len = 0;

	cfg.kernel_path = kernel;
	cfg.boot_rom_path = rom;
	cfg.ndisks = 1;
	cfg.disks[0].bootindex = 0;
	cr_assert_eq(fwcfg_content_bootorder(fw, &cfg, slots, NULL, 0), 0);
	got = read_file("bootorder", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(got, want, sizeof(want));
	free(got);
}

Test(fwcfg_content, no_bootorder_without_kernel_or_bootindex)
{
	unsigned slots[CFG_MAX_DISKS] = { 3 };
	size_t len;

	cfg.ndisks = 1;
	cr_assert_eq(fwcfg_content_bootorder(fw, &cfg, slots, NULL, 0), 0);
	cr_assert_null(read_file("bootorder", &len));
}
