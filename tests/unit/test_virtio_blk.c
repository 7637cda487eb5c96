/* tests/unit/test_virtio_blk.c: the split virtqueue against hostile
 * descriptor chains in a fake guest memory, and virtio-blk driven through
 * the real virtio-pci transport (MMIO bus) and the real io_uring on a temp
 * file.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "devices/virtqueue.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/irq.h"

#define RAM_SIZE (1u << 20)
#define QSZ 16
#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL
#define BUF 0x10000ULL

static struct guestmem gm;
static uint8_t *ram;

static void mem_setup(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	cr_assert_not_null(ram);
	memset(ram, 0, RAM_SIZE);
	gm_init(&gm);
	cr_assert_eq(gm_add(&gm, 0, RAM_SIZE, ram, GM_RAM, "ram"), 0);
}

static void mem_teardown(void)
{
	free(ram);
}

static void put16(uint64_t gpa, uint16_t v) { memcpy(ram + gpa, &v, 2); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static uint16_t get16(uint64_t gpa) { uint16_t v; memcpy(&v, ram + gpa, 2); return v; }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, ram + gpa, 4); return v; }

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	uint64_t d = table + 16ULL * i;

	put64(d, addr);
	put32(d + 8, len);
	put16(d + 12, flags);
	put16(d + 14, next);
}

static uint16_t avail_n;

static void post(uint16_t head)
{
	put16(AVAIL + 4 + 2 * (avail_n % QSZ), head);
	avail_n++;
	put16(AVAIL + 2, avail_n);
}

/* ---------------- virtqueue ---------------- */

static struct virtq q;
static struct virtq_chain ch;

static void vq_setup(void)
{
	mem_setup();
	avail_n = 0;
	virtq_init(&q, &gm);
	cr_assert_eq(virtq_enable(&q, QSZ, DESC, AVAIL, USED), 0);
}

TestSuite(virtq, .init = vq_setup, .fini = mem_teardown);

Test(virtq, enable_validates_rings)
{
	struct virtq t;

	virtq_init(&t, &gm);
	cr_assert_lt(virtq_enable(&t, 12, DESC, AVAIL, USED), 0, "not a power of two");
	cr_assert_lt(virtq_enable(&t, QSZ, DESC + 8, AVAIL, USED), 0, "desc misaligned");
	cr_assert_lt(virtq_enable(&t, QSZ, DESC, AVAIL, USED + 2), 0, "used misaligned");
	cr_assert_lt(virtq_enable(&t, QSZ, RAM_SIZE - 16, AVAIL, USED), 0, "desc past RAM");
	cr_assert_lt(virtq_enable(&t, QSZ, DESC, AVAIL, 0xfffffffffffffff0ULL), 0, "overflow");
	cr_assert_lt(virtq_enable(&t, 2048, DESC, AVAIL, USED), 0, "too big");
	cr_assert_not(t.ready);
}

Test(virtq, good_chain_and_used_ring)
{
	desc_at(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF + 512, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc_at(DESC, 2, BUF + 2048, 1, VIRTQ_DESC_F_WRITE, 0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_EMPTY);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_OK);
	cr_assert_eq(ch.head, 0);
	cr_assert_eq(ch.nout, 1);
	cr_assert_eq(ch.nin, 2);
	cr_assert_eq(ch.out_len, 16);
	cr_assert_eq(ch.in_len, 513);
	cr_assert_eq(ch.iov[1].iov_base, ram + BUF + 512);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_EMPTY);
	virtq_push(&q, 0, 513);
	cr_assert_eq(get16(USED + 2), 1);
	cr_assert_eq(get32(USED + 4), 0);
	cr_assert_eq(get32(USED + 8), 513);
	cr_assert(virtq_needs_notify(&q));
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	cr_assert_not(virtq_needs_notify(&q));
}

