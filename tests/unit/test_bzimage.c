/* tests/unit/test_bzimage.c: the bzImage setup-header parser and QEMU's
 * header patching rules, on synthetic headers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "loader/bzimage.h"

static uint8_t img[0x4000];

static void put16(size_t o, uint16_t v) { img[o] = v; img[o + 1] = v >> 8; }
static void put32(size_t o, uint32_t v) { put16(o, v); put16(o + 2, v >> 16); }
static uint16_t get16(size_t o) { return img[o] | img[o + 1] << 8; }
static uint32_t get32(size_t o) { return get16(o) | (uint32_t)get16(o + 2) << 16; }

/* A modern (2.15) 64-bit relocatable header with an EFI stub. */
static void make_modern(void)
{
	memset(img, 0, sizeof(img));
	img[0] = 'M';
	img[1] = 'Z';
	put32(0x3c, 0x80);
	memcpy(img + 0x80, "PE\0\0", 4);
	img[BZ_SETUP_SECTS] = 27;
	put16(BZ_BOOT_FLAG, 0xAA55);
	memcpy(img + BZ_HEADER_MAGIC, "HdrS", 4);
	put16(BZ_VERSION, 0x020f);
	img[BZ_LOADFLAGS] = BZ_LF_LOADED_HIGH;
	put32(BZ_INITRD_ADDR_MAX, 0x7fffffff);
	put32(BZ_KERNEL_ALIGNMENT, 0x200000);
	img[BZ_RELOCATABLE] = 1;
	put16(BZ_XLOADFLAGS, BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G |
			     BZ_XLF_EFI_HANDOVER_64);
	put32(BZ_CMDLINE_SIZE, 2047);
	put32(BZ_PAYLOAD_OFFSET, 0x3a5);
	put32(BZ_PAYLOAD_LENGTH, 0x1000);
	put32(BZ_PREF_ADDRESS, 0x1000000);
	put32(BZ_INIT_SIZE, 0x2000000);
	put32(BZ_HANDOVER_OFFSET, 0x190);
}

Test(bzimage, parse_modern)
{
	struct bzimage_info bi;
	char err[128];

	make_modern();
	cr_assert_eq(bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bi.protocol, 0x20f);
	cr_assert_eq(bi.setup_sects, 27);
	cr_assert_eq(bi.setup_size, 28 * 512);
	cr_assert_eq(bi.kernel_offset, 28 * 512);
	cr_assert_eq(bi.kernel_size, sizeof(img) - 28 * 512);
	cr_assert_eq(bi.loadflags, 1);
	cr_assert_eq(bi.xloadflags, 0xb);
	cr_assert_eq(bi.cmdline_size, 2047);
	cr_assert_eq(bi.initrd_addr_max, 0x7fffffff);
	cr_assert_eq(bi.kernel_alignment, 0x200000);
	cr_assert(bi.relocatable);
	cr_assert_eq(bi.pref_address, 0x1000000);
	cr_assert_eq(bi.init_size, 0x2000000);
	cr_assert_eq(bi.handover_offset, 0x190);
	cr_assert_eq(bi.payload_offset, 0x3a5);
	cr_assert_eq(bi.payload_length, 0x1000);
	cr_assert(bi.has_pe);
}

Test(bzimage, parse_old_protocol_defaults)
{
	struct bzimage_info bi;
	char err[128];

	make_modern();
	put16(BZ_VERSION, 0x0202);
	img[BZ_SETUP_SECTS] = 0;        /* 0 means 4 */
	put32(0x3c, 0x3000);            /* PE pointer into zeros */
	cr_assert_eq(bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bi.setup_sects, 4);
	cr_assert_eq(bi.setup_size, 5 * 512);
	cr_assert_eq(bi.initrd_addr_max, 0x37ffffff);
	cr_assert_eq(bi.cmdline_size, 255);
	cr_assert_eq(bi.xloadflags, 0);
	cr_assert_eq(bi.pref_address, 0x100000);
	cr_assert_eq(bi.init_size, 0);
	cr_assert_eq(bi.handover_offset, 0);
	cr_assert_not(bi.relocatable);
	cr_assert_not(bi.has_pe);
}

Test(bzimage, parse_rejects)
{
	struct bzimage_info bi;
	char err[128];

	make_modern();
	cr_assert_eq(bzimage_parse(img, 0x200, &bi, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "shorter"), "%s", err);
	img[BZ_SETUP_SECTS] = 40;       /* 41 * 512 > 0x4000 */
	cr_assert_eq(bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "exceeds"), "%s", err);
	make_modern();
	img[BZ_HEADER_MAGIC] = 'X';
	cr_assert_eq(bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "HdrS"), "%s", err);
	make_modern();
	put32(0x3c, 0xffffffff);        /* PE pointer out of bounds: no crash */
	cr_assert_eq(bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	cr_assert_not(bi.has_pe);
}

