/* snp/hashes.c: the SEV hash table of measured direct boot (kernel, initrd,
 * cmdline SHA-256), as QEMU target/i386/sev.c builds it and OVMF checks it.
 * Owns the table bytes and the digests; not where the page goes. */
#include "snp/snp.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "vmm/base/guid.h"

/* GUIDs: QEMU target/i386/sev.c, edk2
 * OvmfPkg/Library/BlobVerifierLib/BlobVerifierSevHashes.c */
/* the table header */
static const uint8_t guid_table[GUID_LEN] =
	UEFI_GUID(0x9438d606, 0x4f22, 0x4cc9, 0xb479, 0xa793d411fd21);
/* the command line entry */
static const uint8_t guid_cmdline[GUID_LEN] =
	UEFI_GUID(0x97d02dd8, 0xbd20, 0x4c94, 0xaa78, 0xe7714d36ab2a);
/* the initrd entry */
static const uint8_t guid_initrd[GUID_LEN] =
	UEFI_GUID(0x44baf731, 0x3a2f, 0x4bd7, 0x9af1, 0x41e29169781d);
/* the kernel entry */
static const uint8_t guid_kernel[GUID_LEN] =
	UEFI_GUID(0x4de79437, 0xabd2, 0x427f, 0xb835, 0xd5b172d2045b);

#define ENTRY_LEN 50  /* SevHashTableEntry: GUID, u16 len, u8 hash[32] */

static int sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
		 EVP_DigestFinal_ex(ctx, out, NULL);

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int snp_cmdline_sha256(const char *cmdline, uint8_t out[32])
{
	static const char nul = '\0';

	if (!cmdline)
		cmdline = "";
	return sha256(cmdline, strlen(cmdline), &nul, 1, out);
}

void snp_params_init(struct snp_params *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->nvcpus = 1;
	sp->vmm_type = SNP_VMM_QEMU;
	sp->sev_features = 0x1;
	sp->policy = 0x30000;
}

int snp_params_set_kernel(struct snp_params *sp, const void *kernel, size_t klen,
			  const void *initrd, size_t ilen, const char *cmdline)
{
	int ret;

	if (!kernel && klen)
		return -EINVAL;
	ret = sha256(kernel ? kernel : "", klen, "", 0, sp->kernel_sha256);
	if (!ret)
		ret = sha256(initrd ? initrd : "", initrd ? ilen : 0, "", 0, sp->initrd_sha256);
	if (!ret)
		ret = snp_cmdline_sha256(cmdline, sp->cmdline_sha256);
	if (!ret)
		sp->kernel_hashes = true;
	return ret;
}

static void entry(uint8_t *p, const uint8_t guid[16], const uint8_t hash[32])
{
	memcpy(p, guid, 16);
	p[16] = ENTRY_LEN;
	p[17] = 0;
	memcpy(p + 18, hash, 32);
}

void snp_hash_table_build(const struct snp_params *sp, uint8_t out[SNP_HASH_TABLE_PADDED])
{
	memset(out, 0, SNP_HASH_TABLE_PADDED);
	memcpy(out, guid_table, 16);
	out[16] = SNP_HASH_TABLE_LEN;
	out[17] = 0;
	entry(out + 18, guid_cmdline, sp->cmdline_sha256);
	entry(out + 18 + ENTRY_LEN, guid_initrd, sp->initrd_sha256);
	entry(out + 18 + 2 * ENTRY_LEN, guid_kernel, sp->kernel_sha256);
}
