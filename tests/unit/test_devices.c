/* tests/unit/test_devices.c: serial, i8042, reset register, CMOS and
 * debug-exit models driven through a PIO bus with a fake irq_chip and a
 * recording vm_req_sink.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/i8042.h"
#include "devices/resetreg.h"
#include "devices/serial.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"

/* ---- fakes ---- */

struct fake_irq {
	unsigned calls;
	unsigned gsi;
	int level;
};

static int fake_set_level(void *opaque, unsigned gsi, int level)
{
	struct fake_irq *f = opaque;

	f->calls++;
	f->gsi = gsi;
	f->level = level;
	return 0;
}

struct fake_sink {
	unsigned calls;
	enum vm_req req;
	int status;
};

static void fake_request(void *opaque, enum vm_req req, int status)
{
	struct fake_sink *f = opaque;

	f->calls++;
	f->req = req;
	f->status = status;
}

struct out_buf {
	uint8_t b[256];
	size_t n;
};

static void out_fn(void *opaque, const uint8_t *buf, size_t n)
{
	struct out_buf *o = opaque;

	if (o->n + n <= sizeof(o->b)) {
		memcpy(o->b + o->n, buf, n);
		o->n += n;
	}
}

static struct bus pio;
static struct fake_irq firq;
static struct irq_chip chip = { fake_set_level, &firq };
static struct fake_sink fsink;
static struct vm_req_sink sink = { fake_request, &fsink };

static void setup(void)
{
	memset(&firq, 0, sizeof(firq));
	memset(&fsink, 0, sizeof(fsink));
	bus_init(&pio);
}

static void teardown(void)
{
	bus_free(&pio);
}

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(bus_access(&pio, port, &v, 1, true), 0, "outb 0x%x", port);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	cr_assert_eq(bus_access(&pio, port, &v, 1, false), 0, "inb 0x%x", port);
	return v;
}

/* ---- serial ---- */

#define COM 0x3f8

TestSuite(serial, .init = setup, .fini = teardown);

static struct serial *mk_serial(struct out_buf *o)
{
	struct serial *s = serial_create(COM, &chip, SERIAL_COM1_GSI, out_fn, o);

	cr_assert_not_null(s);
	cr_assert_eq(serial_attach(s, &pio), 0);
	return s;
}

Test(serial, thr_output_and_lsr)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);

	cr_expect_eq(inb(COM + 5), 0x60);          /* THRE | TEMT */
	cr_expect_eq(inb(COM + 2), 0x01);          /* no interrupt */
	outb(COM, 'h');
	outb(COM, 'i');
	cr_expect_eq(o.n, 2);
	cr_expect_eq(memcmp(o.b, "hi", 2), 0);
	cr_expect_eq(inb(COM + 5) & 0x60, 0x60);
	cr_expect_eq(firq.calls, 0);               /* IER 0: line stays low */
	serial_destroy(s);
}

Test(serial, dlab_divisor_scratch_lcr)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);

	outb(COM + 3, 0x83);                       /* DLAB, 8N1 */
	outb(COM + 0, 0x01);
	outb(COM + 1, 0x02);
	cr_expect_eq(inb(COM + 0), 0x01);
	cr_expect_eq(inb(COM + 1), 0x02);
	cr_expect_eq(o.n, 0);                      /* divisor write is no output */
	outb(COM + 3, 0x03);
	cr_expect_eq(inb(COM + 3), 0x03);
	cr_expect_eq(inb(COM + 1), 0x00);          /* IER, not DLM */
	outb(COM + 7, 0x5a);
	cr_expect_eq(inb(COM + 7), 0x5a);
	serial_destroy(s);
}

