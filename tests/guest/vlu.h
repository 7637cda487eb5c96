/* tests/guest/vlu.h: the guest view of fw_cfg file etc/vmlaunchupdate.
 * Source: QEMU include/standard-headers/misc/vmlaunchupdate.h and
 * docs/specs/vmlaunchupdate.rst (@ eea8fe61b8be); FORMAT_RAW_ROM and status
 * codes 3..8 are fukivmm extensions.  Owns constants and helpers only. */
#ifndef GUEST_VLU_H
#define GUEST_VLU_H

#include "rt.h"

#define VLU_FILE            "etc/vmlaunchupdate"
#define VLU_VERSION         1
#define VLU_CTL_DISABLE     (1ull << 0)
#define VLU_CTL_HOST_IGVM   (1ull << 1)
#define VLU_FORMAT_IGVM     (1ull << 32)
#define VLU_FORMAT_RAW_ROM  (1ull << 33)   /* fukivmm: raw ROM ending at 4 GiB - 1 */

enum vlu_status {
	VLU_SUCCESS = 0, VLU_LOAD_FAIL = 1, VLU_NOT_IGVM_INIT = 2, VLU_TOO_LARGE = 3,
	VLU_BAD_RANGE = 4, VLU_RATE_LIMITED = 5, VLU_DENIED = 6, VLU_BAD_FORMAT = 7,
	VLU_MALFORMED = 8,
};

struct vlu {                 /* 56 bytes, little-endian (x86: host order) */
	uint16_t version;
	uint16_t status;
	uint32_t pad;
	uint64_t capabilities;
	uint64_t control;
	uint64_t fw_image_addr;
	uint64_t fw_image_size;
	uint64_t opaque_addr;
	uint64_t opaque_size;
} __attribute__((packed));

_Static_assert(sizeof(struct vlu) == 56, "etc/vmlaunchupdate is 56 bytes");

/* Finds the file (FAILs with a clear line when it is absent or not 56
 * bytes) and returns its key. */
static inline uint16_t vlu_find(const char *who)
{
	uint16_t key;
	uint32_t size;

	if (!gfw_has_dma())
		guest_fail("%s: fw_cfg has no DMA interface", who);
	if (gfw_find_file(VLU_FILE, &key, &size) != 0)
		guest_fail("%s: fw_cfg file %s not found", who, VLU_FILE);
	if (size != sizeof(struct vlu))
		guest_fail("%s: %s is %u bytes, expected %u", who, VLU_FILE, size,
			   (uint32_t)sizeof(struct vlu));
	return key;
}

static inline void vlu_read(const char *who, uint16_t key, struct vlu *v)
{
	if (gfw_dma_read(key, v, sizeof(*v)) != 0)
		guest_fail("%s: DMA read of %s failed", who, VLU_FILE);
}

#endif
