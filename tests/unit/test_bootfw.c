/* tests/unit/test_bootfw.c: vmm/launch/linuxboot.c on synthetic bzImages; every fw_cfg
 * item is read back through the fw_cfg data port and compared byte by byte
 * with values worked out by hand from QEMU's x86_load_linux() rules.
 * Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/fwcfg.h"
#include "vmm/launch/linuxboot.h"
#include "vmm/launch/planbuild.h"
#include "vmm/config/config.h"
#include "vmm/base/guestmem.h"

static struct guestmem gm;
static struct fwcfg *fw;
static char err[256];

static void setup(void)
{
	gm_init(&gm);
	fw = fwcfg_create(&gm);
	cr_assert_not_null(fw);
}

static void teardown(void)
{
	fwcfg_destroy(fw);
}

TestSuite(bootfw, .init = setup, .fini = teardown);

static void put16(uint8_t *b, size_t o, uint16_t v) { b[o] = (uint8_t)v; b[o + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, size_t o, uint32_t v) { put16(b, o, (uint16_t)v); put16(b, o + 2, (uint16_t)(v >> 16)); }
static uint32_t get32(const uint8_t *b, size_t o) { return b[o] | b[o + 1] << 8 | b[o + 2] << 16 | (uint32_t)b[o + 3] << 24; }

/* A synthetic bzImage: @sects setup sectors (0 = 4), protocol, loadflags,
 * initrd_addr_max, xloadflags, then @klen bytes of "kernel" with a pattern. */
static uint8_t *mk_image(uint8_t sects, uint16_t proto, uint8_t loadflags, uint32_t addr_max,
			 uint16_t xlf, size_t klen, size_t *len)
{
	size_t setup = ((size_t)(sects ? sects : 4) + 1) * 512;
	uint8_t *b = malloc(setup + klen);

	cr_assert_not_null(b);
	for (size_t i = 0; i < setup + klen; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	b[0x1f1] = sects;
	put16(b, 0x1fe, 0xaa55);
	put32(b, 0x202, 0x53726448);
	put16(b, 0x206, proto);
	b[0x210] = 0;
	b[0x211] = loadflags;
	put32(b, 0x218, 0);
	put32(b, 0x21c, 0);
	put32(b, 0x22c, addr_max);
	put16(b, 0x236, xlf);
	*len = setup + klen;
	return b;
}

/* Read @n bytes of item @key through the data port. */
static void item(uint16_t key, uint8_t *out, size_t n)
{
	fwcfg_select(fw, key);
	for (size_t i = 0; i < n; i++)
		out[i] = fwcfg_read_data(fw);
}

static uint32_t item32(uint16_t key)
{
	uint8_t b[4];

	item(key, b, 4);
	return get32(b, 0);
}

static void expect_item(uint16_t key, const void *want, size_t n)
{
	uint8_t *got = malloc(n + 1);

	cr_assert_not_null(got);
	item(key, got, n + 1);
	cr_assert_eq(memcmp(got, want, n), 0, "item 0x%x differs", key);
	/* one past the end reads as 0 on a real fw_cfg: the item is exactly n bytes */
	cr_assert_eq(got[n], 0, "item 0x%x longer than %zu", key, n);
	free(got);
}

static const char *CMDLINE = "console=ttyS0 fukivmm=1";

Test(bootfw, high_kernel_with_initrd_every_item)
{
	size_t len;
	uint8_t *k = mk_image(0, 0x20f, 0x01, 0x7fffffff, 0, 3000, &len);
	uint8_t initrd[5000];
	uint8_t *want = malloc(2560);

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	cr_assert_eq(bootfw_setup_mem(fw, k, len, initrd, sizeof(initrd), CMDLINE, true,
				      0x8000000, err, sizeof(err)), 0, "%s", err);
	/* setup_sects 0 means 4: 5 * 512 bytes of setup */
	cr_assert_eq(item32(FW_CFG_SETUP_SIZE), 2560);
	cr_assert_eq(item32(FW_CFG_SETUP_ADDR), 0x10000);
	cr_assert_eq(item32(FW_CFG_KERNEL_ADDR), 0x100000);
	cr_assert_eq(item32(FW_CFG_KERNEL_SIZE), 3000);
	expect_item(FW_CFG_KERNEL_DATA, k + 2560, 3000);
	cr_assert_eq(item32(FW_CFG_CMDLINE_ADDR), 0x20000);
	cr_assert_eq(item32(FW_CFG_CMDLINE_SIZE), strlen(CMDLINE) + 1);
	expect_item(FW_CFG_CMDLINE_DATA, CMDLINE, strlen(CMDLINE) + 1);
	/* initrd_max = min(0x7fffffff, 128 MiB - 0x28000 - 1) = 0x7fd7fff;
	 * (0x7fd7fff - 5000) & ~4095 = 0x7fd6000 */
	cr_assert_eq(item32(FW_CFG_INITRD_ADDR), 0x7fd6000);
	cr_assert_eq(item32(FW_CFG_INITRD_SIZE), 5000);
	expect_item(FW_CFG_INITRD_DATA, initrd, sizeof(initrd));
	/* the setup part: the file's bytes with exactly QEMU's edits */
	memcpy(want, k, 2560);
	want[0x210] = 0xb0;                       /* type_of_loader */
	want[0x211] = 0x81;                       /* LOADED_HIGH | CAN_USE_HEAP */
	put16(want, 0x224, 0xfe00);               /* heap_end_ptr = 0x20000-0x10000-0x200 */
	put32(want, 0x228, 0x20000);              /* cmd_line_ptr */
	put32(want, 0x218, 0x7fd6000);            /* ramdisk_image */
	put32(want, 0x21c, 5000);                 /* ramdisk_size */
	expect_item(FW_CFG_SETUP_DATA, want, 2560);
	/* no entry point item for a bzImage (QEMU sets it for multiboot/PVH) */
	cr_assert_eq(item32(FW_CFG_KERNEL_ENTRY), 0);
	free(want);
	free(k);
}

Test(bootfw, no_initrd_leaves_initrd_items_unset)
{
	size_t len;
	uint8_t *k = mk_image(1, 0x20a, 0x01, 0x37ffffff, 0, 512, &len);
	uint8_t setup[1024];

	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, NULL, true, 0x10000000, err,
				      sizeof(err)), 0, "%s", err);
	cr_assert_eq(item32(FW_CFG_INITRD_SIZE), 0);
	cr_assert_eq(item32(FW_CFG_INITRD_ADDR), 0);
	cr_assert_eq(item32(FW_CFG_CMDLINE_SIZE), 1);         /* "" plus NUL */
	expect_item(FW_CFG_CMDLINE_DATA, "", 1);
	item(FW_CFG_SETUP_DATA, setup, sizeof(setup));
	cr_assert_eq(get32(setup, 0x218), 0);
	cr_assert_eq(get32(setup, 0x21c), 0);
	cr_assert_eq(setup[0x210], 0xb0);
	free(k);
}

