/* vmm/vm/acpitables.c: implementation of vmm/vm/acpitables.h.
 * Owns: the served ACPI blobs.  The blobs are rebuilt in place (their sizes
 * do not depend on the PM base) from the fw_cfg select callback, which runs
 * under the PIO bus lock like every device access. */
#include "vmm/vm/acpitables.h"

#include <stdlib.h>
#include <string.h>

#include "devices/fwcfg.h"
#include "devices/pci.h"
#include "vmm/base/log.h"

struct vm_acpi {
	struct pci_bus *pci;
	struct acpi_config cfg;     /* cfg.pm_base: what the blobs describe */
	struct acpi_tables t;
};

static uint16_t vm_acpi_want_base(struct vm_acpi *a)
{
	uint16_t base = pci_pm_base(a->pci);

	return base ? base : PCI_PM_DEFAULT_BASE;
}

/* Selecting any of the three files: rebuild if the PM block moved since. */
static void vm_acpi_select(void *opaque)
{
	struct vm_acpi *a = opaque;
	struct acpi_config c = a->cfg;
	struct acpi_tables n;

	c.pm_base = vm_acpi_want_base(a);
	if (c.pm_base == a->cfg.pm_base)
		return;
	if (acpi_build(&c, &n)) {
		log_warn("acpi: cannot rebuild the tables for PM base 0x%x; they keep 0x%x",
			 c.pm_base, a->cfg.pm_base);
		return;
	}
	if (n.rsdp.len != a->t.rsdp.len || n.tables.len != a->t.tables.len ||
	    n.loader.len != a->t.loader.len) {
		log_warn("acpi: tables for PM base 0x%x changed size; they keep 0x%x",
			 c.pm_base, a->cfg.pm_base);
	} else {
		memcpy(a->t.rsdp.data, n.rsdp.data, n.rsdp.len);
		memcpy(a->t.tables.data, n.tables.data, n.tables.len);
		memcpy(a->t.loader.data, n.loader.data, n.loader.len);
		log_debug("acpi: tables now describe the PM block at 0x%x (was 0x%x)",
			  c.pm_base, a->cfg.pm_base);
		a->cfg.pm_base = c.pm_base;
	}
	acpi_tables_free(&n);
}

struct vm_acpi *vm_acpi_create(struct fwcfg *fw, struct pci_bus *pci,
			       const struct acpi_config *c)
{
	struct vm_acpi *a = calloc(1, sizeof(*a));

	if (!a) {
		log_err("acpi: out of memory");
		return NULL;
	}
	a->pci = pci;
	a->cfg = *c;
	a->cfg.pm_base = vm_acpi_want_base(a);
	if (acpi_build(&a->cfg, &a->t)) {
		free(a);
		return NULL;
	}
	if (fwcfg_add_file_cb(fw, ACPI_FILE_RSDP, a->t.rsdp.data, a->t.rsdp.len, false,
			      vm_acpi_select, NULL, a) ||
	    fwcfg_add_file_cb(fw, ACPI_FILE_TABLES, a->t.tables.data, a->t.tables.len, false,
			      vm_acpi_select, NULL, a) ||
	    fwcfg_add_file_cb(fw, ACPI_FILE_LOADER, a->t.loader.data, a->t.loader.len, false,
			      vm_acpi_select, NULL, a)) {
		/* the VM setup fails and destroys @fw with the entries made so
		 * far: the buffers must outlive it */
		log_err("acpi: cannot add the fw_cfg files");
		return NULL;
	}
	return a;
}

void vm_acpi_destroy(struct vm_acpi *a)
{
	if (!a)
		return;
	acpi_tables_free(&a->t);
	free(a);
}

uint16_t vm_acpi_pm_base(const struct vm_acpi *a)
{
	return a->cfg.pm_base;
}
