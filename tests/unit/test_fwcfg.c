/* tests/unit/test_fwcfg.c: devices/fwcfg.c driven through the PIO bus and
 * the DMA engine on a malloc'd fake guest RAM.
 * Owns: only these tests. */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fwcfg.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"

#define RAM_SIZE 0x10000ULL        /* RAM at [0, 64 KiB) */
#define ROM_GPA  0x100000ULL       /* ROM at [1 MiB, 1 MiB + 4 KiB) */
#define DESC     0x1000ULL         /* where tests put descriptors */
#define BUF      0x2000ULL         /* where tests put DMA buffers */

static struct guestmem gm;
static uint8_t *ram, *rom;
static struct bus pio;
static struct fwcfg *fw;

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
	rom = calloc(1, 0x1000);
	cr_assert(ram && rom);
	gm_init(&gm);
	cr_assert_eq(gm_add(&gm, 0, RAM_SIZE, ram, GM_RAM, "ram"), 0);
	cr_assert_eq(gm_add(&gm, ROM_GPA, 0x1000, rom, GM_ROM, "rom"), 0);
	bus_init(&pio);
	fw = fwcfg_create(&gm);
	cr_assert_not_null(fw);
	cr_assert_eq(fwcfg_attach(fw, &pio), 0);
}

static void teardown(void)
{
	fwcfg_destroy(fw);
	bus_free(&pio);
	free(ram);
	free(rom);
}

TestSuite(fwcfg, .init = setup, .fini = teardown);

static void pio_select(uint16_t key)
{
	uint8_t d[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	cr_assert_eq(bus_access(&pio, FWCFG_PORT_SEL, d, 2, true), 0);
}

static uint8_t pio_read(void)
{
	uint8_t d = 0xee;

	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DATA, &d, 1, false), 0);
	return d;
}

static void pio_read_n(void *out, size_t n)
{
	uint8_t *o = out;

	while (n--)
		*o++ = pio_read();
}

static void put_desc(uint64_t at, uint32_t control, uint32_t length, uint64_t addr)
{
	uint32_t c = htobe32(control), l = htobe32(length);
	uint64_t a = htobe64(addr);

	memcpy(ram + at, &c, 4);
	memcpy(ram + at + 4, &l, 4);
	memcpy(ram + at + 8, &a, 8);
}

static uint32_t desc_control(uint64_t at)
{
	uint32_t c;

	memcpy(&c, ram + at, 4);
	return be32toh(c);
}

/* Kick through the ports: high half at 0x514, low half at 0x518. */
static void pio_kick(uint64_t gpa)
{
	uint32_t hi = htobe32((uint32_t)(gpa >> 32)), lo = htobe32((uint32_t)gpa);

	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, (uint8_t *)&hi, 4, true), 0);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 4, (uint8_t *)&lo, 4, true), 0);
}

static uint32_t dma(uint32_t control, uint32_t length, uint64_t addr)
{
	put_desc(DESC, control, length, addr);
	pio_kick(DESC);
	return desc_control(DESC);
}

static uint32_t sel(uint16_t key)
{
	return (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT;
}

Test(fwcfg, signature_and_id)
{
	char sig[5] = { 0 };
	uint32_t id;

	pio_select(FW_CFG_SIGNATURE);
	pio_read_n(sig, 4);
	cr_expect_str_eq(sig, "QEMU");
	cr_expect_eq(pio_read(), 0);      /* past the end */
	cr_expect_eq(pio_read(), 0);
	pio_select(FW_CFG_ID);
	pio_read_n(&id, 4);
	cr_expect_eq(le32toh(id), 3);
}

Test(fwcfg, power_on_and_reset_select_signature)
{
	cr_expect_eq(pio_read(), 'Q');
	cr_expect_eq(pio_read(), 'E');
	pio_select(FW_CFG_ID);
	fwcfg_reset(fw);
	cr_expect_eq(pio_read(), 'Q');
}

Test(fwcfg, dma_register_reads_signature)
{
	uint8_t d[4];

	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, d, 4, false), 0);
	cr_expect_eq(memcmp(d, "QEMU", 4), 0);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 4, d, 4, false), 0);
	cr_expect_eq(memcmp(d, " CFG", 4), 0);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 6, d, 2, false), 0);
	cr_expect_eq(memcmp(d, "FG", 2), 0);
}

