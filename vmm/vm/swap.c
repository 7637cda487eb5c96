/* vmm/vm/swap.c: the firmware of every build (see swap.h). */
#include "vmm/vm/swap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/uki.h"
#include "vmm/base/digest.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

int swap_open(struct swap *s, const struct vm_config *cfg, char *err, size_t errlen)
{
	int r;

	s->cfg = cfg;
	ratelimit_init(&s->ev_rl, SWAP_EV_BURST, SWAP_EV_RATE);
	r = file_map(cfg->firmware_path, CFG_FW_MAX, &s->host_fw_map, err, errlen);
	if (r)
		return r;
	s->host_fw = s->host_fw_map.buf;
	s->host_fw_len = s->host_fw_map.len;
	digest_sha384(s->host_fw, s->host_fw_len, s->host_fw_sha384);
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
	file_unmap(&s->host_fw_map);
	for (unsigned i = 0; i < s->n_uki_fw; i++)
		free(s->uki_fw[i].fwid);
	free(s->uki_fw);
	s->uki_fw = NULL;
	s->n_uki_fw = 0;
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

/* The doorbell's check of an image copy: is it what its format bit says,
 * and can a launch plan be built from it for this VM? */
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
	r = planbuild_from_config(&p, s->cfg, img, len, s->khash_ok ? &s->khash : NULL,
				  why, whylen);
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
	EVENTS_EMIT(name,
		    EVF_STR("format", swap_format_name(ev->format)),
		    EVF_U64("addr", ev->addr),
		    EVF_U64("size", ev->size),
		    EVF_BYTES("sha384", ev->has_digest ? ev->sha384 : NULL, ev->has_digest ? 48 : 0),
		    EVF_U64("status", ev->status),
		    EVF_STR("status_name", doorbell_status_name(ev->status)),
		    EVF_STR("reason", ev->reason ? ev->reason : ""),
		    EVF_STR("fwid", swap_uki_fwid(opaque, ev->has_digest ? ev->sha384 : NULL)));
}

uint64_t swap_events_suppressed(struct swap *s)
{
	return ratelimit_total_suppressed(&s->ev_rl);
}

static int swap_plan(const struct swap *s, struct swap_choice *ch)
{
	char err[256];
	int r;

	memset(&ch->plan, 0, sizeof(ch->plan));
	r = planbuild_from_config(&ch->plan, s->cfg, ch->fw, ch->len,
				  s->khash_ok ? &s->khash : NULL, err, sizeof(err));
	if (r)
		log_err("launch plan: %s", err);
	return r;
}

static void swap_take_host(const struct swap *s, struct swap_choice *ch)
{
	ch->fw = s->host_fw;
	ch->len = s->host_fw_len;
	memcpy(ch->sha384, s->host_fw_sha384, sizeof(ch->sha384));
	ch->format = 0;
	ch->guest = false;
}

int swap_host(const struct swap *s, struct swap_choice *ch)
{
	swap_take_host(s, ch);
	return swap_plan(s, ch);
}

int swap_choose(const struct swap *s, struct doorbell *db, struct swap_choice *ch)
{
	const struct doorbell_image *img = NULL;
	int r;

	doorbell_take_pending(db, &img);
	if (img) {
		/* @img is the device's: valid only until doorbell_on_rebuilt() */
		ch->fw = img->data;
		ch->len = img->len;
		memcpy(ch->sha384, img->sha384, sizeof(ch->sha384));
		ch->format = img->format;
		ch->guest = true;
	} else {
		swap_take_host(s, ch);
	}
	r = swap_plan(s, ch);
	if (r && ch->guest) {
		/* the guest image was accepted but does not build: host firmware */
		log_err("firmware from the doorbell cannot be launched: falling back to the host firmware");
		doorbell_on_rebuilt(db, r);
		plan_free(&ch->plan);
		r = swap_host(s, ch);
	}
	return r;
}
