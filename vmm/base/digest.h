/* vmm/base/digest.h: SHA-256 and SHA-384 of buffers and files through
 * OpenSSL EVP: the one place on the host that names a digest algorithm for a
 * whole-buffer hash.  (Incremental hashes, as the SNP launch digest's page
 * chain, keep their own EVP_MD_CTX.) */
#ifndef FUKI_DIGEST_H
#define FUKI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA384_LEN 48

/* 0, or -EIO if OpenSSL failed (then @out is zeroed). */
int digest_sha256(const void *buf, size_t len, uint8_t out[DIGEST_SHA256_LEN]);
int digest_sha384(const void *buf, size_t len, uint8_t out[DIGEST_SHA384_LEN]);
/* The file's digest, streamed in blocks (kernels and initrds may be large):
 * 0, or -errno with a message in @err ("cannot open 'PATH': ...",
 * "cannot read 'PATH': ...", or -EIO "SHA-256 failed"). */
int digest_file_sha256(const char *path, uint8_t out[DIGEST_SHA256_LEN], char *err, size_t errlen);
int digest_file_sha384(const char *path, uint8_t out[DIGEST_SHA384_LEN], char *err, size_t errlen);

#endif