Test(fwcfg, numbered_items)
{
	uint8_t v[8];
	uint64_t ram_size;

	cr_expect_eq(fwcfg_add_u64(fw, FW_CFG_RAM_SIZE, 0x123456789aULL), 0);
	cr_expect_eq(fwcfg_add_u16(fw, FW_CFG_NB_CPUS, 4), 0);
	cr_expect_eq(fwcfg_add_u16(fw, FW_CFG_NB_CPUS, 5), -EEXIST);
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_SIGNATURE, 1), -EEXIST);
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_FILE_DIR, 1), -EINVAL);
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_FILE_FIRST, 1), -EINVAL);
	cr_expect_eq(fwcfg_add_u32(fw, 0x3fff, 1), -EINVAL);
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_WRITE_CHANNEL | 0x10, 1), -EINVAL);
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_ARCH_LOCAL | 0x03, 0xabcd), 0);
	pio_select(FW_CFG_RAM_SIZE);
	pio_read_n(&ram_size, 8);
	cr_expect_eq(le64toh(ram_size), 0x123456789aULL);
	pio_select(FW_CFG_NB_CPUS);
	pio_read_n(v, 3);
	cr_expect_eq(v[0], 4);
	cr_expect_eq(v[1], 0);
	cr_expect_eq(v[2], 0);
	cr_expect_eq(fwcfg_set_bytes(fw, FW_CFG_NB_CPUS, "\x08\x00", 2), 0);
	pio_select(FW_CFG_NB_CPUS);
	cr_expect_eq(pio_read(), 8);
	pio_select(FW_CFG_ARCH_LOCAL | 0x03);
	cr_expect_eq(pio_read(), 0xcd);
	pio_select(0x03);              /* arch-local is a separate table */
	cr_expect_eq(pio_read(), 0x9a);
}

Test(fwcfg, unknown_keys_read_zero_and_data_writes_ignored)
{
	uint8_t b = 0x77;

	pio_select(0x1e);              /* in range, never set */
	cr_expect_eq(pio_read(), 0);
	pio_select(0x3000);            /* out of range: invalid */
	cr_expect_eq(pio_read(), 0);
	pio_select(FW_CFG_SIGNATURE);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DATA, &b, 1, true), 0);
	cr_expect_eq(pio_read(), 'Q');
	cr_expect_eq(fwcfg_add_u32(fw, FW_CFG_UUID, 0), 0);
}

struct dirent_h {
	uint32_t size;
	uint16_t select;
	char name[57];
};

static uint32_t read_dir(struct dirent_h *out, unsigned max)
{
	uint32_t count, i;
	uint8_t e[64];

	pio_select(FW_CFG_FILE_DIR);
	pio_read_n(&count, 4);
	count = be32toh(count);
	for (i = 0; i < count && i < max; i++) {
		pio_read_n(e, 64);
		memcpy(&out[i].size, e, 4);
		out[i].size = be32toh(out[i].size);
		memcpy(&out[i].select, e + 4, 2);
		out[i].select = be16toh(out[i].select);
		memcpy(out[i].name, e + 8, 56);
		out[i].name[56] = 0;
		cr_expect_eq(e[6] | e[7], 0, "reserved bytes");
		cr_expect_eq(e[63], 0, "name is NUL-terminated");
	}
	return count;
}

