/* tests/unit/test_bus.c: vmm/base/bus.c dispatch, overlap checks, unhandled
 * accesses.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/base/bus.h"

struct rec {
	unsigned calls;
	uint64_t offset;
	unsigned len;
	bool is_write;
	uint8_t last[8];
	bool lock_held;
	struct bus *bus;
};

static void dev_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		   bool is_write)
{
	struct rec *r = opaque;
	unsigned i;

	r->calls++;
	r->offset = offset;
	r->len = len;
	r->is_write = is_write;
	r->lock_held = pthread_mutex_trylock(&r->bus->lock) != 0;
	if (!r->lock_held)
		pthread_mutex_unlock(&r->bus->lock);
	if (is_write)
		memcpy(r->last, data, len);
	else
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(0x10 + offset + i);
}

Test(bus, register_checks)
{
	struct bus b;
	struct rec r = { .bus = &b };

	bus_init(&b);
	cr_expect_eq(bus_register(&b, 0x100, 0, dev_fn, &r, "z"), -EINVAL);
	cr_expect_eq(bus_register(&b, UINT64_MAX - 1, 4, dev_fn, &r, "w"), -EINVAL);
	cr_expect_eq(bus_register(&b, 0x100, 8, dev_fn, &r, "a"), 0);
	cr_expect_eq(bus_register(&b, 0x104, 1, dev_fn, &r, "in"), -EEXIST);
	cr_expect_eq(bus_register(&b, 0xfc, 5, dev_fn, &r, "left"), -EEXIST);
	cr_expect_eq(bus_register(&b, 0x107, 4, dev_fn, &r, "right"), -EEXIST);
	cr_expect_eq(bus_register(&b, 0x80, 0x100, dev_fn, &r, "around"), -EEXIST);
	cr_expect_eq(bus_register(&b, 0xf8, 8, dev_fn, &r, "below"), 0);
	cr_expect_eq(bus_register(&b, 0x108, 8, dev_fn, &r, "above"), 0);
	cr_expect_eq(b.n, 3);
	cr_expect_eq(b.devs[0].base, 0xf8);
	cr_expect_eq(b.devs[1].base, 0x100);
	cr_expect_eq(b.devs[2].base, 0x108);
	bus_free(&b);
}

Test(bus, dispatch_offsets_and_lock)
{
	struct bus b;
	struct rec r1 = { .bus = &b }, r2 = { .bus = &b };
	uint8_t d[4] = { 1, 2, 3, 4 };
	unsigned i;

	bus_init(&b);
	/* Many registrations in random order exercise the sorted insert. */
	for (i = 0; i < 40; i++)
		cr_assert_eq(bus_register(&b, 0x1000 + ((i * 17) % 40) * 0x10, 8,
					  dev_fn, &r2, "many"), 0);
	cr_assert_eq(bus_register(&b, 0x3f8, 8, dev_fn, &r1, "com1"), 0);
	for (i = 1; i < b.n; i++)
		cr_assert_lt(b.devs[i - 1].base, b.devs[i].base);
	cr_expect_eq(bus_access(&b, 0x3fa, d, 2, true), 0);
	cr_expect_eq(r1.calls, 1);
	cr_expect_eq(r1.offset, 2);
	cr_expect_eq(r1.len, 2);
	cr_expect(r1.is_write);
	cr_expect(r1.lock_held);
	cr_expect_eq(r1.last[1], 2);
	cr_expect_eq(bus_access(&b, 0x3fc, d, 4, false), 0);
	cr_expect_eq(d[0], 0x14);
	cr_expect_eq(d[3], 0x17);
	cr_expect_eq(bus_access(&b, 0x1000 + 39 * 0x10 + 7, d, 1, false), 0);
	cr_expect_eq(r2.offset, 7);
	cr_expect_eq(b.unhandled, 0);
	bus_free(&b);
}

Test(bus, unhandled_accesses)
{
	struct bus b;
	struct rec r = { .bus = &b };
	uint8_t d[8];

	bus_init(&b);
	cr_assert_eq(bus_register(&b, 0x60, 1, dev_fn, &r, "one"), 0);
	memset(d, 0, sizeof(d));
	cr_expect_eq(bus_access(&b, 0x61, d, 4, false), -ENOENT);
	cr_expect_eq(d[0], 0xff);
	cr_expect_eq(d[3], 0xff);
	cr_expect_eq(d[4], 0);
	/* Straddles the end of the device: not wholly covered. */
	memset(d, 0, sizeof(d));
	cr_expect_eq(bus_access(&b, 0x60, d, 2, false), -ENOENT);
	cr_expect_eq(d[0], 0xff);
	cr_expect_eq(bus_access(&b, 0x5f, d, 1, true), -ENOENT);
	cr_expect_eq(bus_access(&b, UINT64_MAX, d, 8, false), -ENOENT);
	cr_expect_eq(r.calls, 0);
	cr_expect_eq(b.unhandled, 4);
	/* Empty bus. */
	bus_free(&b);
	bus_init(&b);
	cr_expect_eq(bus_access(&b, 0, d, 1, false), -ENOENT);
	cr_expect_eq(b.unhandled, 1);
	bus_free(&b);
}

/* A fallback that claims [0xb000, 0xb040) and declines the rest. */
static bool fallback_fn(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			bool is_write)
{
	struct rec *r = opaque;

	if (addr < 0xb000 || addr + len > 0xb040)
		return false;
	dev_fn(r, addr, data, len, is_write);
	return true;
}

Test(bus, fallback_decoder)
{
	struct bus b;
	struct rec dev = { .bus = &b }, fb = { .bus = &b };
	uint8_t d[4];
	int other;

	bus_init(&b);
	cr_assert_eq(bus_register(&b, 0xb000, 4, dev_fn, &dev, "fixed"), 0);
	cr_assert_eq(bus_set_fallback(&b, fallback_fn, &fb), 0);
	cr_expect_eq(bus_set_fallback(&b, fallback_fn, &fb), 0);      /* same: no-op */
	cr_expect_eq(bus_set_fallback(&b, fallback_fn, &other), -EEXIST);
	/* a registered range wins over the fallback */
	cr_expect_eq(bus_access(&b, 0xb000, d, 4, false), 0);
	cr_expect_eq(dev.calls, 1);
	cr_expect_eq(fb.calls, 0);
	/* the fallback sees the absolute address, under the bus lock */
	cr_expect_eq(bus_access(&b, 0xb008, d, 4, false), 0);
	cr_expect_eq(fb.calls, 1);
	cr_expect_eq(fb.offset, 0xb008);
	cr_expect(fb.lock_held);
	cr_expect_eq(d[0], (uint8_t)(0x10 + 0xb008));
	/* declined: unhandled as before, all-ones */
	cr_expect_eq(bus_access(&b, 0xb03e, d, 4, false), -ENOENT);
	cr_expect_eq(d[0], 0xff);
	cr_expect_eq(b.unhandled, 1);
	/* removed */
	cr_expect_eq(bus_set_fallback(&b, NULL, NULL), 0);
	cr_expect_eq(bus_access(&b, 0xb008, d, 4, false), -ENOENT);
	cr_expect_eq(fb.calls, 1);
	bus_free(&b);
}
