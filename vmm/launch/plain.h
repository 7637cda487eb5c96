/* vmm/launch/plain.h: the plain (non-confidential) launch of a plan, the twin
 * of coco_build: the plan's regions into the guest-memory map, a hypervisor
 * VM with memslots first (cheap before the irqchip), then the irqchip and
 * PIT, then vCPUs.  Must not touch devices or vCPU threads. */
#ifndef FUKI_PLAIN_H
#define FUKI_PLAIN_H

#include "vmm/launch/launch.h"

#define PLAIN_STR_(x) #x
#define PLAIN_STR(x) PLAIN_STR_(x)

/* Bytes of a plain plan outside RAM (ROM: the firmware, an IGVM file's
 * pages above RAM), all below 4 GiB: the firmware window.  It holds the
 * largest raw ROM (loader/plan.h PLAN_FW_MAX). */
#define PLAIN_ROM_MAX_MIB 16
#define PLAIN_ROM_MAX ((uint64_t)PLAIN_ROM_MAX_MIB << 20)

/* Lay plan @p's regions (but its BIOS alias, which is the caller's) into
 * the guest-memory map @gm, which holds RAM and the BIOS area already.
 * Data regions in RAM are copied there and must lie in one region of the
 * map; every other region is ROM outside RAM: below 4 GiB, clear of the
 * hypervisor's pages, at most PLAIN_ROM_MAX bytes in all, and it takes one
 * entry of the map.
 *
 * With @dry, the same checks on a scratch map (gm_copy()), without
 * copying or allocating anything: the doorbell asks this at write time,
 * and an image that passes is laid out by the rebuild (@dry false) with
 * the same answer.  Real mode copies data into RAM (zero pages only where
 * RAM does not already read zero: guest RAM is anonymous memory, where a
 * page that is not resident reads zero) and gives ROM regions their
 * plan-owned host buffers, lazily mapped.
 *
 * 0, or -ERANGE (across two memory regions, overlapping the map, above
 * 4 GiB, over the hypervisor's pages), -E2BIG (map full, window
 * exceeded), -EINVAL, -ENOMEM, with one line in @why (may be NULL). */
int plain_layout(struct guestmem *gm, struct launch_plan *p, bool dry, char *why, size_t whylen);

/* See launch_build (a->plan is PLAN_PLAIN). */
int plain_build(const struct launch_build_args *a, struct launch_vm *out);

#endif
