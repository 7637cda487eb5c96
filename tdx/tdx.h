/* tdx/tdx.h: Intel TDX launch plan, TD HOB, MRTD and RTMR predictions.
 * Owns: turning a TDVF firmware image plus the configured memory into a
 * launch plan (one region per TDVF section), the TD HOB fukivmm hands to the
 * firmware, and the measurements (MRTD from the plan, RTMR event digests).
 * Must not touch KVM: the launcher walks the plan built here. */
#ifndef FUKI_TDX_H
#define FUKI_TDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/ovmf.h"
#include "loader/plan.h"

#define TDX_DIGEST 48   /* SHA-384 */

struct tdx_params {
	uint64_t memory;          /* guest RAM bytes (vmm/base/layout.h splits it) */
	unsigned nvcpus;
	bool two_pass;            /* legacy MRTD order (pre-upstream KVM) */
	uint64_t attributes, xfam;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
};

/* Build a TDX plan from a whole TDVF image (mapped so that its last byte is
 * at 4 GiB - 1): ovmf_parse() then tdx_build_plan_sections().  -EINVAL with
 * one line in @err for an image without usable TDVF metadata. */
int tdx_build_plan(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		   const struct tdx_params *tp, char *err, size_t errlen);

/* The same from an already parsed TDVF section list (metadata order).
 * Regions are added in metadata order, one per section:
 *   BFV/CFV   data = image[DataOffset, +RawDataSize), zero-padded to
 *             MemoryDataSize; the GPA range must lie in the firmware window
 *             [4 GiB - fw_len, 4 GiB);
 *   TD_HOB    data = the HOB built by tdx_build_hob() (exactly one allowed);
 *   TempMem   zero-filled;
 *   PermMem, Payload, PayloadParam, TD_INFO, TD_PARAMS and unknown types:
 *             rejected, as QEMU (hw/i386/tdvf.c) rejects them.
 * Flags: PLAN_F_MEASURE iff attribute MR.EXTEND; PLAN_F_PAGE_AUG iff
 * attribute PAGE.AUG (TempMem only: such a region is neither PAGE.ADDed nor
 * measured and stays unaccepted in the HOB; QEMU ignores that bit, edk2's
 * OVMF never sets it).  Unaligned, overlapping, out-of-image or >4 GiB
 * sections, TD_HOB/TempMem outside low RAM, RawDataSize rules as QEMU:
 * -EINVAL and one line in @err.  Copies the image into the plan. */
int tdx_build_plan_sections(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
			    const struct ovmf_tdvf_section *s, unsigned n,
			    const struct tdx_params *tp, char *err, size_t errlen);

/* MRTD of a plan: one running SHA-384 (Intel TDX module base architecture
 * spec #344425, TD measurement) over, per region in plan order,
 *   TDH.MEM.PAGE.ADD: "MEM.PAGE.ADD" | 0 pad to 16 | u64 gpa | 0 pad to 128
 *   TDH.MR.EXTEND:    "MR.EXTEND"    | 0 pad to 16 | u64 gpa | 0 pad to 128,
 *                     then the 256-byte chunk,
 * single-pass (upstream KVM tdx_gmem_post_populate: per page PAGE.ADD then
 * 16 MR.EXTENDs) unless p->tdx.two_pass (all PAGE.ADDs of a region, then all
 * its MR.EXTENDs).  PLAN_F_PAGE_AUG regions are skipped.  -EINVAL if the
 * plan is not a TDX plan, -EIO if OpenSSL fails. */
int tdx_measure_mrtd(const struct launch_plan *p, uint8_t mrtd[48]);

/* ---- TD HOB (QEMU hw/i386/tdvf-hob.c, UEFI PI spec vol. 3 HOBs) ---- */

/* EFI_RESOURCE_TYPE values used (PI spec vol. 3 5.5; 7 = EFI_RESOURCE_
 * MEMORY_UNACCEPTED, UEFI PI 1.8). */
#define TDX_RES_SYSTEM_MEMORY 0u
#define TDX_RES_UNACCEPTED    7u
#define TDX_RES_ATTR          0x7u  /* PRESENT | INITIALIZED | TESTED */

struct tdx_ram_range {
	uint64_t start, length;
	uint32_t type;            /* TDX_RES_SYSTEM_MEMORY or TDX_RES_UNACCEPTED */
};

#define TDX_HOB_MAX_RANGES (2 + 3 * OVMF_MAX_ITEMS)

/* The RAM map the HOB describes: [0, below4g) and [4 GiB, 4 GiB + above4g)
 * (vmm/base/layout.h), each TD_HOB/TempMem section (not PAGE.AUG) carved out as
 * accepted system memory, the rest unaccepted, sorted by address.  A section
 * outside RAM, or sections overlapping: -EINVAL with a message. */
int tdx_hob_ranges(uint64_t memory, const struct ovmf_tdvf_section *s, unsigned n,
		   struct tdx_ram_range *out, unsigned max, unsigned *nout,
		   char *err, size_t errlen);

