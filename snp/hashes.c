/* snp/hashes.c: the SEV hash table of measured direct boot (kernel, initrd,
 * cmdline SHA-256), as QEMU target/i386/sev.c builds it and OVMF checks it.
 * Owns the table bytes and the digests; not where the page goes. */
#include "snp/snp.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

/* GUIDs (UEFI layout): QEMU target/i386/sev.c, edk2
 * OvmfPkg/Library/BlobVerifierLib/BlobVerifierSevHashes.c */
/* 9438d606-4f22-4cc9-b479-a793d411fd21 */
static const uint8_t guid_table[16] = {
	0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
	0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21 };
/* 97d02dd8-bd20-4c94-aa78-e7714d36ab2a */
static const uint8_t guid_cmdline[16] = {
	0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
	0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a };
/* 44baf731-3a2f-4bd7-9af1-41e29169781d */
static const uint8_t guid_initrd[16] = {
	0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
	0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d };
/* 4de79437-abd2-427f-b835-d5b172d2045b */
static const uint8_t guid_kernel[16] = {
	0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
	0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b };

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
