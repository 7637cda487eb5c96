/* tests/fuzz/fuzz_ioapic.c: libFuzzer target for devices/ioapic.c, whose
 * registers the guest programs at will.  The input is a mode byte (EOI
 * reports or not) and a sequence of MMIO accesses (any offset, size and
 * value), line changes and EOIs.  Checks: no crash, every delivered MSI
 * is a LAPIC address with a deliverable vector/mode, read-only bits hold,
 * and one EOI never delivers more than once per pin. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioapic.h"
#include "vmm/base/log.h"

#include "fuzz_input.h"

static unsigned ndeliv;

static int deliver(void *opaque, unsigned pin, uint64_t addr, uint32_t data)
{
	unsigned mode = (data >> 8) & 7;

	(void)opaque;
	if (pin >= IOAPIC_PINS || (addr & ~0xff00cULL) != 0xFEE00000ULL)
		abort();
	if (mode != 0 && mode != 1 && mode != 4 && mode != 5)
		abort();     /* SMI, ExtINT and reserved modes are never sent */
	if ((mode == 0 || mode == 1) && (data & 0xff) < 16)
		abort();     /* the LAPIC would reject these vectors */
	ndeliv++;
	return (data & 0xff) % 7 == 0 ? -1 : 0;   /* some vectors: a failing sink */
}

static void route(void *opaque, unsigned pin, uint64_t addr, uint32_t data, bool masked)
{
	(void)opaque;
	(void)data;
	(void)masked;
	if (pin >= IOAPIC_PINS || (addr & 0xFFF00000ULL) != 0xFEE00000ULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ioapic_sink sink = { deliver, route, NULL };
	struct in in = { data, size };
	struct ioapic *io;

	log_set_level(LOG_ERR);
	io = ioapic_create(&sink);
	if (!io)
		abort();
	ioapic_set_no_eoi(io, take8(&in) & 1);
	for (unsigned op = 0; in.n && op < 4096; op++) {
		uint8_t k = take8(&in), b[8];
		unsigned before;

		switch (k % 5) {
		case 0: {   /* MMIO write, any offset and size */
			uint32_t off = take32(&in) % (IOAPIC_MMIO_LEN + 8);
			unsigned len = 1u << (take8(&in) % 4);
			uint32_t v = take32(&in);

			memset(b, 0, sizeof(b));
			memcpy(b, &v, 4);
			ioapic_mmio(io, off, b, len, true);
			break;
		}
		case 1: {   /* MMIO read */
			uint32_t off = take32(&in) % (IOAPIC_MMIO_LEN + 8);
			unsigned len = 1u << (take8(&in) % 4);

			ioapic_mmio(io, off, b, len, false);
			break;
		}
		case 2:     /* a device drives a pin (some out of range) */
			ioapic_set_level(io, take8(&in) % (IOAPIC_PINS + 2), take8(&in) & 1);
			break;
		case 3:     /* EOI: at most one delivery per pin */
			before = ndeliv;
			ioapic_eoi(io, take8(&in));
			if (ndeliv - before > IOAPIC_PINS)
				abort();
			break;
		default:
			ioapic_reset(io);
			break;
		}
		for (unsigned p = 0; p < IOAPIC_PINS; p++)
			if ((ioapic_get_entry(io, p) & (1ULL << 12)))
				abort();   /* delivery status is never left set */
	}
	ioapic_destroy(io);
	return 0;
}