Test(serial, thre_interrupt)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);

	outb(COM + 1, 0x02);                       /* enable THRI, THR empty */
	cr_expect_eq(firq.level, 1);
	cr_expect_eq(firq.gsi, 4);
	cr_expect_eq(inb(COM + 2), 0x02);          /* THRE pending */
	cr_expect_eq(firq.level, 0);               /* IIR read acknowledged it */
	cr_expect_eq(inb(COM + 2), 0x01);
	outb(COM, 'x');                            /* transmit: pending again */
	cr_expect_eq(firq.level, 1);
	outb(COM + 1, 0x00);
	cr_expect_eq(firq.level, 0);
	serial_destroy(s);
}

Test(serial, rx_fifo_interrupt_level)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);
	uint8_t in[20];
	unsigned i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('a' + i);
	/* FIFOs off: one byte at a time. */
	cr_expect_eq(serial_push_input(s, in, 3), 1);
	cr_expect_eq(serial_push_input(s, in + 1, 2), 0);
	cr_expect_eq(inb(COM + 5) & 0x01, 0x01);
	cr_expect_eq(firq.level, 0);               /* RDI not enabled */
	outb(COM + 1, 0x01);
	cr_expect_eq(firq.level, 1);
	cr_expect_eq(inb(COM + 2), 0x04);          /* RX data available */
	cr_expect_eq(inb(COM), 'a');
	cr_expect_eq(firq.level, 0);
	cr_expect_eq(inb(COM + 5) & 0x01, 0);
	/* FIFOs on, trigger level 4: 16 bytes fit. */
	outb(COM + 2, 0x47);
	cr_expect_eq(inb(COM + 2) & 0xc0, 0xc0);
	cr_expect_eq(serial_push_input(s, in, 2), 2);
	cr_expect_eq(firq.level, 1);
	cr_expect_eq(inb(COM + 2) & 0x0f, 0x0c);  /* below trigger: timeout */
	cr_expect_eq(serial_push_input(s, in + 2, 18), 14);
	cr_expect_eq(inb(COM + 2) & 0x0f, 0x04);
	for (i = 0; i < 16; i++)
		cr_expect_eq(inb(COM), 'a' + i);
	cr_expect_eq(inb(COM + 5) & 0x01, 0);
	cr_expect_eq(firq.level, 0);
	cr_expect_eq(inb(COM + 2), 0xc1);
	/* FCR clear-receive empties the FIFO. */
	cr_expect_eq(serial_push_input(s, in, 5), 5);
	outb(COM + 2, 0x43);
	cr_expect_eq(inb(COM + 5) & 0x01, 0);
	cr_expect_eq(firq.level, 0);
	serial_destroy(s);
}

Test(serial, iir_priority_and_line_status)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);
	uint8_t b = 'z';

	outb(COM + 1, 0x07);                       /* RDI | THRI | RLSI */
	cr_expect_eq(serial_push_input(s, &b, 1), 1);
	cr_expect_eq(inb(COM + 2), 0x04);          /* RX beats THRE */
	/* Overrun via loopback while DR is set (no FIFO). */
	outb(COM + 4, 0x10);
	outb(COM, 'q');
	cr_expect_eq(inb(COM + 2), 0x06);          /* line status first */
	cr_expect_eq(inb(COM + 5) & 0x03, 0x03);   /* DR | OE */
	cr_expect_eq(inb(COM + 5) & 0x02, 0);      /* OE cleared by the read */
	cr_expect_eq(inb(COM + 2), 0x04);
	cr_expect_eq(inb(COM), 'z');
	cr_expect_eq(inb(COM + 2), 0x02);          /* then THRE */
	cr_expect_eq(inb(COM + 2), 0x01);
	cr_expect_eq(firq.level, 0);
	serial_destroy(s);
}

Test(serial, loopback)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);

	outb(COM + 4, 0x1a);                       /* LOOP | OUT2 | RTS */
	cr_expect_eq(inb(COM + 6) & 0xf0, 0x90);   /* DCD | CTS */
	outb(COM + 2, 0x01);
	outb(COM, 0x55);
	cr_expect_eq(o.n, 0);                      /* nothing leaves */
	cr_expect_eq(inb(COM + 5) & 0x01, 0x01);
	cr_expect_eq(inb(COM), 0x55);
	outb(COM + 4, 0x0b);                       /* back to normal */
	cr_expect_eq(inb(COM + 6) & 0xf0, 0xb0);
	outb(COM, 0x66);
	cr_expect_eq(o.n, 1);
	serial_destroy(s);
}

