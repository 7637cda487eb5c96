/* devices/doorbell.c: the firmware-swap doorbell behind fw_cfg
 * "etc/vmlaunchupdate" (ABI: docs/doorbell.md; QEMU-compatible, plus the raw
 * ROM format).  Owns the shadow struct, the copied guest image and the swap
 * state machine.  Must not touch KVM, build plans or parse image formats
 * (the VMM's validate callback does that). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "vmm/base/clock.h"
#include "vmm/base/digest.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/hex.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define WHY_LEN 160
#define EVQ_MAX 3
#define FORMAT_FIELD 0xffffffff00000000ULL   /* control bits 32..63 */
/* handle_write's answer when the image went to the worker: no status yet. */
#define ST_IN_PROGRESS (-1)

struct req {
	uint64_t control, addr, size, oaddr, osize;
};

struct doorbell {
	pthread_mutex_t lock;
	uint8_t buf[DOORBELL_STRUCT_SIZE];   /* what fw_cfg serves */

	const struct guestmem *gm;
	struct doorbell_policy pol;
	bool raw_rom, igvm;
	uint64_t raw_max;
	uint64_t fw_gpa, fw_size;
	doorbell_validate_fn validate;
	void *validate_opaque;
	doorbell_event_fn event;
	void *event_opaque;
	doorbell_clock_fn clock;
	void *clock_opaque;

	/* Device state: the shadow is rebuilt from these only. */
	uint16_t status;
	uint64_t echo_addr, echo_size;   /* receipt of a write that installed
	                                    nothing; 0 after an accepted image */
	uint64_t opaque_addr, opaque_size;
	bool disabled;
	bool host_after;      /* last accepted write carried CTL_HOST_IGVM */
	bool restore_armed;   /* the next reset restores the host firmware */
	struct doorbell_image *pending;
	struct doorbell_image *current;  /* guest image running; NULL = host's */
	uint64_t last_rebuild_ns;
	bool rebuilt_once;          /* the rate limit counts from the first rebuild */
	struct doorbell_stats st;

	/* The image check off the vCPU thread (docs/doorbell.md §9): a write
	 * that reaches the copy is handed, with its fw_cfg DMA transfer left
	 * in progress, to one worker thread, started at the first such write.
	 * busy: from the hand-over until the transfer is completed. */
	struct fwcfg *fw;               /* set by doorbell_attach() */
	pthread_t worker;
	bool worker_started, job_ready, busy;
	_Atomic bool stop;
	pthread_cond_t job_cv, idle_cv;
	struct {
		struct req r;
		uint64_t fmt, desc;
	} job;
};

/* Events are queued under the lock and delivered after it is dropped, so
 * an event handler may call back into the device. */
struct evq {
	struct doorbell_event ev[EVQ_MAX];
	char why[EVQ_MAX][WHY_LEN];
	int n;
};

static struct doorbell_event *evq_add(struct evq *q, enum doorbell_event_kind kind)
{
	struct doorbell_event *ev;

	if (q->n >= EVQ_MAX)
		return NULL;
	ev = &q->ev[q->n];
	memset(ev, 0, sizeof(*ev));
	q->why[q->n][0] = '\0';
	ev->kind = kind;
	ev->reason = q->why[q->n];
	q->n++;
	return ev;
}

static void evq_set_why(struct evq *q, struct doorbell_event *ev, const char *why)
{
	char *dst = q->why[ev - q->ev];
	size_t i;

	/* Reasons may come from the validate callback: keep them printable
	 * and quote-free so a log line stays one parseable line. */
	for (i = 0; why[i] && i < WHY_LEN - 1; i++) {
		char c = why[i];

		dst[i] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : c;
	}
	dst[i] = '\0';
}

static void evq_emit(struct doorbell *db, const struct evq *q)
{
	for (int i = 0; i < q->n; i++) {
		char line[512];

		doorbell_event_format(&q->ev[i], line, sizeof(line));
		log_debug_rl("%s", line);
		if (db->event)
			db->event(db->event_opaque, &q->ev[i]);
	}
}

static uint64_t clock_monotonic_ns(void *opaque)
{
	return clock_now_ns();
}

static uint64_t db_now(struct doorbell *db)
{
	return db->clock(db->clock_opaque);
}

static void image_free(struct doorbell_image *img)
{
	if (!img)
		return;
	free(img->data);
	free(img);
}

static uint64_t db_capabilities(const struct doorbell *db)
{
	uint64_t caps = 0;

	if (!db->pol.enabled)
		return 0;
	if (db->raw_rom)
		caps |= DOORBELL_FORMAT_RAW_ROM;
	if (db->igvm)
		caps |= DOORBELL_FORMAT_IGVM;
	return caps;
}

