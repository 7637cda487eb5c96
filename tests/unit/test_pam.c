/* tests/unit/test_pam.c: the i440FX PAM chunks of the BIOS area: the
 * power-on layout, what each attribute shows, how agreeing chunks merge in
 * the guest-memory map, which slots a register write remaps, and a new
 * layout as the reset state; the memory slots: chunks with the same view
 * share one (two at power-on), a register write replaces only the slots
 * whose run changed.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/vm/pam.h"

#define RAM_SIZE   (2ULL << 20)
#define ALIAS_SIZE 0x20000ULL     /* the firmware's top 128 KiB at 0xE0000 */

static uint8_t *ram, *rom;
static struct guestmem gm;
static struct pam pam;
static struct plan_region alias;

struct remap_rec {
	unsigned slot;
	struct pam_chunk c;
};
static struct remap_rec remaps[PAM_MAX_CHUNKS * 2];
static unsigned nremaps;
static int remap_rc;

static int fake_remap(void *opaque, unsigned slot, const struct pam_chunk *c)
{
	cr_assert_eq(opaque, &pam);
	cr_assert_lt(nremaps, sizeof(remaps) / sizeof(remaps[0]));
	remaps[nremaps].slot = slot;
	remaps[nremaps].c = *c;
	nremaps++;
	return remap_rc;
}

static void setup(void)
{
	log_set_level(LOG_ERR);
	ram = calloc(1, RAM_SIZE);
	rom = calloc(1, ALIAS_SIZE);
	cr_assert(ram && rom);
	memset(&pam, 0, sizeof(pam));
	gm_init(&gm);
	cr_assert_eq(gm_add(&gm, 0, LAYOUT_VGA_START, ram, GM_RAM, "ram-low"), 0);
	cr_assert_eq(gm_add(&gm, LAYOUT_1M, RAM_SIZE - LAYOUT_1M, ram + LAYOUT_1M, GM_RAM, "ram"), 0);
	alias = (struct plan_region){ .gpa = LAYOUT_1M - ALIAS_SIZE, .size = ALIAS_SIZE,
				      .data = rom, .data_len = ALIAS_SIZE,
				      .flags = PLAN_F_ALIAS | PLAN_F_READONLY };
	nremaps = 0;
	remap_rc = 0;
}

static void teardown(void)
{
	free(ram);
	free(rom);
}

TestSuite(pam, .init = setup, .fini = teardown);

/* The BIOS-area entries of the map, in address order. */
static unsigned bios_entries(const struct gm_region **out, unsigned max)
{
	unsigned n = 0;

	for (uint64_t gpa = PAM_START; gpa < LAYOUT_1M && n < max;) {
		const struct gm_region *g = gm_find(&gm, gpa);

		cr_assert_not_null(g, "hole at 0x%llx", (unsigned long long)gpa);
		out[n++] = g;
		gpa = g->gpa + g->size;
	}
	return n;
}

static void fill_regs(uint8_t regs[I440FX_PAM_REGS], uint8_t nibble)
{
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
		regs[i] = (uint8_t)(nibble | nibble << 4);
}

Test(pam, covers_the_bios_area_only)
{
	cr_assert(!pam_covers(PAM_START - 1));
	cr_assert(pam_covers(PAM_START));
	cr_assert(pam_covers(LAYOUT_1M - 1));
	cr_assert(!pam_covers(LAYOUT_1M));
}

Test(pam, plan_alias_is_the_alias_region)
{
	struct plan_region regs[2] = { { .gpa = LAYOUT_4G - 0x40000, .flags = PLAN_F_READONLY },
				       alias };
	struct launch_plan p = { .regions = regs, .nregions = 2 };

	cr_assert_eq(pam_plan_alias(&p), &regs[1]);
	p.nregions = 1;
	cr_assert_null(pam_plan_alias(&p));
}

