/* vmm/vm/swap.c: the firmware of every build (see swap.h). */
#include "vmm/vm/swap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/uki.h"
#include "vmm/launch/coco.h"
#include "vmm/launch/plain.h"
#include "vmm/vm/pam.h"
#include "vmm/base/digest.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

static void *swap_hash_main(void *arg)
{
	struct swap *s = arg;

	digest_sha384(s->host_fw, s->host_fw_len, s->host_fw_sha384);
	return NULL;
}

const uint8_t *swap_host_sha384(const struct swap *cs)
{
	struct swap *s = (struct swap *)cs;   /* computed once, then constant */

	helper_join(&s->hash);
	return s->host_fw_sha384;
}

int swap_open(struct swap *s, const struct vm_config *cfg, char *err, size_t errlen)
{
	int r;

	s->cfg = cfg;
	pthread_mutex_init(&s->mlock, NULL);
	ratelimit_init(&s->ev_rl, SWAP_EV_BURST, SWAP_EV_RATE);
	r = file_map(cfg->firmware_path, CFG_FW_MAX, &s->host_fw_map, err, errlen);
	if (r)
		return r;
	s->host_fw = s->host_fw_map.buf;
	s->host_fw_len = s->host_fw_map.len;
	helper_start(&s->hash, swap_hash_main, s);
	s->hashing = true;
	if (cfg->uki_path) {
		struct file_map um;
		struct uki u;
		char uerr[256];

		r = file_map(cfg->uki_path, 1ULL << 30, &um, err, errlen);
		if (r)
			return r;
		if (uki_parse(um.buf, um.len, &u, uerr, sizeof(uerr))) {
			snprintf(err, errlen, "uki %s: %s", cfg->uki_path, uerr);
			file_unmap(&um);
			return -EINVAL;
		}
		s->uki_fw = calloc(u.nfw ? u.nfw : 1, sizeof(*s->uki_fw));
		for (unsigned i = 0; s->uki_fw && i < u.nfw; i++) {
			if (!u.fw[i].valid)
				continue;
			s->uki_fw[s->n_uki_fw].fwid = strdup(u.fw[i].fwid);
			digest_sha384(u.fw[i].payload, u.fw[i].payload_len,
				      s->uki_fw[s->n_uki_fw].sha384);
			s->n_uki_fw++;
		}
		uki_free(&u);
		file_unmap(&um);
	}
	return 0;
}

void swap_close(struct swap *s)
{
	if (s->hashing)
		helper_fini(&s->hash);   /* the hash reads the mapping */
	s->hashing = false;
	file_unmap(&s->host_fw_map);
	for (unsigned i = 0; i < s->n_uki_fw; i++)
		free(s->uki_fw[i].fwid);
	free(s->uki_fw);
	s->uki_fw = NULL;
	s->n_uki_fw = 0;
	pthread_mutex_destroy(&s->mlock);
}

const char *swap_format_name(uint64_t format)
{
	if (format == DOORBELL_FORMAT_RAW_ROM)
		return "raw-rom";
	if (format == DOORBELL_FORMAT_IGVM)
		return "igvm";
	return "host";
}

const char *swap_uki_fwid(const struct swap *s, const uint8_t sha384[48])
{
	for (unsigned i = 0; sha384 && i < s->n_uki_fw; i++)
		if (!memcmp(s->uki_fw[i].sha384, sha384, 48))
			return s->uki_fw[i].fwid;
	return "";
}

/* The measurement of the image this thread validated last, kept until the
 * doorbell reports that write: the doorbell validates an image and then
 * emits its swap-accepted or swap-rejected event in one call on the
 * writing thread, so the event finds here what the validation measured. */
static _Thread_local struct {
	const struct swap *s;
	bool valid;
	size_t len;
	struct launch_measurement m;
} swap_validated;

/* A doorbell image's plan @p (built for this VM by the validation): its
 * launch measurement, for swap-accepted, measure-pending and the rebuild.
 * Plain plans are not measured. */
static void swap_measure_validated(const struct swap *s, const struct launch_plan *p, size_t len)
{
	char err[160];

	swap_validated.valid = false;
	if (p->platform == PLAN_PLAIN)
		return;
	if (launch_measure(p, NULL, &swap_validated.m, err, sizeof(err)))
		log_warn("doorbell image: no launch measurement: %s", err);
	swap_validated.s = s;
	swap_validated.len = len;
	swap_validated.valid = true;
}

/* At swap-accepted: the image just validated on this thread is the pending
 * one.  Returns its measurement, or NULL (plain, or not measured). */
static const struct launch_measurement *swap_accepted(struct swap *s, const struct doorbell_event *ev)
{
	const struct launch_measurement *m = NULL;

	if (!swap_validated.valid || swap_validated.s != s || swap_validated.len != ev->size ||
	    !ev->has_digest)
		return NULL;
	pthread_mutex_lock(&s->mlock);
	s->guest_m = (struct swap_measured){ .valid = true, .m = swap_validated.m };
	memcpy(s->guest_m.sha384, ev->sha384, 48);
	pthread_mutex_unlock(&s->mlock);
	swap_validated.valid = false;
	if (swap_validated.m.has)
		m = &swap_validated.m;
	return m;
}

