/* vmm/vm/pam.c: i440FX PAM chunks of the BIOS area (see pam.h). */
#include "vmm/vm/pam.h"

#include <errno.h>
#include <string.h>

#include "vmm/base/log.h"

bool pam_covers(uint64_t gpa)
{
	return gpa >= PAM_START && gpa < LAYOUT_1M;
}

const struct plan_region *pam_plan_alias(const struct launch_plan *p)
{
	for (size_t i = 0; i < p->nregions; i++)
		if (p->regions[i].flags & PLAN_F_ALIAS)
			return &p->regions[i];
	return NULL;
}

/* What chunk @c shows for the PAM nibble @attr (QEMU hw/pci-host/pam.c
 * behaves the same: RE only is read-only RAM, WE only is treated as RAM,
 * neither is "PCI", which here is the firmware's ROM alias where there is
 * one and RAM below it). */
static void pam_chunk_set(const struct pam *pam, struct pam_chunk *c, unsigned attr)
{
	attr &= I440FX_PAM_RE | I440FX_PAM_WE;
	c->rom = attr == 0 && c->gpa >= pam->alias_gpa;
	c->readonly = c->rom || attr == I440FX_PAM_RE;
	c->host = c->rom ? pam->alias_host + (c->gpa - pam->alias_gpa) : pam->ram + c->gpa;
}

/* The PAM nibble that covers @gpa (inside the BIOS area). */
static unsigned pam_attr(const uint8_t regs[I440FX_PAM_REGS], uint64_t gpa)
{
	unsigned piece;

	if (gpa >= PAM_F_SEG)
		return regs[0] >> 4;
	piece = (unsigned)((gpa - PAM_START) / PAM_PIECE);
	return piece & 1 ? regs[1 + piece / 2] >> 4 : regs[1 + piece / 2] & 0xf;
}

/* Replace the BIOS-area entries of @gm with the merged chunks.  With
 * @coarse, read-only RAM is listed as RAM, which halves the worst case
 * (guest-memory table full). */
static int pam_gm_fill(const struct pam *pam, struct guestmem *gm, bool coarse)
{
	int r = 0;

	gm_remove_range(gm, PAM_START, LAYOUT_1M);
	for (unsigned k = 0; !r && k < pam->n;) {
		const struct pam_chunk *c = &pam->c[k];
		unsigned flags = c->rom || (c->readonly && !coarse) ? GM_ROM : GM_RAM;
		uint64_t size = c->size;
		unsigned j = k + 1;

		for (; j < pam->n; j++) {
			const struct pam_chunk *d = &pam->c[j];
			unsigned dflags = d->rom || (d->readonly && !coarse) ? GM_ROM : GM_RAM;

			if (dflags != flags || d->host != c->host + size)
				break;
			size += d->size;
		}
		r = gm_add(gm, c->gpa, size, c->host, flags,
			   c->rom ? "bios-alias" : flags & GM_ROM ? "ram-bios-ro" : "ram-bios");
		k = j;
	}
	return r;
}

static int pam_gm_update(const struct pam *pam, struct guestmem *gm)
{
	int r = pam_gm_fill(pam, gm, false);

	if (r == -ENOSPC) {
		log_debug("pam: guest-memory table full, listing read-only BIOS RAM as RAM");
		r = pam_gm_fill(pam, gm, true);
	}
	return r;
}

int pam_layout(struct pam *pam, struct guestmem *gm, uint8_t *ram,
	       const struct plan_region *alias)
{
	static const uint8_t zero[I440FX_PAM_REGS];
	uint64_t gpa = PAM_START;

	pam->ram = ram;
	pam->alias_gpa = alias ? alias->gpa : LAYOUT_1M;
	pam->alias_host = alias ? (uint8_t *)alias->data : NULL;
	if (pam->alias_gpa < PAM_START || pam->alias_gpa % GM_PAGE_SIZE ||
	    (pam->alias_gpa < LAYOUT_1M && !pam->alias_host)) {
		log_err("pam: BIOS alias at 0x%llx does not fit the BIOS area",
			(unsigned long long)pam->alias_gpa);
		return -EINVAL;
	}
	pam->n = 0;
	while (gpa < LAYOUT_1M) {
		uint64_t end = gpa < PAM_F_SEG ? gpa + PAM_PIECE : LAYOUT_1M;
		struct pam_chunk *c = &pam->c[pam->n++];

		if (gpa < pam->alias_gpa && pam->alias_gpa < end)
			end = pam->alias_gpa;
		c->gpa = gpa;
		c->size = end - gpa;
		pam_chunk_set(pam, c, pam_attr(zero, gpa));
		gpa = end;
	}
	pam->active = true;
	return pam_gm_update(pam, gm);
}

