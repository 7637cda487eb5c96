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
		return -EIO;
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

static int digest_file(const EVP_MD *md, const char *name, const char *path, uint8_t *out,
		       unsigned want, char *err, size_t errlen)
{
	uint8_t blk[16384];
	EVP_MD_CTX *ctx;
	unsigned n = 0;
	int fd, r = 0;
	ssize_t got;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL)) {
		r = err_set(err, errlen, -EIO, "%s unavailable", name);
		goto out;
	}
	while ((got = read(fd, blk, sizeof(blk))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = err_set(err, errlen, -errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, blk, (size_t)got)) {
			r = err_set(err, errlen, -EIO, "%s failed", name);
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, &n) || n != want)
		r = err_set(err, errlen, -EIO, "%s failed", name);
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

int digest_file_sha256(const char *path, uint8_t out[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	return digest_file(EVP_sha256(), "SHA-256", path, out, DIGEST_SHA256_LEN, err, errlen);
}

int digest_file_sha384(const char *path, uint8_t out[DIGEST_SHA384_LEN], char *err, size_t errlen)
{
	return digest_file(EVP_sha384(), "SHA-384", path, out, DIGEST_SHA384_LEN, err, errlen);
}
