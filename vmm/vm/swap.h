/* vmm/vm/swap.h: which firmware a build runs.
 * Owns: the host's [firmware] image (mapped read-only for the VM's life) and
 * its digest, the SHA-256 of the [kernel] bytes every plan's kernel hashes
 * use, the [uki]'s firmware table (to name swapped-in images), the
 * doorbell's validation and event callbacks, and the choice at every reset
 * between the doorbell's image and the host's; the launch measurements
 * of those images (SEV-SNP / TDX), each computed once per plan. */
#ifndef FUKI_SWAP_H
#define FUKI_SWAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/doorbell.h"
#include "loader/plan.h"
#include "vmm/base/fileio.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/ratelimit.h"
#include "vmm/base/thread.h"
#include "vmm/config/config.h"
#include "vmm/launch/launch.h"
#include "vmm/launch/planbuild.h"

struct swap_uki_fw {
	char *fwid;
	uint8_t sha384[48];
};

/* A launch measurement kept with the image it belongs to. */
struct swap_measured {
	bool valid;
	bool launched;                 /* measured from a plan handed to launch_build */
	uint8_t sha384[48];            /* the image's SHA-384 */
	struct launch_measurement m;
};

struct swap {
	const struct vm_config *cfg;
	struct file_map host_fw_map;   /* the [firmware] file, mapped read-only */
	const uint8_t *host_fw;
	size_t host_fw_len;
	/* its SHA-384, hashed by a helper of swap_open while the first VM is
	 * built (the first hash of a process also initialises OpenSSL: about
	 * 0.3 ms here); read through swap_host_sha384() */
	struct helper hash;
	bool hashing;                  /* hash started (swap_open got that far) */
	uint8_t host_fw_sha384[48];
	/* SHA-256 of the [kernel] bytes served through fw_cfg (read once at
	 * start-up): every SNP plan's kernel-hashes page uses these */
	struct planbuild_kernel_hashes khash;
	bool khash_ok;
	/* [uki]: the firmware images a UKI carries */
	struct swap_uki_fw *uki_fw;
	unsigned n_uki_fw;
	/* SEV-SNP / TDX launch measurements, each computed once per plan: the
	 * host firmware's (its plan's inputs do not change while the VM
	 * lives) and the last accepted guest image's (at its validation) */
	pthread_mutex_t mlock;
	struct swap_measured host_m;
	struct swap_measured guest_m;  /* the last accepted guest image's */
	struct swap_measured run_m;    /* the last guest image launched */
	/* the VM's memory map and RAM (swap_set_memory): the doorbell's dry
	 * run lays a guest image's plan out on a scratch copy of the map */
	const struct guestmem *gm;
	uint8_t *ram;
	/* the events a guest's doorbell writes cause (requested, accepted,
	 * rejected, disabled, host-armed): one bucket for the doorbell */
	struct ratelimit ev_rl;
};

/* The doorbell's write-time events: SWAP_EV_BURST back to back, then
 * SWAP_EV_RATE a second (a line is about 300 bytes: a flood adds well
 * under 1 KB/s to the event log). */
#define SWAP_EV_BURST 20
#define SWAP_EV_RATE 2

/* A build's firmware and the plan made from it. */
struct swap_choice {
	struct launch_plan plan;
	const uint8_t *fw;
	size_t len;
	uint8_t sha384[48];
	uint64_t format;               /* DOORBELL_FORMAT_*, 0 for the host's */
	bool guest;                    /* the doorbell's image */
	/* swap_host_first: @sha384 is not filled in yet (vm_boot fills it in
	 * from swap_host_sha384 once the VM is built) */
	bool sha_later;
};

/* Map the [firmware] and read the [uki]'s firmware table.  0, or a negative
 * errno code with a line in @err. */
int swap_open(struct swap *s, const struct vm_config *cfg, char *err, size_t errlen);
void swap_close(struct swap *s);

/* The VM's guest-memory map and RAM, once mapped. */
void swap_set_memory(struct swap *s, const struct guestmem *gm, uint8_t *ram);

/* Whether plan @p fits the VM's memory map, checked as the build will lay
 * it out (the BIOS area, then plain_layout or coco_plan_fits) on a scratch
 * copy of the map, allocating and copying nothing.  0, or -ERANGE / -E2BIG
 * / -EINVAL with one line in @why. */
int swap_layout_check(const struct swap *s, struct launch_plan *p, char *why, size_t whylen);

/* A guest image accepted by the doorbell did not build at a reset, at
 * @step ("plan" or "build") with error @err (@why: the builder's line, may
 * be NULL): the swap-failed event, and the doorbell falls back to the host
 * firmware (LOAD_FAIL).  @ch's image is gone afterwards. */
void swap_failed(const struct swap *s, struct doorbell *db, const struct swap_choice *ch,
		 const char *step, int err, const char *why);

/* "raw-rom", "igvm" or "host". */
const char *swap_format_name(uint64_t format);
/* The fwid of the [uki] firmware image with this digest, or "". */
const char *swap_uki_fwid(const struct swap *s, const uint8_t sha384[48]);

/* The doorbell's callbacks (opaque: the struct swap). */
int swap_doorbell_validate(void *opaque, uint64_t format, const uint8_t *img, size_t len,
			   char *why, size_t whylen);
void swap_doorbell_event(void *opaque, const struct doorbell_event *ev);
/* Doorbell events the rate limit has withheld since swap_open. */
uint64_t swap_events_suppressed(struct swap *s);

/* The host's firmware and its plan (the first boot).  0, or the plan
 * builder's error, logged. */
int swap_host(const struct swap *s, struct swap_choice *ch);
/* The same for the first boot, without waiting for the host firmware's
 * SHA-384: @ch->sha_later is set. */
int swap_host_first(const struct swap *s, struct swap_choice *ch);
/* The host firmware's SHA-384, waiting for its hash if that still runs.
 * Safe from any thread. */
const uint8_t *swap_host_sha384(const struct swap *s);
/* At a reset: the doorbell's pending image, the current one, or the host's,
 * and its plan; an accepted image whose plan does not build falls back to
 * the host's firmware (swap_failed).  0, or the error of the host
 * firmware's plan, logged. */
int swap_choose(const struct swap *s, struct doorbell *db, struct swap_choice *ch);

/* The launch measurement of @ch's image as far as it is known: the host
 * firmware's, or the accepted guest image with @ch's digest.  false if
 * none is kept (a plain VM keeps none). */
bool swap_measurement_get(struct swap *s, const struct swap_choice *ch,
			  struct swap_measured *out);
/* Keep @m as the measurement of @ch's image, measured from the plan that
 * was launched. */
void swap_measurement_put(struct swap *s, const struct swap_choice *ch,
			  const struct launch_measurement *m);
/* The guest image with @sha384's measurement, if it is the accepted one. */
bool swap_guest_measurement(struct swap *s, const uint8_t sha384[48], struct swap_measured *out);

#endif