Test(serial, reset_lowers_line)
{
	struct out_buf o = { .n = 0 };
	struct serial *s = mk_serial(&o);

	outb(COM + 1, 0x02);
	cr_expect_eq(firq.level, 1);
	serial_reset(s);
	cr_expect_eq(firq.level, 0);
	cr_expect_eq(inb(COM + 1), 0);
	cr_expect_eq(inb(COM + 2), 0x01);
	serial_destroy(s);
}

/* ---- i8042 ---- */

TestSuite(i8042, .init = setup, .fini = teardown);

Test(i8042, status_commands_and_reset)
{
	struct i8042 *k = i8042_create(&sink);

	cr_assert_not_null(k);
	cr_assert_eq(i8042_attach(k, &pio), 0);
	/* Output and input buffers empty, system flag set. */
	cr_expect_eq(inb(0x64) & 0x07, 0x04);
	outb(0x64, 0xaa);
	cr_expect_eq(inb(0x64) & 0x01, 0x01);
	cr_expect_eq(inb(0x60), 0x55);
	cr_expect_eq(inb(0x64) & 0x01, 0);
	/* Command byte round trip. */
	outb(0x64, 0x60);
	outb(0x60, 0x65);
	outb(0x64, 0x20);
	cr_expect_eq(inb(0x60), 0x65);
	outb(0x64, 0xad);
	outb(0x64, 0x20);
	cr_expect_eq(inb(0x60) & 0x10, 0x10);
	outb(0x64, 0xae);
	outb(0x64, 0x20);
	cr_expect_eq(inb(0x60) & 0x10, 0);
	/* Output port and A20. */
	cr_expect(i8042_a20(k));
	outb(0x64, 0xd1);
	outb(0x60, 0xcd);                           /* A20 off, reset high */
	cr_expect_not(i8042_a20(k));
	outb(0x64, 0xd0);
	cr_expect_eq(inb(0x60), 0xcd);
	outb(0x64, 0xdf);
	cr_expect(i8042_a20(k));
	cr_expect_eq(fsink.calls, 0);
	/* Odd pulse masks leave the reset line alone; 0xFE resets. */
	outb(0x64, 0xff);
	cr_expect_eq(fsink.calls, 0);
	outb(0x64, 0xfe);
	cr_expect_eq(fsink.calls, 1);
	cr_expect_eq(fsink.req, VM_REQ_RESET);
	/* Output-port write with bit 0 clear resets as well. */
	outb(0x64, 0xd1);
	outb(0x60, 0xfe);
	cr_expect_eq(fsink.calls, 2);
	i8042_reset(k);
	cr_expect(i8042_a20(k));
	i8042_destroy(k);
}

/* ---- reset control register ---- */

TestSuite(resetreg, .init = setup, .fini = teardown);

Test(resetreg, cf9)
{
	struct resetreg *r = resetreg_create(&sink);
	uint32_t dw = 0;

	cr_assert_not_null(r);
	cr_assert_eq(resetreg_attach(r, &pio), 0);
	outb(0xcf9, 0x02);
	cr_expect_eq(inb(0xcf9), 0x02);
	cr_expect_eq(fsink.calls, 0);
	outb(0xcf9, 0x06);
	cr_expect_eq(fsink.calls, 1);
	cr_expect_eq(fsink.req, VM_REQ_RESET);
	outb(0xcf9, 0x0e);
	cr_expect_eq(fsink.calls, 2);
	cr_expect_eq(inb(0xcf9), 0x0a);
	/* Only 0xCF9 byte accesses: the dword at 0xCF8 is someone else's. */
	cr_expect_eq(bus_access(&pio, 0xcf8, (uint8_t *)&dw, 4, true), -ENOENT);
	cr_expect_eq(fsink.calls, 2);
	resetreg_reset(r);
	cr_expect_eq(inb(0xcf9), 0);
	resetreg_destroy(r);
}

