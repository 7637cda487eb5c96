/* devices/doorbell.h: the firmware-swap doorbell, fw_cfg file
 * "etc/vmlaunchupdate" (guest ABI in docs/doorbell.md).
 * Owns: the 56-byte host-owned shadow struct, the accepted guest image (one
 * host copy, hashed and validated at write time, on a worker thread of its
 * own for writes through fw_cfg DMA), the one-shot / disable state, host
 * policy, events and counters.  Does not build plans, parse
 * IGVM or touch KVM: the VMM asks it at reset which firmware to build. */
#ifndef FUKI_DOORBELL_H
#define FUKI_DOORBELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fwcfg;
struct guestmem;

/* fw_cfg file name and struct size: QEMU docs/specs/vmlaunchupdate.rst and
 * include/standard-headers/misc/vmlaunchupdate.h (FILE_VMLAUNCHUPDATE). */
#define DOORBELL_FILE "etc/vmlaunchupdate"
#define DOORBELL_STRUCT_SIZE 56
#define DOORBELL_VERSION 1

/* Field offsets in the little-endian struct (same sources). */
#define DOORBELL_OFF_VERSION      0    /* u16 */
#define DOORBELL_OFF_STATUS       2    /* u16 */
#define DOORBELL_OFF_PAD          4    /* u32 */
#define DOORBELL_OFF_CAPABILITIES 8    /* u64 */
#define DOORBELL_OFF_CONTROL      16   /* u64 */
#define DOORBELL_OFF_IMAGE_ADDR   24   /* u64 */
#define DOORBELL_OFF_IMAGE_SIZE   32   /* u64 */
#define DOORBELL_OFF_OPAQUE_ADDR  40   /* u64 */
#define DOORBELL_OFF_OPAQUE_SIZE  48   /* u64 */

/* control bits: QEMU vmlaunchupdate.h VM_LAUNCHUPDATE_CTL_* */
#define DOORBELL_CTL_DISABLE    (UINT64_C(1) << 0)
#define DOORBELL_CTL_HOST_IGVM  (UINT64_C(1) << 1)   /* "back to the host firmware",
                                                 whatever its format */
/* format bits, in capabilities and control: FORMAT_IGVM is QEMU's
 * VM_LAUNCHUPDATE_FORMAT_IGVM; FORMAT_RAW_ROM is fukivmm's use of Gerd
 * Hoffmann's unmerged VMFWUPDATE_FORMAT_PLATFORM_ROM (qemu-devel, March 2025,
 * "vmfwupdate interface rewrite"), not upstream ABI. */
#define DOORBELL_FORMAT_IGVM    (UINT64_C(1) << 32)
#define DOORBELL_FORMAT_RAW_ROM (UINT64_C(1) << 33)
#define DOORBELL_FORMAT_MASK    (DOORBELL_FORMAT_IGVM | DOORBELL_FORMAT_RAW_ROM)
#define DOORBELL_CTL_KNOWN      (DOORBELL_CTL_DISABLE | DOORBELL_CTL_HOST_IGVM | \
				 DOORBELL_FORMAT_MASK)

/* status codes: 0..2 QEMU enum VMLaunchUpdateStatus; 3..8 fukivmm's. */
enum doorbell_status {
	DOORBELL_SUCCESS = 0,
	DOORBELL_LOAD_FAIL = 1,
	DOORBELL_NOT_IGVM_INIT = 2,   /* QEMU's; fukivmm never sets it */
	DOORBELL_TOO_LARGE = 3,
	DOORBELL_BAD_RANGE = 4,
	DOORBELL_RATE_LIMITED = 5,
	DOORBELL_DENIED = 6,
	DOORBELL_BAD_FORMAT = 7,
	DOORBELL_MALFORMED = 8,
};

/* Raw ROM images end at 4 GiB - 1 and are at most this large unless the
 * config says less (matches loader/plan.h PLAN_FW_MAX). */
