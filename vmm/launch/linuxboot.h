/* vmm/launch/linuxboot.h: Linux direct boot through fw_cfg ([kernel] in guest.toml).
 * Owns: reading the kernel/initrd files and filling the fw_cfg items that
 * firmware (qboot, SeaBIOS's linuxboot ROM, OVMF) loads a bzImage from, with
 * the setup header patched as QEMU's x86_load_linux() does (docs/boot.md).
 * Must not touch guest memory or any other fw_cfg item. */
#ifndef FUKI_BOOTFW_H
#define FUKI_BOOTFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fwcfg;
struct planbuild_kernel_hashes;
struct vm_config;

/* Largest kernel or initrd file read (guest RAM is the real limit). */
#define BOOTFW_MAX_FILE (1ULL << 31)

/* When @cfg->kernel_path is set: FW_CFG_KERNEL_ADDR/SIZE/DATA,
 * FW_CFG_SETUP_ADDR/SIZE/DATA, FW_CFG_CMDLINE_ADDR/SIZE/DATA and, with
 * @cfg->initrd_path, FW_CFG_INITRD_ADDR/SIZE/DATA.  @below_4g is the RAM
 * below 4 GiB (the initrd goes under it, less QEMU's ACPI room).  With
 * cc.type == CC_SNP the setup header is left unpatched (QEMU: SEV guests
 * boot through the EFI stub and hash the file as given).  No kernel_path:
 * nothing is added, 0.  Errors (-EINVAL / -errno of the file access): one
 * line in @err -- unreadable file, not a bzImage (no "HdrS"), boot protocol
 * below 2.00, kernel or initrd too large for RAM.  @cfg->boot_rom_path
 * (SeaBIOS's linuxboot option ROM) becomes fw_cfg "genroms/<file name>"
 * after a check that it is an option ROM.  @kh (may be NULL) receives the
 * SHA-256 of the kernel and initrd bytes served: what SNP's kernel-hashes
 * page must hold, without reading the files again. */
int bootfw_setup(struct fwcfg *fw, const struct vm_config *cfg, uint64_t below_4g,
		 struct planbuild_kernel_hashes *kh, char *err, size_t errlen);

/* The same from memory (unit tests, fuzzing): @kernel is copied, not
 * modified; @initrd may be NULL (no initrd) and @cmdline NULL (""). */
int bootfw_setup_mem(struct fwcfg *fw, const uint8_t *kernel, size_t kernel_len,
		     const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		     bool patch_header, uint64_t below_4g, char *err, size_t errlen);

#endif
