/* snp/snp.h: AMD SEV-SNP launch plan, VMSAs, launch digest, kernel hashes,
 * vCPU signatures and the ID block.
 * Owns: everything that decides what an SNP guest's MEASUREMENT is.  Pure
 * functions of bytes and parameters: nothing here touches KVM or /dev/sev
 * (the launch sequence walks the plan built here). */
#ifndef FUKI_SNP_H
#define FUKI_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/ovmf.h"
#include "loader/plan.h"

#define SNP_DIGEST_LEN 48          /* SHA-384 */
#define SNP_ID_BLOCK_SIZE 96       /* SEV-SNP FW ABI #56860 Table "ID_BLOCK" */
#define SNP_ID_AUTH_SIZE 4096      /* Table "ID_AUTH_INFO" */
#define SNP_MAX_VCPUS 512

/* Whose launch the measurement reproduces: the VMSA register values and
 * the plan's page types differ between QEMU, AWS EC2 and Google GCE
 * (virtee/sev-snp-measure --vmm-type). */
enum snp_vmm_type { SNP_VMM_QEMU, SNP_VMM_EC2, SNP_VMM_GCE };

/* ---- vCPU signatures (CPUID Fn0000_0001 EAX; AMD CPUID spec #25481) ---- */
uint32_t snp_vcpu_sig(unsigned family, unsigned model, unsigned stepping);
/* QEMU model names as virtee/sev-snp-measure vcpu_types.py accepts them
 * ("EPYC-v4", "EPYC-Milan", ...), case-insensitive.  -ENOENT if unknown. */
int snp_vcpu_sig_from_name(const char *name, uint32_t *sig);
/* The i-th known model name, NULL past the end (for usage messages). */
const char *snp_vcpu_name(size_t i);

/* ---- VMSA (AMD APM vol. 2 Table B-4; values as KVM/QEMU set them) ---- */
#define SNP_BSP_EIP 0xfffffff0u
void snp_vmsa_build(uint8_t page[PLAN_VMSA_SIZE], uint32_t eip, uint32_t vcpu_sig,
		    uint64_t sev_features, enum snp_vmm_type vmm);

/* ---- measured direct boot: SEV hash table (QEMU target/i386/sev.c) ---- */
#define SNP_HASH_TABLE_LEN 168     /* SevHashTable */
#define SNP_HASH_TABLE_PADDED 176  /* PaddedSevHashTable */

struct snp_params {
	unsigned nvcpus;
	uint32_t vcpu_sig;             /* CPUID(1).EAX in RDX (QEMU only) */
	enum snp_vmm_type vmm_type;
	uint64_t sev_features;         /* VMSA SEV_FEATURES, default 0x1 */
	uint64_t policy;               /* SNP_LAUNCH_START policy, default 0x30000 */
	/* Measured direct boot: the KERNEL_HASHES section becomes a NORMAL
	 * page holding the hash table built from these SHA-256 digests. */
	bool kernel_hashes;
	uint8_t kernel_sha256[32], initrd_sha256[32], cmdline_sha256[32];
	uint8_t host_data[32];
	bool id_block_en;
	uint8_t id_block[SNP_ID_BLOCK_SIZE];
	uint8_t id_auth[SNP_ID_AUTH_SIZE];
	bool auth_key_en;
};

/* Defaults: 1 vCPU, QEMU, sev_features 0x1, policy 0x30000, no kernel. */
void snp_params_init(struct snp_params *sp);
/* Turn kernel hashes on from the bytes: kernel (required), initrd (NULL =
 * empty), cmdline (NULL = empty; hashed with its terminating NUL). */
int snp_params_set_kernel(struct snp_params *sp, const void *kernel, size_t klen,
			  const void *initrd, size_t ilen, const char *cmdline);
/* SHA-256 of @cmdline plus its NUL, as QEMU hashes -append. */
int snp_cmdline_sha256(const char *cmdline, uint8_t out[32]);
/* The 176-byte padded table (cmdline, initrd, kernel entries). */
void snp_hash_table_build(const struct snp_params *sp, uint8_t out[SNP_HASH_TABLE_PADDED]);

