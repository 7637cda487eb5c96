/* vmm/vm/acpitables.h: the ACPI fw_cfg files of a plain guest (etc/acpi/rsdp,
 * etc/acpi/tables, etc/table-loader), kept in step with where the firmware
 * placed the PIIX4 PM block.
 * Owns: the three blobs and the rule that rebuilds them.  QEMU builds its
 * tables again the first time the firmware reads one after a reset
 * (hw/i386/acpi-build.c acpi_build_update), with the PM base the PIIX4 then
 * decodes (hw/acpi/piix4.c io_base), so its FADT names 0x600 under SeaBIOS
 * and 0xB000 under OVMF; so do these.  Must not know the table layouts
 * (devices/acpi.c) or the PM registers (devices/pci.c). */
#ifndef FUKI_VM_ACPITABLES_H
#define FUKI_VM_ACPITABLES_H

#include "devices/acpi.h"

struct fwcfg;
struct pci_bus;
struct vm_acpi;

/* Build the tables from @c (its pm_base is ignored: the PM block's current
 * base, or PCI_PM_DEFAULT_BASE while it is off, is used) and add the three
 * files to @fw.  NULL on failure (logged).  @fw and @pci must outlive it. */
struct vm_acpi *vm_acpi_create(struct fwcfg *fw, struct pci_bus *pci,
			       const struct acpi_config *c);
/* After the fw_cfg device that serves the blobs is gone. */
void vm_acpi_destroy(struct vm_acpi *a);
/* The PM base the served tables describe (for tests). */
uint16_t vm_acpi_pm_base(const struct vm_acpi *a);

#endif
