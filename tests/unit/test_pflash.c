/* tests/unit/test_pflash.c: the CFI flash variable store (devices/pflash.c)
 * driven through an MMIO bus as OVMF's QemuFlashFvbServicesRuntimeDxe
 * drives it (detection, byte program, block erase), its memory-slot
 * callbacks, the CFI query, write-back to the backing file, the lock, and
 * the inactive state.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "vmm/base/bus.h"

#define BASE 0xFFE00000ull
#define SIZE (16 * PFLASH_SECTOR)

struct slot_log {
	unsigned maps, unmaps;
	bool mapped;
};

static int slot_cb(void *opaque, bool array)
{
	struct slot_log *l = opaque;

	if (array)
		l->maps++;
	else
		l->unmaps++;
	l->mapped = array;
	return 0;
}

static struct bus bus;
static struct pflash *pf;
static struct slot_log slog;
static char path[64];
static uint8_t *mem;

static uint8_t rd8(uint64_t off)
{
	uint8_t v = 0;

	cr_assert_eq(bus_access(&bus, BASE + off, &v, 1, false), 0);
	return v;
}

static uint32_t rd32(uint64_t off)
{
	uint8_t v[4];

	cr_assert_eq(bus_access(&bus, BASE + off, v, 4, false), 0);
	return (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
}

static void wr8(uint64_t off, uint8_t v)
{
	cr_assert_eq(bus_access(&bus, BASE + off, &v, 1, true), 0);
}

/* what the guest sees at @off: the slot (the host buffer) in read-array
 * mode, the device otherwise */
static uint8_t guest_read(uint64_t off)
{
	return slog.mapped ? pflash_host(pf)[off] : rd8(off);
}

static void program(uint64_t off, uint8_t v)
{
	wr8(off, 0x10);
	wr8(off, v);
}

static void erase(uint64_t off)
{
	wr8(off, 0x20);
	wr8(off, 0xd0);
}

static void file_read(uint8_t *dst, size_t n)
{
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f);
	cr_assert_eq(fread(dst, 1, n, f), n);
	fclose(f);
}

