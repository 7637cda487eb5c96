/* vmm/launch/plain.c: the plain launch of a plan, and launch_build, which
 * picks it or the confidential one by the plan's platform. */
#include "vmm/launch/plain.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"

/* Zero [dst, dst+n) of RAM, writing only the pages that do not read zero
 * already.  Guest RAM is anonymous memory (vm_map_ram): a page that is not
 * resident has never been written and reads zero, so mincore() finds the
 * few pages to look at without touching the others, and zero pages commit
 * no host memory. */
static void ram_zero(uint8_t *dst, uint64_t n)
{
	static const uint8_t zero[PLAN_PAGE];
	unsigned char vec[1024];

	for (uint64_t off = 0; off < n;) {
		uint64_t chunk = n - off < sizeof(vec) * PLAN_PAGE ? n - off : sizeof(vec) * PLAN_PAGE;
		bool known = !((uintptr_t)(dst + off) % PLAN_PAGE) &&
			     mincore(dst + off, (size_t)chunk, vec) == 0;

		for (uint64_t i = 0; i < chunk; i += PLAN_PAGE) {
			uint8_t *pg = dst + off + i;
			size_t len = chunk - i < PLAN_PAGE ? (size_t)(chunk - i) : PLAN_PAGE;

			if (known && !(vec[i / PLAN_PAGE] & 1))
				continue;
			if (memcmp(pg, zero, len))
				memset(pg, 0, len);
		}
		off += chunk;
	}
}

/* [dst, dst+size) of RAM gets @data_len bytes of @data, zeros after; data
 * pages that are all zero are zero fill too. */
static void ram_fill(uint8_t *dst, const uint8_t *data, uint64_t data_len, uint64_t size)
{
	static const uint8_t zero[PLAN_PAGE];
	uint64_t off = 0;

	for (; off < data_len; off += PLAN_PAGE) {
		size_t n = data_len - off < PLAN_PAGE ? (size_t)(data_len - off) : PLAN_PAGE;

		if (n == PLAN_PAGE && !memcmp(data + off, zero, n)) {
			ram_zero(dst + off, n);
			continue;
		}
		memcpy(dst + off, data + off, n);
		if (n < PLAN_PAGE && off + PLAN_PAGE <= size)
			memset(dst + off + n, 0, PLAN_PAGE - n);
	}
	if (off < size)
		ram_zero(dst + off, size - off);
}

static int layout_fail(char *why, size_t whylen, int code, const struct plan_region *pr,
		       const char *fmt, const char *arg)
{
	char tail[96];

	snprintf(tail, sizeof(tail), fmt, arg);
	snprintf(why, whylen, "plan region %s 0x%llx+0x%llx %s", pr->what,
		 (unsigned long long)pr->gpa, (unsigned long long)pr->size, tail);
	return code;
}

/* The hypervisor's own pages below 4 GiB (the identity map and TSS of
 * vmm/hv/kvm.c, the local APIC page): no plan region may cover them. */
static bool hits_reserved(uint64_t gpa, uint64_t size)
{
	static const uint64_t res[][2] = {
		{ LAYOUT_IDENT_MAP, LAYOUT_TSS_ADDR + 3 * PLAN_PAGE },
		{ LAYOUT_LAPIC, LAYOUT_LAPIC + PLAN_PAGE },
	};

	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		if (gpa < res[i][1] && res[i][0] < gpa + size)
			return true;
	return false;
}

/* A host buffer for ROM region @pr outside RAM: its own bytes where they
 * cover it (no copy), else a lazily mapped zero buffer with the bytes
 * copied in (zero pages cost nothing).  NULL on ENOMEM. */
static uint8_t *rom_buffer(struct launch_plan *p, const struct plan_region *pr)
{
	uint8_t *buf;

	if (pr->data && pr->data_len == pr->size && !((uintptr_t)pr->data % PLAN_PAGE))
		return (uint8_t *)pr->data;
	buf = plan_alloc(p, pr->size);
	if (buf && pr->data_len)
		memcpy(buf, pr->data, pr->data_len);
	return buf;
}

