/* tests/fuzz/fuzz_smalldev.c: libFuzzer target for the small PC devices a
 * guest reaches through I/O ports: the 16550A UART (devices/serial.c, with
 * and without the buffered output ring), the MC146818A CMOS/RTC
 * (devices/cmos.c), the i8042 (devices/i8042.c), the reset control register
 * (devices/resetreg.c) and debug-exit (devices/debugexit.c).
 * Input: one setup byte, then operations (opcode byte, little-endian
 * operands; tests/fuzz/fuzz_input.h) decoded into port reads and writes,
 * host input for the UART, drains of its ring and resets.
 * Checks: no crash or sanitizer report; the UART's output accounting holds
 * (every byte is delivered, pending or dropped, the ring never holds more
 * than its size, the cap is never passed); a read of an unhandled port
 * reads all ones. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/i8042.h"
#include "devices/resetreg.h"
#include "devices/serial.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

#define MAX_OPS 1024

static uint64_t cb_bytes;
static unsigned reqs, levels;

static void out_cb(void *o, const uint8_t *buf, size_t n)
{
	cb_bytes += n;
}

static int level_cb(void *o, unsigned gsi, int level)
{
	levels++;
	return 0;
}

static void req_cb(void *o, enum vm_req r, int status)
{
	reqs++;
}

static struct irq_chip chip = { level_cb, NULL };
static struct vm_req_sink rsink = { req_cb, NULL };
static int devnull = -1;

/* the ports of the devices, so that random ports mostly hit one */
static const uint16_t ports[] = {
	SERIAL_COM1_BASE, SERIAL_COM1_BASE + 1, SERIAL_COM1_BASE + 2, SERIAL_COM1_BASE + 3,
	SERIAL_COM1_BASE + 4, SERIAL_COM1_BASE + 5, SERIAL_COM1_BASE + 6, SERIAL_COM1_BASE + 7,
	CMOS_INDEX_PORT, CMOS_DATA_PORT, I8042_DATA_PORT, I8042_CMD_PORT, RESETREG_PORT,
	DEBUGEXIT_DEFAULT_PORT, 0x80, 0x3f0,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct bus pio;
	struct serial *s;
	struct cmos *c;
	struct i8042 *k;
	struct resetreg *r;
	struct debugexit *d;
	uint8_t setup;
	uint64_t drained = 0, cap = 0;
	int pipefd[2] = { -1, -1 };
	int sink = -1;

	if (devnull < 0) {
		log_set_level(LOG_ERR);
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0)
			abort();
	}
	setup = take8(&in);
	bus_init(&pio);
	s = serial_create(SERIAL_COM1_BASE, &chip, SERIAL_COM1_GSI, out_cb, NULL);
	c = cmos_create((uint64_t)(setup & 0x0f) << 28, (uint64_t)(setup >> 4) << 32, 1 + (setup & 7));
	k = i8042_create(&rsink);
	r = resetreg_create(&rsink);
	d = debugexit_create(DEBUGEXIT_DEFAULT_PORT, &rsink);
	if (!s || !c || !k || !r || !d || serial_attach(s, &pio) || cmos_attach(c, &pio) ||
	    i8042_attach(k, &pio) || resetreg_attach(r, &pio) || debugexit_attach(d, &pio))
		abort();
	cb_bytes = 0;
	if (setup & 0x80) {
		/* buffered output: a small pipe that fills up, or /dev/null */
		if (setup & 0x40) {
			if (pipe2(pipefd, O_CLOEXEC))
				abort();
			fcntl(pipefd[1], F_SETPIPE_SZ, 4096);
			sink = pipefd[1];
		} else {
			sink = devnull;
		}
		cap = (setup & 0x20) ? 1000 : 0;
		if (serial_out_fd(s, sink, cap, NULL, NULL))
			abort();
	}

	for (unsigned n = 0; n < MAX_OPS && in.n; n++) {
		uint8_t op = take8(&in), v;
		uint16_t port;

		switch (op & 7) {
		case 0:   /* write a known port */
		case 1:   /* read a known port */
			port = ports[take8(&in) % (sizeof(ports) / sizeof(ports[0]))];
			v = take8(&in);
			if (bus_access(&pio, port, &v, 1, !(op & 1)) < 0 && (op & 1) && v != 0xff)
				abort();
			break;
		case 2: { /* any port, any width */
			uint8_t buf[4];
			unsigned len = 1u << (take8(&in) % 3);
			bool wr = op & 0x80;

			port = (uint16_t)take_le(&in, 2);
			memset(buf, 0, sizeof(buf));
			for (unsigned i = 0; i < len; i++)
				buf[i] = take8(&in);
			if (bus_access(&pio, port, buf, len, wr) < 0 && !wr)
				for (unsigned i = 0; i < len; i++)
					if (buf[i] != 0xff)
						abort();
			break;
		}
		case 3: { /* a burst of bytes to the UART's THR */
			unsigned cnt = take8(&in);

			for (unsigned i = 0; i < cnt; i++) {
				v = (uint8_t)i;
				bus_access(&pio, SERIAL_COM1_BASE, &v, 1, true);
			}
			break;
		}
		case 4: { /* host input */
			uint8_t buf[32];
			size_t len = take8(&in) % sizeof(buf);

			for (size_t i = 0; i < len; i++)
				buf[i] = take8(&in);
			if (serial_push_input(s, buf, len) > len)
				abort();
			break;
		}
		case 5:   /* the main loop drains the UART (and the pipe's reader reads) */
			if (sink >= 0) {
				long w = serial_drain(s, sink);

				if (w < 0)
					abort();
				drained += (uint64_t)w;
				if (pipefd[0] >= 0 && (op & 0x80)) {
					char buf[4096];

					fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
					while (read(pipefd[0], buf, sizeof(buf)) > 0)
						;
				}
			}
			break;
		case 6:   /* system reset */
			serial_reset(s);
			cmos_reset(c);
			i8042_reset(k);
			resetreg_reset(r);
			debugexit_reset(d);
			break;
		case 7:   /* a 16-bit access across the UART's registers */
			port = SERIAL_COM1_BASE + (take8(&in) & 7);
			{
				uint8_t buf[2] = { take8(&in), take8(&in) };

				bus_access(&pio, port, buf, 2, op & 0x80);
			}
			break;
		}
		if (sink >= 0) {
			uint64_t acc = serial_accepted(s), pend = serial_pending(s);

			if (pend > SERIAL_OUTBUF_SIZE || drained + pend != acc || (cap && acc > cap))
				abort();
		}
	}
	if (sink >= 0 && cb_bytes)
		abort();   /* buffered output never reaches the callback */
	serial_destroy(s);
	cmos_destroy(c);
	i8042_destroy(k);
	resetreg_destroy(r);
	debugexit_destroy(d);
	bus_free(&pio);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	return 0;
}
