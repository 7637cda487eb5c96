/* loader/igvm.h: IGVM (Independent Guest Virtual Machine) file parser and
 * the IGVM -> launch plan builder.
 * Owns: reading and validating IGVM bytes, and turning the directives that
 * apply to one platform into plan regions.  Touches no KVM, no guest memory:
 * a pure function of bytes and parameters, like every plan builder.
 *
 * Format source: microsoft/igvm, crate igvm_defs, igvm_defs/src/lib.rs
 * (commit e6c3ff1c34c3); all integers little-endian.  See docs/igvm.md. */
#ifndef FUKI_IGVM_H
#define FUKI_IGVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"

/* ---- fixed header (igvm_defs IGVM_FIXED_HEADER / IGVM_FIXED_HEADER_V2) ---- */
#define IGVM_MAGIC 0x4D564749u            /* "IGVM" little-endian */

/* True if @buf starts with the IGVM magic (the only test for "is this an
 * IGVM file rather than a raw firmware image"). */
static inline bool igvm_has_magic(const uint8_t *buf, size_t len)
{
	return len >= 4 && ((uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
			    (uint32_t)buf[3] << 24) == IGVM_MAGIC;
}
#define IGVM_FORMAT_V1 1u
#define IGVM_FORMAT_V2 2u
#define IGVM_FIXED_V1_SIZE 24u            /* magic..checksum, 6 x u32 */
#define IGVM_FIXED_V2_SIZE 32u            /* + architecture, page_size */
#define IGVM_ARCH_X64 0u                  /* IgvmArchitecture::X64 */
#define IGVM_ARCH_AARCH64 1u              /* IgvmArchitecture::AARCH64 */
#define IGVM_PAGE_4K 4096u
#define IGVM_PAGE_2M 0x200000u

/* ---- variable header types (igvm_defs IgvmVariableHeaderType) ---- */
#define IGVM_VHT_OPTIONAL 0x80000000u     /* IGVM_VHT_OPTIONAL_BIT: may be skipped */
enum igvm_vht {
	/* IGVM_VHT_RANGE_PLATFORM 0x1..=0x100 */
	IGVM_VHT_SUPPORTED_PLATFORM = 0x001,
	/* IGVM_VHT_RANGE_INIT 0x101..=0x200 */
	IGVM_VHT_GUEST_POLICY = 0x101,
	IGVM_VHT_RELOCATABLE_REGION = 0x102,
	IGVM_VHT_PAGE_TABLE_RELOCATION_REGION = 0x103,
	IGVM_VHT_CORIM_DOCUMENT = 0x104,
	IGVM_VHT_CORIM_SIGNATURE = 0x105,
	IGVM_VHT_CCA_POLICY = 0x106,
	/* IGVM_VHT_RANGE_DIRECTIVE 0x301..=0x400 */
	IGVM_VHT_PARAMETER_AREA = 0x301,
	IGVM_VHT_PAGE_DATA = 0x302,
	IGVM_VHT_PARAMETER_INSERT = 0x303,
	IGVM_VHT_VP_CONTEXT = 0x304,
	IGVM_VHT_REQUIRED_MEMORY = 0x305,
	IGVM_VHT_RESERVED_306 = 0x306,     /* formerly SHARED_BOUNDARY_GPA; unused */
	IGVM_VHT_VP_COUNT_PARAMETER = 0x307,
	IGVM_VHT_SRAT = 0x308,
	IGVM_VHT_MADT = 0x309,
	IGVM_VHT_MMIO_RANGES = 0x30A,
	IGVM_VHT_SNP_ID_BLOCK = 0x30B,
	IGVM_VHT_MEMORY_MAP = 0x30C,
	IGVM_VHT_ERROR_RANGE = 0x30D,
	IGVM_VHT_COMMAND_LINE = 0x30E,
	IGVM_VHT_SLIT = 0x30F,
	IGVM_VHT_PPTT = 0x310,
	IGVM_VHT_VBS_MEASUREMENT = 0x311,
	IGVM_VHT_DEVICE_TREE = 0x312,
	IGVM_VHT_ENVIRONMENT_INFO = 0x313,
};

/* Body sizes of the structures above (igvm_defs; the `length` field must
 * equal these exactly). */
#define IGVM_SZ_SUPPORTED_PLATFORM 16
#define IGVM_SZ_GUEST_POLICY 16
#define IGVM_SZ_RELOCATABLE_REGION 48
#define IGVM_SZ_PAGE_TABLE_RELOCATION 32
#define IGVM_SZ_CORIM_DATA 16
#define IGVM_SZ_CCA_POLICY 32
#define IGVM_SZ_PARAMETER_AREA 16
#define IGVM_SZ_PAGE_DATA 24
#define IGVM_SZ_PARAMETER_INSERT 16
#define IGVM_SZ_VP_CONTEXT 20             /* not a multiple of 8: padded */
#define IGVM_SZ_REQUIRED_MEMORY 24
#define IGVM_SZ_PARAMETER 8
#define IGVM_SZ_ERROR_RANGE 16
#define IGVM_SZ_SNP_ID_BLOCK 696
#define IGVM_SZ_VBS_MEASUREMENT 864

/* IgvmPlatformType */
enum igvm_platform_type {
	IGVM_PLATFORM_NATIVE = 0,
	IGVM_PLATFORM_VSM = 1,
	IGVM_PLATFORM_SEV_SNP = 2,
	IGVM_PLATFORM_TDX = 3,
	IGVM_PLATFORM_SEV = 4,
	IGVM_PLATFORM_SEV_ES = 5,
	IGVM_PLATFORM_CCA = 6,
};

/* IgvmPageDataType / IgvmPageDataFlags */
enum igvm_page_type {
	IGVM_PAGE_NORMAL = 0,
	IGVM_PAGE_SECRETS = 1,
	IGVM_PAGE_CPUID_DATA = 2,
	IGVM_PAGE_CPUID_XF = 3,
};
#define IGVM_PAGE_F_2MB 0x1u
#define IGVM_PAGE_F_UNMEASURED 0x2u
#define IGVM_PAGE_F_SHARED 0x4u
#define IGVM_PAGE_F_KNOWN 0x7u

/* IgvmEnvironmentInfo bit 0 */
#define IGVM_ENV_MEMORY_IS_SHARED 0x1u
/* IGVM_VHS_MEMORY_MAP_ENTRY: u64 first page, u64 pages, u16 type, u16 flags, u32 0 */
#define IGVM_MEMMAP_ENTRY_SIZE 24
#define IGVM_MEMMAP_MEMORY 0
#define IGVM_MEMMAP_PLATFORM_RESERVED 1
/* IgvmNativeVpContextX64 (232 bytes) and IgvmVpContextAArch64Cca (80) */
#define IGVM_NATIVE_CONTEXT_X64_SIZE 232
#define IGVM_CCA_CONTEXT_SIZE 80
#define IGVM_VBS_REGISTER_SIZE 32         /* VbsVpContextRegister */

/* Limits of this loader (not of the format): they bound what a hostile
 * file can make us keep or allocate. */
#define IGVM_MAX_PLATFORMS 32             /* one bit each of a u32 mask */
#define IGVM_MAX_PARAM_AREAS 256
#define IGVM_MAX_PARAM_AREA_BYTES (16u << 20)

struct igvm_platform {
	uint32_t mask;                    /* exactly one bit */
	uint8_t highest_vtl;              /* 0 or 2 */
	uint8_t type;                     /* enum igvm_platform_type */
	uint16_t version;                 /* 1 for every known type */
	uint64_t shared_gpa_boundary;
};

/* One decoded variable header.  Pointers point into the file buffer and
 * are already bounds-checked against it. */
struct igvm_header {
	uint32_t type;                    /* without IGVM_VHT_OPTIONAL */
	bool optional;
	bool known;                       /* false: an optional type we skip */
	uint32_t offset;                  /* file offset of the type/length pair */
	uint32_t length;                  /* body bytes */
	const uint8_t *body;
	bool has_mask;
	uint32_t mask;                    /* compatibility mask when has_mask */
	union {
		struct igvm_platform platform;
		struct { uint64_t policy; } policy;
		struct {
			uint16_t vp_index;
			uint8_t vtl, flags;
			uint64_t alignment, gpa, size, min_gpa, max_gpa;
		} reloc;
		struct {
			uint16_t vp_index;
			uint8_t vtl;
			uint64_t gpa, size, used_size;
		} pt_reloc;
		struct { uint32_t file_offset, size; const uint8_t *data; } corim;
		struct {
			uint64_t bytes;
			uint32_t index, file_offset;
			const uint8_t *data;      /* NULL: zero-filled */
		} param_area;
		struct {
			uint64_t gpa;
			uint32_t file_offset, flags;
			uint16_t data_type;
			uint64_t size;            /* 4 KiB or 2 MiB */
			const uint8_t *data;      /* @size bytes, NULL: zero page */
		} page;
		struct { uint64_t gpa; uint32_t index; } insert;
		struct { uint32_t index, byte_offset; } param;
		struct {
			uint64_t gpa;
			uint32_t file_offset;
			uint16_t vp_index;
			uint8_t platform_type;    /* of the platform its mask names */
			const uint8_t *data;
			uint32_t size;            /* 4096 except VSM (register list) */
		} vp;
		struct { uint64_t gpa; uint32_t bytes, flags; } required;
		struct { uint64_t gpa; uint32_t bytes; } error_range;
		struct { uint8_t author_key_enabled; } id_block;
	} u;
};

struct igvm_param_area_info {
	uint32_t index;
	uint64_t bytes;
};

/* A validated file.  igvm_open() fills it without allocating anything. */
struct igvm_file {
	const uint8_t *buf;
	size_t len;
	uint32_t version;                 /* 1 or 2 */
	uint32_t arch;                    /* IGVM_ARCH_X64 for version 1 */
	uint32_t page_size;               /* 4096 */
	uint32_t fixed_size;              /* 24 or 32 */
	uint32_t vh_off, vh_size, data_off;
	uint32_t checksum;
	unsigned nplatforms;
	struct igvm_platform platforms[IGVM_MAX_PLATFORMS];
	uint32_t masks;                   /* OR of declared masks */
	unsigned nheaders;
	unsigned nareas;
	struct igvm_param_area_info areas[IGVM_MAX_PARAM_AREAS];
};

struct igvm_iter {
	uint32_t off;                     /* next type/length pair */
	int section;                      /* 0 platform, 1 init, 2 directive */
};

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as crc32fast and
 * zlib compute it).  @crc is a running value: start with 0. */
