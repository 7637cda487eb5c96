/* loader/bzimage.c: Linux x86 boot protocol setup header parser and QEMU's
 * setup-header patching rules.  Reads and writes only inside the buffer it
 * is given; every offset is checked against its length. */
#include "loader/bzimage.h"
#include "vmm/base/le.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out,
		  char *err, size_t errlen)
{
	uint16_t v;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = 0;
	if (len < BZ_HEADER_END) {
		snprintf(err, errlen, "bzimage: %zu bytes, shorter than the 0x%x-byte setup header",
			 len, BZ_HEADER_END);
		return -EINVAL;
	}
	if (le_rd32(img + BZ_HEADER_MAGIC) != BZ_MAGIC_HDRS) {
		snprintf(err, errlen, "bzimage: no \"HdrS\" magic at 0x202 (found 0x%08x)",
			 le_rd32(img + BZ_HEADER_MAGIC));
		return -EINVAL;
	}
	v = le_rd16(img + BZ_VERSION);
	out->protocol = v;
	out->setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	out->setup_size = ((size_t)out->setup_sects + 1) * 512;
	if (out->setup_size > len) {
		snprintf(err, errlen, "bzimage: setup part of %zu bytes (setup_sects %u) exceeds the %zu-byte file",
			 out->setup_size, out->setup_sects, len);
		return -EINVAL;
	}
	out->kernel_offset = out->setup_size;
	out->kernel_size = len - out->setup_size;
	out->loadflags = img[BZ_LOADFLAGS];
	/* Defaults for fields older protocols lack (boot.rst) */
	out->cmdline_size = 255;
	out->initrd_addr_max = 0x37ffffff;
	out->pref_address = 0x100000;
	if (v >= 0x203)
		out->initrd_addr_max = le_rd32(img + BZ_INITRD_ADDR_MAX);
	if (v >= 0x205) {
		out->kernel_alignment = le_rd32(img + BZ_KERNEL_ALIGNMENT);
		out->relocatable = img[BZ_RELOCATABLE] != 0;
	}
	if (v >= 0x206)
		out->cmdline_size = le_rd32(img + BZ_CMDLINE_SIZE);
	if (v >= 0x208) {
		out->payload_offset = le_rd32(img + BZ_PAYLOAD_OFFSET);
		out->payload_length = le_rd32(img + BZ_PAYLOAD_LENGTH);
	}
	if (v >= 0x20a) {
		out->pref_address = le_rd64(img + BZ_PREF_ADDRESS);
		out->init_size = le_rd32(img + BZ_INIT_SIZE);
	}
	if (v >= 0x20b)
		out->handover_offset = le_rd32(img + BZ_HANDOVER_OFFSET);
	if (v >= 0x20c)
		out->xloadflags = le_rd16(img + BZ_XLOADFLAGS);
	/* EFI stub: MZ header whose e_lfanew (u32 at 0x3c) points at "PE\0\0" */
	if (img[0] == 'M' && img[1] == 'Z') {
		uint32_t pe = le_rd32(img + 0x3c);

		out->has_pe = pe <= len - 4 && memcmp(img + pe, "PE\0\0", 4) == 0;
	}
	return 0;
}

/* QEMU hw/i386/x86-common.c x86_load_linux(): "vga=" handling. */
static void qemu_vga(uint8_t *img, const char *cmdline)
{
	const char *m = strstr(cmdline, "vga=");
	unsigned long mode;

	if (!m)
		return;
	m += 4;
	if (!strncmp(m, "normal", 6))
		mode = 0xffff;
	else if (!strncmp(m, "ext", 3))
		mode = 0xfffe;
	else if (!strncmp(m, "ask", 3))
		mode = 0xfffd;
	else
		mode = strtol(m, NULL, 0);
	le_wr16(img + BZ_VID_MODE, (uint16_t)mode);
}

int bzimage_qemu_patch(uint8_t *img, size_t len, const struct bzimage_qemu_in *in,
		       struct bzimage_qemu_out *out, char *err, size_t errlen)
{
	struct bzimage_info bi;
	const char *cmdline = in->cmdline ? in->cmdline : "";
	uint16_t proto;
	uint64_t max;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = bzimage_parse(img, len, &bi, err, errlen);
	if (ret)
		return ret;
	proto = bi.protocol;
	out->protocol = proto;
	out->cmdline_size = (uint32_t)((strlen(cmdline) + 16) & ~(size_t)15);
	if (proto < 0x200 || !(bi.loadflags & BZ_LF_LOADED_HIGH)) {
		out->real_addr = 0x90000;          /* low kernel */
		out->cmdline_addr = 0x9a000 - out->cmdline_size;
		out->prot_addr = 0x10000;
	} else if (proto < 0x202) {
		out->real_addr = 0x90000;          /* high but ancient kernel */
		out->cmdline_addr = 0x9a000 - out->cmdline_size;
		out->prot_addr = 0x100000;
	} else {
		out->real_addr = 0x10000;          /* high and recent kernel */
		out->cmdline_addr = 0x20000;
		out->prot_addr = 0x100000;
	}
	/* highest address for the initrd */
	if (proto >= 0x20c && (bi.xloadflags & BZ_XLF_CAN_BE_LOADED_ABOVE_4G))
		max = 0xffffffffULL;
	else if (proto >= 0x203)
		max = le_rd32(img + BZ_INITRD_ADDR_MAX);
	else
		max = 0x37ffffff;
	if (in->below_4g <= in->acpi_data_size) {
		snprintf(err, errlen, "bzimage: RAM below 4 GiB 0x%llx too small for ACPI data 0x%llx",
			 (unsigned long long)in->below_4g, (unsigned long long)in->acpi_data_size);
		return -EINVAL;
	}
	if (max >= in->below_4g - in->acpi_data_size)
		max = in->below_4g - in->acpi_data_size - 1;
	out->initrd_max = (uint32_t)max;

	if (in->has_initrd) {
		if (proto < 0x200) {
			snprintf(err, errlen, "bzimage: protocol 0x%x too old to load a ram disk", proto);
			return -EINVAL;
		}
		if (in->initrd_size >= max) {
			snprintf(err, errlen, "bzimage: initrd of 0x%llx bytes is too large (max 0x%llx)",
				 (unsigned long long)in->initrd_size, (unsigned long long)max);
			return -EINVAL;
		}
	}

	if (proto >= 0x202) {
		le_wr32(img + BZ_CMD_LINE_PTR, out->cmdline_addr);
	} else {
		le_wr16(img + 0x20, 0xA33F);           /* old cmdline protocol magic */
		le_wr16(img + 0x22, (uint16_t)(out->cmdline_addr - out->real_addr));
	}
	qemu_vga(img, cmdline);
	if (proto >= 0x200)
		img[BZ_TYPE_OF_LOADER] = 0xB0;     /* QEMU: "undefined" bootloader id */
	if (proto >= 0x201) {
		img[BZ_LOADFLAGS] |= BZ_LF_CAN_USE_HEAP;
		le_wr16(img + BZ_HEAP_END_PTR,
		     (uint16_t)(out->cmdline_addr - out->real_addr - 0x200));
	}
	if (in->has_initrd) {
		out->initrd_addr = (uint32_t)((max - in->initrd_size) & ~4095ULL);
		le_wr32(img + BZ_RAMDISK_IMAGE, out->initrd_addr);
		le_wr32(img + BZ_RAMDISK_SIZE, (uint32_t)in->initrd_size);
	}
	return 0;
}