Test(pam, power_on_layout_merges_ram_and_alias)
{
	const struct gm_region *e[8];
	unsigned n;

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	cr_assert(pam.active);
	cr_assert_eq(pam.n, 13);    /* 12 x 16 KiB + 64 KiB; the alias starts on a boundary */
	for (unsigned k = 0; k < pam.n; k++) {
		const struct pam_chunk *c = &pam.c[k];
		bool above = c->gpa >= alias.gpa;

		cr_assert_eq(c->rom, above, "chunk %u", k);
		cr_assert_eq(c->readonly, above, "chunk %u", k);
		cr_assert_eq(c->host, above ? rom + (c->gpa - alias.gpa) : ram + c->gpa);
	}
	n = bios_entries(e, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(e[0]->gpa, PAM_START);
	cr_assert_eq(e[0]->size, alias.gpa - PAM_START);
	cr_assert_eq(e[0]->flags, GM_RAM);
	cr_assert_str_eq(e[0]->name, "ram-bios");
	cr_assert_eq(e[1]->gpa, alias.gpa);
	cr_assert_eq(e[1]->size, ALIAS_SIZE);
	cr_assert_eq(e[1]->flags, GM_ROM);
	cr_assert_eq(e[1]->host, rom);
	cr_assert_str_eq(e[1]->name, "bios-alias");
	cr_assert_eq(nremaps, 0);
}

Test(pam, unaligned_alias_splits_a_chunk)
{
	alias.gpa = LAYOUT_1M - 0x1e000;   /* 0xE2000: inside the 0xE0000 segment */
	alias.size = 0x1e000;
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	cr_assert_eq(pam.n, 14);
	cr_assert_eq(pam.c[8].gpa, 0xE0000);
	cr_assert_eq(pam.c[8].size, 0x2000);
	cr_assert(!pam.c[8].rom);
	cr_assert_eq(pam.c[9].gpa, 0xE2000);
	cr_assert(pam.c[9].rom);
}

Test(pam, no_alias_is_all_ram)
{
	const struct gm_region *e[8];

	cr_assert_eq(pam_layout(&pam, &gm, ram, NULL), 0);
	cr_assert_eq(pam.alias_gpa, LAYOUT_1M);
	cr_assert_eq(bios_entries(e, 8), 1);
	cr_assert_eq(e[0]->size, LAYOUT_1M - PAM_START);
	cr_assert_eq(e[0]->flags, GM_RAM);
}

Test(pam, alias_outside_the_area_is_refused)
{
	alias.gpa = PAM_START - GM_PAGE_SIZE;
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), -EINVAL);
	alias.gpa = 0xE0800;    /* not page-aligned */
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), -EINVAL);
}

Test(pam, attributes_choose_ram_readonly_ram_or_rom)
{
	uint8_t regs[I440FX_PAM_REGS];
	const struct gm_region *e[8];

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);

	/* RE|WE everywhere: RAM, one entry; only the alias chunks changed */
	fill_regs(regs, I440FX_PAM_RE | I440FX_PAM_WE);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 5);
	cr_assert_eq(nremaps, 5);
	cr_assert_eq(remaps[0].slot, PAM_SLOT0 + 8);     /* 0xE0000 is chunk 8 */
	cr_assert_eq(remaps[0].c.gpa, 0xE0000);
	cr_assert_eq(remaps[4].slot, PAM_SLOT0 + 12);    /* 0xF0000, 64 KiB */
	cr_assert_eq(remaps[4].c.size, 0x10000);
	cr_assert_eq(remaps[4].c.host, ram + 0xF0000);
	cr_assert(!remaps[4].c.readonly);
	cr_assert_eq(bios_entries(e, 8), 1);
	cr_assert_eq(e[0]->flags, GM_RAM);
	cr_assert_str_eq(e[0]->name, "ram-bios");

	/* RE only: read-only RAM, the same host memory */
	nremaps = 0;
	fill_regs(regs, I440FX_PAM_RE);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 13);
	for (unsigned k = 0; k < 13; k++) {
		cr_assert_eq(remaps[k].slot, PAM_SLOT0 + k);
		cr_assert(remaps[k].c.readonly);
		cr_assert(!remaps[k].c.rom);
	}
	cr_assert_eq(bios_entries(e, 8), 1);
	cr_assert_eq(e[0]->flags, GM_ROM);
	cr_assert_str_eq(e[0]->name, "ram-bios-ro");

	/* WE only counts as RAM; writing the same again changes nothing */
	nremaps = 0;
	fill_regs(regs, I440FX_PAM_WE);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 13);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 0);
	cr_assert_eq(nremaps, 13);
	cr_assert_eq(bios_entries(e, 8), 1);
	cr_assert_eq(e[0]->flags, GM_RAM);
}