Test(bootfw, initrd_above_4g_flag_is_clipped_to_ram)
{
	size_t len;
	uint8_t *k = mk_image(2, 0x20c, 0x01, 0x37ffffff, 0x02, 100, &len);
	uint8_t rd[4096] = { 1 };

	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, sizeof(rd), "x", true, 0x80000000ULL,
				      err, sizeof(err)), 0, "%s", err);
	/* 0xffffffff clipped to 2 GiB - 0x28000 - 1 = 0x7ffd7fff; minus 4096, aligned */
	cr_assert_eq(item32(FW_CFG_INITRD_ADDR), 0x7ffd6000);
	free(k);
}

Test(bootfw, initrd_addr_max_of_the_kernel_wins)
{
	size_t len;
	uint8_t *k = mk_image(2, 0x20b, 0x01, 0x37ffffff, 0x02, 100, &len);
	uint8_t rd[10000] = { 1 };
	uint8_t setup[0x300];

	/* 0x20b: xloadflags not consulted */
	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, sizeof(rd), "x", true, 0x80000000ULL,
				      err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(item32(FW_CFG_INITRD_ADDR), (0x37ffffffu - 10000u) & ~4095u);
	item(FW_CFG_SETUP_DATA, setup, sizeof(setup));
	cr_assert_eq(get32(setup, 0x218), 0x37ffd000);
	cr_assert_eq(get32(setup, 0x21c), 10000);
	free(k);
}

