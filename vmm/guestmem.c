/* vmm/guestmem.c: implementation of vmm/guestmem.h.
 * Owns: the region table and every bounds check on guest-physical ranges.
 * Must not touch KVM or map/unmap memory: callers own the host mappings. */
#include "vmm/guestmem.h"

#include <errno.h>
#include <string.h>

#include "vmm/log.h"

void gm_init(struct guestmem *gm)
{
	memset(gm, 0, sizeof(*gm));
}

/* True if @gpa lies in @r (no overflow: gpa - r->gpa is only computed when
 * gpa >= r->gpa). */
static bool region_has(const struct gm_region *r, uint64_t gpa)
{
	return gpa >= r->gpa && gpa - r->gpa < r->size;
}

/* Bytes of @r from @gpa (inside @r) to the region's end. */
static uint64_t region_left(const struct gm_region *r, uint64_t gpa)
{
	return r->size - (gpa - r->gpa);
}

int gm_add(struct guestmem *gm, uint64_t gpa, uint64_t size, void *host,
	   unsigned flags, const char *name)
{
	unsigned i, pos;

	if (size == 0 || gpa % GM_PAGE_SIZE || size % GM_PAGE_SIZE ||
	    size > UINT64_MAX - gpa) {
		log_err("guestmem: bad region %s gpa=0x%llx size=0x%llx",
			name ? name : "?", (unsigned long long)gpa,
			(unsigned long long)size);
		return -EINVAL;
	}
	for (i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];

		/* Both ends are representable (checked at add time). */
		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			log_err("guestmem: region %s at 0x%llx overlaps %s",
				name ? name : "?", (unsigned long long)gpa,
				r->name ? r->name : "?");
			return -EEXIST;
		}
	}
	if (gm->n >= GM_MAX_REGIONS) {
		log_err("guestmem: region table full adding %s",
			name ? name : "?");
		return -ENOSPC;
	}
	/* Keep the table sorted by address. */
	for (pos = 0; pos < gm->n && gm->r[pos].gpa < gpa; pos++)
		;
	memmove(&gm->r[pos + 1], &gm->r[pos],
		(gm->n - pos) * sizeof(gm->r[0]));
	gm->r[pos] = (struct gm_region){
		.gpa = gpa, .size = size, .host = host, .flags = flags,
		.name = name,
	};
	gm->n++;
	return 0;
}

void gm_remove(struct guestmem *gm, unsigned mask)
{
	unsigned i, j = 0;

	for (i = 0; i < gm->n; i++) {
		if (gm->r[i].flags & mask)
			continue;
		gm->r[j++] = gm->r[i];
	}
	for (i = j; i < gm->n; i++)
		memset(&gm->r[i], 0, sizeof(gm->r[i]));
	gm->n = j;
}

const struct gm_region *gm_find(const struct guestmem *gm, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < gm->n; i++)
		if (region_has(&gm->r[i], gpa))
			return &gm->r[i];
	return NULL;
}

void *gm_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t len,
	     unsigned need)
{
	const struct gm_region *r;

	if (len == 0 || len - 1 > UINT64_MAX - gpa)
		return NULL;
	r = gm_find(gm, gpa);
	if (!r || !r->host || (r->flags & GM_PRIVATE) ||
	    (r->flags & need) != need || len > region_left(r, gpa))
		return NULL;
	return r->host + (gpa - r->gpa);
}

/* Walk [gpa, gpa+len) region by region; every region met must satisfy
 * @ok.  Returns false on a hole, an unsuitable region or overflow. */
static bool range_walk(const struct guestmem *gm, uint64_t gpa, uint64_t len,
		       bool (*ok)(const struct gm_region *r))
{
	if (len == 0 || len - 1 > UINT64_MAX - gpa)
		return false;
	while (len) {
		const struct gm_region *r = gm_find(gm, gpa);
		uint64_t n;

		if (!r || !ok(r))
			return false;
		n = region_left(r, gpa);
		if (n >= len)
			return true;
		gpa += n;
		len -= n;
	}
	return true;
}

static bool region_is_ram(const struct gm_region *r)
{
	return (r->flags & GM_RAM) && !(r->flags & GM_ROM);
}

static bool region_readable(const struct gm_region *r)
{
	return r->host && !(r->flags & GM_PRIVATE) &&
	       (r->flags & (GM_RAM | GM_ROM));
}

static bool region_writable(const struct gm_region *r)
{
	return r->host && region_is_ram(r) && !(r->flags & GM_PRIVATE);
}

bool gm_range_is_ram(const struct guestmem *gm, uint64_t gpa, uint64_t len)
{
	return range_walk(gm, gpa, len, region_is_ram);
}

int gm_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t len)
{
	uint8_t *out = dst;

	if (len == 0)
		return 0;
	/* Validate everything first: a failed read copies nothing. */
	if (!range_walk(gm, gpa, len, region_readable))
		return -EFAULT;
	while (len) {
		const struct gm_region *r = gm_find(gm, gpa);
		uint64_t n = region_left(r, gpa);

		if (n > len)
			n = len;
		memcpy(out, r->host + (gpa - r->gpa), n);
		out += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int gm_write(const struct guestmem *gm, uint64_t gpa, const void *src,
	     size_t len)
{
	const uint8_t *in = src;

	if (len == 0)
		return 0;
	/* Validate everything first: a refused write changes nothing. */
	if (!range_walk(gm, gpa, len, region_writable))
		return -EFAULT;
	while (len) {
		const struct gm_region *r = gm_find(gm, gpa);
		uint64_t n = region_left(r, gpa);

		if (n > len)
			n = len;
		memmove(r->host + (gpa - r->gpa), in, n);
		in += n;
		gpa += n;
		len -= n;
	}
	return 0;
}
