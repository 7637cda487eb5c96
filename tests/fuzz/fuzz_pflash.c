/* tests/fuzz/fuzz_pflash.c: libFuzzer target for the CFI flash variable
 * store (devices/pflash.c), which a guest drives through MMIO.
 * Input: one setup byte (store size in sectors, backing file or none),
 * then operations (opcode byte, little-endian operands;
 * tests/fuzz/fuzz_input.h): reads and writes of any width at any offset
 * (mostly command bytes), resets, the store made inactive and active, a
 * write-back.
 * Checks: no crash or sanitizer report; the memory slot is mapped exactly
 * in read-array mode (the callback's view follows the device's); bytes
 * change only through a program or an erase (a shadow copy follows them);
 * the file equals the array after a write-back; an inactive store reads
 * all ones and changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/bus.h"
#include "vmm/base/log.h"

#define MAX_OPS 2048
#define MAX_SECTORS 8
#define BASE 0xFF000000ull

static bool mapped;

static int map_cb(void *opaque, bool array)
{
	if (array == mapped)
		abort();   /* a callback must change the view */
	mapped = array;
	return 0;
}

static const uint8_t cmds[] = { 0xff, 0x10, 0x40, 0x20, 0xd0, 0x50, 0x70, 0x90, 0x98,
				0x60, 0x01, 0xf0, 0x00, 0xe8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_SECTORS * PFLASH_SECTOR] __attribute__((aligned(4096)));
	static uint8_t shadow[sizeof(buf)], file[sizeof(buf)];
	static bool init;
	struct in in = { data, size };
	uint8_t setup = take8(&in);
	uint64_t len = (uint64_t)(1 + setup % MAX_SECTORS) * PFLASH_SECTOR;
	struct pflash *pf;
	struct bus mmio;
	FILE *tf = NULL;
	int fd = -1;
	bool active = true;
	/* the last command byte each write cycle carried, to follow programs */
	uint8_t last_cmd = 0;
	bool in_cycle = false;

	if (!init) {
		log_set_level(LOG_ERR);
		init = true;
	}
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + setup);
	memcpy(shadow, buf, len);
	if (setup & 0x80) {
		tf = tmpfile();
		if (!tf)
			abort();
		fd = fileno(tf);
		if (pwrite(fd, buf, len, 0) != (ssize_t)len)
			abort();
	}
	pf = pflash_create(buf, len, fd);
	if (!pf)
		abort();
	bus_init(&mmio);
	if (pflash_attach(pf, &mmio, BASE))
		abort();
	mapped = true;
	pflash_set_map(pf, map_cb, NULL);

	for (unsigned n = 0; n < MAX_OPS && in.n; n++) {
		uint8_t op = take8(&in), v[8];
		unsigned w = 1u << (take8(&in) % 4);
		uint64_t off = take_le(&in, 3) % (len + 16);
		bool was_array = pflash_array_mode(pf);

		memset(v, 0, sizeof(v));
		switch (op % 6) {
		case 0:   /* a command byte */
		case 1:   /* any bytes */
			if (op % 6 == 0)
				v[0] = cmds[take8(&in) % sizeof(cmds)];
			else
				for (unsigned i = 0; i < w; i++)
					v[i] = take8(&in);
			if (op % 6 == 0)
				w = 1;
			bus_access(&mmio, BASE + off, v, w, true);
			if (!active || off + w > len)
				break;
			/* follow the device: a data cycle of a program stores the
			 * bytes, an erase confirm fills the sector */
			if (in_cycle && (last_cmd == 0x10 || last_cmd == 0x40)) {
				memcpy(shadow + off, v, w);
				in_cycle = false;
			} else if (in_cycle && last_cmd == 0x20) {
				if (v[0] == 0xd0)
					memset(shadow + (off & ~(uint64_t)(PFLASH_SECTOR - 1)), 0xff,
					       PFLASH_SECTOR);
				in_cycle = false;
			} else if (in_cycle && (last_cmd == 0x60 || last_cmd == 0x98)) {
				in_cycle = last_cmd == 0x98 && v[0] != 0xff;
			} else {
				last_cmd = v[0];
				in_cycle = v[0] == 0x10 || v[0] == 0x40 || v[0] == 0x20 ||
					   v[0] == 0x60 || v[0] == 0x98;
			}
			break;
		case 2:   /* a read */
			bus_access(&mmio, BASE + off, v, w, false);
			if (!active || off + w > len) {
				for (unsigned i = 0; i < w; i++)
					if (v[i] != 0xff)
						abort();
			} else if (was_array && memcmp(v, buf + off, w)) {
				abort();   /* read-array mode reads the array */
			}
			break;
		case 3:
			pflash_reset(pf);
			mapped = true;   /* the next build maps the slot */
			in_cycle = false;
			break;
		case 4:
			active = !active;
			pflash_set_active(pf, active);
			break;
		case 5:
			if (pflash_flush(pf))
				abort();
			if (fd >= 0) {
				if (pread(fd, file, len, 0) != (ssize_t)len || memcmp(file, buf, len))
					abort();
			}
			break;
		}
		if (mapped != pflash_array_mode(pf))
			abort();
		if (memcmp(shadow, buf, len))
			abort();
	}
	pflash_destroy(pf);
	bus_free(&mmio);
	if (tf)
		fclose(tf);
	return 0;
}
