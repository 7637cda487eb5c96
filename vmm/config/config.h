/* vmm/config/config.h: the guest.toml schema.
 * Owns: turning a parsed TOML tree into a validated struct vm_config, with
 * one-line errors naming the key and its location.  `run` and `measure`
 * both read this one struct: it is the single source of truth for the
 * launch.  Paths are resolved relative to the config file's folder. */
#ifndef FUKI_CONFIG_H
#define FUKI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/smbios.h"   /* struct smbios_ids: [smbios] */
#include "snp/snp.h"         /* enum snp_vmm_type: [confidential] vmm_type */

enum serial_sink { SERIAL_STDOUT, SERIAL_FILE, SERIAL_NONE };
enum cc_type { CC_NONE, CC_SNP, CC_TDX };

#define CFG_MIN_MEMORY (2ULL << 20)           /* below this the layout does not fit */
#define CFG_MAX_MEMORY (1ULL << 40)
#define CFG_MAX_VCPUS 64
#define CFG_FW_MAX (16ULL << 20)

struct cfg_confidential {
	enum cc_type type;
	/* SEV-SNP */
	char *vcpu_type;              /* QEMU model name, e.g. "EPYC-v4" */
	uint32_t vcpu_sig;            /* CPUID(1).EAX, from vcpu_type or family/model/stepping */
	bool vcpu_sig_set;
	enum snp_vmm_type vmm_type;
	uint64_t guest_features;      /* VMSA SEV_FEATURES, default 0x1 */
	uint64_t policy;              /* SNP policy, default 0x30000 */
	uint8_t host_data[32];
	char *id_block_path;          /* optional: file written by `fukivmm snp id-block` */
	char *id_auth_path;
	/* TDX */
	uint64_t tdx_attributes;
	uint64_t tdx_xfam;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
	bool tdx_two_pass;            /* legacy MRTD order */
	char *quote_socket;           /* TDX GetQuote: quote-generation socket */
	char *snp_certs;              /* SNP certificate table file */
};

struct cfg_doorbell {
	bool enabled;                 /* default true */
	uint64_t max_image_size;      /* default 16 MiB */
	uint64_t max_opaque_size;     /* default 4 KiB */
	uint64_t min_reset_interval_ns;  /* default 1 s */
};

/* [api]: the control socket (docs/api.md). */
#define CFG_MAX_API_UIDS 16
struct cfg_api {
	char *socket;                 /* NULL: no control socket */
	uint32_t uids[CFG_MAX_API_UIDS];   /* peers allowed besides the owner */
	unsigned nuids;
};

/* [[disk]]: virtio-blk disks, in PCI slot order (docs/config.md). */
#define CFG_MAX_DISKS 8
/* QEMU's linuxboot option ROM as Debian ships it (qemu-system-data) */
#define CFG_DEFAULT_BOOT_ROM "/usr/share/qemu/linuxboot_dma.bin"
#define CFG_BOOT_ROM_MAX (1u << 20)
struct cfg_disk {
	char *path;                   /* resolved; regular file or block device */
	bool readonly;                /* default false */
	int bootindex;                /* boot priority (lowest first), -1: none */
};

/* [vm] irqchip: where the IOAPIC and PIC live. */
enum cfg_irqchip {
	IRQCHIP_KERNEL = 0,   /* PIC, IOAPIC, PIT and LAPICs in KVM (default) */
	IRQCHIP_SPLIT,        /* LAPICs in KVM, IOAPIC in fukivmm, no PIC/PIT
	                         (what TDX requires; always so for TDX) */
};

struct vm_config {
	char *path;                   /* the config file */
	char *dir;                    /* its folder: base for relative paths */
	char *name;
	uint64_t memory;              /* bytes, multiple of 4 KiB */
	unsigned vcpus;
	enum cfg_irqchip irqchip;
	char *firmware_path;          /* resolved path: [firmware] path, or code */
	char *firmware_vars_path;     /* [firmware] vars: the flash variable store
	                                 mapped below code (plain KVM only) */
	enum serial_sink serial;
	char *serial_path;            /* for SERIAL_FILE */
	uint64_t serial_max_size;     /* [serial] max_size: bytes written to the file at
	                                 most, later output dropped; 0: no limit */
	bool debug_exit;
	uint16_t debug_exit_port;
	char *log_path;               /* [log] file: event log, default stderr */
#define CFG_LOG_RESET_RATE_DEFAULT 1
	uint32_t log_reset_rate;      /* [log] reset_rate: resets a second whose events
	                                 the log gets after the first 20; 0: every one */
	struct cfg_doorbell doorbell;
	struct cfg_confidential cc;
	char *kernel_path, *initrd_path, *cmdline;   /* [kernel] */
	char *boot_rom_path;          /* [kernel] boot_rom: served as genroms/<name> */
	struct smbios_ids smbios;     /* [smbios]; fixed defaults, never the host's */
	struct cfg_api api;
	char *uki_path;               /* [uki] path: names the fwid of swapped images */
	struct cfg_disk disks[CFG_MAX_DISKS];
	unsigned ndisks;
};

/* Load and validate @path.  0 on success; on failure -1 and one line in @err
 * ("FILE:LINE:COL: key 'vm.vcpus': must be between 1 and 64"). */
int config_load(const char *path, struct vm_config *cfg, char *err, size_t errlen);
/* The same from an in-memory document (tests, fuzzing); @name is used in
 * messages and @dir as the base for relative paths.  @check_files = false
 * skips opening the firmware and kernel files. */
int config_parse(const char *src, size_t len, const char *name, const char *dir,
		 bool check_files, struct vm_config *cfg, char *err, size_t errlen);
void config_free(struct vm_config *cfg);

/* Value parsers shared with the CLI: pure functions of the string (no
 * config, no locale beyond the C one), 0 on success; on failure @out is
 * left as it was.
 *
 * Size: an unsigned integer in C syntax ("4096", "0x1000"; a leading 0 is
 * octal) optionally followed by K, M, G or T (powers of 1024, either case),
 * which may carry "iB" or "B": "4K", "256M", "256MiB", "2g", "1TB".
 * -EINVAL if malformed (empty, a sign, a space, another suffix), -ERANGE
 * if the bytes do not fit in 64 bits. */
int config_parse_size(const char *s, uint64_t *out);
/* Duration in nanoseconds: a decimal integer followed by "s", "ms", "us"
 * or "ns" ("1s", "500ms", "250us"); a bare number must be "0".  -EINVAL if
 * malformed, -ERANGE if it overflows 64 bits of nanoseconds. */
int config_parse_duration(const char *s, uint64_t *out_ns);

#endif
