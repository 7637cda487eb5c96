/* loader/plan.c: the launch plan container and the plain-KVM builder.
 * Platform builders live in snp/ and tdx/. */
#include "loader/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Buffers from this size on come from mmap.  A copy (plan_dup) is faulted
 * in at once with MAP_POPULATE: every byte is written straight away, so
 * that commits nothing more than the copy does, and one bulk fault-in is
 * much cheaper than one page fault per 4 KiB on a virtualised host.  A
 * zeroed buffer (plan_alloc) is mapped lazily (MAP_NORESERVE, never
 * pre-faulted): its size may come from a guest's image, and only the pages
 * written later cost host memory. */
#define PLAN_MMAP_MIN (64ULL << 10)

void plan_init(struct launch_plan *p, enum plan_platform platform)
{
	memset(p, 0, sizeof(*p));
	p->platform = platform;
}

void plan_free(struct launch_plan *p)
{
	for (size_t i = 0; i < p->nowned; i++) {
		if (p->owned[i].map_len)
			munmap(p->owned[i].p, p->owned[i].map_len);
		else
			free(p->owned[i].p);
	}
	free(p->owned);
	free(p->regions);
	free(p->vmsa);
	memset(p, 0, sizeof(*p));
}

size_t plan_owned_bytes(const struct launch_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nowned; i++)
		n += p->owned[i].len;
	return n;
}

static int plan_keep(struct launch_plan *p, void *buf, size_t map_len, size_t len)
{
	if (p->nowned == p->owned_cap) {
		size_t cap = p->owned_cap ? p->owned_cap * 2 : 8;
		struct plan_buf *n = realloc(p->owned, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->owned = n;
		p->owned_cap = cap;
	}
	p->owned[p->nowned++] = (struct plan_buf){ buf, map_len, len };
	return 0;
}

/* A page-aligned buffer of @size bytes (rounded up to pages); the bytes
 * are zero when @zero is set (mmap'ed memory always is).  @zero buffers
 * are mapped lazily, copies (!@zero) pre-faulted. */
static void *plan_get(struct launch_plan *p, size_t size, bool zero)
{
	void *buf = NULL;
	size_t rounded = (size + PLAN_PAGE - 1) & ~(PLAN_PAGE - 1);

	if (rounded < size || rounded == 0)
		return NULL;
	if (rounded >= PLAN_MMAP_MIN) {
		buf = mmap(NULL, rounded, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS |
			   (zero ? MAP_NORESERVE : MAP_POPULATE), -1, 0);
		if (buf == MAP_FAILED)
			return NULL;
		if (plan_keep(p, buf, rounded, rounded)) {
			munmap(buf, rounded);
			return NULL;
		}
		return buf;
	}
	if (posix_memalign(&buf, PLAN_PAGE, rounded))
		return NULL;
	if (zero)
		memset(buf, 0, rounded);
	else
		memset((uint8_t *)buf + size, 0, rounded - size);   /* the tail only */
	if (plan_keep(p, buf, 0, rounded)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void *plan_alloc(struct launch_plan *p, size_t size)
{
	return plan_get(p, size, true);
}

/* plan_borrow's range (per thread: only the thread that set it borrows) */
static _Thread_local const uint8_t *borrow_lo, *borrow_hi;

void plan_borrow(const void *buf, size_t len)
{
	borrow_lo = buf;
	borrow_hi = buf ? (const uint8_t *)buf + len : NULL;
}

void *plan_dup(struct launch_plan *p, const void *data, size_t size)
{
	uintptr_t d = (uintptr_t)data, lo = (uintptr_t)borrow_lo, hi = (uintptr_t)borrow_hi;
	void *buf;

	if (lo && d >= lo && d < hi && size <= hi - d && !(d % PLAN_PAGE))
		return (void *)d;
	buf = plan_get(p, size, false);

	if (buf && size)
		memcpy(buf, data, size);
	return buf;
}

int plan_add_region(struct launch_plan *p, const struct plan_region *r)
{
	if (r->size == 0 || (r->gpa | r->size) & (PLAN_PAGE - 1) ||
	    r->gpa + r->size < r->gpa || r->data_len > r->size)
		return -EINVAL;
	if (p->nregions == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct plan_region *n = realloc(p->regions, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->regions = n;
		p->cap = cap;
	}
	p->regions[p->nregions++] = *r;
	return 0;
}

int plan_build_plain(struct launch_plan *p, const uint8_t *fw, size_t fw_len,
		     unsigned nvcpus)
{
	struct plan_region r;
	uint8_t *copy;
	uint64_t alias;
	int ret;

	if (fw_len == 0 || fw_len % PLAN_PAGE || fw_len > PLAN_FW_MAX)
		return -EINVAL;
	copy = plan_dup(p, fw, fw_len);
	if (!copy)
		return -ENOMEM;
	p->fw = copy;
	p->fw_size = fw_len;
	p->fw_gpa = PLAN_4G - fw_len;
	p->nvcpus = nvcpus;

	memset(&r, 0, sizeof(r));
	r.gpa = p->fw_gpa;
	r.size = fw_len;
	r.data = copy;
	r.data_len = fw_len;
	r.flags = PLAN_F_READONLY;
	strcpy(r.what, "firmware");
	ret = plan_add_region(p, &r);
	if (ret)
		return ret;

	alias = fw_len < PLAN_BIOS_ALIAS_MAX ? fw_len : PLAN_BIOS_ALIAS_MAX;
	r.gpa = 0x100000 - alias;
	r.size = alias;
	r.data = copy + fw_len - alias;
	r.data_len = alias;
	r.flags = PLAN_F_READONLY | PLAN_F_ALIAS;
	strcpy(r.what, "bios-alias");
	return plan_add_region(p, &r);
}

uint8_t *plan_region_copy(const struct plan_region *r)
{
	uint8_t *buf = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return NULL;
	if (r->data && r->data_len)
		memcpy(buf, r->data, r->data_len);
	return buf;
}

void plan_region_copy_free(uint8_t *buf, const struct plan_region *r)
{
	if (buf)
		munmap(buf, r->size);
}
