/* vmm/launch/linuxboot.c: Linux direct boot items in fw_cfg, following QEMU's
 * x86_load_linux() (hw/i386/x86-common.c; x86.c before QEMU 9.0) for a
 * bzImage.  Reads only the [kernel] files; adds only the KERNEL_*, SETUP_*,
 * CMDLINE_* and INITRD_* items.  Nothing else in fw_cfg is touched. */
#include "vmm/launch/linuxboot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/fwcfg.h"
#include "loader/bzimage.h"
#include "vmm/base/digest.h"
#include "vmm/base/err.h"
#include "vmm/base/log.h"
#include "vmm/config/config.h"
#include "vmm/launch/planbuild.h"

/* Read all of @path into a malloc'd buffer (at most BOOTFW_MAX_FILE bytes). */
static int bootfw_read_file(const char *what, const char *path, uint8_t **out, size_t *len,
			    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, e;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > BOOTFW_MAX_FILE) {
		snprintf(err, errlen, "%s %s: %lld bytes is too large for guest RAM", what, path,
			 (long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "%s %s: out of memory for %lld bytes", what, path,
			 (long long)st.st_size);
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? errno : EIO;
			snprintf(err, errlen, "%s %s: short read at %zu: %s", what, path, got,
				 strerror(e));
			free(buf);
			close(fd);
			return -e;
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

int bootfw_setup_mem(struct fwcfg *fw, const uint8_t *kernel, size_t kernel_len,
		     const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		     bool patch_header, uint64_t below_4g, char *err, size_t errlen)
{
	struct bzimage_qemu_in in = {
		.cmdline = cmdline ? cmdline : "",
		.has_initrd = initrd != NULL,
		.initrd_size = initrd_len,
		.below_4g = below_4g,
		.acpi_data_size = BZ_QEMU_ACPI_DATA_SIZE,
	};
	struct bzimage_qemu_out q;
	struct bzimage_info bi;
	uint8_t *img;
	uint64_t top;
	int r;

	if (errlen)
		err[0] = 0;
	r = bzimage_parse(kernel, kernel_len, &bi, err, errlen);
	if (r)
		return r;
	if (bi.protocol < 0x200) {
		snprintf(err, errlen, "bzimage: boot protocol %u.%02u is unsupported (need 2.00 or later)",
			 bi.protocol >> 8, bi.protocol & 0xff);
		return -EINVAL;
	}
	img = malloc(kernel_len);
	if (!img) {
		snprintf(err, errlen, "bzimage: out of memory for %zu bytes", kernel_len);
		return -ENOMEM;
	}
	memcpy(img, kernel, kernel_len);
	/* QEMU patches its copy of the header and, unless SEV is on, puts the
	 * patched bytes into FW_CFG_SETUP_DATA; the addresses are the same. */
	r = bzimage_qemu_patch(img, kernel_len, &in, &q, err, errlen);
	if (r)
		goto out;
	if (!patch_header)
		memcpy(img, kernel, bi.setup_size);

	/* Sanity limits QEMU leaves to the option ROM: everything must fit
	 * in RAM without overlapping. */
	top = in.has_initrd ? q.initrd_addr : (uint64_t)q.initrd_max + 1;
	if (q.prot_addr < q.real_addr)
		top = q.real_addr < top ? q.real_addr : top;   /* low (zImage) kernel */
	if ((uint64_t)q.prot_addr + bi.kernel_size > top) {
		snprintf(err, errlen,
			 "bzimage: kernel of %zu bytes at 0x%x does not fit in RAM below 0x%llx (%s)",
			 bi.kernel_size, q.prot_addr, (unsigned long long)top,
			 in.has_initrd ? "initrd placed there" : "RAM below 4 GiB less ACPI room");
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)q.real_addr + bi.setup_size > q.cmdline_addr) {
		snprintf(err, errlen, "bzimage: setup part of %zu bytes at 0x%x overlaps the command line at 0x%x",
			 bi.setup_size, q.real_addr, q.cmdline_addr);
		r = -EINVAL;
		goto out;
	}

	r = 0;
	r |= fwcfg_add_u32(fw, FW_CFG_KERNEL_ADDR, q.prot_addr);
	r |= fwcfg_add_u32(fw, FW_CFG_KERNEL_SIZE, (uint32_t)bi.kernel_size);
	r |= fwcfg_add_bytes(fw, FW_CFG_KERNEL_DATA, img + bi.setup_size, bi.kernel_size);
	r |= fwcfg_add_u32(fw, FW_CFG_SETUP_ADDR, q.real_addr);
	r |= fwcfg_add_u32(fw, FW_CFG_SETUP_SIZE, (uint32_t)bi.setup_size);
	r |= fwcfg_add_bytes(fw, FW_CFG_SETUP_DATA, img, bi.setup_size);
	/* CMDLINE_SIZE counts the NUL, which CMDLINE_DATA carries
	 * (fw_cfg_add_string). */
	r |= fwcfg_add_u32(fw, FW_CFG_CMDLINE_ADDR, q.cmdline_addr);
	r |= fwcfg_add_u32(fw, FW_CFG_CMDLINE_SIZE, (uint32_t)strlen(in.cmdline) + 1);
	r |= fwcfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, in.cmdline, strlen(in.cmdline) + 1);
	if (in.has_initrd) {
		r |= fwcfg_add_u32(fw, FW_CFG_INITRD_ADDR, q.initrd_addr);
		r |= fwcfg_add_u32(fw, FW_CFG_INITRD_SIZE, (uint32_t)initrd_len);
		r |= fwcfg_add_bytes(fw, FW_CFG_INITRD_DATA, initrd, initrd_len);
	}
	if (r) {
		snprintf(err, errlen, "bootfw: cannot add the fw_cfg boot items (already set?)");
		r = -EEXIST;
		goto out;
	}
	log_info("bootfw: kernel %zu+%zu bytes at 0x%x/0x%x, cmdline %zu bytes at 0x%x, initrd %zu bytes at 0x%x",
		 bi.setup_size, bi.kernel_size, q.real_addr, q.prot_addr, strlen(in.cmdline) + 1,
		 q.cmdline_addr, in.has_initrd ? initrd_len : 0, q.initrd_addr);
out:
	free(img);
	return r;
}

