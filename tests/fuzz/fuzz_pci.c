/* tests/fuzz/fuzz_pci.c: libFuzzer target for what a guest reaches through
 * PCI: config space by mechanism #1 (ports 0xCF8/0xCFC) and the chipset
 * ports (devices/pci.c), the virtio-pci transport in BAR 0
 * (devices/virtio_pci.c) and virtio-blk behind it (devices/virtio_blk.c,
 * real io_uring on a temporary file), with guest RAM in a
 * vmm/base/guestmem map.
 * Input: one flags byte, then operations, each an opcode byte and its
 * little-endian operands (tests/fuzz/fuzz_input.h; past the end all read 0).
 * Checks: no crash or sanitizer report, the device is rebuilt from scratch
 * for every input, and in-flight I/O is always waited for before the
 * memory it targets goes away. */
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
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

#define RAM_SIZE    (256u * 1024)
#define MMIO_BASE   0xc0000000ULL
#define MMIO_END    0xfec00000ULL
#define BAR         0xe0000000ULL
#define SLOT        3
#define DISK_BYTES  (64u * 512)
#define MAX_OPS     512

/* where the seeds put the rings (any address works; these make seeds short) */
#define DESC  0x1000u
#define AVAIL 0x2000u
#define USED  0x3000u

static uint8_t *ram;
static char disk_path[64];
static unsigned irqs, msis, reqs;

static int irq_cb(void *o, unsigned gsi, int level)
{
	irqs++;
	return 0;
}

static int msi_cb(void *o, uint64_t addr, uint32_t data)
{
	msis++;
	return 0;
}

static void req_cb(void *o, enum vm_req r, int status)
{
	reqs++;
}

static struct irq_chip chip = { irq_cb, NULL };
static struct virtio_msi_sink msink = { msi_cb, NULL };
static struct vm_req_sink rsink = { req_cb, NULL };

static void remove_disk(void)
{
	if (disk_path[0])
		unlink(disk_path);
}

static void init_once(void)
{
	static uint8_t pat[DISK_BYTES];
	int fd;

	log_set_level(LOG_ERR);
	ram = aligned_alloc(4096, RAM_SIZE);
	strcpy(disk_path, "/tmp/fuki-fuzzpci-XXXXXX");
	fd = mkstemp(disk_path);
	if (!ram || fd < 0)
		abort();
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i / 512 + 1);
	if (write(fd, pat, sizeof(pat)) != (ssize_t)sizeof(pat))
		abort();
	close(fd);
	atexit(remove_disk);
}

static unsigned pick_len(uint8_t v, bool allow8)
{
	static const unsigned lens[4] = { 1, 2, 4, 8 };

	return allow8 ? lens[v & 3] : lens[v % 3];
}

static void io(struct bus *b, uint64_t addr, unsigned len, uint64_t val, bool wr)
{
	uint8_t buf[8];

	memcpy(buf, &val, sizeof(buf));
	bus_access(b, addr, buf, len, wr);
}

