/* vmm/base/digest.c: see digest.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vmm/base/digest.h"
#include "vmm/base/err.h"

static int digest_buf(const EVP_MD *md, const void *buf, size_t len, uint8_t *out, unsigned want)
{
	unsigned n = 0;

	if (!EVP_Digest(buf, len, out, &n, md, NULL) || n != want) {
		memset(out, 0, want);
		return -1;
	}
	return 0;
}

int digest_sha256(const void *buf, size_t len, uint8_t out[DIGEST_SHA256_LEN])
{
	return digest_buf(EVP_sha256(), buf, len, out, DIGEST_SHA256_LEN);
}

int digest_sha384(const void *buf, size_t len, uint8_t out[DIGEST_SHA384_LEN])
{
	return digest_buf(EVP_sha384(), buf, len, out, DIGEST_SHA384_LEN);
}

static int digest_file(const EVP_MD *md, const char *path, uint8_t *out, unsigned want,
		       char *err, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t blk[65536];
	unsigned n = 0;
	int fd, r = 0;

	if (!ctx)
		return err_set(err, errlen, -ENOMEM, "%s: out of memory", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		EVP_MD_CTX_free(ctx);
		return err_set(err, errlen, r, "%s: %s", path, strerror(-r));
	}
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		r = -EIO;
	while (!r) {
		ssize_t got = read(fd, blk, sizeof(blk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		if (!EVP_DigestUpdate(ctx, blk, (size_t)got))
			r = -EIO;
	}
	if (!r && (!EVP_DigestFinal_ex(ctx, out, &n) || n != want))
		r = -EIO;
	close(fd);
	EVP_MD_CTX_free(ctx);
	if (r)
		return err_set(err, errlen, r, "%s: %s", path, r == -EIO ? "digest failed" : strerror(-r));
	return 0;
}

int digest_file_sha256(const char *path, uint8_t out[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	return digest_file(EVP_sha256(), path, out, DIGEST_SHA256_LEN, err, errlen);
}

int digest_file_sha384(const char *path, uint8_t out[DIGEST_SHA384_LEN], char *err, size_t errlen)
{
	return digest_file(EVP_sha384(), path, out, DIGEST_SHA384_LEN, err, errlen);
}