Test(fwcfg, directory_sorted_and_keys_reassigned)
{
	static const char *names[] = { "etc/e820", "bootorder", "opt/x",
				       "etc/acpi/tables" };
	static const char *sorted[] = { "a", "bootorder", "etc/acpi/tables",
					"etc/e820", "opt/x" };
	struct dirent_h d[8];
	char content[16];
	unsigned i;

	/* An empty directory reads a zero count. */
	cr_expect_eq(read_dir(d, 8), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(fwcfg_add_file(fw, names[i], names[i],
					    strlen(names[i]) + 1), 0);
	cr_assert_eq(fwcfg_add_file(fw, "a", "A!", 2), 0);
	cr_assert_eq(read_dir(d, 8), 5);
	for (i = 0; i < 5; i++) {
		cr_expect_str_eq(d[i].name, sorted[i]);
		cr_expect_eq(d[i].select, FW_CFG_FILE_FIRST + i);
		cr_expect_eq(d[i].size, i == 0 ? 2 : strlen(sorted[i]) + 1);
		/* The key serves that file's data. */
		memset(content, 0, sizeof(content));
		pio_select(d[i].select);
		pio_read_n(content, d[i].size);
		if (i == 0)
			cr_expect_eq(memcmp(content, "A!", 2), 0);
		else
			cr_expect_str_eq(content, sorted[i]);
	}
}

Test(fwcfg, file_errors)
{
	char name[80];
	unsigned i;

	memset(name, 'n', sizeof(name));
	name[56] = 0;                  /* 56 characters: too long */
	cr_expect_eq(fwcfg_add_file(fw, name, "x", 1), -ENAMETOOLONG);
	name[55] = 0;                  /* 55 characters: fits */
	cr_expect_eq(fwcfg_add_file(fw, name, "x", 1), 0);
	cr_expect_eq(fwcfg_add_file(fw, name, "y", 1), -EEXIST);
	cr_expect_eq(fwcfg_add_file(fw, "", "y", 1), -EINVAL);
	cr_expect_eq(fwcfg_set_file(fw, "nope", "y", 1), -ENOENT);
	for (i = 1; i < FW_CFG_FILE_SLOTS; i++) {
		snprintf(name, sizeof(name), "f%03u", i);
		cr_assert_eq(fwcfg_add_file(fw, name, name, 4), 0);
	}
	cr_expect_eq(fwcfg_add_file(fw, "last", "z", 1), -ENOSPC);
}

Test(fwcfg, set_file_replaces_contents_and_size)
{
	struct dirent_h d[2];

	cr_assert_eq(fwcfg_add_file(fw, "bootorder", "abc", 3), 0);
	cr_assert_eq(fwcfg_set_file(fw, "bootorder", "hello", 5), 0);
	cr_assert_eq(read_dir(d, 2), 1);
	cr_expect_eq(d[0].size, 5);
	pio_select(d[0].select);
	cr_expect_eq(pio_read(), 'h');
}

Test(fwcfg, dma_read_select_skip_and_zero_fill)
{
	static const uint8_t data[10] = "0123456789";

	cr_assert_eq(fwcfg_add_file(fw, "etc/test", data, sizeof(data)), 0);
	memset(ram + BUF, 0xcc, 64);
	/* SELECT + READ 4 bytes. */
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_READ, 4, BUF), 0);
	cr_expect_eq(memcmp(ram + BUF, "0123", 4), 0);
	cr_expect_eq(ram[BUF + 4], 0xcc);
	/* SKIP 2, then READ 8 continues at offset 6 and zero-fills the rest. */
	cr_expect_eq(dma(FW_CFG_DMA_CTL_SKIP, 2, 0), 0);
	cr_expect_eq(dma(FW_CFG_DMA_CTL_READ, 8, BUF + 16), 0);
	cr_expect_eq(memcmp(ram + BUF + 16, "6789\0\0\0\0", 8), 0);
	cr_expect_eq(ram[BUF + 24], 0xcc);
	/* PIO continues from the DMA offset (past the end: zero). */
	cr_expect_eq(pio_read(), 0);
	/* A control with no operation moves nothing. */
	memset(ram + BUF, 0xcc, 8);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST), 8, BUF), 0);
	cr_expect_eq(ram[BUF], 0xcc);
	cr_expect_eq(pio_read(), '0');
	/* Reading an unknown key zero-fills. */
	cr_expect_eq(dma(sel(0x1e) | FW_CFG_DMA_CTL_READ, 8, BUF), 0);
	cr_expect_eq(memcmp(ram + BUF, "\0\0\0\0\0\0\0\0", 8), 0);
	/* The signature via DMA, with an 8-byte kick through the bus. */
	put_desc(DESC, sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, BUF + 32);
	{
		uint64_t a = htobe64(DESC);

		cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, (uint8_t *)&a, 8, true), 0);
	}
	cr_expect_eq(desc_control(DESC), 0);
	cr_expect_eq(memcmp(ram + BUF + 32, "QEMU", 4), 0);
}