Test(pam, one_segment_splits_the_map)
{
	uint8_t regs[I440FX_PAM_REGS] = { 0 };
	const struct gm_region *e[8];

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	regs[3] = I440FX_PAM_RE;          /* PAM3 low nibble: 0xD0000-0xD3FFF read-only */
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 1);
	cr_assert_eq(remaps[0].c.gpa, 0xD0000);
	cr_assert_eq(bios_entries(e, 8), 4);
	cr_assert_eq(e[0]->size, 0xD0000 - PAM_START);
	cr_assert_eq(e[1]->gpa, 0xD0000);
	cr_assert_eq(e[1]->size, PAM_PIECE);
	cr_assert_str_eq(e[1]->name, "ram-bios-ro");
	cr_assert_eq(e[2]->gpa, 0xD4000);
	cr_assert_eq(e[2]->flags, GM_RAM);
	cr_assert_eq(e[3]->gpa, alias.gpa);
	cr_assert_str_eq(e[3]->name, "bios-alias");
	/* the rest of the map is untouched */
	cr_assert_eq(gm_find(&gm, 0)->size, LAYOUT_VGA_START);
	cr_assert_eq(gm_find(&gm, LAYOUT_1M)->gpa, LAYOUT_1M);
}

Test(pam, failed_remap_still_updates_the_map)
{
	uint8_t regs[I440FX_PAM_REGS];
	const struct gm_region *e[8];

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	remap_rc = -EIO;
	fill_regs(regs, I440FX_PAM_RE | I440FX_PAM_WE);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 5);
	cr_assert_eq(bios_entries(e, 8), 1);
}

Test(pam, layout_again_is_the_reset_state)
{
	uint8_t regs[I440FX_PAM_REGS];
	const struct gm_region *e[8];

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	fill_regs(regs, I440FX_PAM_RE);
	pam_update(&pam, &gm, regs, fake_remap, &pam);
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	cr_assert_eq(bios_entries(e, 8), 2);
	cr_assert_eq(e[0]->flags, GM_RAM);
	cr_assert_eq(e[1]->host, rom);
	for (unsigned k = 0; k < pam.n; k++)
		cr_assert_eq(pam.c[k].readonly, pam.c[k].gpa >= alias.gpa);
}

Test(pam, inactive_ignores_writes)
{
	uint8_t regs[I440FX_PAM_REGS];

	fill_regs(regs, I440FX_PAM_RE);
	cr_assert_eq(pam_update(&pam, &gm, regs, fake_remap, &pam), 0);
	cr_assert_eq(nremaps, 0);
}

/* ---- memory slots: merged runs of chunks ---- */

struct slot_rec {
	struct launch_slot s;
	bool add;
};
static struct slot_rec slot_calls[PAM_MAX_CHUNKS * 2];
static unsigned nslot_calls;

static int fake_slot(void *opaque, const struct launch_slot *sl, bool add)
{
	cr_assert_lt(nslot_calls, sizeof(slot_calls) / sizeof(slot_calls[0]));
	slot_calls[nslot_calls++] = (struct slot_rec){ .s = *sl, .add = add };
	return 0;
}

Test(pam, power_on_is_two_slots)
{
	struct launch_slot sl[PAM_MAX_CHUNKS];

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	cr_assert_eq(pam_slots(&pam, sl), 2);
	cr_assert_eq(sl[0].slot, PAM_SLOT0);
	cr_assert_eq(sl[0].gpa, PAM_START);
	cr_assert_eq(sl[0].size, alias.gpa - PAM_START);
	cr_assert_eq(sl[0].host, ram + PAM_START);
	cr_assert(!sl[0].readonly);
	cr_assert_eq(sl[1].slot, PAM_SLOT0 + 8);      /* 0xE0000 is chunk 8 */
	cr_assert_eq(sl[1].gpa, alias.gpa);
	cr_assert_eq(sl[1].size, ALIAS_SIZE);
	cr_assert_eq(sl[1].host, rom);
	cr_assert(sl[1].readonly);
}

Test(pam, power_on_unaligned_alias_is_two_slots)
{
	struct launch_slot sl[PAM_MAX_CHUNKS];

	alias.gpa = LAYOUT_1M - 0x1e000;
	alias.size = alias.data_len = 0x1e000;
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	cr_assert_eq(pam.n, 14);
	cr_assert_eq(pam_slots(&pam, sl), 2);
	cr_assert_eq(sl[0].size, 0xE2000 - PAM_START);
	cr_assert_eq(sl[1].gpa, 0xE2000);
	cr_assert_eq(sl[1].slot, PAM_SLOT0 + 9);
}