/* Write the TD HOB for @memory at guest address @hob_gpa into @buf: PHIT
 * (type 1, version 9, only EfiEndOfHobList set), one resource descriptor per
 * range of tdx_hob_ranges(), END_OF_HOB_LIST.  *len = bytes written,
 * *measured_len = bytes the firmware hashes into RTMR[0] (PHIT and
 * descriptors, not the END header).  -ENOSPC if @buflen is too small. */
int tdx_build_hob(uint64_t memory, uint64_t hob_gpa,
		  const struct ovmf_tdvf_section *s, unsigned n,
		  uint8_t *buf, size_t buflen, size_t *len, size_t *measured_len,
		  char *err, size_t errlen);

/* ---- RTMR predictions ----
 * EVERYTHING BELOW DEPENDS ON THE FIRMWARE BUILD.  It models edk2 OvmfPkg
 * built with CC measurement (TdTcg2Dxe; "pre-202505" event order), QEMU-style
 * direct boot (kernel/initrd/cmdline over fw_cfg), no Secure Boot, an empty
 * VARS store and no Boot#### entries but UiApp.  Debian 12's OVMF
 * (2022.11) has no TdTcg2Dxe and does not extend RTMRs at all: with it every
 * RTMR stays zero and these predictions do not apply. */

/* RTMR[0] event 1: SHA-384 of the TD HOB bytes the firmware measures
 * (the @measured_len prefix from tdx_build_hob). */
int tdx_hob_digest(const uint8_t *hob, size_t measured_len, uint8_t out[48]);
/* RTMR[0] event 2 (EV_EFI_PLATFORM_FIRMWARE_BLOB2): SHA-384 of the CFV
 * bytes, image[DataOffset, +RawDataSize) = the VARS template.  -ENOENT if the
 * plan has no CFV region. */
int tdx_cfv_digest(const struct launch_plan *p, uint8_t out[48]);
/* RTMR[i] = SHA-384(RTMR[i] | digest). */
int tdx_rtmr_extend(uint8_t rtmr[48], const uint8_t digest[48]);

/* The constant events of the documented boot (edk2 TdTcg2Dxe / BDS). */
enum tdx_const_event {
	TDX_EV_SECUREBOOT,        /* EV_EFI_VARIABLE_DRIVER_CONFIG, empty */
	TDX_EV_PK, TDX_EV_KEK, TDX_EV_DB, TDX_EV_DBX,
	TDX_EV_SEPARATOR,         /* EV_SEPARATOR 00000000 */
	TDX_EV_BOOTORDER,         /* EV_EFI_VARIABLE_BOOT BootOrder = 0000 */
	TDX_EV_BOOT0000,          /* EV_EFI_VARIABLE_BOOT Boot0000 = UiApp */
	TDX_EV_CALLING_EFI_APP,   /* EV_EFI_ACTION */
	TDX_EV_EBS_INVOCATION,    /* EV_EFI_ACTION */
	TDX_EV_EBS_SUCCESS,       /* EV_EFI_ACTION */
	TDX_EV_COUNT
};
int tdx_const_event_digest(enum tdx_const_event ev, uint8_t out[48]);

/* RTMR[2] event measured by the Linux EFI stub (not by the firmware):
 * SHA-384 of the UTF-16LE load options including the terminating NUL, i.e.
 * @cmdline followed by " initrd=initrd" when an initrd is passed (OVMF's
 * QEMU loader appends it).  @cmdline NULL = empty. */
int tdx_loadopts_digest(const char *cmdline, bool has_initrd, uint8_t out[48]);

struct tdx_boot_digests {
	uint8_t hob[48];          /* tdx_hob_digest */
	uint8_t cfv[48];          /* tdx_cfv_digest */
	uint8_t acpi_loader[48];  /* SHA-384 of fw_cfg etc/table-loader */
	uint8_t acpi_rsdp[48];    /* ... etc/acpi/rsdp */
	uint8_t acpi_tables[48];  /* ... etc/acpi/tables */
	uint8_t kernel_pe[48];    /* Authenticode-style PE hash of the patched kernel */
	bool has_stub_events;     /* kernel EFI stub measures into RTMR[2] */
	uint8_t loadopts[48];     /* tdx_loadopts_digest */
	bool has_initrd;
	uint8_t initrd[48];       /* SHA-384 of the initrd */
};

/* RTMR[0..2] after ExitBootServices for the documented boot
 * (measurements.md section 3 event table):
 *   RTMR0: HOB, CFV, SecureBoot, PK, KEK, db, dbx, separator, 3 ACPI blobs,
 *          BootOrder, Boot0000
 *   RTMR1: kernel PE, "Calling EFI Application from Boot Option", separator,
 *          "Exit Boot Services Invocation", "... Returned with Success"
 *   RTMR2: load options, initrd (Linux EFI stub, if has_stub_events)
 * RTMR3 stays zero (left to the OS). */
int tdx_rtmr_predict(const struct tdx_boot_digests *d, uint8_t rtmr[4][48]);

#endif
