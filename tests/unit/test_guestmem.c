/* tests/unit/test_guestmem.c: vmm/base/guestmem.c on malloc'd fake guest memory.
 * Owns: only these tests; touches no other module's state. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/guestmem.h"

#define PG GM_PAGE_SIZE

static struct guestmem gm;
static uint8_t *low, *high, *rom;

static void setup(void)
{
	gm_init(&gm);
	low = calloc(1, 4 * PG);
	high = calloc(1, 4 * PG);
	rom = calloc(1, 2 * PG);
	cr_assert(low && high && rom);
	/* low [0, 4P) and high [4P, 8P) adjacent; ROM at [16P, 18P). */
	cr_assert_eq(gm_add(&gm, 0, 4 * PG, low, GM_RAM, "low"), 0);
	cr_assert_eq(gm_add(&gm, 4 * PG, 4 * PG, high, GM_RAM, "high"), 0);
	cr_assert_eq(gm_add(&gm, 16 * PG, 2 * PG, rom, GM_ROM, "rom"), 0);
}

static void teardown(void)
{
	free(low);
	free(high);
	free(rom);
}

TestSuite(guestmem, .init = setup, .fini = teardown);

Test(guestmem, add_rejects_bad_ranges)
{
	uint8_t buf[16];

	cr_expect_eq(gm_add(&gm, 32 * PG, 0, buf, GM_RAM, "zero"), -EINVAL);
	cr_expect_eq(gm_add(&gm, 32 * PG + 1, PG, buf, GM_RAM, "unal"), -EINVAL);
	cr_expect_eq(gm_add(&gm, 32 * PG, PG + 8, buf, GM_RAM, "unal2"), -EINVAL);
	cr_expect_eq(gm_add(&gm, UINT64_MAX - PG + 1, 2 * PG, buf, GM_RAM, "wrap"),
		     -EINVAL);
	cr_expect_eq(gm_add(&gm, 3 * PG, 2 * PG, buf, GM_RAM, "overlap"), -EEXIST);
	cr_expect_eq(gm_add(&gm, 17 * PG, PG, buf, GM_RAM, "in-rom"), -EEXIST);
	cr_expect_eq(gm.n, 3);
}

Test(guestmem, add_table_full)
{
	unsigned i;

	for (i = gm.n; i < GM_MAX_REGIONS; i++)
		cr_assert_eq(gm_add(&gm, (100 + i) * PG, PG, NULL, GM_RAM | GM_PRIVATE,
				    "p"), 0);
	cr_expect_eq(gm_add(&gm, 1000 * PG, PG, NULL, GM_RAM, "x"), -ENOSPC);
}

Test(guestmem, find_and_remove)
{
	cr_expect_eq(gm_find(&gm, 0)->host, low);
	cr_expect_eq(gm_find(&gm, 8 * PG - 1)->host, high);
	cr_expect_null(gm_find(&gm, 8 * PG));
	cr_expect_null(gm_find(&gm, UINT64_MAX));
	gm_remove(&gm, GM_ROM);
	cr_expect_eq(gm.n, 2);
	cr_expect_null(gm_find(&gm, 16 * PG));
	cr_expect_not_null(gm_find(&gm, 5 * PG));
}

Test(guestmem, ptr_needs_one_region)
{
	cr_expect_eq(gm_ptr(&gm, 10, 100, GM_RAM), low + 10);
	cr_expect_eq(gm_ptr(&gm, 4 * PG - 8, 8, GM_RAM), low + 4 * PG - 8);
	cr_expect_null(gm_ptr(&gm, 4 * PG - 8, 9, GM_RAM));   /* spans */
	cr_expect_null(gm_ptr(&gm, 10, 0, GM_RAM));
	cr_expect_null(gm_ptr(&gm, 16 * PG, 8, GM_RAM));      /* ROM lacks RAM */
	cr_expect_eq(gm_ptr(&gm, 16 * PG, 8, GM_ROM), rom);
	cr_expect_null(gm_ptr(&gm, 8, UINT64_MAX, 0));
	cr_expect_null(gm_ptr(&gm, UINT64_MAX - 3, 8, 0));
}

