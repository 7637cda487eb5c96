/* vmm/base/guestmem.c: implementation of vmm/base/guestmem.h.
 * Owns: the region table and every bounds check on guest-physical ranges.
 * Must not touch KVM or map/unmap memory: callers own the host mappings. */
#include "vmm/base/guestmem.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "vmm/base/log.h"

void gm_init(struct guestmem *gm)
{
	memset(gm, 0, sizeof(*gm));
	pthread_rwlock_init(&gm->lock, NULL);
}

/* Readers take the lock through a const table: the lock is the one field a
 * reader may change. */
static void gm_rdlock(const struct guestmem *gm)
{
	pthread_rwlock_rdlock((pthread_rwlock_t *)&gm->lock);
}

static void gm_unlock(const struct guestmem *gm)
{
	pthread_rwlock_unlock((pthread_rwlock_t *)&gm->lock);
}

void gm_fini(struct guestmem *gm)
{
	pthread_rwlock_destroy(&gm->lock);
}

bool gm_same(const struct guestmem *a, const struct guestmem *b)
{
	bool same;

	gm_rdlock(a);
	gm_rdlock(b);
	same = a->n == b->n;
	for (unsigned i = 0; same && i < a->n; i++)
		same = a->r[i].gpa == b->r[i].gpa && a->r[i].size == b->r[i].size &&
		       a->r[i].host == b->r[i].host && a->r[i].flags == b->r[i].flags;
	gm_unlock(b);
	gm_unlock(a);
	return same;
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

/* Whether [gpa, gpa+size) could be added: 0, -EINVAL, -EEXIST (with the
 * region it overlaps in *@clash) or -ENOSPC.  Logs nothing. */
static int gm_check_locked(const struct guestmem *gm, uint64_t gpa, uint64_t size,
			   const struct gm_region **clash)
{
	if (size == 0 || gpa % GM_PAGE_SIZE || size % GM_PAGE_SIZE ||
	    size > UINT64_MAX - gpa)
		return -EINVAL;
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];

		/* Both ends are representable (checked at add time). */
		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			if (clash)
				*clash = r;
			return -EEXIST;
		}
	}
	return gm->n >= GM_MAX_REGIONS ? -ENOSPC : 0;
}

int gm_check_add(const struct guestmem *gm, uint64_t gpa, uint64_t size,
		 const struct gm_region **clash)
{
	int r;

	gm_rdlock(gm);
	r = gm_check_locked(gm, gpa, size, clash);
	gm_unlock(gm);
	return r;
}

