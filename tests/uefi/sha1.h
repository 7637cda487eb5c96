/* tests/uefi/sha1.h: a small SHA-1 (FIPS 180-4) for the UEFI F-UKI client,
 * used for the CHIDs (UUIDv5) when the firmware has no EFI_HASH2_PROTOCOL,
 * and for the hand-over record.  Freestanding: no libc, so the same file
 * builds into the client and into the host test (tests/unit/), which checks
 * it against OpenSSL.  Not for anything that needs collision resistance. */
#ifndef FUKI_UEFI_SHA1_H
#define FUKI_UEFI_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define FK_SHA1_LEN 20

struct fk_sha1 {
	uint32_t h[5];
	uint64_t bytes;          /* message length so far */
	uint8_t buf[64];
	unsigned fill;           /* bytes in buf */
};

void fk_sha1_init(struct fk_sha1 *c);
void fk_sha1_update(struct fk_sha1 *c, const void *data, size_t len);
void fk_sha1_final(struct fk_sha1 *c, uint8_t out[FK_SHA1_LEN]);
void fk_sha1(const void *data, size_t len, uint8_t out[FK_SHA1_LEN]);

#endif