uint32_t igvm_crc32(uint32_t crc, const void *buf, size_t len);

/* Validate the fixed header, the checksum and every variable header.
 * 0 or -EINVAL (malformed) / -ENOTSUP (a required header type or an
 * architecture this parser does not know), with one line in @err. */
int igvm_open(struct igvm_file *f, const uint8_t *buf, size_t len,
	      char *err, size_t errlen);

/* Walk the headers of an opened file in file order.  Returns 1 with @h
 * filled, 0 at the end, negative on error (cannot happen after a
 * successful igvm_open).  Optional unknown headers come back with
 * known = false. */
void igvm_iter_init(const struct igvm_file *f, struct igvm_iter *it);
int igvm_next(const struct igvm_file *f, struct igvm_iter *it,
	      struct igvm_header *h, char *err, size_t errlen);

/* The platform header for @type, NULL if the file declares none. */
const struct igvm_platform *igvm_find_platform(const struct igvm_file *f,
					       unsigned type);
const char *igvm_type_name(uint32_t type);
const char *igvm_platform_name(unsigned type);

/* ---- plan builder ---- */
struct igvm_params {
	unsigned nvcpus;          /* VP_COUNT_PARAMETER; number of VMSAs (SNP) */
	uint64_t memory;          /* guest RAM bytes (vmm/base/layout.h map); 0 = unknown */
	const char *cmdline;      /* COMMAND_LINE parameter; NULL = empty */
	/* SNP: the VMSA for vCPUs the file gives no VP_CONTEXT for (e.g. from
	 * snp_vmsa_build()); NULL = every vCPU must have one in the file. */
	const uint8_t *ap_vmsa;
	/* SNP: measure pages with file_offset 0 as ZERO pages, as QEMU and
	 * igvmmeasure --native-zero do.  false: as NORMAL pages of zeros, as
	 * igvm_defs prescribes. */
	bool snp_native_zero;
};

/* Build a plan (plan_init() is called here) from the directives of the
 * platform header matching @platform: NATIVE for PLAN_PLAIN, SEV_SNP for
 * PLAN_SNP, TDX for PLAN_TDX.  The plan copies every byte it keeps.
 * 0, or -EINVAL / -ENOTSUP / -ENOMEM with one line in @err (and the log);
 * on failure the plan is freed. */
int igvm_build_plan(struct launch_plan *p, const uint8_t *file, size_t len,
		    enum plan_platform platform, const struct igvm_params *params,
		    char *err, size_t errlen);

#endif