int plain_layout(struct guestmem *gm, struct launch_plan *p, bool dry, char *why, size_t whylen)
{
	uint64_t rom = 0;

	if (why && whylen)
		why[0] = '\0';
	else
		whylen = 0;
	for (size_t i = 0; i < p->nregions; i++) {
		struct plan_region *pr = &p->regions[i];
		const struct gm_region *clash = NULL;
		uint8_t *host;
		int r;

		if (pr->flags & PLAN_F_ALIAS)
			continue;   /* the BIOS area's (laid out by the caller) */
		if (!pr->size || pr->size % PLAN_PAGE || pr->gpa % PLAN_PAGE ||
		    pr->size > UINT64_MAX - pr->gpa || pr->data_len > pr->size)
			return layout_fail(why, whylen, -EINVAL, pr, "%s", "is not page aligned");
		if (!(pr->flags & PLAN_F_READONLY) && gm_range_is_ram(gm, pr->gpa, pr->size)) {
			/* data in RAM: copied there, so it must lie in one region */
			uint8_t *dst = gm_ptr(gm, pr->gpa, pr->size, GM_RAM);

			if (!dst)
				return layout_fail(why, whylen, -ERANGE, pr, "%s",
						   "spans two memory regions");
			if (!dry)
				ram_fill(dst, pr->data, pr->data ? pr->data_len : 0, pr->size);
			continue;
		}
		/* everything else is ROM outside RAM: the firmware window */
		r = gm_check_add(gm, pr->gpa, pr->size, &clash);
		if (r == -EEXIST)
			return layout_fail(why, whylen, -ERANGE, pr, "overlaps %s",
					   clash && clash->name ? clash->name : "another region");
		if (r == -ENOSPC)
			return layout_fail(why, whylen, -E2BIG, pr,
					   "does not fit: the memory map holds %s regions",
					   PLAIN_STR(GM_MAX_REGIONS));
		if (r)
			return layout_fail(why, whylen, r, pr, "%s", "is not a valid range");
		if (pr->gpa + pr->size > LAYOUT_4G)
			return layout_fail(why, whylen, -ERANGE, pr, "%s",
					   "is outside RAM above 4 GiB");
		if (hits_reserved(pr->gpa, pr->size))
			return layout_fail(why, whylen, -ERANGE, pr, "%s",
					   "covers the hypervisor's pages below 4 GiB");
		if (pr->size > PLAIN_ROM_MAX - rom)
			return layout_fail(why, whylen, -E2BIG, pr, "%s",
					   "takes the memory outside RAM past "
					   PLAIN_STR(PLAIN_ROM_MAX_MIB) " MiB");
		rom += pr->size;
		host = NULL;
		if (!dry) {
			host = pr->flags & PLAN_F_READONLY ? (uint8_t *)pr->data : rom_buffer(p, pr);
			if (!host)
				return layout_fail(why, whylen, -ENOMEM, pr, "%s",
						   "has no host memory");
			pr->data = host;
			pr->data_len = pr->size;
		}
		r = gm_add(gm, pr->gpa, pr->size, host, GM_ROM, pr->what);
		if (r)
			return layout_fail(why, whylen, r, pr, "%s", "cannot be mapped");
	}
	return 0;
}

int launch_map_plain(struct guestmem *gm, struct launch_plan *p)
{
	char why[160];
	int r = plain_layout(gm, p, false, why, sizeof(why));

	if (r)
		log_debug("memory map for the plan: %s (%s)", why, strerror(-r));
	return r;
}

/* Every region of the map as a memslot, numbered from 0, but the caller's
 * range, then the caller's own slots. */
static int plain_set_slots(const struct launch_build_args *a, struct hv_vm *hvvm)
{
	const struct guestmem *gm = a->gm;
	unsigned slot = 0;
	int r = 0;

	for (unsigned i = 0; !r && i < gm->n; i++) {
		const struct gm_region *g = &gm->r[i];

		if (a->nown && g->gpa >= a->own_lo && g->gpa < a->own_hi)
			continue;
		r = a->ops->vm_set_memory(hvvm, slot++, g->gpa, g->size, g->host,
					  (g->flags & GM_ROM) != 0);
	}
	for (unsigned k = 0; !r && k < a->nown; k++) {
		const struct launch_slot *s = &a->own[k];

		r = a->ops->vm_set_memory(hvvm, s->slot, s->gpa, s->size, s->host, s->readonly);
	}
	return r;
}

int plain_build(const struct launch_build_args *a, struct launch_vm *out)
{
	const struct hv_ops *ops = a->ops;
	struct hv_vm_params hp = { .platform = a->plan->platform, .nvcpus = a->nvcpus };
	struct hv_vm *hvvm = NULL;
	int r;

	char why[160];

	memset(out, 0, sizeof(*out));
	r = plain_layout(a->gm, a->plan, false, why, sizeof(why));
	if (r) {
		log_err("memory map for the plan: %s (%s)", why, strerror(-r));
		return r;
	}
	r = ops->vm_create(a->hv, &hp, &hvvm);
	if (r)
		return r;
	r = plain_set_slots(a, hvvm);
	if (!r && a->split_irqchip)
		r = ops->vm_create_split_irqchip ?
		    ops->vm_create_split_irqchip(hvvm, LAYOUT_IOAPIC_PINS) : -EOPNOTSUPP;
	else if (!r)
		r = ops->vm_create_irqchip(hvvm);
	for (unsigned i = 0; !r && i < a->nvcpus; i++)
		r = ops->vcpu_create(hvvm, i, &out->vcpu[i]);
	if (r) {
		for (unsigned i = 0; i < a->nvcpus; i++)
			if (out->vcpu[i])
				ops->vcpu_destroy(out->vcpu[i]);
		ops->vm_destroy(hvvm);
		memset(out, 0, sizeof(*out));
		return r;
	}
	out->hvvm = hvvm;
	return 0;
}

int launch_build(const struct launch_build_args *a, struct launch_vm *out)
{
	struct coco_build_args ca;

	if (a->plan->platform == PLAN_PLAIN)
		return plain_build(a, out);
	memset(out, 0, sizeof(*out));
	ca = (struct coco_build_args){
		.ops = a->ops, .hv = a->hv, .plan = a->plan, .gm = a->gm,
		.nvcpus = a->nvcpus, .cfg = a->coco, .split_irqchip = a->split_irqchip,
	};
	/* memory as guest_memfd, the platform launch, vCPUs; on failure
	 * coco_build has destroyed what it made */
	return coco_build(&ca, &out->coco, &out->hvvm, out->vcpu);
}