struct cb_log {
	unsigned selects, writes;
	uint64_t off[8], len[8];
	uint8_t snapshot[16];
	uint8_t *buf;
};

static void on_select(void *opaque)
{
	struct cb_log *l = opaque;

	l->selects++;
	/* The select callback runs before data moves (vmlaunchupdate
	 * re-initialises its struct here). */
	l->buf[0] = 0x42;
}

static void on_write(void *opaque, uint64_t off, uint64_t len)
{
	struct cb_log *l = opaque;

	if (l->writes < 8) {
		l->off[l->writes] = off;
		l->len[l->writes] = len;
	}
	l->writes++;
	memcpy(l->snapshot, l->buf, 16);
}

Test(fwcfg, dma_write_callbacks_and_offsets)
{
	uint8_t file[16] = { 0 };
	struct cb_log log = { .buf = file };

	cr_assert_eq(fwcfg_add_file_cb(fw, "etc/rw", file, sizeof(file), true,
				       on_select, on_write, &log), 0);
	memcpy(ram + BUF, "ABCDEFGHIJKLMNOPQRSTUVWX", 24);
	/* Select runs the callback, then write 4 bytes at offset 0. */
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_WRITE, 4, BUF), 0);
	cr_expect_eq(log.selects, 1);
	cr_expect_eq(log.writes, 1);
	cr_expect_eq(log.off[0], 0);
	cr_expect_eq(log.len[0], 4);
	cr_expect_eq(memcmp(file, "ABCD", 4), 0);
	/* Skip 2, then write 6 at offset 6. */
	cr_expect_eq(dma(FW_CFG_DMA_CTL_SKIP, 2, 0), 0);
	cr_expect_eq(dma(FW_CFG_DMA_CTL_WRITE, 6, BUF + 8), 0);
	cr_expect_eq(log.writes, 2);
	cr_expect_eq(log.off[1], 6);
	cr_expect_eq(log.len[1], 6);
	cr_expect_eq(memcmp(log.snapshot + 6, "IJKLMN", 6), 0);
	/* Now at offset 12: writing 5 would run past the end (16). */
	cr_expect_eq(dma(FW_CFG_DMA_CTL_WRITE, 5, BUF), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(log.writes, 2);
	cr_expect_eq(memcmp(file + 12, "\0\0\0\0", 4), 0);
	/* Writing at the end fails too. */
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_SKIP, 16, 0), 0);
	cr_expect_eq(dma(FW_CFG_DMA_CTL_WRITE, 1, BUF), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(log.selects, 2);
	/* PIO select runs the select callback too. */
	pio_select(FW_CFG_FILE_FIRST);
	cr_expect_eq(log.selects, 3);
	cr_expect_eq(pio_read(), 0x42);
	/* READ takes precedence over WRITE when both are set (QEMU). */
	memset(ram + BUF, 0xcc, 4);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_READ |
			 FW_CFG_DMA_CTL_WRITE, 2, BUF), 0);
	cr_expect_eq(ram[BUF], 0x42);
	cr_expect_eq(log.writes, 2);
}