static void setup(void)
{
	char err[160];
	int fd;

	snprintf(path, sizeof(path), "/tmp/fuki-pflash-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	mem = malloc(SIZE);
	for (unsigned i = 0; i < SIZE; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(write(fd, mem, SIZE), SIZE);
	close(fd);
	bus_init(&bus);
	pf = pflash_open(path, err, sizeof(err));
	cr_assert_not_null(pf, "%s", err);
	cr_assert_eq(pflash_attach(pf, &bus, BASE), 0);
	memset(&slog, 0, sizeof(slog));
	slog.mapped = true;
	pflash_set_map(pf, slot_cb, &slog);
}

static void teardown(void)
{
	pflash_destroy(pf);
	bus_free(&bus);
	unlink(path);
	free(mem);
}

TestSuite(pflash, .init = setup, .fini = teardown);

Test(pflash, open_reads_the_file_and_starts_in_read_array_mode)
{
	cr_assert_eq(pflash_size(pf), SIZE);
	cr_assert_eq(pflash_gpa(pf), BASE);
	cr_assert(pflash_array_mode(pf));
	cr_assert_eq(memcmp(pflash_host(pf), mem, SIZE), 0);
	/* a read that traps in read-array mode (no slot) sees the array */
	cr_assert_eq(rd8(5), mem[5]);
	cr_assert_eq(slog.maps + slog.unmaps, 0);
}

/* OVMF's QemuFlashDetected: 0x50 then read, 0x70 then read must give
 * CLEARED_ARRAY_STATUS (0), then 0xFF */
Test(pflash, ovmf_detection_sees_flash)
{
	uint8_t orig = guest_read(0), probe;

	wr8(0, 0x50);
	probe = guest_read(0);
	cr_assert_eq(probe, orig, "clear status returns to read-array mode");
	cr_assert_eq(slog.unmaps, 0, "0x50 from read-array mode does not touch the slot");
	wr8(0, 0x70);
	cr_assert_not(slog.mapped);
	cr_assert_eq(guest_read(0), 0x00, "cleared status");
	wr8(0, 0xff);
	cr_assert(slog.mapped);
	cr_assert_eq(slog.unmaps, 1);
	cr_assert_eq(slog.maps, 1);
	cr_assert_eq(guest_read(0), orig);
}

Test(pflash, program_stores_bytes_and_reads_status_until_read_array)
{
	uint8_t back[SIZE];

	program(0x123, 0x5a);
	cr_assert_not(slog.mapped);
	cr_assert_eq(rd8(0x123), 0x80, "status: ready");
	cr_assert_eq(rd32(0x120), 0x00800080u, "a 32-bit status read");
	program(0x124, 0xa5);
	wr8(0, 0xff);
	cr_assert(slog.mapped);
	cr_assert_eq(pflash_host(pf)[0x123], 0x5a);
	cr_assert_eq(pflash_host(pf)[0x124], 0xa5);
	/* written back at the return to read-array mode */
	file_read(back, SIZE);
	cr_assert_eq(back[0x123], 0x5a);
	cr_assert_eq(back[0x124], 0xa5);
	cr_assert_eq(back[0x125], mem[0x125]);
	cr_assert_eq(slog.unmaps, 1, "one slot change for the whole burst");
}

Test(pflash, erase_fills_one_sector_at_the_confirm)
{
	uint8_t back[SIZE];

	wr8(PFLASH_SECTOR + 17, 0x20);
	cr_assert_eq(pflash_host(pf)[PFLASH_SECTOR], mem[PFLASH_SECTOR], "nothing before the confirm");
	wr8(PFLASH_SECTOR + 17, 0xd0);
	cr_assert_eq(rd8(0), 0x80);
	wr8(0, 0xff);
	for (unsigned i = 0; i < PFLASH_SECTOR; i++)
		cr_assert_eq(pflash_host(pf)[PFLASH_SECTOR + i], 0xff, "byte %u", i);
	cr_assert_eq(pflash_host(pf)[PFLASH_SECTOR - 1], mem[PFLASH_SECTOR - 1]);
	cr_assert_eq(pflash_host(pf)[2 * PFLASH_SECTOR], mem[2 * PFLASH_SECTOR]);
	file_read(back, SIZE);
	cr_assert_eq(back[PFLASH_SECTOR + 100], 0xff);
	cr_assert_eq(back[2 * PFLASH_SECTOR], mem[2 * PFLASH_SECTOR]);
}

Test(pflash, erase_without_confirm_erases_nothing)
{
	wr8(0, 0x20);
	wr8(0, 0x33);
	cr_assert(pflash_array_mode(pf));
	cr_assert(slog.mapped);
	cr_assert_eq(memcmp(pflash_host(pf), mem, SIZE), 0);
}

Test(pflash, cfi_query_reports_qry_and_the_geometry)
{
	wr8(0x55, 0x98);
	cr_assert_not(slog.mapped);
	cr_assert_eq(rd8(0x10), 'Q');
	cr_assert_eq(rd8(0x11), 'R');
	cr_assert_eq(rd8(0x12), 'Y');
	cr_assert_eq(rd8(0x13), 0x01, "Intel/Sharp command set");
	cr_assert_eq(rd8(0x27), 16, "2^16 bytes");
	cr_assert_eq(rd8(0x2c), 1);
	cr_assert_eq(rd8(0x2d) | rd8(0x2e) << 8, 15, "16 blocks");
	cr_assert_eq(rd8(0x2f) | rd8(0x30) << 8, PFLASH_SECTOR / 256);
	cr_assert_eq(rd8(0x31), 'P');
	wr8(0, 0x42);   /* stays in query mode */
	cr_assert_eq(rd8(0x10), 'Q');
	wr8(0, 0xff);
	cr_assert(slog.mapped);
	cr_assert_eq(guest_read(0x10), mem[0x10]);
}

Test(pflash, read_id_and_lock)
{
	wr8(0, 0x90);
	cr_assert_eq(rd8(0), 0);
	cr_assert_eq(rd8(1), 0);
	wr8(0, 0x60);
	wr8(0, 0x01);
	cr_assert_eq(rd8(0), 0x80);
	wr8(0, 0xff);
	program(7, 0x99);
	wr8(0, 0xff);
	cr_assert_eq(pflash_host(pf)[7], 0x99, "a set lock does not stop programming (QEMU too)");
}

Test(pflash, unknown_command_returns_to_read_array)
{
	wr8(0, 0x70);
	cr_assert_not(slog.mapped);
	wr8(0, 0xe8);   /* write to buffer: not offered (CFI 0x2a = 0) */
	cr_assert(pflash_array_mode(pf));
	cr_assert(slog.mapped);
}

Test(pflash, reset_returns_to_read_array_without_the_callback)
{
	program(0, 0x11);
	pflash_reset(pf);
	cr_assert(pflash_array_mode(pf));
	cr_assert_eq(pflash_status(pf), 0x80);
	cr_assert_eq(slog.maps, 0, "the next build maps the slot");
	/* the write is in the array; flushed at destroy at the latest */
	cr_assert_eq(pflash_host(pf)[0], 0x11);
	cr_assert_eq(pflash_flush(pf), 0);
	{
		uint8_t back[SIZE];

		file_read(back, SIZE);
		cr_assert_eq(back[0], 0x11);
	}
}

Test(pflash, inactive_store_ignores_the_guest)
{
	pflash_set_active(pf, false);
	wr8(0, 0x10);
	wr8(0, 0x00);
	cr_assert_eq(rd8(0), 0xff);
	cr_assert_eq(slog.unmaps, 0);
	cr_assert_eq(pflash_host(pf)[0], mem[0]);
	pflash_set_active(pf, true);
	cr_assert(pflash_array_mode(pf));
}

Test(pflash, out_of_range_accesses_are_refused)
{
	uint8_t v[8];

	memset(v, 0, sizeof(v));
	pflash_access(pf, SIZE - 2, v, 4, false);
	cr_assert_eq(v[0], 0xff);
	pflash_access(pf, SIZE, v, 1, true);
	cr_assert(pflash_array_mode(pf));
}

Test(pflash, a_second_open_of_the_store_is_refused)
{
	char err[160];
	struct pflash *two = pflash_open(path, err, sizeof(err));

	cr_assert_null(two);
	cr_assert(strstr(err, "in use by another VM"), "%s", err);
}

Test(pflash, the_store_survives_a_reopen)
{
	char err[160];

	erase(0);
	program(3, 0x42);
	wr8(0, 0xff);
	pflash_destroy(pf);
	pf = pflash_open(path, err, sizeof(err));
	cr_assert_not_null(pf, "%s", err);
	bus_free(&bus);
	bus_init(&bus);
	cr_assert_eq(pflash_attach(pf, &bus, BASE), 0);
	cr_assert_eq(pflash_host(pf)[0], 0xff);
	cr_assert_eq(pflash_host(pf)[3], 0x42);
	cr_assert_eq(pflash_host(pf)[PFLASH_SECTOR], mem[PFLASH_SECTOR]);
}

Test(pflash, bad_files_are_refused, .init = NULL, .fini = NULL)
{
	char err[160], p[64];
	int fd;

	snprintf(p, sizeof(p), "/tmp/fuki-pflash-XXXXXX");
	fd = mkstemp(p);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "abc", 3), 3);
	close(fd);
	cr_assert_null(pflash_open(p, err, sizeof(err)));
	cr_assert(strstr(err, "multiple of 4 KiB"), "%s", err);
	unlink(p);
	cr_assert_null(pflash_open(p, err, sizeof(err)));
	cr_assert(strstr(err, "No such file"), "%s", err);
	cr_assert_null(pflash_create(NULL, 4096, -1));
	{
		static uint8_t b[4096];

		cr_assert_null(pflash_create(b, 100, -1));
	}
}