/* The option ROM that boots the kernel under SeaBIOS (QEMU's
 * linuxboot_dma.bin): SeaBIOS runs every "genroms/" fw_cfg file as an
 * option ROM (src/optionroms.c).  It must look like one: 0x55 0xAA and a
 * length byte (512-byte units) the file covers. */
static int bootfw_add_rom(struct fwcfg *fw, const char *path, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	char name[FW_CFG_MAX_FILE_PATH];
	uint8_t *rom = NULL;
	size_t len = 0;
	int r = bootfw_read_file("boot_rom", path, &rom, &len, err, errlen);

	if (r)
		return r;
	base = base ? base + 1 : path;
	if (len < 3 || len > CFG_BOOT_ROM_MAX || rom[0] != 0x55 || rom[1] != 0xaa ||
	    (size_t)rom[2] * 512 > len || rom[2] == 0) {
		snprintf(err, errlen, "boot_rom %s: not an option ROM (55 AA, size byte, at most %u bytes)",
			 path, CFG_BOOT_ROM_MAX);
		r = -EINVAL;
	} else if (snprintf(name, sizeof(name), "genroms/%s", base) >= (int)sizeof(name)) {
		snprintf(err, errlen, "boot_rom %s: file name too long for fw_cfg", path);
		r = -ENAMETOOLONG;
	} else if (fwcfg_add_file(fw, name, rom, len)) {
		snprintf(err, errlen, "boot_rom %s: cannot add fw_cfg file %s", path, name);
		r = -EEXIST;
	}
	free(rom);
	return r;
}

int bootfw_setup(struct fwcfg *fw, const struct vm_config *cfg, uint64_t below_4g,
		 struct planbuild_kernel_hashes *kh, char *err, size_t errlen)
{
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	int r;

	if (errlen)
		err[0] = 0;
	if (!cfg->kernel_path)
		return 0;
	r = bootfw_read_file("kernel", cfg->kernel_path, &kernel, &klen, err, errlen);
	if (!r && cfg->initrd_path)
		r = bootfw_read_file("initrd", cfg->initrd_path, &initrd, &ilen, err, errlen);
	if (!r) {
		r = bootfw_setup_mem(fw, kernel, klen, initrd, ilen, cfg->cmdline,
				     cfg->cc.type != CC_SNP, below_4g, err, errlen);
		if (r) {   /* name the file in the message */
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s", err);
			snprintf(err, errlen, "kernel %s: %s", cfg->kernel_path, tmp);
		}
	}
	if (!r && kh && (digest_sha256(kernel, klen, kh->kernel) ||
			 digest_sha256(initrd ? initrd : (const uint8_t *)"", ilen, kh->initrd)))
		r = err_set(err, errlen, -EIO, "kernel %s: SHA-256 failed", cfg->kernel_path);
	if (!r && cfg->boot_rom_path)
		r = bootfw_add_rom(fw, cfg->boot_rom_path, err, errlen);
	/* the caller reports @err: one line at start-up */
	free(kernel);
	free(initrd);
	return r;
}