Test(guestmem, private_regions_have_no_host_view)
{
	static uint8_t priv[PG];
	uint8_t b = 1;

	cr_assert_eq(gm_add(&gm, 32 * PG, PG, priv, GM_RAM | GM_PRIVATE, "priv"), 0);
	cr_expect_null(gm_ptr(&gm, 32 * PG, 1, GM_RAM));
	cr_expect_eq(gm_write(&gm, 32 * PG, &b, 1), -EFAULT);
	cr_expect_eq(gm_read(&gm, 32 * PG, &b, 1), -EFAULT);
	cr_expect(gm_range_is_ram(&gm, 32 * PG, PG));
}

Test(guestmem, range_is_ram)
{
	cr_expect(gm_range_is_ram(&gm, 0, 8 * PG));          /* two regions */
	cr_expect(gm_range_is_ram(&gm, 4 * PG - 1, 2));
	cr_expect_not(gm_range_is_ram(&gm, 0, 8 * PG + 1));  /* hole */
	cr_expect_not(gm_range_is_ram(&gm, 16 * PG, 1));     /* ROM */
	cr_expect_not(gm_range_is_ram(&gm, 0, 0));
	cr_expect_not(gm_range_is_ram(&gm, 1, UINT64_MAX));  /* overflow */
	cr_expect_not(gm_range_is_ram(&gm, UINT64_MAX, 2));
}

Test(guestmem, read_write_span_regions)
{
	uint8_t in[64], out[64];
	unsigned i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(gm_write(&gm, 4 * PG - 32, in, sizeof(in)), 0);
	cr_expect_eq(memcmp(low + 4 * PG - 32, in, 32), 0);
	cr_expect_eq(memcmp(high, in + 32, 32), 0);
	cr_assert_eq(gm_read(&gm, 4 * PG - 32, out, sizeof(out)), 0);
	cr_expect_eq(memcmp(in, out, sizeof(in)), 0);
	cr_expect_eq(gm_read(&gm, 0, out, 0), 0);
}

Test(guestmem, read_write_refusals)
{
	uint8_t buf[16] = { 0xaa }, out[16];

	memset(rom, 0x5a, 2 * PG);
	/* ROM: readable, never writable; nothing changes on refusal. */
	cr_expect_eq(gm_write(&gm, 16 * PG, buf, 4), -EFAULT);
	cr_expect_eq(rom[0], 0x5a);
	cr_expect_eq(gm_read(&gm, 16 * PG, out, 4), 0);
	cr_expect_eq(out[0], 0x5a);
	/* Past the end of RAM: whole write refused, first bytes untouched. */
	cr_expect_eq(gm_write(&gm, 8 * PG - 8, buf, 16), -EFAULT);
	cr_expect_eq(high[4 * PG - 8], 0);
	cr_expect_eq(gm_read(&gm, 8 * PG - 8, out, 16), -EFAULT);
	/* Overflowing address. */
	cr_expect_eq(gm_write(&gm, UINT64_MAX - 4, buf, 16), -EFAULT);
	cr_expect_eq(gm_read(&gm, UINT64_MAX - 4, out, 16), -EFAULT);
	cr_expect_eq(gm_read(&gm, 0, out, SIZE_MAX), -EFAULT);
}

/* gm_remove_range drops exactly the regions that start inside [lo, hi), as
 * the BIOS-area remapping (PAM) uses it; lookups afterwards see the rest. */
Test(guestmem, remove_range)
{
	static uint8_t a[0x3000], b[0x1000], c[0x1000];
	struct guestmem m;

	gm_init(&m);
	cr_assert_eq(gm_add(&m, 0x0, sizeof(a), a, GM_RAM, "a"), 0);
	cr_assert_eq(gm_add(&m, 0xC0000, sizeof(b), b, GM_RAM, "b"), 0);
	cr_assert_eq(gm_add(&m, 0xF0000, sizeof(c), c, GM_ROM, "c"), 0);
	gm_remove_range(&m, 0xC0000, 0x100000);
	cr_assert_eq(m.n, 1);
	cr_assert_not_null(gm_find(&m, 0x1000));
	cr_assert_null(gm_find(&m, 0xC0000));
	cr_assert_null(gm_find(&m, 0xF0000));
	/* the freed slots can be filled again */
	cr_assert_eq(gm_add(&m, 0xC0000, sizeof(b), b, GM_RAM, "b2"), 0);
	cr_assert(gm_range_is_ram(&m, 0xC0000, sizeof(b)));
}
