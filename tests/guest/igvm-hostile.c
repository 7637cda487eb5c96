/* tests/guest/igvm-hostile.c: igvm-hostile.rom.  A 64 MiB guest hands IGVM
 * images over through etc/vmlaunchupdate (built by mkigvm, embedded by
 * igvm-payloads.S): images describing gigabytes (zero pages above RAM and
 * below 4 GiB, 2 MiB pages that all reuse the same data, zeroed parameter
 * areas) and images that build a plan but do not fit the memory map (a page
 * run across two memory regions, more regions than the map holds, a run
 * overlapping the end of RAM).  Each is copied to its own place in RAM,
 * requested with one DMA write and answered with "case NAME status S"
 * (decimal; the host-side test judges them).  Last, an accepted image:
 * tenant-wait.rom at the top of 4 GiB plus 58 MiB of zero pages over RAM;
 * the guest resets into it and the tenant PASSes two seconds later. */
#include "vlu.h"
#include "sizes.h"

#define CASE(name, sym, len) { name, sym##_start, sym##_end, len }
#define SYMS(sym) extern const uint8_t sym##_start[], sym##_end[]

SYMS(igvm_huge_above);
SYMS(igvm_huge_below);
SYMS(igvm_reuse);
SYMS(igvm_params);
SYMS(igvm_across);
SYMS(igvm_toomany);
SYMS(igvm_overlap);
SYMS(igvm_boot);

struct icase {
	const char *name;
	const uint8_t *start, *end;
	uint32_t len;              /* the whole file; past end it is zeros */
};

static uint16_t key;

/* Copy the image to @addr (its zero tail is left to RAM that is still
 * zero: every case has its own 4 MiB), request it, report the status. */
static unsigned send(const struct icase *c, uint32_t addr)
{
	struct vlu v;
	uint32_t have = (uint32_t)(c->end - c->start);

	memcpy((void *)addr, c->start, have);
	vlu_read("igvm", key, &v);
	v.status = 0;
	v.control = VLU_FORMAT_IGVM;
	v.fw_image_addr = addr;
	v.fw_image_size = c->len;
	v.opaque_addr = 0;
	v.opaque_size = 0;
	if (gfw_dma_write(key, &v, sizeof(v)) != 0)
		guest_fail("igvm: DMA write of %s failed", VLU_FILE);
	vlu_read("igvm", key, &v);
	gprintf("case %s status %u\n", c->name, v.status);
	return v.status;
}

void guest_main(void)
{
	const struct icase cases[] = {
		CASE("huge-above", igvm_huge_above, IGVM_LEN_HUGE_ABOVE),
		CASE("huge-below", igvm_huge_below, IGVM_LEN_HUGE_BELOW),
		CASE("reuse", igvm_reuse, IGVM_LEN_REUSE),
		CASE("params", igvm_params, IGVM_LEN_PARAMS),
		CASE("across", igvm_across, IGVM_LEN_ACROSS),
		CASE("toomany", igvm_toomany, IGVM_LEN_TOOMANY),
		CASE("overlap", igvm_overlap, IGVM_LEN_OVERLAP),
	};
	const struct icase boot = CASE("boot", igvm_boot, IGVM_LEN_BOOT);
	uint32_t n = bootrec_advance(BOOTREC_MAIN, NULL);
	struct vlu v;

	gprintf("igvm: hostile IGVM images, boot %u\n", n);
	if (n > 1)
		guest_fail("igvm: booted again: the accepted image did not run");
	key = vlu_find("igvm");
	vlu_read("igvm", key, &v);
	if (!(v.capabilities & VLU_FORMAT_IGVM))
		guest_fail("igvm: capabilities 0x%llx lack FORMAT_IGVM", v.capabilities);
	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		send(&cases[i], IMAGE_COPY_ADDR + i * 0x400000u);
	gputs("igvm: all cases sent\n");
	if (send(&boot, IMAGE_COPY_ADDR + 8 * 0x400000u) != VLU_SUCCESS)
		guest_fail("igvm: the bootable image was refused");
	gputs("igvm: resetting into the IGVM image\n");
	reset_cf9();
}