/* ---- the plan ----
 * Regions in launch order (QEMU queues the firmware at flash set-up and
 * appends the metadata pages in sev_snp_launch_finish, then issues the queue
 * in order):
 *   1. firmware image, NORMAL pages at 4 GiB - size      (what = "firmware")
 *   2. SEV metadata items in metadata order: SEC_MEM -> ZERO (UNMEASURED
 *      for gce), SECRETS, CPUID (ec2: all CPUID pages after every other
 *      item), SVSM_CAA -> ZERO, KERNEL_HASHES -> NORMAL page with the hash
 *      table when kernel hashes are on, else ZERO.  Zero-size items are
 *      skipped (they measure nothing).  CPUID regions carry no data: the
 *      launcher fills the table from the vCPU CPUID; it is not hashed.
 *   3. one VMSA per vCPU in p->vmsa (BSP, then APs at the reset block).
 * -EINVAL with one line in @err for anything the firmware or parameters
 * make impossible. */
int snp_build_plan(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		   const struct snp_params *sp, char *err, size_t errlen);
/* Same from already parsed metadata; @fw may be NULL (fw_len 0) to build a
 * plan without the firmware stage, for use with a seed digest. */
int snp_build_plan_info(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
			const struct ovmf_info *info, const struct snp_params *sp,
			char *err, size_t errlen);

/* ---- the digest (SEV-SNP FW ABI #56860 SNP_LAUNCH_UPDATE, PAGE_INFO) ---- */
struct snp_digest_stages {
	uint8_t firmware[SNP_DIGEST_LEN];  /* after the firmware pages (the
	                                      sev-snp-measure snp:ovmf-hash) */
	uint8_t metadata[SNP_DIGEST_LEN];  /* after the metadata pages */
	uint8_t final[SNP_DIGEST_LEN];     /* after the VMSAs = MEASUREMENT */
};
int snp_measure_plan(const struct launch_plan *p, struct snp_digest_stages *out);
/* Start from @seed as the digest after the firmware: the plan's firmware
 * regions are skipped (out->firmware = seed). */
int snp_measure_plan_seeded(const struct launch_plan *p, const uint8_t seed[SNP_DIGEST_LEN],
			    struct snp_digest_stages *out);
/* One PAGE_INFO fold: ld = SHA-384(PAGE_INFO{ld, contents, type, gpa}). */
int snp_digest_fold(uint8_t ld[SNP_DIGEST_LEN], const uint8_t contents[SNP_DIGEST_LEN],
		    uint8_t page_type, uint64_t gpa);

/* ---- ID block and ID authentication (FW ABI #56860 SNP_LAUNCH_FINISH) ---- */
struct snp_id_params {
	uint8_t ld[SNP_DIGEST_LEN];
	uint8_t family_id[16], image_id[16];
	uint32_t version;              /* 1 */
	uint32_t guest_svn;
	uint64_t policy;
};
#define SNP_ECDSA_P384_SHA384 1u   /* ID_KEY_ALGO / AUTH_KEY_ALGO */
#define SNP_CURVE_P384 2u
#define SNP_PUBKEY_SIZE 1028       /* Table "ECDSA Public Key" */
#define SNP_SIG_SIZE 512           /* Table "ECDSA Signature" */
#define SNP_ID_AUTH_BLOCK_SIG 0x040
#define SNP_ID_AUTH_ID_KEY 0x240
#define SNP_ID_AUTH_ID_KEY_SIG 0x680
#define SNP_ID_AUTH_AUTHOR_KEY 0x880

struct evp_pkey_st;
/* Load an EC P-384 private key from a PEM file; NULL and @err on failure. */
struct evp_pkey_st *snp_key_load(const char *path, char *err, size_t errlen);
/* The firmware's public-key format and SHA-384 of it (ID_KEY_DIGEST). */
int snp_pubkey_encode(struct evp_pkey_st *key, uint8_t out[SNP_PUBKEY_SIZE]);
/* ECDSA P-384/SHA-384 over @msg, r and s little-endian, zero padded to 72. */
int snp_sign(struct evp_pkey_st *key, const void *msg, size_t len, uint8_t sig[SNP_SIG_SIZE]);
/* Build both structures; @author may be NULL (AUTHOR_KEY_EN = 0). */
int snp_id_block_build(const struct snp_id_params *ip, struct evp_pkey_st *id_key,
		       struct evp_pkey_st *author, uint8_t block[SNP_ID_BLOCK_SIZE],
		       uint8_t auth[SNP_ID_AUTH_SIZE], uint8_t id_key_digest[SNP_DIGEST_LEN],
		       uint8_t author_key_digest[SNP_DIGEST_LEN], char *err, size_t errlen);

#endif
