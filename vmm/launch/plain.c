/* vmm/launch/plain.c: the plain launch of a plan, and launch_build, which
 * picks it or the confidential one by the plan's platform. */
#include "vmm/launch/plain.h"

#include <errno.h>
#include <string.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"

/* Lay the plan's regions into the guest-memory map: read-only regions (the
 * firmware ROM) become ROM mappings of the plan's buffers; data regions (an
 * IGVM file's pages) are copied into RAM, or mapped read-only when they lie
 * outside RAM.  The BIOS alias is the caller's (the BIOS area). */
static int plain_map_regions(struct guestmem *gm, struct launch_plan *p)
{
	int r = 0;

	for (size_t i = 0; !r && i < p->nregions; i++) {
		struct plan_region *pr = &p->regions[i];

		if (pr->flags & PLAN_F_ALIAS) {
			continue;
		} else if (pr->flags & PLAN_F_READONLY) {
			r = gm_add(gm, pr->gpa, pr->size, (void *)pr->data, GM_ROM, pr->what);
		} else if (gm_range_is_ram(gm, pr->gpa, pr->size)) {
			uint8_t *dst = gm_ptr(gm, pr->gpa, pr->size, GM_RAM);

			if (!dst) {
				r = -EINVAL;   /* spans two RAM regions: not for a plain guest */
				break;
			}
			if (pr->data_len)
				memcpy(dst, pr->data, pr->data_len);
			memset(dst + pr->data_len, 0, pr->size - pr->data_len);
		} else {
			/* outside RAM (e.g. below 4 GiB): a page-aligned buffer of its own */
			uint8_t *buf = plan_alloc(p, pr->size);

			if (!buf) {
				r = -ENOMEM;
				break;
			}
			if (pr->data_len)
				memcpy(buf, pr->data, pr->data_len);
			pr->data = buf;
			pr->data_len = pr->size;
			r = gm_add(gm, pr->gpa, pr->size, buf, GM_ROM, pr->what);
		}
	}
	return r;
}

int launch_map_plain(struct guestmem *gm, struct launch_plan *p)
{
	return plain_map_regions(gm, p);
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

	memset(out, 0, sizeof(*out));
	r = plain_map_regions(a->gm, a->plan);
	if (r) {
		log_err("plan region does not fit the memory map: %s", strerror(-r));
		log_err("memory map for the plan: %s", strerror(-r));
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