Test(virtq, loop_is_bounded)
{
	desc_at(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* self loop */
	desc_at(DESC, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
	post(3);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, next_out_of_range)
{
	desc_at(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, QSZ);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, address_outside_ram)
{
	desc_at(DESC, 0, RAM_SIZE - 8, 16, 0, 0);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	desc_at(DESC, 1, 0xffffffffffffff00ULL, 0x200, VIRTQ_DESC_F_WRITE, 0);
	post(1);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, readable_after_writable)
{
	desc_at(DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF + 64, 16, 0, 0);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, no_write_into_rom)
{
	static uint8_t rom[4096];

	cr_assert_eq(gm_add(&gm, 0x200000, sizeof(rom), rom, GM_ROM, "rom"), 0);
	desc_at(DESC, 0, 0x200000, 16, 0, 0);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN, "ROM is not DMA-able RAM");
	desc_at(DESC, 1, 0x200000, 16, VIRTQ_DESC_F_WRITE, 0);
	post(1);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, indirect)
{
	uint64_t tab = 0x4000;

	desc_at(tab, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(tab, 1, BUF + 512, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc_at(tab, 2, BUF + 8192, 1, VIRTQ_DESC_F_WRITE, 0);
	desc_at(DESC, 0, tab, 48, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_OK);
	cr_assert_eq(ch.nout + ch.nin, 3);
	cr_assert_eq(ch.in_len, 4097);

	/* INDIRECT with NEXT */
	desc_at(DESC, 1, tab, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 2);
	post(1);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* table length not a multiple of 16 */
	desc_at(DESC, 2, tab, 40, VIRTQ_DESC_F_INDIRECT, 0);
	post(2);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* nested indirect */
	desc_at(tab, 2, tab, 48, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(DESC, 3, tab, 48, VIRTQ_DESC_F_INDIRECT, 0);
	post(3);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* loop inside the table */
	desc_at(tab, 2, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc_at(DESC, 4, tab, 48, VIRTQ_DESC_F_INDIRECT, 0);
	post(4);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* huge table */
	desc_at(DESC, 5, tab, 16 * (VIRTQ_MAX_INDIRECT + 1), VIRTQ_DESC_F_INDIRECT, 0);
	post(5);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
	/* indirect as the second descriptor of a chain */
	desc_at(DESC, 6, BUF, 16, VIRTQ_DESC_F_NEXT, 7);
	desc_at(DESC, 7, tab, 48, VIRTQ_DESC_F_INDIRECT, 0);
	post(6);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BAD_CHAIN);
}

Test(virtq, broken_ring)
{
	desc_at(DESC, 0, BUF, 16, 0, 0);
	put16(AVAIL + 4, QSZ + 3);   /* head out of range */
	put16(AVAIL + 2, 1);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BROKEN);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_EMPTY, "stays stopped");

	virtq_reset(&q);
	cr_assert_eq(virtq_enable(&q, QSZ, DESC, AVAIL, USED), 0);
	put16(AVAIL + 2, QSZ + 1);   /* idx runs ahead by more than the size */
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_BROKEN);
}

Test(virtq, oversized_chain)
{
	/* a full-size queue chain is fine; VIRTQ_MAX_SEG bounds it anyway */
	for (unsigned i = 0; i < QSZ; i++)
		desc_at(DESC, i, BUF + 64 * i, 64, i + 1 < QSZ ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	post(0);
	cr_assert_eq(virtq_pop(&q, &ch), VIRTQ_OK);
	cr_assert_eq(ch.nout, QSZ);
}

/* ---------------- virtio-blk through virtio-pci ---------------- */

#define BAR 0xe0000000ULL
#define DISK_SECTORS 64

static struct bus pio, mmio;
static struct pci_bus *pb;
static struct virtio_blk *blk;
static char path[64];
static int level11;
static unsigned msis;

static int irq_cb(void *o, unsigned gsi, int level)
{
	if (gsi == 11)
		level11 = level;
	return 0;
}

static int msi_cb(void *o, uint64_t addr, uint32_t data)
{
	msis++;
	return 0;
}

static struct irq_chip chip = { irq_cb, NULL };
static struct virtio_msi_sink msink = { msi_cb, NULL };

static void cfgw(unsigned off, uint32_t v, unsigned len)
{
	pci_config_access(pb, 3, 0, off, (uint8_t *)&v, len, true);
}

static uint32_t cfgr(unsigned off, unsigned len)
{
	uint32_t v = 0;

	pci_config_access(pb, 3, 0, off, (uint8_t *)&v, len, false);
	return v;
}

static void mw(uint64_t off, uint64_t v, unsigned len)
{
	bus_access(&mmio, BAR + off, (uint8_t *)&v, len, true);
}

static uint64_t mr(uint64_t off, unsigned len)
{
	uint64_t v = 0;

	bus_access(&mmio, BAR + off, (uint8_t *)&v, len, false);
	return v;
}

static bool mk_access_platform;   /* make_disk offers VIRTIO_F_ACCESS_PLATFORM */
static const struct virtio_ioevent_sink *mk_ioevent;   /* make_disk's ioevent sink */

static void make_disk(size_t size, bool ro)
{
	char err[256] = "";
	struct virtio_blk_opts o = { .path = path, .readonly = ro, .serial = "fuki-disk-0",
				     .access_platform = mk_access_platform, .ioevent = mk_ioevent };
	uint8_t *pat = malloc(size);
	int fd;

	strcpy(path, "/tmp/fuki-blk-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	for (size_t i = 0; i < size; i++)
		pat[i] = (uint8_t)(i / 512 + 1);
	cr_assert_eq(write(fd, pat, size), (ssize_t)size);
	close(fd);
	free(pat);
	blk = virtio_blk_create(&o, pb, 3, &gm, &msink, err, sizeof(err));
	cr_assert_not_null(blk, "%s", err);
}

static void blk_setup(void)
{
	mem_setup();
	avail_n = 0;
	level11 = 0;
	msis = 0;
	bus_init(&pio);
	bus_init(&mmio);
	chip.opaque = NULL;
	pb = pci_create(&chip, NULL, NULL, 0xc0000000ULL, 0xfec00000ULL);
	cr_assert_not_null(pb);
	cr_assert_eq(pci_attach(pb, &pio, &mmio), 0);
	blk = NULL;
	path[0] = 0;
	mk_access_platform = false;
	mk_ioevent = NULL;
}

static void blk_teardown(void)
{
	virtio_blk_destroy(blk);
	pci_destroy(pb);
	bus_free(&pio);
	bus_free(&mmio);
	if (path[0])
		unlink(path);
	mem_teardown();
}

/* The driver side of 3.1.1, as Linux does it. */
static void driver_init(uint64_t extra_features)
{
	uint64_t f;

	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfgw(0x62, 11, 1);   /* harmless: slot 3 config, not PIIX */
	pci_config_access(pb, 1, 0, 0x62, (uint8_t[]){ 11 }, 1, true);   /* PIRQC -> 11 */
	mw(0x14, 0, 1);
	mw(0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	mw(0x00, 0, 4);
	f = mr(0x04, 4);
	mw(0x00, 1, 4);
	f |= mr(0x04, 4) << 32;
	cr_assert(f & (1ULL << VIRTIO_F_VERSION_1));
	f &= (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) | extra_features;
	mw(0x08, 0, 4);
	mw(0x0c, (uint32_t)f, 4);
	mw(0x08, 1, 4);
	mw(0x0c, f >> 32, 4);
	mw(0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
	cr_assert(mr(0x14, 1) & VIRTIO_STATUS_FEATURES_OK);
	mw(0x16, 0, 2);
	cr_assert_eq(mr(0x18, 2), VIRTIO_BLK_QUEUE_SIZE);
	mw(0x18, QSZ, 2);
	mw(0x20, DESC, 4);
	mw(0x24, 0, 4);
	mw(0x28, AVAIL, 8);
	mw(0x30, USED, 8);
	mw(0x1c, 1, 2);
	cr_assert_eq(mr(0x1c, 2), 1);
	mw(0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	   VIRTIO_STATUS_DRIVER_OK, 1);
}

/* Three-descriptor request at slot @i (descs 3i..3i+2, header at BUF+i*0x100). */
static uint64_t req(unsigned i, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		    bool data_write)
{
	uint64_t hdr = BUF + i * 0x100, st = hdr + 0x80;
	unsigned d = 3 * i;

	put32(hdr, type);
	put32(hdr + 4, 0);
	put64(hdr + 8, sector);
	ram[st] = 0xee;
	desc_at(DESC, d, hdr, 16, VIRTQ_DESC_F_NEXT, d + 1);
	if (len) {
		desc_at(DESC, d + 1, data, len,
			VIRTQ_DESC_F_NEXT | (data_write ? VIRTQ_DESC_F_WRITE : 0), d + 2);
		desc_at(DESC, d + 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		desc_at(DESC, d + 1, st, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	post(d);
	return st;
}

static void wait_used(uint16_t n)
{
	for (int t = 0; t < 500 && get16(USED + 2) != n; t++) {
		struct pollfd p = { virtio_blk_event_fd(blk), POLLIN, 0 };
		uint64_t cnt;

		/* level-triggered: this loop resets the count (virtio_blk.h) */
		if (poll(&p, 1, 10) == 1 && read(p.fd, &cnt, sizeof(cnt)) < 0)
			cr_assert_fail("eventfd read: %s", strerror(errno));
		virtio_blk_process(blk);
	}
	cr_assert_eq(get16(USED + 2), n, "used idx %u, want %u", get16(USED + 2), n);
}

TestSuite(vblk, .init = blk_setup, .fini = blk_teardown, .timeout = 30);

Test(vblk, pci_identity_and_config)
{
	make_disk(DISK_SECTORS * 512, false);
	cr_assert_eq(cfgr(0, 4), 0x10421af4);
	cr_assert_eq(cfgr(PCI_REVISION_ID, 1), 1);
	cr_assert_eq(cfgr(PCI_SUBSYSTEM_ID, 2), 0x42);
	cfgw(PCI_BAR0, 0xffffffff, 4);
	cr_assert_eq(cfgr(PCI_BAR0, 4), (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1));
	/* walk the capability list: MSI-X and the five virtio structures */
	unsigned types = 0, off = cfgr(PCI_CAPABILITY_LIST, 1), n = 0;
	bool msix = false;

	while (off && n++ < 16) {
		if (cfgr(off, 1) == 0x11)
			msix = true;
		if (cfgr(off, 1) == 0x09)
			types |= 1u << cfgr(off + 3, 1);
		off = cfgr(off + 1, 1);
	}
	cr_assert(msix);
	cr_assert_eq(types, 0x3e, "cfg types 1-5 present: 0x%x", types);
	driver_init(0);
	cr_assert_eq(mr(VIRTIO_PCI_DEVCFG_OFF, 8), DISK_SECTORS, "capacity in sectors");
	cr_assert_eq(mr(VIRTIO_PCI_DEVCFG_OFF + 20, 4), 512);
	cr_assert_eq(mr(0x12, 2), 1, "num_queues");
}

Test(vblk, rejects_odd_size)
{
	char err[256] = "";
	struct virtio_blk_opts o = { .path = path };
	int fd;

	strcpy(path, "/tmp/fuki-blk-XXXXXX");
	fd = mkstemp(path);
	cr_assert_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	cr_assert_null(virtio_blk_create(&o, pb, 3, &gm, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "multiple of 512"), "%s", err);
}

Test(vblk, features_need_version_1)
{
	make_disk(4096, false);
	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	mw(0x14, 3, 1);
	mw(0x08, 0, 4);
	mw(0x0c, 1u << VIRTIO_BLK_F_FLUSH, 4);
	mw(0x14, 3 | VIRTIO_STATUS_FEATURES_OK, 1);
	cr_assert_eq(mr(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, 0, "legacy driver refused");
	mw(0x14, 0, 1);
	cr_assert_eq(mr(0x14, 1), 0, "reset");
	mw(0x14, 3, 1);
	mw(0x08, 1, 4);
	mw(0x0c, 1 | 0x80, 4);   /* VERSION_1 plus an unoffered bit */
	mw(0x14, 3 | VIRTIO_STATUS_FEATURES_OK, 1);
	cr_assert_eq(mr(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, 0);
}

Test(vblk, read_write_flush_getid_intx)
{
	uint64_t st;

	make_disk(DISK_SECTORS * 512, false);
	driver_init(1ULL << VIRTIO_BLK_F_FLUSH);
	st = req(0, VIRTIO_BLK_T_IN, 2, 0x20000, 1024, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[0x20000], 3);
	cr_assert_eq(ram[0x20000 + 1023], 4);
	cr_assert_eq(get32(USED + 8), 1025, "used len = data + status");
	cr_assert_eq(level11, 1, "INTx via PIRQC");
	cr_assert_eq(mr(VIRTIO_PCI_ISR_OFF, 1), 1);
	cr_assert_eq(level11, 0, "ISR read deasserts");
	cr_assert_eq(mr(VIRTIO_PCI_ISR_OFF, 1), 0);

	memset(ram + 0x30000, 0xab, 512);
	st = req(1, VIRTIO_BLK_T_OUT, 5, 0x30000, 512, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(2);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	st = req(2, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(3);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	{
		int fd = open(path, O_RDONLY);
		uint8_t b[512];

		cr_assert_eq(pread(fd, b, 512, 5 * 512), 512);
		close(fd);
		cr_assert_eq(b[0], 0xab);
		cr_assert_eq(b[511], 0xab);
	}
	st = req(3, VIRTIO_BLK_T_GET_ID, 0, 0x40000, 20, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(4);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(ram + 0x40000, "fuki-disk-0\0", 12), 0);
	/* out of range, unaligned length, unknown type */
	st = req(4, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 0x20000, 1024, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(5);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_IOERR);
	st = req(0, VIRTIO_BLK_T_IN, 0, 0x20000, 100, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(6);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_IOERR);
	st = req(1, 99, 0, 0, 0, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(7);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(virtio_blk_inflight(blk), 0);
}

Test(vblk, many_in_flight_and_msix)
{
	uint64_t st[5];

	make_disk(DISK_SECTORS * 512, false);
	driver_init(0);
	/* MSI-X: enable, vector 1 for the queue, unmask */
	mw(0x16, 0, 2);
	mw(0x1a, 1, 2);
	cr_assert_eq(mr(0x1a, 2), 1);
	mw(VIRTIO_PCI_MSIX_TABLE_OFF + 16, 0xfee00000, 4);
	mw(VIRTIO_PCI_MSIX_TABLE_OFF + 24, 0x41, 4);
	mw(VIRTIO_PCI_MSIX_TABLE_OFF + 28, 0, 4);
	{
		unsigned off = cfgr(PCI_CAPABILITY_LIST, 1);

		while (cfgr(off, 1) != 0x11)
			off = cfgr(off + 1, 1);
		cfgw(off + 2, 0x8000 | 0x4000, 2);   /* enable + function mask */
		for (unsigned i = 0; i < 5; i++)
			st[i] = req(i, VIRTIO_BLK_T_IN, i * 8, 0x20000 + i * 4096, 4096, true);
		mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
		wait_used(5);
		cr_assert_eq(msis, 0, "masked");
		cr_assert_neq(mr(VIRTIO_PCI_MSIX_PBA_OFF, 8) & 2, 0, "pending bit");
		cfgw(off + 2, 0x8000, 2);   /* unmask: pending message goes out */
		cr_assert_eq(msis, 1);
		cr_assert_eq(mr(VIRTIO_PCI_MSIX_PBA_OFF, 8) & 2, 0);
	}
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_eq(ram[st[i]], VIRTIO_BLK_S_OK);
		cr_assert_eq(ram[0x20000 + i * 4096], i * 8 + 1);
	}
	cr_assert_eq(level11, 0, "no INTx with MSI-X on");
	/* a system reset turns MSI-X off and masks the vectors */
	virtio_blk_reset(blk);
	{
		unsigned off = cfgr(PCI_CAPABILITY_LIST, 1);

		while (cfgr(off, 1) != 0x11)
			off = cfgr(off + 1, 1);
		cr_assert_eq(cfgr(off + 2, 2) & 0xc000, 0);
	}
	cr_assert_eq(mr(VIRTIO_PCI_MSIX_TABLE_OFF + 28, 4) & 1, 1, "vector masked");
}

Test(vblk, read_only)
{
	uint64_t st;

	make_disk(DISK_SECTORS * 512, true);
	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	mw(0x00, 0, 4);
	cr_assert_neq(mr(0x04, 4) & (1u << VIRTIO_BLK_F_RO), 0);
	cr_assert_eq(mr(0x04, 4) & (1u << VIRTIO_BLK_F_DISCARD), 0);
	driver_init(1ULL << VIRTIO_BLK_F_RO);
	st = req(0, VIRTIO_BLK_T_OUT, 0, 0x30000, 512, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_IOERR);
	st = req(1, VIRTIO_BLK_T_IN, 0, 0x30000, 512, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(2);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
}

Test(vblk, discard_and_write_zeroes)
{
	uint64_t st, seg = 0x50000;
	int fd;
	uint8_t b[1024];

	make_disk(DISK_SECTORS * 512, false);
	driver_init((1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	put64(seg, 10);
	put32(seg + 8, 2);
	put32(seg + 12, 0);
	st = req(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	fd = open(path, O_RDONLY);
	cr_assert_eq(pread(fd, b, 1024, 10 * 512), 1024);
	for (unsigned i = 0; i < 1024; i++)
		cr_assert_eq(b[i], 0);
	cr_assert_eq(pread(fd, b, 1, 12 * 512), 1);
	cr_assert_eq(b[0], 13, "next sector untouched");
	close(fd);
	put32(seg + 12, 1);   /* unmap is not allowed on discard */
	st = req(1, VIRTIO_BLK_T_DISCARD, 0, seg, 16, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(2);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_UNSUPP);
	put64(seg, DISK_SECTORS - 1);   /* past the end */
	put32(seg + 12, 0);
	st = req(2, VIRTIO_BLK_T_DISCARD, 0, seg, 16, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(3);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_IOERR);
}

Test(vblk, hostile_chain_needs_reset_then_recovers)
{
	uint64_t st;

	make_disk(DISK_SECTORS * 512, false);
	driver_init(0);
	desc_at(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	cr_assert_neq(mr(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	cr_assert_eq(mr(VIRTIO_PCI_ISR_OFF, 1) & 2, 2, "configuration interrupt");
	/* further notifies are ignored, the driver resets and starts over */
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	memset(ram + AVAIL, 0, 0x2000);
	avail_n = 0;
	driver_init(0);
	cr_assert_eq(mr(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	st = req(0, VIRTIO_BLK_T_IN, 0, 0x20000, 512, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
}

Test(vblk, queue_outside_ram_refused)
{
	make_disk(4096, false);
	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	mw(0x14, 3, 1);
	mw(0x16, 0, 2);
	mw(0x20, 0x7ffffff000ULL, 8);
	mw(0x28, AVAIL, 8);
	mw(0x30, USED, 8);
	mw(0x1c, 1, 2);
	cr_assert_eq(mr(0x1c, 2), 0);
	cr_assert_neq(mr(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

Test(vblk, reset_with_io_in_flight)
{
	make_disk(DISK_SECTORS * 512, false);
	driver_init(0);
	for (unsigned i = 0; i < 5; i++)
		req(i, VIRTIO_BLK_T_IN, i, 0x20000 + i * 4096, 4096, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	/* system reset (VM rebuild) before any completion was processed */
	virtio_blk_reset(blk);
	cr_assert_eq(virtio_blk_inflight(blk), 0);
	cr_assert_eq(mr(0x14, 1), 0);
	virtio_blk_process(blk);
	cr_assert_eq(get16(USED + 2), 0, "no used entry after the reset");
	/* and it works again after re-initialisation */
	memset(ram + AVAIL, 0, 0x2000);
	avail_n = 0;
	driver_init(0);
	req(0, VIRTIO_BLK_T_IN, 0, 0x20000, 512, true);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
}

Test(vblk, pci_cfg_access_window)
{
	unsigned off;
	uint32_t v;

	make_disk(DISK_SECTORS * 512, false);
	off = cfgr(PCI_CAPABILITY_LIST, 1);
	while (!(cfgr(off, 1) == 0x09 && cfgr(off + 3, 1) == 5))
		off = cfgr(off + 1, 1);
	cfgw(off + 4, 0, 1);
	cfgw(off + 8, VIRTIO_PCI_DEVCFG_OFF, 4);
	cfgw(off + 12, 4, 4);
	v = cfgr(off + 16, 4);
	cr_assert_eq(v, DISK_SECTORS, "capacity through the window, no BAR programmed");
}

/* ---------------- [[disk]] configuration ---------------- */

#include "vmm/config/config.h"

static char fw[64];

static void cfg_setup(void)
{
	int fd;

	strcpy(fw, "/tmp/fuki-cfgfw-XXXXXX");
	fd = mkstemp(fw);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 4096), 0);
	close(fd);
}

static void cfg_teardown(void)
{
	unlink(fw);
}

/* @doc after a two-line [firmware] table */
static int parse(const char *doc, bool check, struct vm_config *cfg, char *err, size_t n)
{
	char full[1024];

	snprintf(full, sizeof(full), "[firmware]\npath = \"%s\"\n%s", fw, doc);
	return config_parse(full, strlen(full), "t.toml", "/tmp", check, cfg, err, n);
}

TestSuite(disk_config, .init = cfg_setup, .fini = cfg_teardown);

Test(disk_config, array_of_tables)
{
	struct vm_config cfg;
	char err[256];

	cr_assert_eq(parse("[[disk]]\npath = \"a.img\"\n[[disk]]\npath = \"/x/b.img\"\nreadonly = true\n",
			   false, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.ndisks, 2);
	cr_assert_str_eq(cfg.disks[0].path, "/tmp/a.img");
	cr_assert_not(cfg.disks[0].readonly);
	cr_assert_str_eq(cfg.disks[1].path, "/x/b.img");
	cr_assert(cfg.disks[1].readonly);
	config_free(&cfg);
}

Test(disk_config, errors)
{
	struct vm_config cfg;
	char err[256];

	cr_assert_lt(parse("[disk]\npath = \"a\"\n", false, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "array of tables"), "%s", err);
	cr_assert_lt(parse("[[disk]]\nreadonly = true\n", false, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "'path' is required"), "%s", err);
	cr_assert_lt(parse("[[disk]]\npath = \"a\"\nsize = 3\n", false, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "unknown key 'disk[0].size'"), "%s", err);
	cr_assert_lt(parse("[[disk]]\npath = \"a\"\nreadonly = 1\n", false, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "t.toml:5:"), "%s", err);
	cr_assert_lt(parse("[[disk]]\npath = \"\"\n", false, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "empty path"), "%s", err);
}

Test(disk_config, files_checked)
{
	struct vm_config cfg;
	char err[512], doc[256], p[64] = "/tmp/fuki-cfgdisk-XXXXXX";
	int fd = mkstemp(p);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "abc", 3), 3);
	snprintf(doc, sizeof(doc), "[[disk]]\npath = \"%s\"\n", p);
	cr_assert_lt(parse(doc, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "multiple of 512"), "%s", err);
	cr_assert_eq(ftruncate(fd, 4096), 0);
	cr_assert_eq(parse(doc, true, &cfg, err, sizeof(err)), 0, "%s", err);
	config_free(&cfg);
	close(fd);
	unlink(p);
	cr_assert_lt(parse(doc, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(vblk, odd_requests)
{
	uint64_t st;

	make_disk(DISK_SECTORS * 512, false);
	driver_init(0);
	/* header shorter than 16 bytes: IOERR */
	put32(BUF, VIRTIO_BLK_T_IN);
	desc_at(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[BUF + 0x80] = 0xee;
	post(0);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(ram[BUF + 0x80], VIRTIO_BLK_S_IOERR);
	/* write without data: IOERR */
	st = req(1, VIRTIO_BLK_T_OUT, 0, 0, 0, false);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(2);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_IOERR);
	/* the same head posted twice while in flight: both complete */
	st = req(2, VIRTIO_BLK_T_IN, 0, 0x20000, 4096, true);
	post(6);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	wait_used(4);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	/* no writable byte at all: the device gives up (needs reset) */
	desc_at(DESC, 9, BUF, 16, 0, 0);
	post(9);
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	cr_assert_neq(mr(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	cr_assert_eq(virtio_blk_inflight(blk), 0);
}

/* Confidential guests: VIRTIO_F_ACCESS_PLATFORM (bit 33) offered, and only
 * then; a plain disk does not offer it. */
static uint32_t device_features_hi(void)
{
	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	mw(0x00, 1, 4);
	return (uint32_t)mr(0x04, 4);
}

Test(vblk, no_access_platform_by_default)
{
	uint32_t hi;

	make_disk(4096, false);
	hi = device_features_hi();
	cr_assert(hi & (1u << (VIRTIO_F_VERSION_1 - 32)));
	cr_assert_eq(hi & (1u << (VIRTIO_F_ACCESS_PLATFORM - 32)), 0);
}

Test(vblk, access_platform_when_asked)
{
	uint32_t hi;

	mk_access_platform = true;
	make_disk(4096, false);
	hi = device_features_hi();
	cr_assert(hi & (1u << (VIRTIO_F_VERSION_1 - 32)));
	cr_assert(hi & (1u << (VIRTIO_F_ACCESS_PLATFORM - 32)));
}

/* KVM_IOEVENTFD plumbing: the transport reports where queue 0's notify
 * register is whenever BAR 0 starts or stops decoding or moves, and a
 * notification through the eventfd works like a register write. */
struct ioev_rec {
	int fd;
	uint64_t gpa;
	unsigned len;
	bool on;
};
static struct ioev_rec ioevs[16];
static unsigned nioev;

static void ioev_set(void *opaque, int fd, uint64_t gpa, unsigned len, bool on)
{
	if (nioev < 16)
		ioevs[nioev] = (struct ioev_rec){ fd, gpa, len, on };
	nioev++;
}

static const struct virtio_ioevent_sink isink = { ioev_set, NULL };

static void expect_ioev(unsigned i, uint64_t gpa, bool on)
{
	cr_assert_lt(i, nioev);
	cr_assert_eq(ioevs[i].fd, virtio_blk_notify_fd(blk));
	cr_assert_eq(ioevs[i].gpa, gpa, "record %u: gpa 0x%llx", i, (unsigned long long)ioevs[i].gpa);
	cr_assert_eq(ioevs[i].len, 2);
	cr_assert_eq(ioevs[i].on, on, "record %u", i);
}

Test(vblk, ioeventfd_follows_bar0_and_notifies)
{
	uint64_t st, one = 1;

	nioev = 0;
	mk_ioevent = &isink;
	make_disk(DISK_SECTORS * 512, false);
	cr_assert_geq(virtio_blk_notify_fd(blk), 0);
	cfgw(PCI_BAR0, (uint32_t)BAR, 4);
	cr_assert_eq(nioev, 0, "no decode yet: nothing to watch");
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(nioev, 1);
	expect_ioev(0, BAR + VIRTIO_PCI_NOTIFY_OFF, true);
	cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cr_assert_eq(nioev, 1, "same address: no change");
	cfgw(PCI_BAR0, (uint32_t)(BAR + 0x100000), 4);       /* the BAR moves */
	cr_assert_eq(nioev, 3);
	expect_ioev(1, BAR + VIRTIO_PCI_NOTIFY_OFF, false);
	expect_ioev(2, BAR + 0x100000 + VIRTIO_PCI_NOTIFY_OFF, true);
	cfgw(PCI_BAR0, 0xfff00000u, 4);                       /* outside the hole */
	cr_assert_eq(nioev, 4);
	expect_ioev(3, BAR + 0x100000 + VIRTIO_PCI_NOTIFY_OFF, false);
	driver_init(0);                                       /* BAR back at BAR */
	cr_assert_eq(nioev, 5);
	expect_ioev(4, BAR + VIRTIO_PCI_NOTIFY_OFF, true);

	/* a notification as KVM delivers it: the eventfd, no MMIO write */
	st = req(0, VIRTIO_BLK_T_IN, 2, 0x20000, 1024, true);
	cr_assert_eq(write(virtio_blk_notify_fd(blk), &one, sizeof(one)), (ssize_t)sizeof(one));
	virtio_blk_notify_event(blk);
	wait_used(1);
	cr_assert_eq(ram[st], VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[0x20000], 3);
	/* nothing pending: a spurious wake-up does nothing */
	virtio_blk_notify_event(blk);
	cr_assert_eq(get16(USED + 2), 1);

	/* system reset: BAR 0 is about to be cleared, stop watching */
	virtio_blk_reset(blk);
	cr_assert_eq(nioev, 6);
	expect_ioev(5, BAR + VIRTIO_PCI_NOTIFY_OFF, false);
	/* after the reset the driver is gone: an eventfd kick is ignored */
	req(1, VIRTIO_BLK_T_IN, 2, 0x20000, 512, true);
	cr_assert_eq(write(virtio_blk_notify_fd(blk), &one, sizeof(one)), (ssize_t)sizeof(one));
	virtio_blk_notify_event(blk);
	cr_assert_eq(virtio_blk_inflight(blk), 0);
}

Test(vblk, no_notify_fd_without_a_sink)
{
	make_disk(4096, false);
	cr_assert_eq(virtio_blk_notify_fd(blk), -1);
	virtio_blk_notify_event(blk);     /* harmless */
}