static int gm_add_locked(struct guestmem *gm, uint64_t gpa, uint64_t size, void *host,
			 unsigned flags, const char *name)
{
	const struct gm_region *clash = NULL;
	unsigned pos;
	int rc = gm_check_locked(gm, gpa, size, &clash);

	if (rc == -EINVAL) {
		log_err("guestmem: bad region %s gpa=0x%llx size=0x%llx",
			name ? name : "?", (unsigned long long)gpa,
			(unsigned long long)size);
		return rc;
	}
	if (rc == -EEXIST) {
		log_err("guestmem: region %s at 0x%llx overlaps %s",
			name ? name : "?", (unsigned long long)gpa,
			clash->name ? clash->name : "?");
		return rc;
	}
	if (rc) {
		log_err("guestmem: region table full adding %s",
			name ? name : "?");
		return rc;
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

int gm_add(struct guestmem *gm, uint64_t gpa, uint64_t size, void *host,
	   unsigned flags, const char *name)
{
	int r;

	pthread_rwlock_wrlock(&gm->lock);
	r = gm_add_locked(gm, gpa, size, host, flags, name);
	pthread_rwlock_unlock(&gm->lock);
	return r;
}

void gm_copy(struct guestmem *dst, const struct guestmem *src)
{
	gm_init(dst);
	gm_rdlock(src);
	memcpy(dst->r, src->r, sizeof(dst->r));
	dst->n = src->n;
	gm_unlock(src);
}

/* Drop the regions @drop selects, keeping the others in order. */
static void gm_filter(struct guestmem *gm, bool (*drop)(const struct gm_region *r,
							  const void *arg), const void *arg)
{
	unsigned i, j = 0;

	pthread_rwlock_wrlock(&gm->lock);
	for (i = 0; i < gm->n; i++) {
		if (drop(&gm->r[i], arg))
			continue;
		gm->r[j++] = gm->r[i];
	}
	for (i = j; i < gm->n; i++)
		memset(&gm->r[i], 0, sizeof(gm->r[i]));
	gm->n = j;
	pthread_rwlock_unlock(&gm->lock);
}

static bool drop_by_flags(const struct gm_region *r, const void *arg)
{
	return r->flags & *(const unsigned *)arg;
}

static bool drop_by_start(const struct gm_region *r, const void *arg)
{
	const uint64_t *lohi = arg;

	return r->gpa >= lohi[0] && r->gpa < lohi[1];
}

void gm_remove(struct guestmem *gm, unsigned mask)
{
	gm_filter(gm, drop_by_flags, &mask);
}

void gm_remove_range(struct guestmem *gm, uint64_t lo, uint64_t hi)
{
	const uint64_t lohi[2] = { lo, hi };

	gm_filter(gm, drop_by_start, lohi);
}

static const struct gm_region *gm_find_locked(const struct guestmem *gm, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < gm->n; i++)
		if (region_has(&gm->r[i], gpa))
			return &gm->r[i];
	return NULL;
}

const struct gm_region *gm_find(const struct guestmem *gm, uint64_t gpa)
{
	const struct gm_region *r;

	gm_rdlock(gm);
	r = gm_find_locked(gm, gpa);
	gm_unlock(gm);
	return r;
}

void *gm_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t len,
	     unsigned need)
{
	const struct gm_region *r;

	void *p = NULL;

	if (len == 0 || len - 1 > UINT64_MAX - gpa)
		return NULL;
	gm_rdlock(gm);
	r = gm_find_locked(gm, gpa);
	if (r && r->host && !(r->flags & GM_PRIVATE) && (r->flags & need) == need &&
	    len <= region_left(r, gpa))
		p = r->host + (gpa - r->gpa);
	gm_unlock(gm);
	return p;
}

/* Walk [gpa, gpa+len) region by region; every region met must satisfy
 * @ok.  Returns false on a hole, an unsuitable region or overflow. */
static bool range_walk(const struct guestmem *gm, uint64_t gpa, uint64_t len,
		       bool (*ok)(const struct gm_region *r))
{
	if (len == 0 || len - 1 > UINT64_MAX - gpa)
		return false;
	while (len) {
		const struct gm_region *r = gm_find_locked(gm, gpa);
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
	bool ok;

	gm_rdlock(gm);
	ok = range_walk(gm, gpa, len, region_is_ram);
	gm_unlock(gm);
	return ok;
}

/* Copy between guest memory and @buf (to the guest when @to_guest), region
 * by region.  Everything is validated first, so a refused access copies
 * nothing; the table cannot change between the check and the copy. */
static int gm_access(const struct guestmem *gm, uint64_t gpa, uint8_t *buf, size_t len,
		     bool to_guest)
{
	if (len == 0)
		return 0;
	gm_rdlock(gm);
	if (!range_walk(gm, gpa, len, to_guest ? region_writable : region_readable)) {
		gm_unlock(gm);
		return -EFAULT;
	}
	while (len) {
		const struct gm_region *r = gm_find_locked(gm, gpa);
		uint64_t n = region_left(r, gpa);

		if (n > len)
			n = len;
		if (to_guest)
			memmove(r->host + (gpa - r->gpa), buf, n);
		else
			memcpy(buf, r->host + (gpa - r->gpa), n);
		buf += n;
		gpa += n;
		len -= n;
	}
	gm_unlock(gm);
	return 0;
}

int gm_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t len)
{
	return gm_access(gm, gpa, dst, len, false);
}

int gm_write(const struct guestmem *gm, uint64_t gpa, const void *src, size_t len)
{
	/* the bytes are only read: the cast lets one walker serve both ways */
	return gm_access(gm, gpa, (uint8_t *)(uintptr_t)src, len, true);
}