Test(bzimage, qemu_patch_modern_with_initrd)
{
	struct bzimage_qemu_in in = {
		.cmdline = "console=ttyS0 vga=ext", .has_initrd = true, .initrd_size = 1500,
		.below_4g = 0x80000000, .acpi_data_size = BZ_QEMU_ACPI_DATA_SIZE,
	};
	struct bzimage_qemu_out o;
	char err[128];

	make_modern();
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.cmdline_size, 32);              /* (21 + 16) & ~15 */
	cr_assert_eq(o.real_addr, 0x10000);
	cr_assert_eq(o.cmdline_addr, 0x20000);
	cr_assert_eq(o.prot_addr, 0x100000);
	/* CAN_BE_LOADED_ABOVE_4G: 0xffffffff clipped to below_4g - acpi - 1 */
	cr_assert_eq(o.initrd_max, 0x80000000 - 0x28000 - 1);
	cr_assert_eq(o.initrd_addr, (0x80000000 - 0x28000 - 1 - 1500) & ~4095u);
	cr_assert_eq(get32(BZ_CMD_LINE_PTR), 0x20000);
	cr_assert_eq(img[BZ_TYPE_OF_LOADER], 0xB0);
	cr_assert_eq(img[BZ_LOADFLAGS], BZ_LF_LOADED_HIGH | BZ_LF_CAN_USE_HEAP);
	cr_assert_eq(get16(BZ_HEAP_END_PTR), 0x20000 - 0x10000 - 0x200);
	cr_assert_eq(get32(BZ_RAMDISK_IMAGE), o.initrd_addr);
	cr_assert_eq(get32(BZ_RAMDISK_SIZE), 1500);
	cr_assert_eq(get16(BZ_VID_MODE), 0xfffe);
	cr_assert_eq(get16(0x20), 0);                  /* old magic untouched */
}

Test(bzimage, qemu_patch_initrd_addr_max_rules)
{
	struct bzimage_qemu_in in = {
		.cmdline = NULL, .has_initrd = true, .initrd_size = 0x1000,
		.below_4g = 0xB0000000, .acpi_data_size = BZ_QEMU_ACPI_DATA_SIZE,
	};
	struct bzimage_qemu_out o;
	char err[128];

	/* protocol 2.0b: no xloadflags, initrd_addr_max from the header */
	make_modern();
	put16(BZ_VERSION, 0x020b);
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.initrd_max, 0x7fffffff);
	cr_assert_eq(o.initrd_addr, (0x7fffffff - 0x1000) & ~4095u);
	cr_assert_eq(o.cmdline_size, 16);
	cr_assert_eq(get16(BZ_VID_MODE), 0);
	/* too large an initrd */
	make_modern();
	put16(BZ_VERSION, 0x020b);
	in.initrd_size = 0x7fffffff;
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too large"), "%s", err);
	/* protocol 2.01: old cmdline protocol, low addresses */
	make_modern();
	put16(BZ_VERSION, 0x0201);
	in.initrd_size = 0x1000;
	in.cmdline = "vga=0x317";
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.real_addr, 0x90000);
	cr_assert_eq(o.cmdline_addr, 0x9a000 - 16);
	cr_assert_eq(o.initrd_max, 0x37ffffff);
	cr_assert_eq(get16(0x20), 0xA33F);
	cr_assert_eq(get16(0x22), 0x9a000 - 16 - 0x90000);
	cr_assert_eq(get32(BZ_CMD_LINE_PTR), 0);
	cr_assert_eq(get16(BZ_HEAP_END_PTR), 0x9a000 - 16 - 0x90000 - 0x200);
	cr_assert_eq(get16(BZ_VID_MODE), 0x317);
	/* not loaded high: low kernel */
	make_modern();
	img[BZ_LOADFLAGS] = 0;
	in.cmdline = "";
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.prot_addr, 0x10000);
	cr_assert_eq(o.real_addr, 0x90000);
	/* protocol < 2.00 cannot take an initrd */
	make_modern();
	put16(BZ_VERSION, 0x0104);
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too old"), "%s", err);
	/* ... but boots without one; type_of_loader untouched */
	in.has_initrd = false;
	make_modern();
	put16(BZ_VERSION, 0x0104);
	cr_assert_eq(bzimage_qemu_patch(img, sizeof(img), &in, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img[BZ_TYPE_OF_LOADER], 0);
	cr_assert_eq(get32(BZ_RAMDISK_IMAGE), 0);
}
