/* loader/plan.h: the launch plan.
 * A plain data structure built once from the configuration and a firmware
 * image: the ordered list of guest-memory regions {gpa, bytes or zero-fill,
 * page type, measured?}, the initial vCPU states and the platform
 * parameters.  `fukivmm measure` folds it with the platform's hash rule
 * (vmm/launch/measure.c); the launcher (vmm/launch/coco.c with snp/launch.c
 * or tdx/launch.c) walks the very same list and issues one LAUNCH_UPDATE /
 * INIT_MEM_REGION per region.  Builders are pure
 * functions of bytes and config; nothing here touches KVM. */
#ifndef FUKI_PLAN_H
#define FUKI_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_PAGE 4096ULL
#define PLAN_4G 0x100000000ULL

enum plan_platform {
	PLAN_PLAIN = 0,   /* ordinary KVM guest */
	PLAN_SNP = 1,     /* AMD SEV-SNP */
	PLAN_TDX = 2,     /* Intel TDX */
};

/* SEV-SNP page types: SEV-SNP Firmware ABI (#56860) PAGE_TYPE, mirrored by
 * linux arch/x86/include/uapi/asm/kvm.h KVM_SEV_SNP_PAGE_TYPE_*. */
enum plan_snp_page {
	PLAN_SNP_NORMAL = 1,
	PLAN_SNP_VMSA = 2,
	PLAN_SNP_ZERO = 3,
	PLAN_SNP_UNMEASURED = 4,
	PLAN_SNP_SECRETS = 5,
	PLAN_SNP_CPUID = 6,
};

enum plan_region_flags {
	PLAN_F_READONLY = 1u << 0,  /* plain guests: map read-only (firmware ROM) */
	PLAN_F_MEASURE = 1u << 1,   /* TDX: TDH.MR.EXTEND every page (MR.EXTEND attr) */
	PLAN_F_PAGE_AUG = 1u << 2,  /* TDX: added later by PAGE.AUG, not in MRTD */
	PLAN_F_ALIAS = 1u << 3,     /* plain: a second mapping of bytes already
	                               placed elsewhere (the 1 MiB BIOS alias) */
};

struct plan_region {
	uint64_t gpa;             /* page aligned */
	uint64_t size;            /* bytes, a multiple of PLAN_PAGE, > 0 */
	const uint8_t *data;      /* contents; NULL = zero-filled */
	uint64_t data_len;        /* <= size; bytes past it are zero */
	uint8_t snp_type;         /* enum plan_snp_page, for SNP plans */
	uint8_t tdx_type;         /* TDVF section type (0 BFV, 1 CFV, 2 TD_HOB,
	                             3 TempMem, ...), for TDX plans */
	unsigned flags;           /* enum plan_region_flags */
	char what[24];            /* "firmware", "SEC_MEM", "CPUID", "TD_HOB"... */
};

/* An SNP VMSA page is 4 KiB; its measured GPA is fixed by the firmware ABI. */
#define PLAN_VMSA_SIZE 4096
#define PLAN_VMSA_GPA 0x0000FFFFFFFFF000ULL

struct plan_snp {
	uint64_t policy;          /* SNP_LAUNCH_START policy */
	uint64_t sev_features;    /* VMSA SEV_FEATURES (guest_features) */
	uint32_t vcpu_sig;        /* CPUID(1).EAX placed in the VMSAs' RDX */
	uint32_t ap_reset_eip;    /* SEV-ES reset block value, 0 if none */
	bool id_block_en;
	uint8_t id_block[96];     /* KVM_SEV_SNP_ID_BLOCK_SIZE */
	uint8_t id_auth[4096];    /* KVM_SEV_SNP_ID_AUTH_SIZE */
	bool auth_key_en;
	uint8_t host_data[32];
};

struct plan_tdx {
	uint64_t attributes;
	uint64_t xfam;
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	bool two_pass;            /* legacy MRTD order: all PAGE.ADDs of a
	                             section, then all MR.EXTENDs */
	uint64_t hob_gpa;         /* TD HOB address handed to vCPUs in RCX */
};

struct launch_plan {
	enum plan_platform platform;
	struct plan_region *regions;  /* in launch (= measurement) order */
	size_t nregions, cap;
	unsigned nvcpus;
	uint8_t (*vmsa)[PLAN_VMSA_SIZE];  /* SNP: one per vCPU, vCPU order */
	uint64_t fw_gpa, fw_size;     /* where the firmware image sits */
	const uint8_t *fw;            /* the image (owned by the plan) */
	struct plan_snp snp;
	struct plan_tdx tdx;
	struct plan_buf {             /* buffers freed by plan_free() */
		void *p;
		size_t map_len;           /* mmap'ed length, 0 for malloc'ed */
		size_t len;               /* its size, either way */
	} *owned;
	size_t nowned, owned_cap;
};

void plan_init(struct launch_plan *p, enum plan_platform platform);
void plan_free(struct launch_plan *p);
/* The bytes of the buffers the plan owns: what plan_free gives back at
 * most (a lazily mapped buffer counts whole). */
size_t plan_owned_bytes(const struct launch_plan *p);
/* Append a region (copied); -EINVAL if unaligned/empty/overflowing or if
 * data_len > size, -ENOMEM. */
int plan_add_region(struct launch_plan *p, const struct plan_region *r);
/* A zeroed, page-aligned buffer of @size bytes owned by the plan.  Large
 * ones are mapped lazily: pages never written cost no host memory. */
void *plan_alloc(struct launch_plan *p, size_t size);
/* A page-aligned copy of @data owned by the plan (faulted in at once).
 * Bytes inside the range plan_borrow() named, page-aligned, are not copied:
 * the plan then points at them (and must not write through the pointer). */
void *plan_dup(struct launch_plan *p, const void *data, size_t size);
/* For a caller that keeps [@buf, @buf + @len) mapped and unchanged for as
 * long as its plans live (`fukivmm measure`: a file mapped until the exit):
 * plan_dup on this thread references those bytes instead of copying them.
 * NULL ends it.  Launch paths never borrow: their plans outlive the bytes
 * they were built from. */
void plan_borrow(const void *buf, size_t len);

/* A page-aligned, writable copy of region @r's contents, zero-filled to
 * r->size (mmap'ed: what a launch command may read and the firmware may
 * write back, e.g. SNP's corrected CPUID page).  NULL on ENOMEM.  Free it
 * with plan_region_copy_free(). */
uint8_t *plan_region_copy(const struct plan_region *r);
void plan_region_copy_free(uint8_t *buf, const struct plan_region *r);

/* Plain KVM builder: the firmware ROM mapped read-only so that its last byte
 * is at 4 GiB - 1, and its last min(size, 128 KiB) aliased to end at
 * 1 MiB - 1.  @fw is copied.  -EINVAL if the size is 0, not a multiple of
 * 4 KiB or larger than PLAN_FW_MAX. */
#define PLAN_FW_MAX (16ULL << 20)
#define PLAN_BIOS_ALIAS_MAX (128ULL << 10)
int plan_build_plain(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		     unsigned nvcpus);

#endif