bool swap_guest_measurement(struct swap *s, const uint8_t sha384[48], struct swap_measured *out)
{
	const struct swap_measured *src = NULL;

	pthread_mutex_lock(&s->mlock);
	if (s->guest_m.valid && !memcmp(s->guest_m.sha384, sha384, 48))
		src = &s->guest_m;
	else if (s->run_m.valid && !memcmp(s->run_m.sha384, sha384, 48))
		src = &s->run_m;
	if (src)
		*out = *src;
	pthread_mutex_unlock(&s->mlock);
	return src != NULL;
}

bool swap_measurement_get(struct swap *s, const struct swap_choice *ch,
			  struct swap_measured *out)
{
	bool have;

	if (ch->guest)
		return swap_guest_measurement(s, ch->sha384, out);
	pthread_mutex_lock(&s->mlock);
	have = s->host_m.valid;
	if (have)
		*out = s->host_m;
	pthread_mutex_unlock(&s->mlock);
	return have;
}

void swap_measurement_put(struct swap *s, const struct swap_choice *ch,
			  const struct launch_measurement *m)
{
	struct swap_measured v = { .valid = true, .launched = true, .m = *m };

	memcpy(v.sha384, ch->sha384, 48);
	pthread_mutex_lock(&s->mlock);
	if (!ch->guest) {
		s->host_m = v;
	} else {
		s->run_m = v;
		if (s->guest_m.valid && !memcmp(s->guest_m.sha384, ch->sha384, 48))
			s->guest_m = v;
	}
	pthread_mutex_unlock(&s->mlock);
}

void swap_set_memory(struct swap *s, const struct guestmem *gm, uint8_t *ram)
{
	s->gm = gm;
	s->ram = ram;
}

int swap_layout_check(const struct swap *s, struct launch_plan *p, char *why, size_t whylen)
{
	struct guestmem scratch;
	struct pam pam;
	int r;

	if (!s->gm)
		return 0;   /* no VM (tests of the plan alone) */
	gm_copy(&scratch, s->gm);
	memset(&pam, 0, sizeof(pam));
	r = pam_map_bios_area(&pam, &scratch, s->ram, p);
	if (r) {
		snprintf(why, whylen, "the BIOS area does not fit the memory map (%s)",
			 strerror(-r));
		return r == -ENOSPC ? -E2BIG : -ERANGE;
	}
	if (p->platform == PLAN_PLAIN)
		return plain_layout(&scratch, p, true, why, whylen);
	return coco_plan_fits(&scratch, p, why, whylen);
}

/* The doorbell's check of an image copy: is it what its format bit says,
 * can a launch plan be built from it for this VM, and does that plan fit
 * the memory map as the rebuild will lay it out?  The rebuild runs the
 * same plan builder and the same layout, so an image accepted here fails
 * there only when the host does (out of memory, the hypervisor).  Errors:
 * -ERANGE (BAD_RANGE), -E2BIG (TOO_LARGE), -ENOMEM (LOAD_FAIL), others
 * (MALFORMED). */