/* ---- CMOS ---- */

TestSuite(cmos, .init = setup, .fini = teardown);

static uint8_t cmos_rd(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void cmos_wr(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

static int64_t fake_ns;

static int64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_ns;
}

Test(cmos, memory_bytes)
{
	const uint64_t MiB = 1ULL << 20;
	struct cmos *c = cmos_create(0xB0000000ULL, 6ULL << 30, 4);

	cr_assert_not_null(c);
	cr_assert_eq(cmos_attach(c, &pio), 0);
	cr_expect_eq(cmos_rd(0x15) | cmos_rd(0x16) << 8, 640);
	cr_expect_eq(cmos_rd(0x17) | cmos_rd(0x18) << 8, 0xffff);
	cr_expect_eq(cmos_rd(0x30) | cmos_rd(0x31) << 8, 0xffff);
	cr_expect_eq(cmos_rd(0x34) | cmos_rd(0x35) << 8,
		     (0xB0000000ULL - 16 * MiB) / 65536);
	cr_expect_eq(cmos_rd(0x5b) | cmos_rd(0x5c) << 8 | cmos_rd(0x5d) << 16,
		     (6ULL << 30) / 65536);
	cr_expect_eq(cmos_rd(0x5f), 3);
	/* NMI-mask bit of the index is ignored. */
	cr_expect_eq(cmos_rd(0x80 | 0x5f), 3);
	cmos_destroy(c);

	c = cmos_create(32 * MiB, 0, 300);
	cr_assert_not_null(c);
	bus_free(&pio);
	bus_init(&pio);
	cr_assert_eq(cmos_attach(c, &pio), 0);
	cr_expect_eq(cmos_rd(0x17) | cmos_rd(0x18) << 8, 31 * 1024);
	cr_expect_eq(cmos_rd(0x34) | cmos_rd(0x35) << 8, 256);
	cr_expect_eq(cmos_rd(0x5b), 0);
	cr_expect_eq(cmos_rd(0x5f), 0);             /* > 255 CPUs */
	cmos_destroy(c);
}

Test(cmos, clock_bcd_binary_12h_and_set)
{
	struct cmos *c = cmos_create(64 << 20, 0, 1);

	cr_assert_not_null(c);
	cr_assert_eq(cmos_attach(c, &pio), 0);
	/* 2024-02-29 13:45:59.5 UTC, a Thursday. */
	fake_ns = 1709214359LL * 1000000000LL + 500000000LL;
	cmos_set_clock(c, fake_clock, NULL);
	cr_expect_eq(cmos_rd(0x0b), 0x02);
	cr_expect_eq(cmos_rd(0x00), 0x59);
	cr_expect_eq(cmos_rd(0x02), 0x45);
	cr_expect_eq(cmos_rd(0x04), 0x13);
	cr_expect_eq(cmos_rd(0x06), 0x05);
	cr_expect_eq(cmos_rd(0x07), 0x29);
	cr_expect_eq(cmos_rd(0x08), 0x02);
	cr_expect_eq(cmos_rd(0x09), 0x24);
	cr_expect_eq(cmos_rd(0x32), 0x20);
	cr_expect_eq(cmos_rd(0x0d), 0x80);
	cr_expect_eq(cmos_rd(0x0a) & 0x80, 0);      /* mid-second: no UIP */
	fake_ns += 400000000LL;                     /* 100 ms before the tick */
	cr_expect_eq(cmos_rd(0x0a) & 0x80, 0);
	fake_ns += 99900000LL;                      /* 100 us before the tick */
	cr_expect_eq(cmos_rd(0x0a) & 0x80, 0x80);
	fake_ns += 100000LL;                        /* 13:46:00.0 */
	cr_expect_eq(cmos_rd(0x00), 0x00);
	cr_expect_eq(cmos_rd(0x02), 0x46);
	/* Binary, 12-hour: 1 PM. */
	cmos_wr(0x0b, 0x04);
	cr_expect_eq(cmos_rd(0x04), 0x81);
	cr_expect_eq(cmos_rd(0x02), 46);
	cr_expect_eq(cmos_rd(0x09), 24);
	/* Set the clock: SET, write 2030-01-01 00:00:00 (binary 24 h), run. */
	cmos_wr(0x0b, 0x86);
	cmos_wr(0x00, 0);
	cmos_wr(0x02, 0);
	cmos_wr(0x04, 0);
	cmos_wr(0x07, 1);
	cmos_wr(0x08, 1);
	cmos_wr(0x09, 30);
	cmos_wr(0x32, 20);
	fake_ns += 5000000000LL;                    /* frozen while SET */
	cr_expect_eq(cmos_rd(0x09), 30);
	cr_expect_eq(cmos_rd(0x00), 0);
	cmos_wr(0x0b, 0x06);
	fake_ns += 61000000000LL;                   /* runs from the new time */
	cr_expect_eq(cmos_rd(0x00), 1);
	cr_expect_eq(cmos_rd(0x02), 1);
	cr_expect_eq(cmos_rd(0x09), 30);
	cr_expect_eq(cmos_rd(0x06), 3);             /* 2030-01-01: Tuesday */
	/* NVRAM bytes are plain storage. */
	cmos_wr(0x40, 0xa5);
	cr_expect_eq(cmos_rd(0x40), 0xa5);
	/* Reset clears interrupt enables but keeps NVRAM. */
	cmos_wr(0x0b, 0x76);
	cmos_reset(c);
	cr_expect_eq(cmos_rd(0x0b), 0x06);
	cr_expect_eq(cmos_rd(0x40), 0xa5);
	cmos_destroy(c);
}

Test(cmos, host_clock_default)
{
	struct cmos *c = cmos_create(64 << 20, 0, 1);
	time_t now = time(NULL);
	struct tm tm;
	int year;

	cr_assert_not_null(c);
	cr_assert_eq(cmos_attach(c, &pio), 0);
	gmtime_r(&now, &tm);
	year = ((cmos_rd(0x32) >> 4) * 10 + (cmos_rd(0x32) & 15)) * 100 +
	       (cmos_rd(0x09) >> 4) * 10 + (cmos_rd(0x09) & 15);
	cr_expect(year == tm.tm_year + 1900 || year == tm.tm_year + 1901);
	cmos_destroy(c);
}

/* ---- debug-exit ---- */

TestSuite(debugexit, .init = setup, .fini = teardown);

Test(debugexit, status)
{
	struct debugexit *d = debugexit_create(0xf4, &sink);
	uint8_t b;
	uint16_t w;
	uint32_t l;

	cr_assert_not_null(d);
	cr_assert_eq(debugexit_attach(d, &pio), 0);
	b = 0;
	cr_assert_eq(bus_access(&pio, 0xf4, &b, 1, true), 0);
	cr_expect_eq(fsink.req, VM_REQ_EXIT);
	cr_expect_eq(fsink.status, 1);
	b = 0x10;
	cr_assert_eq(bus_access(&pio, 0xf4, &b, 1, true), 0);
	cr_expect_eq(fsink.status, 33);
	w = 0x0203;
	cr_assert_eq(bus_access(&pio, 0xf4, (uint8_t *)&w, 2, true), 0);
	cr_expect_eq(fsink.status, 7);              /* (0x203 << 1 | 1) & 0xff */
	l = 0x7f;
	cr_assert_eq(bus_access(&pio, 0xf4, (uint8_t *)&l, 4, true), 0);
	cr_expect_eq(fsink.status, 255);
	cr_expect_eq(fsink.calls, 4);
	cr_expect_eq(debugexit_status(0x80), 1);
	debugexit_destroy(d);
}
