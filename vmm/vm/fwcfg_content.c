/* vmm/vm/fwcfg_content.c: the fw_cfg items of the board (see fwcfg_content.h). */
#include "vmm/vm/fwcfg_content.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/acpi.h"
#include "devices/pci.h"
#include "devices/serial.h"
#include "loader/smbios.h"
#include "vmm/base/layout.h"
#include "vmm/launch/linuxboot.h"

unsigned fwcfg_content_e820(const struct fwcfg_machine *m, struct e820_entry *e)
{
	unsigned n = 0;

	e[n++] = (struct e820_entry){ 0, m->below_4g, E820_RAM };
	e[n++] = (struct e820_entry){ LAYOUT_IDENT_MAP, 0x4000, E820_RESERVED };
	if (m->above_4g)
		e[n++] = (struct e820_entry){ LAYOUT_4G, m->above_4g, E820_RAM };
	return n;
}

int fwcfg_content_setup(struct fwcfg *fw, const struct fwcfg_machine *m,
			struct planbuild_kernel_hashes *kh, char *err, size_t errlen)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	unsigned n = fwcfg_content_e820(m, e);
	static const uint8_t uuid[16];
	int r = 0;

	r |= fwcfg_add_u64(fw, FW_CFG_RAM_SIZE, m->ram_size);
	r |= fwcfg_add_u16(fw, FW_CFG_NB_CPUS, (uint16_t)m->nvcpus);
	r |= fwcfg_add_u16(fw, FW_CFG_MAX_CPUS, (uint16_t)m->nvcpus);
	r |= fwcfg_add_u16(fw, FW_CFG_NOGRAPHIC, 1);
	r |= fwcfg_add_u16(fw, FW_CFG_BOOT_MENU, 0);
	r |= fwcfg_add_bytes(fw, FW_CFG_UUID, uuid, sizeof(uuid));
	r |= fwcfg_add_file(fw, "etc/e820", e, n * sizeof(e[0]));
	/* Linux direct boot ([kernel]): the items qboot and SeaBIOS's
	 * linuxboot option ROM read, as QEMU sets them */
	if (bootfw_setup(fw, m->cfg, m->below_4g, kh, err, errlen))
		return -EINVAL;   /* @err says which file and why */
	{
		/* SeaBIOS (src/sercon.c, romfile "etc/sercon-port"): mirror the
		 * text console to this UART, as QEMU asks with -nographic; the
		 * VMM is always headless.  A u16, little-endian. */
		uint8_t port[2] = { SERIAL_COM1_BASE & 0xff, SERIAL_COM1_BASE >> 8 };

		r |= fwcfg_add_file(fw, "etc/sercon-port", port, sizeof(port));
	}
	{
		struct smbios_blob sb;

		if (smbios_build(&m->cfg->smbios, m->ram_size, m->nvcpus, &sb) == 0) {
			r |= fwcfg_add_file(fw, SMBIOS_FWCFG_ANCHOR, sb.anchor, sizeof(sb.anchor));
			r |= fwcfg_add_file(fw, SMBIOS_FWCFG_TABLES, sb.tables, sb.tables_len);
			smbios_blob_free(&sb);
		} else {
			r = -1;
		}
	}
	return r ? -EINVAL : 0;
}

void fwcfg_content_acpi(const struct fwcfg_machine *m, struct acpi_config *ac)
{
	/* ACPI (devices/acpi.c): RSDP, RSDT/XSDT, FADT, FACS, MADT, DSDT
	 * through QEMU's linker/loader, which SeaBIOS, qboot and OVMF run; the
	 * PM block's base is filled in by vmm/vm/acpitables.c from where the
	 * firmware programmed it */
	*ac = (struct acpi_config){
		.ncpus = m->nvcpus,
		.pci_mem_start = m->below_4g,
		.pci_mem_end = LAYOUT_IOAPIC,
		.pci_io_start = PCI_IO_WINDOW_BASE,
		.pci_io_end = PCI_IO_WINDOW_END,
		.legacy_pic = !m->split_irqchip,
	};
}

/* QEMU docs/specs/fw_cfg.rst; the OpenFirmware paths SeaBIOS matches in
 * src/boot.c and OVMF's QemuBootOrderLib parses, one path per line,
 * NUL-terminated: the [kernel]'s linuxboot option ROM first (QEMU gives it
 * bootindex 0, so a direct boot wins over a bootable disk), then the disks
 * with a bootindex, lowest first.  Without either, firmware keeps its own
 * order. */
int fwcfg_content_bootorder(struct fwcfg *fw, const struct vm_config *cfg,
			    const unsigned *disk_slot, char *err, size_t errlen)
{
	char buf[CFG_MAX_DISKS * 40 + FW_CFG_MAX_FILE_PATH + 16];
	size_t len = 0;
	int last = -1;

	if (cfg->kernel_path && cfg->boot_rom_path) {
		const char *base = strrchr(cfg->boot_rom_path, '/');

		len = (size_t)snprintf(buf, sizeof(buf), "/rom@genroms/%s",
				       base ? base + 1 : cfg->boot_rom_path);
	}

	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < cfg->ndisks; i++)
			if (cfg->disks[i].bootindex > last &&
			    (best < 0 || cfg->disks[i].bootindex < cfg->disks[best].bootindex))
				best = (int)i;
		if (best < 0)
			break;
		last = cfg->disks[best].bootindex;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s/pci@i0cf8/scsi@%x/disk@0,0",
					len ? "\n" : "", disk_slot[best]);
	}
	if (!len)
		return 0;
	if (fwcfg_add_file(fw, "bootorder", buf, len + 1)) {
		snprintf(err, errlen, "fw_cfg bootorder: cannot add");
		return -ENOSPC;
	}
	return 0;
}