Test(bootfw, ancient_high_kernel_uses_0x90000_and_old_cmdline_magic)
{
	size_t len;
	uint8_t *k = mk_image(4, 0x201, 0x01, 0, 0, 100, &len);
	uint8_t setup[0x300];
	/* cmdline_size = (strlen + 16) & ~15 = 32 for 23 characters */
	uint32_t cmd = 0x9a000 - 32;

	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, CMDLINE, true, 0x8000000, err,
				      sizeof(err)), 0, "%s", err);
	cr_assert_eq(item32(FW_CFG_SETUP_ADDR), 0x90000);
	cr_assert_eq(item32(FW_CFG_KERNEL_ADDR), 0x100000);
	cr_assert_eq(item32(FW_CFG_CMDLINE_ADDR), cmd);
	item(FW_CFG_SETUP_DATA, setup, sizeof(setup));
	cr_assert_eq(setup[0x20] | setup[0x21] << 8, 0xa33f);
	cr_assert_eq(setup[0x22] | setup[0x23] << 8, cmd - 0x90000);
	cr_assert_eq(setup[0x224] | setup[0x225] << 8, cmd - 0x90000 - 0x200);
	cr_assert_eq(setup[0x211], 0x81);
	/* cmd_line_ptr (2.02+) untouched: still the file's pattern */
	cr_assert_eq(get32(setup, 0x228), get32(k, 0x228));
	free(k);
}

Test(bootfw, low_kernel_goes_to_64k_without_heap)
{
	size_t len;
	uint8_t *k = mk_image(4, 0x200, 0x00, 0, 0, 100, &len);
	uint8_t setup[0x300];

	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "", true, 0x8000000, err,
				      sizeof(err)), 0, "%s", err);
	cr_assert_eq(item32(FW_CFG_SETUP_ADDR), 0x90000);
	cr_assert_eq(item32(FW_CFG_KERNEL_ADDR), 0x10000);
	cr_assert_eq(item32(FW_CFG_CMDLINE_ADDR), 0x9a000 - 16);
	item(FW_CFG_SETUP_DATA, setup, sizeof(setup));
	cr_assert_eq(setup[0x210], 0xb0);
	cr_assert_eq(setup[0x211], 0x00);         /* protocol 2.00: no CAN_USE_HEAP */
	cr_assert_eq(setup[0x224], k[0x224]);
	free(k);
}

Test(bootfw, vga_mode_from_cmdline)
{
	size_t len;
	uint8_t *k = mk_image(1, 0x20f, 0x01, 0x7fffffff, 0, 16, &len);
	uint8_t setup[0x300];

	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "quiet vga=ext", true, 0x8000000,
				      err, sizeof(err)), 0, "%s", err);
	item(FW_CFG_SETUP_DATA, setup, sizeof(setup));
	cr_assert_eq(setup[0x1fa] | setup[0x1fb] << 8, 0xfffe);
	free(k);
}

Test(bootfw, snp_keeps_the_setup_bytes_of_the_file)
{
	size_t len;
	uint8_t *k = mk_image(1, 0x20f, 0x01, 0x7fffffff, 0, 16, &len);
	uint8_t rd[100] = { 0 };

	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, sizeof(rd), CMDLINE, false, 0x8000000,
				      err, sizeof(err)), 0, "%s", err);
	expect_item(FW_CFG_SETUP_DATA, k, 1024);
	cr_assert_eq(item32(FW_CFG_INITRD_ADDR), (0x7fd7fffu - 100u) & ~4095u);
	cr_assert_eq(item32(FW_CFG_CMDLINE_ADDR), 0x20000);
	free(k);
}

Test(bootfw, rejects_non_bzimage_and_old_protocol)
{
	size_t len;
	uint8_t *k = mk_image(1, 0x20f, 0x01, 0x7fffffff, 0, 16, &len);

	put32(k, 0x202, 0x12345678);
	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "", true, 0x8000000, err,
				      sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "HdrS"), "%s", err);
	cr_assert_eq(item32(FW_CFG_KERNEL_SIZE), 0);
	put32(k, 0x202, 0x53726448);
	put16(k, 0x206, 0x1ff);
	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "", true, 0x8000000, err,
				      sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "2.00"), "%s", err);
	cr_assert_eq(item32(FW_CFG_SETUP_SIZE), 0);
	/* a setup part longer than the file */
	put16(k, 0x206, 0x20f);
	k[0x1f1] = 200;
	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "", true, 0x8000000, err,
				      sizeof(err)), -EINVAL);
	cr_assert_eq(bootfw_setup_mem(fw, k, 100, NULL, 0, "", true, 0x8000000, err,
				      sizeof(err)), -EINVAL);
	free(k);
}