#define DOORBELL_RAW_ROM_MAX (16ULL << 20)
/* No policy may let a guest make the host allocate more than this. */
#define DOORBELL_IMAGE_HARD_MAX (256ULL << 20)

struct doorbell_policy {
	bool enabled;                   /* false: nothing advertised, swaps DENIED */
	uint64_t max_image_size;        /* bytes, <= DOORBELL_IMAGE_HARD_MAX */
	uint64_t max_opaque_size;       /* bytes */
	uint64_t min_reset_interval_ns; /* between a rebuild and the next swap */
	bool locked;                    /* host lock: swaps DENIED */
};

/* The VMM's check of an image copy (IGVM parse, OVMF metadata, the plan
 * laid out against the memory map...).  0 to accept; a negative errno code
 * to reject, with a short reason in @why: -ERANGE gives BAD_RANGE (a region
 * outside what the memory map allows), -E2BIG TOO_LARGE (over a host
 * limit: the memory budget, the memory map's table), -ENOMEM LOAD_FAIL,
 * anything else MALFORMED.  For a write through fw_cfg DMA it runs on the
 * doorbell's worker thread, under no lock, while the guest's transfer stays
 * in progress; otherwise on the caller's thread with the device lock held.
 * Either way it must not call back into the doorbell, and the events of
 * that write are delivered on the same thread right after it. */
typedef int (*doorbell_validate_fn)(void *opaque, uint64_t format,
				    const uint8_t *img, size_t len,
				    char *why, size_t whylen);

enum doorbell_event_kind {
	DOORBELL_EV_REQUESTED = 0,  /* image copied and hashed, before validate */
	DOORBELL_EV_ACCEPTED,       /* image is now the pending one */
	DOORBELL_EV_REJECTED,       /* status + reason */
	DOORBELL_EV_DISABLED,       /* guest wrote CTL_DISABLE */
	DOORBELL_EV_HOST_ARMED,     /* next reset restores the host firmware */
	DOORBELL_EV_APPLIED,        /* reset: firmware chosen (format 0 = host) */
	DOORBELL_EV_DROPPED,        /* reset: pending image dropped by policy,
	                               or a guest image failed to build */
};

struct doorbell_event {
	enum doorbell_event_kind kind;
	uint64_t format;            /* DOORBELL_FORMAT_* or 0 */
	uint64_t addr, size;        /* the guest's image range, if any */
	bool has_digest;
	uint8_t sha384[48];
	uint16_t status;            /* enum doorbell_status */
	const char *reason;         /* never NULL; "" when none */
};

typedef void (*doorbell_event_fn)(void *opaque, const struct doorbell_event *ev);
typedef uint64_t (*doorbell_clock_fn)(void *opaque);

struct doorbell_config {
	const struct guestmem *gm;      /* must outlive the device */
	struct doorbell_policy policy;
	bool raw_rom;                   /* accept FORMAT_RAW_ROM */
	bool igvm;                      /* accept FORMAT_IGVM (needs validate) */
	uint64_t max_raw_rom_size;      /* 0: DOORBELL_RAW_ROM_MAX */
	uint64_t fw_gpa, fw_size;       /* firmware region images may not touch */
	doorbell_validate_fn validate;  /* may be NULL for raw ROM only */
	void *validate_opaque;
	doorbell_event_fn event;        /* may be NULL */
	void *event_opaque;
	doorbell_clock_fn clock;        /* NULL: CLOCK_MONOTONIC */
	void *clock_opaque;
};

/* One accepted guest image: the host copy and its digest. */
struct doorbell_image {
	uint64_t format;                /* DOORBELL_FORMAT_IGVM or _RAW_ROM */
	uint8_t *data;
	size_t len;
	uint8_t sha384[48];
};

enum doorbell_fw_choice {
	DOORBELL_FW_UNCHANGED = 0,  /* same firmware as the last build */
	DOORBELL_FW_GUEST = 1,      /* a newly accepted guest image */
	DOORBELL_FW_HOST = 2,       /* back to the host's original firmware */
};