/* Give io_uring a moment and hand back what completed. */
static void settle(struct virtio_blk *blk, int timeout_ms)
{
	struct pollfd p = { virtio_blk_event_fd(blk), POLLIN, 0 };
	uint64_t cnt;

	/* level-triggered: reset the count here (virtio_blk.h) */
	if (virtio_blk_inflight(blk) && poll(&p, 1, timeout_ms) == 1 &&
	    read(p.fd, &cnt, sizeof(cnt)) < 0)
		abort();
	virtio_blk_process(blk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct bus pio, mmio;
	struct guestmem gm;
	struct pci_bus *pb;
	struct virtio_blk *blk;
	char err[256];
	uint8_t flags;

	if (!ram)
		init_once();
	flags = take8(&in);
	memset(ram, 0, RAM_SIZE);
	gm_init(&gm);
	if (gm_add(&gm, 0, RAM_SIZE, ram, GM_RAM, "ram"))
		abort();
	bus_init(&pio);
	bus_init(&mmio);
	pb = pci_create(&chip, &rsink, NULL, MMIO_BASE, MMIO_END);
	if (!pb || pci_attach(pb, &pio, &mmio))
		abort();
	{
		struct virtio_blk_opts o = { .path = disk_path, .readonly = flags & 1,
					     .serial = "fuzz", .access_platform = flags & 2 };

		blk = virtio_blk_create(&o, pb, SLOT, &gm, &msink, err, sizeof(err));
		if (!blk) {
			/* io_uring refused (a sandbox without it): nothing to fuzz */
			fprintf(stderr, "fuzz_pci: virtio_blk_create: %s\n", err);
			abort();
		}
	}
	if (flags & 4) {
		/* what firmware does first: BAR 0 at BAR, memory decode and bus mastering */
		uint32_t v = (uint32_t)BAR;

		pci_config_access(pb, SLOT, 0, PCI_BAR0, (uint8_t *)&v, 4, true);
		v = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		pci_config_access(pb, SLOT, 0, PCI_COMMAND, (uint8_t *)&v, 2, true);
	}

	for (unsigned n = 0; n < MAX_OPS && in.n; n++) {
		uint8_t op = take8(&in);

		switch (op % 12) {
		case 0:   /* config write, mechanism #1 */
		case 1: { /* config read */
			uint32_t sel = 0x80000000u | (uint32_t)(take8(&in) & 0x1f) << 11 |
				       (uint32_t)(take8(&in) & 7) << 8 | (take8(&in) & 0xfc);
			uint8_t l = take8(&in);
			unsigned len = pick_len(l & 3, false);
			unsigned port = 0xcfc + ((l >> 2) & (4 - len));

			io(&pio, 0xcf8, 4, sel, true);
			io(&pio, port, len, take32(&in), op % 12 == 0);
			break;
		}
		case 2:   /* BAR 0 write */
		case 3: { /* BAR 0 read */
			uint64_t off = take_le(&in, 2) % VIRTIO_PCI_BAR_SIZE;
			unsigned len = pick_len(take8(&in), true);

			io(&mmio, BAR + off, len, take64(&in), op % 12 == 2);
			break;
		}
		case 4: { /* anywhere in the MMIO hole */
			uint64_t addr = MMIO_BASE + take32(&in) % (MMIO_END - MMIO_BASE);
			uint8_t l = take8(&in);

			io(&mmio, addr, pick_len(l, true), take64(&in), l & 0x80);
			break;
		}
		case 5:   /* any I/O port write */
		case 6: { /* and read */
			uint16_t port = (uint16_t)take_le(&in, 2);
			unsigned len = pick_len(take8(&in), false);

			io(&pio, port, len, take32(&in), op % 12 == 5);
			break;
		}
		case 7: { /* guest RAM bytes */
			uint32_t off = take32(&in) % RAM_SIZE;
			unsigned len = take8(&in) % 64;

			for (unsigned i = 0; i < len && off + i < RAM_SIZE; i++)
				ram[off + i] = take8(&in);
			break;
		}
		case 8: { /* a descriptor in the seeds' table */
			unsigned i = take8(&in);
			uint64_t addr = take32(&in);
			uint32_t len = (uint32_t)take_le(&in, 2);
			uint16_t fl = take8(&in) & 7, next = take8(&in);
			uint8_t *d = ram + DESC + 16u * i;

			memcpy(d, &addr, 8);
			memcpy(d + 8, &len, 4);
			memcpy(d + 12, &fl, 2);
			memcpy(d + 14, &next, 2);
			break;
		}
		case 9: { /* offer a head on the seeds' avail ring */
			uint16_t idx, head = take8(&in);

			memcpy(&idx, ram + AVAIL + 2, 2);
			memcpy(ram + AVAIL + 4 + 2u * (idx % 256), &head, 2);
			idx++;
			__atomic_store_n((uint16_t *)(ram + AVAIL + 2), idx, __ATOMIC_RELEASE);
			break;
		}
		case 10:  /* the main loop's turn */
			settle(blk, take8(&in) & 1);
			break;
		case 11:  /* system reset */
			virtio_blk_reset(blk);
			pci_reset(pb);
			break;
		}
	}
	/* the VMM's teardown order: the disk (it waits for in-flight I/O)
	 * before the bus and the memory */
	virtio_blk_destroy(blk);
	pci_destroy(pb);
	bus_free(&pio);
	bus_free(&mmio);
	return 0;
}