Test(pam, no_alias_and_all_ram_are_one_slot)
{
	struct launch_slot sl[PAM_MAX_CHUNKS];
	uint8_t regs[I440FX_PAM_REGS];

	cr_assert_eq(pam_layout(&pam, &gm, ram, NULL), 0);
	cr_assert_eq(pam_slots(&pam, sl), 1);
	cr_assert_eq(sl[0].size, LAYOUT_1M - PAM_START);
	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	fill_regs(regs, I440FX_PAM_RE);          /* read-only RAM: one read-only slot */
	pam_update(&pam, &gm, regs, NULL, NULL);
	cr_assert_eq(pam_slots(&pam, sl), 1);
	cr_assert(sl[0].readonly);
	cr_assert_eq(sl[0].host, ram + PAM_START);
}

Test(pam, inactive_has_no_slots)
{
	struct launch_slot sl[PAM_MAX_CHUNKS];

	cr_assert_eq(pam_slots(&pam, sl), 0);
}

/* SeaBIOS's shadowing: the F segment and then the rest RE|WE, then RE. */
Test(pam, a_write_replaces_only_the_runs_that_changed)
{
	struct launch_slot b[PAM_MAX_CHUNKS], a[PAM_MAX_CHUNKS];
	uint8_t regs[I440FX_PAM_REGS] = { 0 };
	unsigned nb, na;

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	nb = pam_slots(&pam, b);
	regs[3] = I440FX_PAM_RE;          /* 0xD0000-0xD3FFF read-only RAM */
	cr_assert_eq(pam_update(&pam, &gm, regs, NULL, NULL), 1);
	na = pam_slots(&pam, a);
	cr_assert_eq(na, 4);
	cr_assert_eq(a[1].gpa, 0xD0000);
	cr_assert_eq(a[1].size, PAM_PIECE);
	cr_assert(a[1].readonly);
	cr_assert_eq(a[1].slot, PAM_SLOT0 + 4);
	cr_assert_eq(a[2].slot, PAM_SLOT0 + 5);
	nslot_calls = 0;
	/* the RAM run is split in three; the alias slot stays */
	cr_assert_eq(pam_slots_apply(b, nb, a, na, fake_slot, NULL), 4);
	cr_assert(!slot_calls[0].add);
	cr_assert_eq(slot_calls[0].s.slot, PAM_SLOT0);
	for (unsigned i = 1; i < 4; i++) {
		cr_assert(slot_calls[i].add);
		cr_assert_neq(slot_calls[i].s.slot, PAM_SLOT0 + 8);
	}

	/* everything RE|WE: one RAM slot; the four go, one comes */
	memcpy(b, a, sizeof(a));
	nb = na;
	fill_regs(regs, I440FX_PAM_RE | I440FX_PAM_WE);
	pam_update(&pam, &gm, regs, NULL, NULL);
	na = pam_slots(&pam, a);
	cr_assert_eq(na, 1);
	nslot_calls = 0;
	cr_assert_eq(pam_slots_apply(b, nb, a, na, fake_slot, NULL), 5);
	for (unsigned i = 0; i < 4; i++)
		cr_assert(!slot_calls[i].add, "deletions first");
	cr_assert(slot_calls[4].add);
	cr_assert_eq(slot_calls[4].s.size, LAYOUT_1M - PAM_START);

	/* the same again: nothing */
	memcpy(b, a, sizeof(a));
	nb = na;
	pam_update(&pam, &gm, regs, NULL, NULL);
	na = pam_slots(&pam, a);
	nslot_calls = 0;
	cr_assert_eq(pam_slots_apply(b, nb, a, na, fake_slot, NULL), 0);
}

/* Every combination of attributes: the slots tile the area, never more
 * than the chunks, and adjacent slots differ in view. */
Test(pam, slots_tile_the_area_for_any_registers)
{
	struct launch_slot sl[PAM_MAX_CHUNKS];
	unsigned seed = 7;

	cr_assert_eq(pam_layout(&pam, &gm, ram, &alias), 0);
	for (unsigned round = 0; round < 500; round++) {
		uint8_t regs[I440FX_PAM_REGS];
		unsigned n;

		for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
			regs[i] = (uint8_t)rand_r(&seed);
		pam_update(&pam, &gm, regs, NULL, NULL);
		n = pam_slots(&pam, sl);
		cr_assert_leq(n, pam.n);
		uint64_t gpa = PAM_START;

		for (unsigned i = 0; i < n; i++) {
			cr_assert_eq(sl[i].gpa, gpa);
			gpa += sl[i].size;
			if (i)
				cr_assert(sl[i].readonly != sl[i - 1].readonly ||
					  sl[i - 1].host + sl[i - 1].size != sl[i].host);
		}
		cr_assert_eq(gpa, LAYOUT_1M);
	}
}