Test(fwcfg, dma_write_read_only_fails)
{
	cr_assert_eq(fwcfg_add_file(fw, "etc/ro", "abcd", 4), 0);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_WRITE, 4, BUF),
		     FW_CFG_DMA_CTL_ERROR);
	pio_select(FW_CFG_FILE_FIRST);
	cr_expect_eq(pio_read(), 'a');
	/* Numbered items are read-only; unknown keys too. */
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_WRITE, 1, BUF),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(0x1e) | FW_CFG_DMA_CTL_WRITE, 1, BUF),
		     FW_CFG_DMA_CTL_ERROR);
	pio_select(FW_CFG_SIGNATURE);
	cr_expect_eq(pio_read(), 'Q');
}

Test(fwcfg, bad_descriptors)
{
	uint8_t file[8] = { 0 };
	struct cb_log log = { .buf = file };
	uint8_t before[RAM_SIZE > 0x3000 ? 0x3000 : 1];

	cr_assert_eq(fwcfg_add_file_cb(fw, "etc/rw", file, sizeof(file), true,
				       NULL, on_write, &log), 0);
	memcpy(before, ram, sizeof(before));

	/* Descriptor outside RAM: nothing to read, nothing written. */
	fwcfg_dma_kick(fw, RAM_SIZE + 0x100);
	fwcfg_dma_kick(fw, UINT64_MAX - 7);
	/* Descriptor straddling the end of RAM. */
	fwcfg_dma_kick(fw, RAM_SIZE - 8);
	cr_expect_eq(memcmp(before, ram, sizeof(before)), 0);
	cr_expect_eq(ram[RAM_SIZE - 8], 0);
	/* Descriptor in ROM: readable, the status cannot be written back. */
	{
		uint32_t c = htobe32(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ);
		uint32_t l = htobe32(4);
		uint64_t a = htobe64(BUF);

		memcpy(rom, &c, 4);
		memcpy(rom + 4, &l, 4);
		memcpy(rom + 8, &a, 8);
		fwcfg_dma_kick(fw, ROM_GPA);
		cr_expect_eq(memcmp(ram + BUF, "QEMU", 4), 0);
		cr_expect_eq(memcmp(rom, &c, 4), 0);
	}
	/* Buffer outside RAM, in ROM, straddling the end, or overflowing. */
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, RAM_SIZE),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, ROM_GPA),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(rom[16], 0);
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, RAM_SIZE - 2),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4,
			 UINT64_MAX - 1), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_WRITE, 4,
			 UINT64_MAX - 1), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_WRITE, 4, RAM_SIZE),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(log.writes, 0);
	/* Huge length: item bytes, then a zero fill that runs off RAM. */
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 0xffffffff,
			 BUF), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(memcmp(ram + BUF, "QEMU", 4), 0);
	cr_expect_eq(dma(sel(0x1e) | FW_CFG_DMA_CTL_READ, 0xffffffff, BUF),
		     FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(dma(sel(FW_CFG_FILE_FIRST) | FW_CFG_DMA_CTL_WRITE, 0xffffffff,
			 BUF), FW_CFG_DMA_CTL_ERROR);
	cr_expect_eq(log.writes, 0);
	/* A huge skip is fine: it only moves the offset. */
	cr_expect_eq(dma(FW_CFG_DMA_CTL_SKIP, 0xffffffff, 0), 0);
	/* The descriptor may overlap the buffer it describes. */
	cr_expect_eq(dma(sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 16, DESC), 0);
}

