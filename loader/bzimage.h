/* loader/bzimage.h: the Linux x86 boot protocol setup header of a bzImage.
 * Owns: parsing the header (Documentation/arch/x86/boot.rst) with bounds
 * checks, and QEMU's setup-header patching rules (hw/i386/x86-common.c
 * x86_load_linux) so a measured direct boot can predict the kernel bytes the
 * firmware hashes.  Pure functions of bytes; must not touch guest memory. */
#ifndef FUKI_BZIMAGE_H
#define FUKI_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets in the kernel file (boot.rst "The real-mode kernel header"). */
#define BZ_SETUP_SECTS      0x1f1   /* u8, 0 means 4 */
#define BZ_VID_MODE         0x1fa   /* u16 */
#define BZ_BOOT_FLAG        0x1fe   /* u16 0xAA55 */
#define BZ_HEADER_MAGIC     0x202   /* "HdrS" */
#define BZ_VERSION          0x206   /* u16 protocol */
#define BZ_TYPE_OF_LOADER   0x210   /* u8 */
#define BZ_LOADFLAGS        0x211   /* u8 */
#define BZ_RAMDISK_IMAGE    0x218   /* u32 (2.00+) */
#define BZ_RAMDISK_SIZE     0x21c   /* u32 (2.00+) */
#define BZ_HEAP_END_PTR     0x224   /* u16 (2.01+) */
#define BZ_CMD_LINE_PTR     0x228   /* u32 (2.02+) */
#define BZ_INITRD_ADDR_MAX  0x22c   /* u32 (2.03+) */
#define BZ_KERNEL_ALIGNMENT 0x230   /* u32 (2.05+) */
#define BZ_RELOCATABLE      0x234   /* u8  (2.05+) */
#define BZ_XLOADFLAGS       0x236   /* u16 (2.12+) */
#define BZ_CMDLINE_SIZE     0x238   /* u32 (2.06+) */
#define BZ_PAYLOAD_OFFSET   0x248   /* u32 (2.08+) */
#define BZ_PAYLOAD_LENGTH   0x24c   /* u32 (2.08+) */
#define BZ_PREF_ADDRESS     0x258   /* u64 (2.10+) */
#define BZ_INIT_SIZE        0x260   /* u32 (2.10+) */
#define BZ_HANDOVER_OFFSET  0x264   /* u32 (2.11+) */
#define BZ_HEADER_END       0x268   /* end of the 2.15 header fields used here */

#define BZ_MAGIC_HDRS       0x53726448u   /* "HdrS" little-endian */
#define BZ_LF_LOADED_HIGH   0x01          /* loadflags: protected-mode code at 1 MiB */
#define BZ_LF_CAN_USE_HEAP  0x80
#define BZ_XLF_KERNEL_64    0x01          /* xloadflags */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define BZ_XLF_EFI_HANDOVER_32 0x04
#define BZ_XLF_EFI_HANDOVER_64 0x08

struct bzimage_info {
	uint16_t protocol;        /* 0 if no "HdrS" (pre-2.00 zImage) */
	uint8_t setup_sects;      /* as found after the 0 -> 4 rule */
	size_t setup_size;        /* (setup_sects + 1) * 512: real-mode part */
	size_t kernel_offset;     /* = setup_size: protected-mode code in the file */
	size_t kernel_size;       /* file length - setup_size */
	uint8_t loadflags;
	uint16_t xloadflags;      /* 0 below 2.12 */
	uint32_t cmdline_size;    /* max cmdline length; 255 below 2.06 */
	uint32_t initrd_addr_max; /* 0x37ffffff below 2.03 */
	uint32_t kernel_alignment;
	bool relocatable;
	uint64_t pref_address;    /* 0x100000 below 2.10 */
	uint32_t init_size;       /* 0 below 2.10 */
	uint32_t handover_offset; /* 0 below 2.11 */
	uint32_t payload_offset, payload_length;  /* 0 below 2.08 */
	bool has_pe;              /* "MZ" at 0 and a PE header (EFI stub) */
};

/* Parse @img.  -EINVAL with one line in @err if it is shorter than the
 * header it claims, has no "HdrS" magic, or its setup part does not fit. */
int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out,
		  char *err, size_t errlen);

/* QEMU x86_load_linux() inputs and results (hw/i386/x86-common.c, QEMU 8.2
 * and later; measurements.md 3.3). */
struct bzimage_qemu_in {
	const char *cmdline;      /* NULL = "" */
	bool has_initrd;
	uint64_t initrd_size;
	uint64_t below_4g;        /* RAM below 4 GiB (vmm/base/layout.h) */
	uint64_t acpi_data_size;  /* q35: 0x20000 + 0x8000 (TDX too) */
};
#define BZ_QEMU_ACPI_DATA_SIZE 0x28000ULL

struct bzimage_qemu_out {
	uint32_t real_addr, cmdline_addr, prot_addr;
	uint32_t cmdline_size;    /* (strlen + 16) & ~15 */
	uint32_t initrd_max, initrd_addr;
	uint16_t protocol;
};

/* Patch @img (the whole kernel file, modified in place) exactly as QEMU does
 * before handing it to the firmware over fw_cfg: cmd_line_ptr (2.02+) or
 * the old 0xA33F cmdline magic, type_of_loader 0xB0 (2.00+),
 * CAN_USE_HEAP and heap_end_ptr (2.01+), vid_mode from "vga=", and with an
 * initrd ramdisk_image/ramdisk_size.  -EINVAL (with @err) where QEMU exits:
 * bad header, initrd with protocol < 2.00, initrd too large. */
int bzimage_qemu_patch(uint8_t *img, size_t len, const struct bzimage_qemu_in *in,
		       struct bzimage_qemu_out *out, char *err, size_t errlen);

#endif