/* Rewrite the guest-visible buffer from device state (lock held). */
static void shadow_store(struct doorbell *db)
{
	uint8_t *b = db->buf;

	memset(b, 0, sizeof(db->buf));
	le_wr16(b + DOORBELL_OFF_VERSION, DOORBELL_VERSION);
	le_wr16(b + DOORBELL_OFF_STATUS, db->status);
	le_wr64(b + DOORBELL_OFF_CAPABILITIES, db_capabilities(db));
	le_wr64(b + DOORBELL_OFF_CONTROL, db->disabled ? DOORBELL_CTL_DISABLE : 0);
	le_wr64(b + DOORBELL_OFF_IMAGE_ADDR, db->echo_addr);
	le_wr64(b + DOORBELL_OFF_IMAGE_SIZE, db->echo_size);
	le_wr64(b + DOORBELL_OFF_OPAQUE_ADDR, db->opaque_addr);
	le_wr64(b + DOORBELL_OFF_OPAQUE_SIZE, db->opaque_size);
}

static int policy_check(const struct doorbell_policy *p)
{
	if (p->max_image_size > DOORBELL_IMAGE_HARD_MAX) {
		log_err("doorbell: max_image_size %" PRIu64 " over the limit %llu",
			p->max_image_size, DOORBELL_IMAGE_HARD_MAX);
		return -EINVAL;
	}
	return 0;
}

struct doorbell *doorbell_create(const struct doorbell_config *cfg)
{
	struct doorbell *db;

