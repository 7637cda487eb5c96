/* snp/idblock.c: the SEV-SNP ID block and ID authentication structure that
 * SNP_LAUNCH_FINISH checks (ECDSA P-384 / SHA-384 through OpenSSL).  Owns
 * their byte layout and signing; not where they are stored or passed. */
#include "snp/snp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "vmm/base/digest.h"
#include "vmm/base/err.h"
#include "vmm/base/le.h"

EVP_PKEY *snp_key_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;
	char curve[64] = "";

	if (!f) {
		err_set(err, errlen, -errno, "cannot open key '%s': %s", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		err_set(err, errlen, -EINVAL, "'%s' holds no PEM private key", path);
		return NULL;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve,
					    sizeof(curve), NULL) ||
	    strcmp(curve, "secp384r1") != 0) {
		err_set(err, errlen, -EINVAL, "key '%s' is not an EC P-384 key (curve '%s')",
		     path, curve);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* SEV-SNP FW ABI #56860 "ECDSA Public Key": u32 CURVE (2 = P-384),
 * QX[72] and QY[72] little-endian zero-extended, reserved to 0x404. */
int snp_pubkey_encode(EVP_PKEY *key, uint8_t out[SNP_PUBKEY_SIZE])
{
	BIGNUM *x = NULL, *y = NULL;
	int ok;

	memset(out, 0, SNP_PUBKEY_SIZE);
	ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
	     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) &&
	     BN_bn2lebinpad(x, out + 4, 72) == 72 &&
	     BN_bn2lebinpad(y, out + 4 + 72, 72) == 72;
	le_wr32(out, SNP_CURVE_P384);
	BN_free(x);
	BN_free(y);
	return ok ? 0 : -EINVAL;
}

/* "ECDSA Signature": R[72] and S[72] little-endian zero-extended, reserved
 * to 0x200. */
int snp_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[SNP_SIG_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[256];
	size_t dlen = sizeof(der);
	const unsigned char *dp = der;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int ret = -EIO;

	memset(sig, 0, SNP_SIG_SIZE);
	if (!ctx || !EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) ||
	    !EVP_DigestSign(ctx, der, &dlen, msg, len))
		goto out;
	es = d2i_ECDSA_SIG(NULL, &dp, (long)dlen);
	if (!es)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2lebinpad(r, sig, 72) != 72 || BN_bn2lebinpad(s, sig + 72, 72) != 72)
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return ret;
}

int snp_id_block_build(const struct snp_id_params *ip, EVP_PKEY *id_key, EVP_PKEY *author,
		       uint8_t block[SNP_ID_BLOCK_SIZE], uint8_t auth[SNP_ID_AUTH_SIZE],
		       uint8_t id_key_digest[SNP_DIGEST_LEN],
		       uint8_t author_key_digest[SNP_DIGEST_LEN], char *err, size_t errlen)
{
	uint8_t *idpub = auth + SNP_ID_AUTH_ID_KEY;
	uint8_t *authpub = auth + SNP_ID_AUTH_AUTHOR_KEY;

	/* "ID_BLOCK": 0x00 LD[48], 0x30 FAMILY_ID[16], 0x40 IMAGE_ID[16],
	 * 0x50 u32 VERSION, 0x54 u32 GUEST_SVN, 0x58 u64 POLICY. */
	memset(block, 0, SNP_ID_BLOCK_SIZE);
	memcpy(block, ip->ld, SNP_DIGEST_LEN);
	memcpy(block + 0x30, ip->family_id, 16);
	memcpy(block + 0x40, ip->image_id, 16);
	le_wr32(block + 0x50, ip->version);
	le_wr32(block + 0x54, ip->guest_svn);
	le_wr64(block + 0x58, ip->policy);

	/* "ID_AUTH_INFO": 0x00 u32 ID_KEY_ALGO, 0x04 u32 AUTH_KEY_ALGO,
	 * 0x40 ID_BLOCK_SIG, 0x240 ID_KEY, 0x680 ID_KEY_SIG, 0x880 AUTHOR_KEY. */
	memset(auth, 0, SNP_ID_AUTH_SIZE);
	memset(id_key_digest, 0, SNP_DIGEST_LEN);
	memset(author_key_digest, 0, SNP_DIGEST_LEN);
	le_wr32(auth, SNP_ECDSA_P384_SHA384);
	if (snp_pubkey_encode(id_key, idpub))
		return err_set(err, errlen, -EINVAL, "cannot encode the ID public key");
	if (snp_sign(id_key, block, SNP_ID_BLOCK_SIZE, auth + SNP_ID_AUTH_BLOCK_SIG))
		return err_set(err, errlen, -EIO, "signing the ID block failed");
	if (digest_sha384(idpub, SNP_PUBKEY_SIZE, id_key_digest))
		return err_set(err, errlen, -EIO, "SHA-384 failed");
	if (author) {
		le_wr32(auth + 4, SNP_ECDSA_P384_SHA384);
		if (snp_pubkey_encode(author, authpub))
			return err_set(err, errlen, -EINVAL, "cannot encode the author public key");
		if (snp_sign(author, idpub, SNP_PUBKEY_SIZE, auth + SNP_ID_AUTH_ID_KEY_SIG))
			return err_set(err, errlen, -EIO, "signing the ID key failed");
		if (digest_sha384(authpub, SNP_PUBKEY_SIZE, author_key_digest))
			return err_set(err, errlen, -EIO, "SHA-384 failed");
	}
	return 0;
}
