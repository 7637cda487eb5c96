/* vmm/vm/fwcfg_content.h: what the board serves through fw_cfg (QEMU's
 * fw_cfg_arch_create and friends, hw/i386/fw_cfg.c): RAM size and e820, CPU
 * count, UUID, the [kernel] items, SeaBIOS's serial console port, SMBIOS and
 * ACPI tables, and the boot order.
 * Owns: only the content; the device is devices/fwcfg.c. */
#ifndef FUKI_FWCFG_CONTENT_H
#define FUKI_FWCFG_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/acpi.h"
#include "devices/fwcfg.h"
#include "vmm/config/config.h"
#include "vmm/launch/planbuild.h"

/* e820 entry as QEMU's fw_cfg "etc/e820": {u64 addr, u64 len, u32 type}, LE, packed */
struct e820_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 4

/* The machine the content describes. */
struct fwcfg_machine {
	const struct vm_config *cfg;
	uint64_t ram_size, below_4g, above_4g;
	unsigned nvcpus;
	bool split_irqchip;        /* no legacy PIC in the MADT */
};

/* The e820 map of @m into @e (E820_MAX_ENTRIES): returns the count. */
unsigned fwcfg_content_e820(const struct fwcfg_machine *m, struct e820_entry *e);
/* Add every item but the boot order and the ACPI files to @fw.  @kh (may be
 * NULL) receives the SHA-256 of the [kernel] bytes served.  0, or -EINVAL with a line in @err
 * when the [kernel] files fail (empty @err for the other failures). */
int fwcfg_content_setup(struct fwcfg *fw, const struct fwcfg_machine *m,
			struct planbuild_kernel_hashes *kh, char *err, size_t errlen);
/* The ACPI tables' description of @m (all but the PM block's base, which
 * vmm/vm/acpitables.c follows). */
void fwcfg_content_acpi(const struct fwcfg_machine *m, struct acpi_config *ac);
/* fw_cfg "bootorder": the [kernel]'s option ROM, then the disks with a
 * bootindex (disk i in PCI slot @disk_slot[i]).  No file when there is
 * neither.  0, or -ENOSPC with a line in @err. */
int fwcfg_content_bootorder(struct fwcfg *fw, const struct vm_config *cfg,
			    const unsigned *disk_slot, char *err, size_t errlen);

#endif
