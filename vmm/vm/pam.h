/* vmm/vm/pam.h: the BIOS area [0xC0000, 1 MiB) of a plain guest as the
 * i440FX PAM registers (devices/pci.h) map it.
 * Owns: the area's fixed chunks and what each shows (RAM, read-only RAM or
 * the firmware's ROM alias), and their entries in the guest-memory map.
 * The chunks are the 13 PAM segments (12 x 16 KiB, then 64 KiB at 0xF0000),
 * one of them split where the firmware's low alias starts.  Hypervisor
 * memory slots cover runs of chunks with the same view (pam_slots: the run
 * starting at chunk k uses slot PAM_SLOT0 + k), split only where the PAM
 * registers make chunks differ; the guest-memory map holds the chunks merged
 * where they agree.  Pure logic: the caller's remap callback
 * is the only way out to the hypervisor. */
#ifndef FUKI_PAM_H
#define FUKI_PAM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "loader/plan.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/layout.h"
#include "vmm/launch/launch.h"

#define PAM_START      LAYOUT_VGA_END
#define PAM_F_SEG      0xF0000ULL
#define PAM_PIECE      0x4000ULL
#define PAM_MAX_CHUNKS 14
#define PAM_SLOT0      GM_MAX_REGIONS     /* slots below go to the rest of the map */

struct pam_chunk {
	uint64_t gpa, size;
	uint8_t *host;          /* guest RAM or the plan's ROM alias */
	bool readonly;
	bool rom;               /* showing the ROM alias */
};

struct pam {
	bool active;            /* a plain guest's map is laid out */
	uint64_t alias_gpa;     /* 1 MiB when the plan has no alias */
	uint8_t *alias_host;
	uint8_t *ram;           /* guest RAM, indexed by guest-physical address */
	unsigned n;
	struct pam_chunk c[PAM_MAX_CHUNKS];
};

/* Chunk @c (chunk k, @slot PAM_SLOT0 + k) has a new view.  0, or a negative
 * errno code (logged).  The memory slots follow pam_slots/pam_slots_apply. */
typedef int pam_remap_fn(void *opaque, unsigned slot, const struct pam_chunk *c);

/* Is @gpa inside the BIOS area? */
bool pam_covers(uint64_t gpa);
/* The plan's BIOS alias region (the firmware's top mapped below 1 MiB), or
 * NULL when the plan has none. */
const struct plan_region *pam_plan_alias(const struct launch_plan *p);
/* Power-on layout (every PAM register 0) for a plan whose alias is @alias
 * (NULL: none) over guest RAM @ram, written into @gm.  0 or -EINVAL (the
 * alias does not fit the area) or gm_add's error. */
int pam_layout(struct pam *pam, struct guestmem *gm, uint8_t *ram,
	       const struct plan_region *alias);
/* The memory map every plan starts from, in @gm (the live map, or a
 * scratch copy for a dry run with a scratch @pam): no ROM, and the BIOS
 * area [768K, 1M) as the PAM registers show it at power-on (plain plans:
 * pam_layout) or as RAM up to the firmware's alias (confidential plans:
 * their regions go to private memory through the platform launch, never
 * through the shared view).  0 or pam_layout's / gm_add's error. */
int pam_map_bios_area(struct pam *pam, struct guestmem *gm, uint8_t *ram,
		      const struct launch_plan *p);
/* The memory slots of the laid-out chunks into @own (PAM_MAX_CHUNKS
 * entries): adjacent chunks with the same view (contiguous host memory, same
 * read-only bit) share one slot, numbered PAM_SLOT0 + its first chunk; at
 * power-on that is one slot of RAM and one of the alias.  How many (0 when
 * not laid out). */
unsigned pam_slots(const struct pam *pam, struct launch_slot *own);
/* Delete (@add false) or map (@add true) slot @s.  0 or a negative errno. */
typedef int pam_slot_fn(void *opaque, const struct launch_slot *s, bool add);
/* Go from slot set @before to @after (pam_slots before and after a
 * pam_update): delete the slots that are not in @after, then map those not
 * in @before; a slot in both is left alone.  Returns the calls made. */
unsigned pam_slots_apply(const struct launch_slot *before, unsigned nbefore,
			 const struct launch_slot *after, unsigned nafter,
			 pam_slot_fn *fn, void *opaque);
/* The guest wrote PAM registers @regs: call @remap (may be NULL) for every
 * chunk whose view changed and rewrite the BIOS area of @gm.  Nothing when not laid out.
 * Returns how many chunks changed. */
unsigned pam_update(struct pam *pam, struct guestmem *gm, const uint8_t regs[I440FX_PAM_REGS],
		    pam_remap_fn *remap, void *opaque);

#endif
