/* devices/acpi.h: the ACPI tables of fukivmm's i440FX/PIIX4 platform, served
 * as QEMU serves them: fw_cfg files etc/acpi/rsdp, etc/acpi/tables and the
 * BIOS linker/loader script etc/table-loader.
 * Owns: building those three byte blobs from a small config.  Must not touch
 * fw_cfg, guest memory or any device: the VM registers the blobs. */
#ifndef FUKI_ACPI_H
#define FUKI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_config {
	unsigned ncpus;            /* LAPIC IDs 0..ncpus-1, all enabled */
	uint16_t pm_base;          /* PIIX4 PM I/O base the FADT names (PMBA as the firmware programmed it) */
	uint64_t pci_mem_start;    /* 32-bit PCI memory window [start, end) (end of low RAM .. 0xFEC00000) */
	uint64_t pci_mem_end;
	uint16_t pci_io_start;     /* PCI I/O window [start, end): 0xC000..0x10000 */
	uint32_t pci_io_end;
	bool legacy_pic;           /* in-kernel 8259 present: MADT PCAT_COMPAT, FADT legacy/8042 flags */
};
struct acpi_blob { uint8_t *data; size_t len; };
struct acpi_tables { struct acpi_blob rsdp, tables, loader; };
/* Build the three fw_cfg files; 0 or -ENOMEM/-EINVAL. */
int acpi_build(const struct acpi_config *c, struct acpi_tables *out);
void acpi_tables_free(struct acpi_tables *t);
/* fw_cfg file names */
#define ACPI_FILE_RSDP   "etc/acpi/rsdp"
#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_LOADER "etc/table-loader"

/* ---- BIOS linker/loader command ABI ----
 * QEMU hw/acpi/bios-linker-loader.c (struct BiosLinkerLoaderEntry): every
 * command is 128 bytes, little-endian, u32 command first.  File names are
 * NUL-padded to FW_CFG_MAX_FILE_PATH (56).  Consumers: SeaBIOS
 * src/fw/romfile_loader.c, OVMF OvmfPkg/AcpiPlatformDxe/QemuFwCfgAcpi.c. */
#define ACPI_LOADER_ENTRY_SIZE   128
#define ACPI_LOADER_FILESZ       56
#define ACPI_LOADER_ALLOCATE     1   /* {file[56], u32 align, u8 zone} */
#define ACPI_LOADER_ADD_POINTER  2   /* {dst[56], src[56], u32 offset, u8 size} */
#define ACPI_LOADER_ADD_CHECKSUM 3   /* {file[56], u32 offset, u32 start, u32 length} */
#define ACPI_LOADER_ZONE_HIGH    1
#define ACPI_LOADER_ZONE_FSEG    2

/* Field offsets inside a command (after the u32 command word). */
#define ACPI_LOADER_OFF_FILE      4                 /* ALLOCATE, ADD_CHECKSUM, ADD_POINTER dst */
#define ACPI_LOADER_OFF_ALIGN     (4 + 56)          /* ALLOCATE */
#define ACPI_LOADER_OFF_ZONE      (4 + 56 + 4)      /* ALLOCATE */
#define ACPI_LOADER_OFF_SRC       (4 + 56)          /* ADD_POINTER */
#define ACPI_LOADER_OFF_PTR_OFF   (4 + 56 + 56)     /* ADD_POINTER */
#define ACPI_LOADER_OFF_PTR_SIZE  (4 + 56 + 56 + 4) /* ADD_POINTER */
#define ACPI_LOADER_OFF_CK_OFF    (4 + 56)          /* ADD_CHECKSUM result byte */
#define ACPI_LOADER_OFF_CK_START  (4 + 56 + 4)
#define ACPI_LOADER_OFF_CK_LEN    (4 + 56 + 8)

/* Fixed platform values the tables describe. */
#define ACPI_SCI_IRQ          9      /* PIIX4 SCI (QEMU hw/acpi/piix4.c) */
#define ACPI_SMI_CMD_PORT     0xB2   /* APM control port of the PIIX4 model */
#define ACPI_ENABLE_VALUE     0xF1
#define ACPI_DISABLE_VALUE    0xF0
#define ACPI_RESET_PORT       0xCF9  /* PIIX3/ICH reset control register */
#define ACPI_RESET_VALUE      0x06   /* SYS_RST | RST_CPU: hard reset */
#define ACPI_RTC_CENTURY      0x32   /* CMOS century index (devices/cmos.c) */

/* FADT revision 3 (ACPI 2.0 layout, 244 bytes): see devices/acpi.c for why
 * not QEMU's PC revision 1. */
#define ACPI_FADT_REV         3
#define ACPI_FADT_LEN         244

#endif