int pam_map_bios_area(struct pam *pam, struct guestmem *gm, uint8_t *ram,
		      const struct launch_plan *p)
{
	const struct plan_region *ar = pam_plan_alias(p);
	uint64_t alias = ar ? ar->gpa : LAYOUT_1M;
	int r = 0;

	gm_remove(gm, GM_ROM);
	pam->active = false;
	gm_remove_range(gm, PAM_START, LAYOUT_1M);
	if (p->platform == PLAN_PLAIN) {
		r = pam_layout(pam, gm, ram, ar);
		alias = PAM_START;
	}
	if (!r && alias > LAYOUT_VGA_END)
		r = gm_add(gm, LAYOUT_VGA_END, alias - LAYOUT_VGA_END, ram + LAYOUT_VGA_END,
			   GM_RAM, "ram-c0000");
	return r;
}

unsigned pam_update(struct pam *pam, struct guestmem *gm, const uint8_t regs[I440FX_PAM_REGS],
		    pam_remap_fn *remap, void *opaque)
{
	unsigned changed = 0;

	if (!pam->active)
		return 0;
	for (unsigned k = 0; k < pam->n; k++) {
		struct pam_chunk *c = &pam->c[k];
		struct pam_chunk old = *c;
		int r;

		pam_chunk_set(pam, c, pam_attr(regs, c->gpa));
		if (c->host == old.host && c->readonly == old.readonly)
			continue;
		changed++;
		r = remap ? remap(opaque, PAM_SLOT0 + k, c) : 0;
		if (r) {
			/* the guest sees a hole there; nothing else to do */
			log_err("pam: remapping 0x%llx-0x%llx failed: %s",
				(unsigned long long)c->gpa, (unsigned long long)(c->gpa + c->size),
				strerror(-r));
		}
	}
	if (changed && pam_gm_update(pam, gm))
		log_err("pam: guest-memory map of the BIOS area not updated");
	if (changed)
		log_debug("pam: %u chunk(s) remapped", changed);
	return changed;
}

/* Chunks @a and @b (b right after a) can share one memory slot. */
static bool pam_mergeable(const struct pam_chunk *a, const struct pam_chunk *b)
{
	return a->readonly == b->readonly && a->host + a->size == b->host;
}

unsigned pam_slots(const struct pam *pam, struct launch_slot *own)
{
	unsigned n = 0;

	for (unsigned k = 0; pam->active && k < pam->n;) {
		const struct pam_chunk *c = &pam->c[k];
		struct launch_slot *s = &own[n++];
		unsigned j = k + 1;

		*s = (struct launch_slot){ .slot = PAM_SLOT0 + k, .gpa = c->gpa, .size = c->size,
					   .host = c->host, .readonly = c->readonly };
		for (; j < pam->n && pam_mergeable(&pam->c[j - 1], &pam->c[j]); j++)
			s->size += pam->c[j].size;
		k = j;
	}
	return n;
}

static bool pam_slot_in(const struct launch_slot *s, const struct launch_slot *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i].slot == s->slot && set[i].gpa == s->gpa && set[i].size == s->size &&
		    set[i].host == s->host && set[i].readonly == s->readonly)
			return true;
	return false;
}

unsigned pam_slots_apply(const struct launch_slot *before, unsigned nbefore,
			 const struct launch_slot *after, unsigned nafter,
			 pam_slot_fn *fn, void *opaque)
{
	unsigned calls = 0;

	/* every slot that goes first: the new ones may overlap them */
	for (unsigned i = 0; i < nbefore; i++)
		if (!pam_slot_in(&before[i], after, nafter)) {
			calls++;
			if (fn(opaque, &before[i], false))
				log_err("pam: deleting slot %u failed", before[i].slot);
		}
	for (unsigned i = 0; i < nafter; i++)
		if (!pam_slot_in(&after[i], before, nbefore)) {
			calls++;
			if (fn(opaque, &after[i], true))
				log_err("pam: mapping 0x%llx-0x%llx failed (the guest sees a hole)",
					(unsigned long long)after[i].gpa,
					(unsigned long long)(after[i].gpa + after[i].size));
		}
	return calls;
}