int swap_doorbell_validate(void *opaque, uint64_t format, const uint8_t *img, size_t len,
			   char *why, size_t whylen)
{
	const struct swap *s = opaque;
	struct launch_plan p;
	bool igvm = planbuild_is_igvm(img, len);
	int r;

	if (format == DOORBELL_FORMAT_IGVM && !igvm) {
		snprintf(why, whylen, "not an IGVM file (no IGVM magic)");
		return -EINVAL;
	}
	if (format == DOORBELL_FORMAT_RAW_ROM && igvm) {
		snprintf(why, whylen, "a raw ROM image that starts with the IGVM magic");
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	r = launch_plan_from_config(&p, s->cfg, img, len, s->khash_ok ? &s->khash : NULL,
				    why, whylen);
	if (!r)
		r = swap_layout_check(s, &p, why, whylen);
	if (!r)
		swap_measure_validated(s, &p, len);
	plan_free(&p);
	return r;
}

void swap_doorbell_event(void *opaque, const struct doorbell_event *ev)
{
	static const char *const names[] = {
		[DOORBELL_EV_REQUESTED] = "swap-requested",
		[DOORBELL_EV_ACCEPTED] = "swap-accepted",
		[DOORBELL_EV_REJECTED] = "swap-rejected",
		[DOORBELL_EV_DISABLED] = "doorbell-disabled",
		[DOORBELL_EV_HOST_ARMED] = "doorbell-host-armed",
		[DOORBELL_EV_APPLIED] = "swap-applied",
		[DOORBELL_EV_DROPPED] = "swap-dropped",
	};
	const char *name = (unsigned)ev->kind < sizeof(names) / sizeof(names[0]) &&
			   names[ev->kind] ? names[ev->kind] : "doorbell";
	struct swap *s = opaque;
	uint64_t suppressed = 0;
	const struct launch_measurement *m = NULL;

	/* the measurement bookkeeping comes first: a suppressed event is
	 * still an accepted (or rejected) image */
	if (ev->kind == DOORBELL_EV_ACCEPTED)
		m = swap_accepted(s, ev);
	else if (ev->kind == DOORBELL_EV_REJECTED)
		swap_validated.valid = false;
	/* A guest can write requests as fast as it likes: what it causes goes
	 * through the doorbell's bucket (to the log and to subscribers alike).
	 * Applied and dropped come from a rebuild, one per reset, as do the
	 * reset, rebuilt and booted events: not limited here. */
	if (ev->kind != DOORBELL_EV_APPLIED && ev->kind != DOORBELL_EV_DROPPED) {
		if (!ratelimit_allow(&s->ev_rl, &suppressed))
			return;
		if (suppressed)
			log_warn("doorbell: %llu events suppressed (rate limit: %u a second)",
				 (unsigned long long)suppressed, SWAP_EV_RATE);
	}

	/* swap-accepted of a SEV-SNP / TDX image also carries the launch
	 * measurement the next build will have */
	const struct event_field f[] = {
		EVF_STR("format", swap_format_name(ev->format)),
		EVF_U64("addr", ev->addr),
		EVF_U64("size", ev->size),
		EVF_BYTES("sha384", ev->has_digest ? ev->sha384 : NULL, ev->has_digest ? 48 : 0),
		EVF_U64("status", ev->status),
		EVF_STR("status_name", doorbell_status_name(ev->status)),
		EVF_STR("reason", ev->reason ? ev->reason : ""),
		EVF_STR("fwid", swap_uki_fwid(s, ev->has_digest ? ev->sha384 : NULL)),
		EVF_BYTES("measurement", m ? m->value : NULL, m ? LAUNCH_MEASUREMENT_LEN : 0),
	};

	events_emit(name, f, sizeof(f) / sizeof(f[0]) - (m ? 0 : 1));
}

uint64_t swap_events_suppressed(struct swap *s)
{
	return ratelimit_total_suppressed(&s->ev_rl);
}

static int swap_plan(const struct swap *s, struct swap_choice *ch, char *err, size_t errlen)
{
	int r;

	memset(&ch->plan, 0, sizeof(ch->plan));
	r = launch_plan_from_config(&ch->plan, s->cfg, ch->fw, ch->len,
				    s->khash_ok ? &s->khash : NULL, err, errlen);
	if (r)
		log_err("launch plan: %s", err);
	return r;
}

static void swap_take_host(const struct swap *s, struct swap_choice *ch, bool later)
{
	ch->fw = s->host_fw;
	ch->len = s->host_fw_len;
	memset(ch->sha384, 0, sizeof(ch->sha384));
	if (!later)
		memcpy(ch->sha384, swap_host_sha384(s), sizeof(ch->sha384));
	ch->sha_later = later;
	ch->format = 0;
	ch->guest = false;
}

int swap_host(const struct swap *s, struct swap_choice *ch)
{
	char err[256];

	swap_take_host(s, ch, false);
	return swap_plan(s, ch, err, sizeof(err));
}

int swap_host_first(const struct swap *s, struct swap_choice *ch)
{
	char err[256];

	swap_take_host(s, ch, true);
	return swap_plan(s, ch, err, sizeof(err));
}

void swap_failed(const struct swap *s, struct doorbell *db, const struct swap_choice *ch,
		 const char *step, int err, const char *why)
{
	log_err("firmware from the doorbell cannot be launched (%s: %s): falling back to the host firmware",
		step, why && why[0] ? why : strerror(err < 0 ? -err : err));
	EVENTS_EMIT("swap-failed",
		    EVF_STR("format", swap_format_name(ch->format)),
		    EVF_U64("size", ch->len),
		    EVF_BYTES("sha384", ch->sha384, 48),
		    EVF_STR("step", step),
		    EVF_STR("error", strerror(err < 0 ? -err : err)),
		    EVF_STR("reason", why ? why : ""),
		    EVF_STR("fwid", swap_uki_fwid(s, ch->sha384)));
	doorbell_on_rebuilt(db, err < 0 ? err : -EIO);
}

int swap_choose(const struct swap *s, struct doorbell *db, struct swap_choice *ch)
{
	const struct doorbell_image *img = NULL;
	char err[256];
	int r;

	doorbell_take_pending(db, &img);
	if (img) {
		/* @img is the device's: valid only until doorbell_on_rebuilt() */
		ch->fw = img->data;
		ch->len = img->len;
		memcpy(ch->sha384, img->sha384, sizeof(ch->sha384));
		ch->format = img->format;
		ch->guest = true;
		ch->sha_later = false;
	} else {
		swap_take_host(s, ch, false);
	}
	r = swap_plan(s, ch, err, sizeof(err));
	if (r && ch->guest) {
		/* the guest image was accepted but does not build: host firmware */
		plan_free(&ch->plan);
		swap_failed(s, db, ch, "plan", r, err);
		r = swap_host(s, ch);
	}
	return r;
}
