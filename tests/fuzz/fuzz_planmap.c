/* tests/fuzz/fuzz_planmap.c: libFuzzer target for the plan-to-memory-map
 * path a guest image takes: plan build (raw ROM or IGVM) and the doorbell's
 * dry-run layout against a plain guest's memory map (swap_layout_check),
 * then the rebuild's real layout on a scratch copy of the map.  Asserts the
 * "one validation, used twice" property: the dry run accepts exactly what
 * the real layout lays out (an accepted image never fails at the rebuild).
 * Input: byte 0 selects raw ROM (bit 0) and the guest's size (bit 1: 4 GiB,
 * else 64 MiB); the rest is the image.  Owns nothing else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/base/layout.h"
#include "vmm/base/log.h"
#include "vmm/launch/plain.h"
#include "vmm/launch/planbuild.h"
#include "vmm/vm/pam.h"
#include "vmm/vm/swap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct guest {
	uint64_t mem;
	uint8_t *ram;
	struct guestmem gm;
	struct vm_config cfg;
	struct swap swap;
};

static struct guest guests[2];

static struct guest *guest_get(unsigned big)
{
	struct guest *g = &guests[big];
	uint64_t b;

	if (g->ram)
		return g;
	g->mem = big ? 4ULL << 30 : 64ULL << 20;
	b = layout_below_4g(g->mem);
	g->ram = mmap(NULL, g->mem, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->ram == MAP_FAILED)
		abort();
	gm_init(&g->gm);
	if (gm_add(&g->gm, 0, LAYOUT_VGA_START, g->ram, GM_RAM, "ram-low") ||
	    gm_add(&g->gm, LAYOUT_1M, b - LAYOUT_1M, g->ram + LAYOUT_1M, GM_RAM, "ram") ||
	    (layout_above_4g(g->mem) &&
	     gm_add(&g->gm, LAYOUT_4G, layout_above_4g(g->mem), g->ram + b, GM_RAM, "ram-high")))
		abort();
	g->cfg.memory = g->mem;
	g->cfg.vcpus = 1;
	g->swap.cfg = &g->cfg;
	swap_set_memory(&g->swap, &g->gm, g->ram);
	return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	static uint8_t rom[64 << 10];
	struct launch_plan p;
	struct guestmem real;
	struct pam pam;
	struct guest *g;
	const uint8_t *img;
	size_t len;
	char why[256];
	int dry, r;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	log_set_level(LOG_ERR);
	log_set_file(devnull);    /* rejections are expected: keep them quiet */
	if (size < 1)
		return 0;
	g = guest_get((data[0] >> 1) & 1);
	img = data + 1;
	len = size - 1;
	if (data[0] & 1) {
		/* raw ROM: the bytes, zero-padded to whole pages (at most 64 KiB) */
		size_t n = len < sizeof(rom) ? len : sizeof(rom);

		memset(rom, 0, sizeof(rom));
		memcpy(rom, img, n);
		if (planbuild_is_igvm(rom, n))
			rom[0] ^= 0xFF;
		img = rom;
		len = n ? (n + 4095) & ~(size_t)4095 : 4096;
	}
	memset(&p, 0, sizeof(p));
	if (planbuild_from_config(&p, &g->cfg, img, len, NULL, why, sizeof(why))) {
		plan_free(&p);
		return 0;
	}
	dry = swap_layout_check(&g->swap, &p, why, sizeof(why));
	memset(&pam, 0, sizeof(pam));
	gm_copy(&real, &g->gm);
	r = pam_map_bios_area(&pam, &real, g->ram, &p);
	if (!r)
		r = plain_layout(&real, &p, false, why, sizeof(why));
	if (!dry && r) {
		fprintf(stderr, "dry run accepted, real layout failed %d: %s\n", r, why);
		abort();
	}
	if (dry && !r) {
		fprintf(stderr, "dry run refused (%d) what the real layout took\n", dry);
		abort();
	}
	if (!r) {
		/* every region now lies in RAM or in a ROM mapping of host memory */
		for (size_t i = 0; i < p.nregions; i++) {
			const struct plan_region *pr = &p.regions[i];

			if (!gm_range_is_ram(&real, pr->gpa, pr->size) &&
			    !gm_ptr(&real, pr->gpa, pr->size, GM_ROM)) {
				fprintf(stderr, "region %s 0x%llx+0x%llx not mapped\n", pr->what,
					(unsigned long long)pr->gpa, (unsigned long long)pr->size);
				abort();
			}
		}
	}
	plan_free(&p);
	/* RAM the layout wrote goes back: it must not pile up over runs */
	madvise(g->ram, g->mem, MADV_DONTNEED);
	return 0;
}
