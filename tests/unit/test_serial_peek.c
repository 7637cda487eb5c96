/* tests/unit/test_serial_peek.c: serial_peek_output, which the main loop
 * uses to report the first byte of a build: the byte accepted as number N
 * while it is still in the ring, -1 before it is accepted and after it is
 * drained; bytes dropped over max_size are not counted.  Owns: only these
 * tests. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include <stdlib.h>

#include "devices/serial.h"
#include "vmm/base/bus.h"


Test(serial_peek, numbered_bytes_until_drained)
{
	struct serial *s = serial_create(SERIAL_COM1_BASE, NULL, 0, NULL, NULL);
	struct bus *pio;
	int p[2];
	uint8_t buf[8];

	cr_assert_not_null(s);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, NULL, NULL), 0);
	cr_assert_eq(serial_peek_output(s, 0), -1, "nothing accepted yet");
	pio = calloc(1, sizeof(*pio));
	bus_init(pio);
	cr_assert_eq(serial_attach(s, pio), 0);
	for (const char *c = "abc"; *c; c++) {
		uint8_t v = (uint8_t)*c;

		bus_access(pio, SERIAL_COM1_BASE, &v, 1, true);
	}
	cr_assert_eq(serial_accepted(s), 3);
	cr_assert_eq(serial_peek_output(s, 0), 'a');
	cr_assert_eq(serial_peek_output(s, 2), 'c');
	cr_assert_eq(serial_peek_output(s, 3), -1, "not accepted yet");
	cr_assert_eq(serial_drain(s, p[1]), 3);
	cr_assert_eq(serial_peek_output(s, 0), -1, "drained");
	{
		uint8_t v = 'd';

		bus_access(pio, SERIAL_COM1_BASE, &v, 1, true);
	}
	cr_assert_eq(serial_peek_output(s, 3), 'd');
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 3);
	serial_destroy(s);
	bus_free(pio);
	free(pio);
	close(p[0]);
	close(p[1]);
}