Test(bootfw, rejects_what_does_not_fit_in_ram)
{
	size_t len;
	uint8_t *k = mk_image(1, 0x20f, 0x01, 0x7fffffff, 0, 0x200000, &len);
	uint8_t *rd = calloc(1, 0x1000000);

	cr_assert_not_null(rd);
	/* 2 MiB kernel at 1 MiB in 2 MiB of RAM */
	cr_assert_eq(bootfw_setup_mem(fw, k, len, NULL, 0, "", true, 0x200000, err,
				      sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "does not fit"), "%s", err);
	/* 16 MiB initrd in 16 MiB of RAM */
	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, 0x1000000, "", true, 0x1000000, err,
				      sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too large"), "%s", err);
	/* kernel and initrd each fit but collide */
	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, 0xd00000, "", true, 0x1000000, err,
				      sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "initrd"), "%s", err);
	cr_assert_eq(item32(FW_CFG_KERNEL_SIZE), 0);
	/* and it fits in 32 MiB */
	cr_assert_eq(bootfw_setup_mem(fw, k, len, rd, 0xd00000, "", true, 0x2000000, err,
				      sizeof(err)), 0, "%s", err);
	free(rd);
	free(k);
}

Test(bootfw, from_files_and_without_kernel)
{
	struct vm_config cfg;
	struct planbuild_kernel_hashes served, files;
	char kp[] = "/tmp/bootfw-kXXXXXX", ip[] = "/tmp/bootfw-iXXXXXX";
	int kf = mkstemp(kp), inf = mkstemp(ip);
	size_t len;
	uint8_t *k = mk_image(1, 0x20f, 0x01, 0x7fffffff, 0, 700, &len);
	char cmd[] = "root=/dev/vda";

	cr_assert(kf >= 0 && inf >= 0);
	cr_assert_eq(write(kf, k, len), (ssize_t)len);
	cr_assert_eq(write(inf, "INITRD", 6), 6);
	close(kf);
	close(inf);
	memset(&cfg, 0, sizeof(cfg));
	/* no [kernel]: nothing added */
	cr_assert_eq(bootfw_setup(fw, &cfg, 0x8000000, NULL, err, sizeof(err)), 0);
	cr_assert_eq(item32(FW_CFG_KERNEL_SIZE), 0);
	/* missing initrd: error naming it */
	cfg.kernel_path = kp;
	cfg.initrd_path = (char *)"/nonexistent/initrd.img";
	cr_assert_eq(bootfw_setup(fw, &cfg, 0x8000000, NULL, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/initrd.img"), "%s", err);
	cfg.initrd_path = ip;
	cfg.cmdline = cmd;
	cr_assert_eq(bootfw_setup(fw, &cfg, 0x8000000, &served, err, sizeof(err)), 0, "%s", err);
	/* the hashes of what is served are the files' (SNP's kernel-hashes page) */
	cr_assert_eq(planbuild_kernel_hashes(&cfg, &files, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(served.kernel, files.kernel, 32), 0);
	cr_assert_eq(memcmp(served.initrd, files.initrd, 32), 0);
	cr_assert_neq(memcmp(served.kernel, served.initrd, 32), 0);
	cr_assert_eq(item32(FW_CFG_KERNEL_SIZE), 700);
	expect_item(FW_CFG_KERNEL_DATA, k + 1024, 700);
	expect_item(FW_CFG_INITRD_DATA, "INITRD", 6);
	expect_item(FW_CFG_CMDLINE_DATA, cmd, sizeof(cmd));
	/* a second call cannot add the items again */
	cr_assert_eq(bootfw_setup(fw, &cfg, 0x8000000, NULL, err, sizeof(err)), -EEXIST);
	unlink(kp);
	unlink(ip);
	free(k);
}

Test(bootfw, non_bzimage_file_is_named_in_the_error)
{
	struct vm_config cfg;
	char kp[] = "/tmp/bootfw-kXXXXXX";
	int kf = mkstemp(kp);
	static uint8_t junk[4096];

	cr_assert(kf >= 0);
	cr_assert_eq(write(kf, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(kf);
	memset(&cfg, 0, sizeof(cfg));
	cfg.kernel_path = kp;
	cr_assert_eq(bootfw_setup(fw, &cfg, 0x8000000, NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, kp) && strstr(err, "HdrS"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
	unlink(kp);
}