struct doorbell_stats {
	uint64_t accepted;          /* image writes accepted */
	uint64_t rejected;          /* writes that ended with a non-zero status */
	uint64_t swaps;             /* resets that changed the firmware */
};

struct doorbell;

/* NULL with a log line on a bad config (no gm, policy over the hard cap,
 * IGVM without validate) or out of memory. */
struct doorbell *doorbell_create(const struct doorbell_config *cfg);
void doorbell_destroy(struct doorbell *db);
/* Register "etc/vmlaunchupdate" (56 bytes, writable) on @fw. */
int doorbell_attach(struct doorbell *db, struct fwcfg *fw);

/* The fw_cfg callbacks (exposed for tests and the fuzzer).  @opaque is the
 * struct doorbell.  The written bytes are already in doorbell_buffer(). */
void doorbell_fwcfg_select(void *opaque);
void doorbell_fwcfg_write(void *opaque, uint64_t offset, uint64_t len);
/* The 56-byte buffer fw_cfg reads from and writes into. */
uint8_t *doorbell_buffer(struct doorbell *db);

/* Host policy, thread-safe.  -EINVAL for sizes over the hard cap. */
int doorbell_set_policy(struct doorbell *db, const struct doorbell_policy *p);
void doorbell_get_policy(struct doorbell *db, struct doorbell_policy *p);
/* Where the firmware of the current build sits (images may not overlap). */
void doorbell_set_fw_region(struct doorbell *db, uint64_t gpa, uint64_t size);

/* Reset path, called with the vCPUs stopped.  Decides which firmware the
 * next build uses and moves the state on (one-shot arming, pending image
 * becomes current).  *@img is the guest image to build from (owned by the
 * device, valid until the next take_pending/on_rebuilt/destroy), or NULL
 * when the host firmware is to be used; it is set for UNCHANGED too, so
 * "*img ? guest image : host firmware" is always right. */
enum doorbell_fw_choice doorbell_take_pending(struct doorbell *db,
					      const struct doorbell_image **img);
/* After the build: @result 0 restarts the rate-limit clock.  A negative
 * @result means the VMM could not build from the guest image it was given;
 * the device falls back to the host firmware (as a host restore does) and
 * the VMM must build that. */
void doorbell_on_rebuilt(struct doorbell *db, int result);
/* Wait until no image check is in flight (doorbell_take_pending() does
 * this itself; for tests and callers that read the state after a DMA). */
void doorbell_quiesce(struct doorbell *db);

/* Guest-visible state, for tests, the control socket and logs. */
void doorbell_get_stats(struct doorbell *db, struct doorbell_stats *st);
bool doorbell_is_disabled(struct doorbell *db);
void doorbell_get_opaque(struct doorbell *db, uint64_t *addr, uint64_t *size);
/* Copies the pending image's digest; false if none is pending. */
bool doorbell_pending_digest(struct doorbell *db, uint8_t sha384[48]);
/* What the next reset will build if nothing changes before it, as
 * doorbell_take_pending() would decide it now: DOORBELL_FW_GUEST with the
 * pending image's digest in @sha384, DOORBELL_FW_HOST when it goes back to
 * the host's firmware (a one-shot image runs, or CTL_HOST_IGVM was
 * written), DOORBELL_FW_UNCHANGED when the firmware stays (nothing pending,
 * or a pending image the host policy would drop).  Changes nothing. */
enum doorbell_fw_choice doorbell_peek_next(struct doorbell *db, uint8_t sha384[48]);

const char *doorbell_status_name(unsigned status);
const char *doorbell_event_name(enum doorbell_event_kind kind);
/* One "key=value ..." line for @ev (no newline); returns snprintf's count. */
int doorbell_event_format(const struct doorbell_event *ev, char *buf, size_t len);

#endif