	if (!cfg || !cfg->gm) {
		log_err("doorbell: no guest memory");
		return NULL;
	}
	if (policy_check(&cfg->policy))
		return NULL;
	if (cfg->igvm && !cfg->validate) {
		log_err("doorbell: IGVM support needs a validate callback");
		return NULL;
	}
	db = calloc(1, sizeof(*db));
	if (!db) {
		log_err("doorbell: out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->job_cv, NULL);
	pthread_cond_init(&db->idle_cv, NULL);
	db->gm = cfg->gm;
	db->pol = cfg->policy;
	db->raw_rom = cfg->raw_rom;
	db->igvm = cfg->igvm;
	db->raw_max = cfg->max_raw_rom_size ? cfg->max_raw_rom_size
					    : DOORBELL_RAW_ROM_MAX;
	db->fw_gpa = cfg->fw_gpa;
	db->fw_size = cfg->fw_size;
	db->validate = cfg->validate;
	db->validate_opaque = cfg->validate_opaque;
	db->event = cfg->event;
	db->event_opaque = cfg->event_opaque;
	db->clock = cfg->clock ? cfg->clock : clock_monotonic_ns;
	db->clock_opaque = cfg->clock_opaque;
	db->status = DOORBELL_SUCCESS;
	/* The initial launch does not start the rate-limit clock: a guest's
	 * first swap right after boot is the normal F-UKI flow.  Storms are
	 * what the limit stops: swap, rebuild, swap again too soon. */
	shadow_store(db);
	return db;
}

void doorbell_destroy(struct doorbell *db)
{
	if (!db)
		return;
	/* A check in flight sees stop between its steps and ends early. */
	pthread_mutex_lock(&db->lock);
	db->stop = true;
	pthread_cond_signal(&db->job_cv);
	pthread_mutex_unlock(&db->lock);
	if (db->worker_started)
		pthread_join(db->worker, NULL);
	image_free(db->pending);
	image_free(db->current);
	pthread_cond_destroy(&db->job_cv);
	pthread_cond_destroy(&db->idle_cv);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

int doorbell_attach(struct doorbell *db, struct fwcfg *fw)
{
	int rc = fwcfg_add_file_cb(fw, DOORBELL_FILE, db->buf, sizeof(db->buf),
				   true, doorbell_fwcfg_select,
				   doorbell_fwcfg_write, db);

	if (rc < 0)
		log_err("doorbell: cannot add fw_cfg file %s: %d", DOORBELL_FILE, rc);
	else
		db->fw = fw;
	return rc;
}

uint8_t *doorbell_buffer(struct doorbell *db)
{
	return db->buf;
}

void doorbell_fwcfg_select(void *opaque)
{
	struct doorbell *db = opaque;

	pthread_mutex_lock(&db->lock);
	shadow_store(db);
	pthread_mutex_unlock(&db->lock);
}

/* [addr, addr+size) with size > 0: in RAM, host-visible (not private),
 * clear of the firmware region.  0 or DOORBELL_BAD_RANGE with @why. */
static int range_check(const struct doorbell *db, const char *what,
		       uint64_t addr, uint64_t size, char *why)
{
	uint64_t end, p;

	if (size - 1 > UINT64_MAX - addr) {
		snprintf(why, WHY_LEN, "%s range 0x%" PRIx64 "+0x%" PRIx64
			 " overflows", what, addr, size);
		return DOORBELL_BAD_RANGE;
	}
	end = addr + (size - 1);
	if (!gm_range_is_ram(db->gm, addr, size)) {
		snprintf(why, WHY_LEN, "%s range 0x%" PRIx64 "..0x%" PRIx64
			 " not wholly in RAM", what, addr, end);
		return DOORBELL_BAD_RANGE;
	}
	/* The host must be able to see it: no private (encrypted) memory. */
	p = addr;
	for (unsigned i = 0; i <= GM_MAX_REGIONS; i++) {
		const struct gm_region *r = gm_find(db->gm, p);
		uint64_t rend;

		if (!r || !r->host || (r->flags & GM_PRIVATE)) {
			snprintf(why, WHY_LEN, "%s range 0x%" PRIx64 "..0x%" PRIx64
				 " not in shared memory", what, addr, end);
			return DOORBELL_BAD_RANGE;
		}
		rend = r->gpa + (r->size - 1);
		if (rend >= end)
			break;
		p = rend + 1;
	}
	if (db->fw_size && db->fw_size - 1 <= UINT64_MAX - db->fw_gpa &&
	    addr <= db->fw_gpa + (db->fw_size - 1) && db->fw_gpa <= end) {
		snprintf(why, WHY_LEN, "%s range 0x%" PRIx64 "..0x%" PRIx64
			 " overlaps the firmware", what, addr, end);
		return DOORBELL_BAD_RANGE;
	}
	return 0;
}

/* Opaque hand-over region: size 0 means none. */
static int opaque_check(const struct doorbell *db, uint64_t addr, uint64_t size,
			char *why)
{
	if (size == 0)
		return 0;
	if (size > db->pol.max_opaque_size) {
		snprintf(why, WHY_LEN, "opaque size %" PRIu64 " over the limit %"
			 PRIu64, size, db->pol.max_opaque_size);
		return DOORBELL_TOO_LARGE;
	}
	return range_check(db, "opaque", addr, size, why);
}

static void opaque_store(struct doorbell *db, uint64_t addr, uint64_t size)
{
	db->opaque_addr = size ? addr : 0;
	db->opaque_size = size;
}

static const char *format_name(uint64_t fmt)
{
	switch (fmt) {
	case 0: return "none";
	case DOORBELL_FORMAT_IGVM: return "igvm";
	case DOORBELL_FORMAT_RAW_ROM: return "raw-rom";
	default: return "unknown";
	}
}

/* An event about @img (its format, size and digest; NULL: none), with a
 * reason unless @why is NULL.  NULL when the queue is full. */
static struct doorbell_event *image_event(struct evq *q, enum doorbell_event_kind kind,
					  const struct doorbell_image *img, const char *why)
{
	struct doorbell_event *ev = evq_add(q, kind);

	if (!ev)
		return NULL;
	if (img) {
		ev->format = img->format;
		ev->size = img->len;
		ev->has_digest = true;
		memcpy(ev->sha384, img->sha384, sizeof(img->sha384));
	}
	if (why)
		evq_set_why(q, ev, why);
	return ev;
}

/* The status for a validate callback's error (doorbell.h). */
static int validate_status(int err)
{
	switch (err) {
	case -ERANGE: return DOORBELL_BAD_RANGE;
	case -E2BIG: return DOORBELL_TOO_LARGE;
	case -ENOMEM: return DOORBELL_LOAD_FAIL;
	default: return DOORBELL_MALFORMED;
	}
}

/* True, with the reason, when the host's policy takes swaps away. */
static bool policy_denies(const struct doorbell *db, char *why)
{
	if (db->pol.enabled && !db->pol.locked)
		return false;
	snprintf(why, WHY_LEN, "swaps %s by the host", db->pol.enabled ? "locked" : "disabled");
	return true;
}

static bool stopping(struct doorbell *db, char *why)
{
	if (!db->stop)
		return false;
	snprintf(why, WHY_LEN, "the VMM is stopping");
	return true;
}

/* The slow half of an image write: the one copy, its digest and the VMM's
 * validation.  Runs on the worker without the lock, or (a write that did
 * not come through fw_cfg DMA) on the caller's thread with it. */
static int image_load(struct doorbell *db, const struct req *r, uint64_t fmt,
		      struct doorbell_image **out, struct evq *q, char *why)
{
	struct doorbell_image *img;
	struct doorbell_event *ev;

	/* The one copy: from here on guest writes to that memory change
	 * nothing; the digest and the validation see the same bytes. */
	img = calloc(1, sizeof(*img));
	if (img)
		img->data = malloc((size_t)r->size);
	if (!img || !img->data) {
		image_free(img);
		snprintf(why, WHY_LEN, "host out of memory for %" PRIu64 " bytes",
			 r->size);
		return DOORBELL_LOAD_FAIL;
	}
	img->format = fmt;
	img->len = (size_t)r->size;
	if (gm_read(db->gm, r->addr, img->data, img->len)) {
		image_free(img);
		snprintf(why, WHY_LEN, "image range 0x%" PRIx64 "+0x%" PRIx64
			 " not readable", r->addr, r->size);
		return DOORBELL_BAD_RANGE;
	}
	if (stopping(db, why) || digest_sha384(img->data, img->len, img->sha384)) {
		if (!db->stop)
			snprintf(why, WHY_LEN, "SHA-384 failed");
		image_free(img);
		return DOORBELL_LOAD_FAIL;
	}
	ev = image_event(q, DOORBELL_EV_REQUESTED, img, NULL);
	if (ev)
		ev->addr = r->addr;
	if (stopping(db, why)) {
		image_free(img);
		return DOORBELL_LOAD_FAIL;
	}
	if (db->validate) {
		char vwhy[WHY_LEN] = "";
		int vr = db->validate(db->validate_opaque, fmt, img->data, img->len,
				      vwhy, sizeof(vwhy));

		if (vr < 0) {
			vwhy[sizeof(vwhy) - 1] = '\0';
			snprintf(why, WHY_LEN, "%s image rejected: %s",
				 format_name(fmt), vwhy[0] ? vwhy : "invalid");
			image_free(img);
			return validate_status(vr);
		}
	}
	*out = img;
	return DOORBELL_SUCCESS;
}

/* A loaded image becomes the pending one (lock held; takes @img). */
static int image_install(struct doorbell *db, const struct req *r,
			 struct doorbell_image *img, struct evq *q, char *why)
{
	struct doorbell_event *ev;

	if (policy_denies(db, why)) {
		/* the host changed its policy while the worker checked */
		image_free(img);
		return DOORBELL_DENIED;
	}
	image_free(db->pending);
	db->pending = img;
	db->restore_armed = false;
	db->host_after = !!(r->control & DOORBELL_CTL_HOST_IGVM);
	opaque_store(db, r->oaddr, r->osize);
	db->echo_addr = db->echo_size = 0;   /* QEMU: cleared on success */
	db->st.accepted++;
	ev = image_event(q, DOORBELL_EV_ACCEPTED, img,
			 db->host_after ? "one-shot" : "permanent");
	if (ev)
		ev->addr = r->addr;
	return DOORBELL_SUCCESS;
}

static void *worker_main(void *arg);

/* Hand the image check to the worker with the guest's DMA transfer left in
 * progress (lock held).  False when that cannot be done: the write did not
 * come from fw_cfg DMA, or no thread; the caller then checks inline. */
static bool hand_over(struct doorbell *db, const struct req *r, uint64_t fmt)
{
	uint64_t desc;

	if (!db->fw)
		return false;
	if (!db->worker_started) {
		if (pthread_create(&db->worker, NULL, worker_main, db)) {
			log_warn_rl("doorbell: no worker thread, checking images inline");
			return false;
		}
		db->worker_started = true;
	}
	if (!fwcfg_dma_defer(db->fw, &desc))
		return false;
	db->job.r = *r;
	db->job.fmt = fmt;
	db->job.desc = desc;
	db->job_ready = true;
	db->busy = true;
	pthread_cond_signal(&db->job_cv);
	return true;
}

/* An image write that got past the cheap checks: policy, ranges, rate,
 * then one copy, its digest and the VMM's validation, on the worker when
 * the write came through fw_cfg DMA. */
static int handle_image(struct doorbell *db, const struct req *r, uint64_t fmt,
			struct evq *q, char *why)
{
	struct doorbell_image *img = NULL;
	uint64_t now;
	int st;

	if (policy_denies(db, why))
		return DOORBELL_DENIED;
	if (r->size > db->pol.max_image_size ||
	    r->size > DOORBELL_IMAGE_HARD_MAX ||
	    (fmt == DOORBELL_FORMAT_RAW_ROM && r->size > db->raw_max)) {
		snprintf(why, WHY_LEN, "image size %" PRIu64 " over the limit",
			 r->size);
		return DOORBELL_TOO_LARGE;
	}
	if (fmt == DOORBELL_FORMAT_RAW_ROM && r->size % GM_PAGE_SIZE) {
		snprintf(why, WHY_LEN, "raw ROM size 0x%" PRIx64
			 " not a multiple of 4 KiB", r->size);
		return DOORBELL_MALFORMED;
	}
	if (r->osize > db->pol.max_opaque_size) {
		snprintf(why, WHY_LEN, "opaque size %" PRIu64 " over the limit %"
			 PRIu64, r->osize, db->pol.max_opaque_size);
		return DOORBELL_TOO_LARGE;
	}
	st = range_check(db, "image", r->addr, r->size, why);
	if (st)
		return st;
	st = opaque_check(db, r->oaddr, r->osize, why);
	if (st)
		return st;
	now = db_now(db);
	if (db->pol.min_reset_interval_ns && db->rebuilt_once &&
	    (now < db->last_rebuild_ns ||
	     now - db->last_rebuild_ns < db->pol.min_reset_interval_ns)) {
		snprintf(why, WHY_LEN, "swap %" PRIu64 " ns after the last rebuild,"
			 " minimum %" PRIu64, now - db->last_rebuild_ns,
			 db->pol.min_reset_interval_ns);
		return DOORBELL_RATE_LIMITED;
	}
	if (hand_over(db, r, fmt))
		return ST_IN_PROGRESS;
	st = image_load(db, r, fmt, &img, q, why);
	if (st)
		return st;
	return image_install(db, r, img, q, why);
}

/* The write state machine, QEMU's order (hw/misc/vmlaunchupdate.c
 * launch_update_write) with fukivmm's checks.  Lock held. */
static int handle_write(struct doorbell *db, uint64_t off, uint64_t len,
			const struct req *r, struct evq *q, char *why)
{
	uint64_t c = r->control, fmt;
	struct doorbell_event *ev;

	/* Every write that installs nothing leaves its image range as a
	 * receipt (QEMU keeps the written bytes; its guests test "addresses
	 * cleared" for success).  The device never acts on the receipt. */
	db->echo_addr = r->addr;
	db->echo_size = r->size;

	if (db->disabled)
		return DOORBELL_SUCCESS;   /* ignored, status 0 as in QEMU */
	if (off != 0 || len != DOORBELL_STRUCT_SIZE) {
		snprintf(why, WHY_LEN, "partial write at %" PRIu64 "+%" PRIu64
			 " ignored: write all %d bytes", off, len,
			 DOORBELL_STRUCT_SIZE);
		return DOORBELL_LOAD_FAIL;
	}
	if (c & DOORBELL_CTL_DISABLE) {
		db->disabled = true;
		db->host_after = !!(c & DOORBELL_CTL_HOST_IGVM);
		ev = evq_add(q, DOORBELL_EV_DISABLED);
		if (ev)
			evq_set_why(q, ev, db->host_after ?
				    "until the host firmware returns" : "");
		return DOORBELL_SUCCESS;
	}
	if (r->addr == 0 && r->size == 0 && (c & DOORBELL_CTL_HOST_IGVM)) {
		/* Latest request wins: a pending image is dropped. */
		image_free(db->pending);
		db->pending = NULL;
		db->restore_armed = true;
		db->host_after = false;
		evq_add(q, DOORBELL_EV_HOST_ARMED);
		return DOORBELL_SUCCESS;
	}
	fmt = c & DOORBELL_FORMAT_MASK;
	/* Bits 32..63 name formats: any of them, known or not, makes this an
	 * image request (unknown ones then fail as BAD_FORMAT). */
	if (!(c & FORMAT_FIELD)) {
		int st;

		if (r->addr || r->size) {
			snprintf(why, WHY_LEN, "image range given without a "
				 "format bit (control 0x%" PRIx64 ")", c);
			return DOORBELL_LOAD_FAIL;
		}
		if (c & ~DOORBELL_CTL_KNOWN) {
			snprintf(why, WHY_LEN, "unknown control bits 0x%" PRIx64,
				 c & ~DOORBELL_CTL_KNOWN);
			return DOORBELL_BAD_FORMAT;
		}
		/* Nothing to load: an opaque-region update. */
		st = opaque_check(db, r->oaddr, r->osize, why);
		if (st)
			return st;
		opaque_store(db, r->oaddr, r->osize);
		db->host_after = false;
		return DOORBELL_SUCCESS;
	}
	if (c & ~DOORBELL_CTL_KNOWN) {
		snprintf(why, WHY_LEN, "unknown control bits 0x%" PRIx64,
			 c & ~DOORBELL_CTL_KNOWN);
		return DOORBELL_BAD_FORMAT;
	}
	if (fmt == DOORBELL_FORMAT_MASK) {
		snprintf(why, WHY_LEN, "two format bits set");
		return DOORBELL_BAD_FORMAT;
	}
	if (fmt == DOORBELL_FORMAT_IGVM && !db->igvm) {
		snprintf(why, WHY_LEN, "IGVM images not supported");
		return DOORBELL_LOAD_FAIL;   /* what a QEMU guest expects */
	}
	if (fmt == DOORBELL_FORMAT_RAW_ROM && !db->raw_rom) {
		snprintf(why, WHY_LEN, "raw ROM images not supported");
		return DOORBELL_BAD_FORMAT;
	}
	if (r->addr == 0 || r->size == 0) {
		snprintf(why, WHY_LEN, "image address or size is zero");
		return DOORBELL_LOAD_FAIL;
	}
	return handle_image(db, r, fmt, q, why);
}

/* The swap-rejected event of the write @r, counted (lock held); NULL when
 * the queue is full. */
static struct doorbell_event *reject_event(struct doorbell *db, struct evq *q,
					   const struct req *r, int st, const char *why)
{
	struct doorbell_event *ev = evq_add(q, DOORBELL_EV_REJECTED);

	db->st.rejected++;
	if (ev) {
		ev->format = r->control & FORMAT_FIELD;
		ev->addr = r->addr;
		ev->size = r->size;
		ev->status = (uint16_t)st;
		evq_set_why(q, ev, why);
	}
	return ev;
}

/* The end of a write: its status, and the swap-rejected event for a
 * non-zero one (lock held).  The worker does not rewrite the buffer: a
 * vCPU's fw_cfg transfer may be reading it under the bus lock alone, and
 * the guest's next read selects the file, which rewrites it
 * (doorbell_fwcfg_select). */
static void write_done(struct doorbell *db, int st, const struct req *r,
		       struct evq *q, const char *why, bool store)
{
	db->status = (uint16_t)st;
	if (st != DOORBELL_SUCCESS) {
		struct doorbell_event *ev = reject_event(db, q, r, st, why);

		/* A rejection after the copy carries its digest. */
		if (ev && q->n >= 2 && q->ev[q->n - 2].kind == DOORBELL_EV_REQUESTED) {
			ev->has_digest = true;
			memcpy(ev->sha384, q->ev[q->n - 2].sha384, sizeof(ev->sha384));
		}
	}
	if (store)
		shadow_store(db);
}

static void *worker_main(void *arg)
{
	struct doorbell *db = arg;

	pthread_mutex_lock(&db->lock);
	for (;;) {
		struct doorbell_image *img = NULL;
		struct evq q = { .n = 0 };
		char why[WHY_LEN] = "";
		struct req r;
		uint64_t fmt, desc;
		int st;

		while (!db->job_ready && !db->stop)
			pthread_cond_wait(&db->job_cv, &db->lock);
		if (!db->job_ready)
			break;
		db->job_ready = false;
		r = db->job.r;
		fmt = db->job.fmt;
		desc = db->job.desc;
		pthread_mutex_unlock(&db->lock);

		st = image_load(db, &r, fmt, &img, &q, why);

		pthread_mutex_lock(&db->lock);
		if (st == DOORBELL_SUCCESS)
			st = image_install(db, &r, img, &q, why);
		write_done(db, st, &r, &q, why, false);
		pthread_mutex_unlock(&db->lock);
		evq_emit(db, &q);
		/* The guest sees the transfer end only now, with the status
		 * stored; busy clears in the same critical section, so a
		 * reset (doorbell_take_pending) never runs between the two
		 * and a write the guest makes after seeing the end is taken. */
		pthread_mutex_lock(&db->lock);
		fwcfg_dma_finish(db->fw, desc, false);
		db->busy = false;
		pthread_cond_broadcast(&db->idle_cv);
	}
	pthread_mutex_unlock(&db->lock);
	return NULL;
}

/* Wait until no image check is in flight (lock held). */
static void wait_idle(struct doorbell *db)
{
	while (db->busy)
		pthread_cond_wait(&db->idle_cv, &db->lock);
}

void doorbell_quiesce(struct doorbell *db)
{
	pthread_mutex_lock(&db->lock);
	wait_idle(db);
	pthread_mutex_unlock(&db->lock);
}

/* A write while the worker still checks the last image: the guest wrote
 * again before its transfer ended (two vCPUs at once).  Nothing changes;
 * the transfer ends with the error bit. */
static void write_busy(struct doorbell *db, struct evq *q, const struct req *r)
{
	uint64_t desc;

	reject_event(db, q, r, DOORBELL_LOAD_FAIL,
		     "a write while the last image is still being checked");
	if (db->fw && fwcfg_dma_defer(db->fw, &desc))
		fwcfg_dma_finish(db->fw, desc, true);
	shadow_store(db);
}

void doorbell_fwcfg_write(void *opaque, uint64_t offset, uint64_t len)
{
	struct doorbell *db = opaque;
	struct evq q = { .n = 0 };
	char why[WHY_LEN] = "";
	struct req r;
	int st;

	pthread_mutex_lock(&db->lock);
	/* The merged buffer: the guest's bytes over the last shadow. */
	r.control = le_rd64(db->buf + DOORBELL_OFF_CONTROL);
	r.addr = le_rd64(db->buf + DOORBELL_OFF_IMAGE_ADDR);
	r.size = le_rd64(db->buf + DOORBELL_OFF_IMAGE_SIZE);
	r.oaddr = le_rd64(db->buf + DOORBELL_OFF_OPAQUE_ADDR);
	r.osize = le_rd64(db->buf + DOORBELL_OFF_OPAQUE_SIZE);

	if (db->busy) {
		write_busy(db, &q, &r);
	} else {
		st = handle_write(db, offset, len, &r, &q, why);
		if (st == ST_IN_PROGRESS)
			shadow_store(db);   /* the status comes with the worker */
		else
			write_done(db, st, &r, &q, why, true);
	}
	pthread_mutex_unlock(&db->lock);
	evq_emit(db, &q);
}

int doorbell_set_policy(struct doorbell *db, const struct doorbell_policy *p)
{
	int rc = policy_check(p);

	if (rc)
		return rc;
	pthread_mutex_lock(&db->lock);
	db->pol = *p;
	pthread_mutex_unlock(&db->lock);
	return 0;
}

void doorbell_get_policy(struct doorbell *db, struct doorbell_policy *p)
{
	pthread_mutex_lock(&db->lock);
	*p = db->pol;
	pthread_mutex_unlock(&db->lock);
}

void doorbell_set_fw_region(struct doorbell *db, uint64_t gpa, uint64_t size)
{
	pthread_mutex_lock(&db->lock);
	db->fw_gpa = gpa;
	db->fw_size = size;
	pthread_mutex_unlock(&db->lock);
}

/* Back to the host's firmware: forget guest images, re-enable (QEMU's
 * vmlaunch_reset_enter does the same on a host-IGVM restore). */
static void restore_host(struct doorbell *db)
{
	image_free(db->current);
	db->current = NULL;
	image_free(db->pending);
	db->pending = NULL;
	db->restore_armed = false;
	db->host_after = false;
	db->disabled = false;
}

enum doorbell_fw_choice doorbell_take_pending(struct doorbell *db,
					      const struct doorbell_image **img)
{
	enum doorbell_fw_choice ch = DOORBELL_FW_UNCHANGED;
	struct evq q = { .n = 0 };

	pthread_mutex_lock(&db->lock);
	wait_idle(db);   /* an image still being checked counts */
	if (db->pending && (!db->pol.enabled || db->pol.locked)) {
		/* Policy changed after the write was accepted. */
		image_event(&q, DOORBELL_EV_DROPPED, db->pending,
			    "swaps denied by host policy at reset");
		image_free(db->pending);
		db->pending = NULL;
		db->host_after = false;
		db->status = DOORBELL_DENIED;
	}
	if (db->restore_armed) {
		bool was_guest = db->current != NULL;

		restore_host(db);
		if (was_guest) {
			ch = DOORBELL_FW_HOST;
			image_event(&q, DOORBELL_EV_APPLIED, NULL, "host firmware");
		}
	} else if (db->pending) {
		image_free(db->current);
		db->current = db->pending;
		db->pending = NULL;
		ch = DOORBELL_FW_GUEST;
		image_event(&q, DOORBELL_EV_APPLIED, db->current,
			    db->host_after ? "one-shot" : "permanent");
	}
	/* QEMU arms the host restore at the reset after a CTL_HOST_IGVM
	 * write, so the image just chosen runs exactly once. */
	if (db->host_after) {
		db->restore_armed = true;
		db->host_after = false;
	}
	if (ch != DOORBELL_FW_UNCHANGED)
		db->st.swaps++;
	*img = db->current;
	shadow_store(db);
	pthread_mutex_unlock(&db->lock);
	evq_emit(db, &q);
	return ch;
}

void doorbell_on_rebuilt(struct doorbell *db, int result)
{
	struct evq q = { .n = 0 };

	pthread_mutex_lock(&db->lock);
	db->last_rebuild_ns = db_now(db);
	db->rebuilt_once = true;
	if (result < 0 && db->current) {
		image_event(&q, DOORBELL_EV_DROPPED, db->current,
			    "guest image failed to build, host firmware");
		restore_host(db);
		db->status = DOORBELL_LOAD_FAIL;
		shadow_store(db);
	}
	pthread_mutex_unlock(&db->lock);
	evq_emit(db, &q);
}

void doorbell_get_stats(struct doorbell *db, struct doorbell_stats *st)
{
	pthread_mutex_lock(&db->lock);
	*st = db->st;
	pthread_mutex_unlock(&db->lock);
}

bool doorbell_is_disabled(struct doorbell *db)
{
	bool d;

	pthread_mutex_lock(&db->lock);
	d = db->disabled;
	pthread_mutex_unlock(&db->lock);
	return d;
}

void doorbell_get_opaque(struct doorbell *db, uint64_t *addr, uint64_t *size)
{
	pthread_mutex_lock(&db->lock);
	*addr = db->opaque_addr;
	*size = db->opaque_size;
	pthread_mutex_unlock(&db->lock);
}

bool doorbell_pending_digest(struct doorbell *db, uint8_t sha384[48])
{
	bool have;

	pthread_mutex_lock(&db->lock);
	have = db->pending != NULL;
	if (have)
		memcpy(sha384, db->pending->sha384, 48);
	pthread_mutex_unlock(&db->lock);
	return have;
}

enum doorbell_fw_choice doorbell_peek_next(struct doorbell *db, uint8_t sha384[48])
{
	enum doorbell_fw_choice ch = DOORBELL_FW_UNCHANGED;
	bool pending;

	pthread_mutex_lock(&db->lock);
	/* the same order as doorbell_take_pending() */
	pending = db->pending && db->pol.enabled && !db->pol.locked;
	if (db->restore_armed) {
		if (db->current)
			ch = DOORBELL_FW_HOST;
	} else if (pending) {
		ch = DOORBELL_FW_GUEST;
		memcpy(sha384, db->pending->sha384, 48);
	}
	pthread_mutex_unlock(&db->lock);
	return ch;
}

const char *doorbell_status_name(unsigned status)
{
	static const char *const names[] = {
		[DOORBELL_SUCCESS] = "SUCCESS",
		[DOORBELL_LOAD_FAIL] = "LOAD_FAIL",
		[DOORBELL_NOT_IGVM_INIT] = "NOT_IGVM_INIT",
		[DOORBELL_TOO_LARGE] = "TOO_LARGE",
		[DOORBELL_BAD_RANGE] = "BAD_RANGE",
		[DOORBELL_RATE_LIMITED] = "RATE_LIMITED",
		[DOORBELL_DENIED] = "DENIED",
		[DOORBELL_BAD_FORMAT] = "BAD_FORMAT",
		[DOORBELL_MALFORMED] = "MALFORMED",
	};

	return status < sizeof(names) / sizeof(names[0]) ? names[status] : "?";
}

const char *doorbell_event_name(enum doorbell_event_kind kind)
{
	switch (kind) {
	case DOORBELL_EV_REQUESTED: return "requested";
	case DOORBELL_EV_ACCEPTED: return "accepted";
	case DOORBELL_EV_REJECTED: return "rejected";
	case DOORBELL_EV_DISABLED: return "disabled";
	case DOORBELL_EV_HOST_ARMED: return "host-armed";
	case DOORBELL_EV_APPLIED: return "applied";
	case DOORBELL_EV_DROPPED: return "dropped";
	}
	return "?";
}

int doorbell_event_format(const struct doorbell_event *ev, char *buf, size_t len)
{
	char hex[97] = "-";

	if (ev->has_digest)
		hex_encode(hex, ev->sha384, 48);
	return snprintf(buf, len, "doorbell event=%s format=%s addr=0x%" PRIx64
			" size=%" PRIu64 " sha384=%s status=%u(%s) reason=\"%s\"",
			doorbell_event_name(ev->kind), format_name(ev->format),
			ev->addr, ev->size, hex, ev->status,
			doorbell_status_name(ev->status),
			ev->reason ? ev->reason : "");
}