Test(fwcfg, dma_address_register_protocol)
{
	uint32_t v;

	put_desc(DESC, sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, BUF);
	/* A lone low-half write uses a zero high half (reset after each
	 * transfer). */
	v = htobe32(0xdead);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, (uint8_t *)&v, 4, true), 0);
	v = htobe32(0);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, (uint8_t *)&v, 4, true), 0);
	v = htobe32((uint32_t)DESC);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 4, (uint8_t *)&v, 4, true), 0);
	cr_expect_eq(memcmp(ram + BUF, "QEMU", 4), 0);
	cr_expect_eq(desc_control(DESC), 0);
	/* A high half set then a low write goes to a 64-bit address outside
	 * RAM: nothing happens to the descriptor in low memory. */
	put_desc(DESC, sel(FW_CFG_ID) | FW_CFG_DMA_CTL_READ, 4, BUF);
	v = htobe32(1);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA, (uint8_t *)&v, 4, true), 0);
	v = htobe32((uint32_t)DESC);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 4, (uint8_t *)&v, 4, true), 0);
	cr_expect_eq(desc_control(DESC), sel(FW_CFG_ID) | FW_CFG_DMA_CTL_READ);
	/* The high half was consumed: the next low write alone works. */
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 4, (uint8_t *)&v, 4, true), 0);
	cr_expect_eq(desc_control(DESC), 0);
	cr_expect_eq(ram[BUF], 3);
	/* Other sizes are ignored. */
	put_desc(DESC, sel(FW_CFG_ID) | FW_CFG_DMA_CTL_READ, 4, BUF);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 6, (uint8_t *)&v, 2, true), 0);
	cr_assert_eq(bus_access(&pio, FWCFG_PORT_DMA + 7, (uint8_t *)&v, 1, true), 0);
	cr_expect_eq(desc_control(DESC), sel(FW_CFG_ID) | FW_CFG_DMA_CTL_READ);
}

/* A write callback that leaves the transfer in progress for another
 * thread to end (fwcfg_dma_defer / fwcfg_dma_finish). */
static uint64_t deferred_desc;
static bool deferred;

static void on_write_defer(void *opaque, uint64_t off, uint64_t len)
{
	deferred = fwcfg_dma_defer(fw, &deferred_desc);
	/* only once per transfer */
	cr_expect(!fwcfg_dma_defer(fw, &(uint64_t){ 0 }));
}

Test(fwcfg, deferred_write_completion)
{
	uint8_t file[8] = { 0 };
	uint16_t key;

	cr_assert_eq(fwcfg_add_file_cb(fw, "etc/rw", file, sizeof(file), true,
				       NULL, on_write_defer, NULL), 0);
	key = FW_CFG_FILE_FIRST;
	/* Not inside a transfer: nothing to defer. */
	cr_expect(!fwcfg_dma_defer(fw, &deferred_desc));
	memcpy(ram + BUF, "ABCDEFGH", 8);
	cr_expect_eq(dma(sel(key) | FW_CFG_DMA_CTL_WRITE, 8, BUF),
		     sel(key) | FW_CFG_DMA_CTL_WRITE, "still in progress");
	cr_assert(deferred);
	cr_expect_eq(deferred_desc, DESC);
	cr_expect_eq(memcmp(file, "ABCDEFGH", 8), 0, "the data moved before the callback");
	/* Reads go on meanwhile, on another descriptor. */
	put_desc(DESC + 0x100, sel(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, BUF + 0x100);
	pio_kick(DESC + 0x100);
	cr_expect_eq(desc_control(DESC + 0x100), 0);
	cr_expect_eq(memcmp(ram + BUF + 0x100, "QEMU", 4), 0);
	fwcfg_dma_finish(fw, deferred_desc, false);
	cr_expect_eq(desc_control(DESC), 0);
	/* An error ending leaves only the error bit. */
	cr_expect_eq(dma(sel(key) | FW_CFG_DMA_CTL_WRITE, 8, BUF),
		     sel(key) | FW_CFG_DMA_CTL_WRITE);
	fwcfg_dma_finish(fw, deferred_desc, true);
	cr_expect_eq(desc_control(DESC), FW_CFG_DMA_CTL_ERROR);
}
