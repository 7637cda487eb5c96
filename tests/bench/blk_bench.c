/* tests/bench/blk_bench.c: host-side virtio-blk benchmark driver, built by
 * bench_blk.sh against build/libfuki.a.  Plays the guest driver: descriptor
 * chains in a guest-memory buffer, notify writes through the MMIO bus,
 * completions reaped from the device's eventfd, so the path measured is
 * transport -> virtqueue walk -> io_uring -> completion -> used ring.  The
 * eventfd is watched as the VMM's main loop does: epoll, edge-triggered,
 * never read.
 * Usage: blk_bench FILE rand4k|seq128k QD SECONDS [batch|single]
 * batch (the default): every request completed by one wake-up is posted
 * again and the queue notified once; single: a notify after each request,
 * as a driver whose application submits one request at a time.
 * Prints: "iops N mibps N cpu_us_per_req N reqs N". */
#include <errno.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "devices/pci.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "devices/virtqueue.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

#define RAM   (64ULL << 20)
#define QSZ   256
#define DESC  0x1000ULL
#define AVAIL 0x3000ULL
#define USED  0x4000ULL
#define HDRS  0x10000ULL
#define DATA  0x100000ULL
#define BAR   0xe0000000ULL

static uint8_t *ram;
static struct bus pio, mmio;
static uint16_t avail_idx, used_seen;

static void put16(uint64_t a, uint16_t v) { memcpy(ram + a, &v, 2); }
static void put32(uint64_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
static void put64(uint64_t a, uint64_t v) { memcpy(ram + a, &v, 8); }

static void mw(uint64_t off, uint64_t v, unsigned len)
{
	bus_access(&mmio, BAR + off, (uint8_t *)&v, len, true);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void post(unsigned slot, uint64_t sector, uint32_t len)
{
	uint64_t hdr = HDRS + 64ULL * slot;
	unsigned d = 3 * slot;

	put32(hdr, VIRTIO_BLK_T_IN);
	put32(hdr + 4, 0);
	put64(hdr + 8, sector);
	ram[hdr + 32] = 0xff;
	put64(DESC + 16 * d, hdr);
	put32(DESC + 16 * d + 8, 16);
	put16(DESC + 16 * d + 12, VIRTQ_DESC_F_NEXT);
	put16(DESC + 16 * d + 14, d + 1);
	put64(DESC + 16 * (d + 1), DATA + (uint64_t)slot * (128 << 10));
	put32(DESC + 16 * (d + 1) + 8, len);
	put16(DESC + 16 * (d + 1) + 12, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
	put16(DESC + 16 * (d + 1) + 14, d + 2);
	put64(DESC + 16 * (d + 2), hdr + 32);
	put32(DESC + 16 * (d + 2) + 8, 1);
	put16(DESC + 16 * (d + 2) + 12, VIRTQ_DESC_F_WRITE);
	put16(AVAIL + 4 + 2 * (avail_idx % QSZ), d);
	avail_idx++;
	__atomic_store_n((uint16_t *)(ram + AVAIL + 2), avail_idx, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	struct guestmem gm;
	struct pci_bus *pb;
	struct virtio_blk *b;
	char err[256];
	bool seq, single;
	unsigned qd;
	int ep;
	double secs, t0, c0, t1, c1;
	uint64_t cap, nsect, next_seq = 0, done = 0, errors = 0;
	uint32_t len;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s FILE rand4k|seq128k QD SECONDS [batch|single]\n",
			argv[0]);
		return 2;
	}
	single = argc == 6 && !strcmp(argv[5], "single");
	log_set_level(LOG_WARN);
	seq = !strcmp(argv[2], "seq128k");
	len = seq ? 128 << 10 : 4096;
	qd = (unsigned)atoi(argv[3]);
	secs = atof(argv[4]);
	if (qd == 0 || qd > 64)
		return 2;
	ram = aligned_alloc(4096, RAM);
	if (!ram)
		return 1;
	memset(ram, 0, RAM);
	gm_init(&gm);
	gm_add(&gm, 0, RAM, ram, GM_RAM, "ram");
	bus_init(&pio);
	bus_init(&mmio);
	pb = pci_create(NULL, NULL, NULL, 0xc0000000ULL, 0xfec00000ULL);
	if (!pb || pci_attach(pb, &pio, &mmio))
		return 1;
	b = virtio_blk_create(&(struct virtio_blk_opts){ .path = argv[1], .readonly = true,
							 .direct = true },
			      pb, 3, &gm, NULL, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	cap = virtio_blk_capacity(b);
	nsect = len / 512;
	{
		uint32_t v = (uint32_t)BAR;
		uint16_t cmd = PCI_COMMAND_MEMORY;

		pci_config_access(pb, 3, 0, PCI_BAR0, (uint8_t *)&v, 4, true);
		pci_config_access(pb, 3, 0, PCI_COMMAND, (uint8_t *)&cmd, 2, true);
	}
	mw(0x14, 3, 1);
	mw(0x08, 1, 4);
	mw(0x0c, 1, 4);    /* VERSION_1 */
	mw(0x14, 3 | VIRTIO_STATUS_FEATURES_OK, 1);
	mw(0x16, 0, 2);
	mw(0x18, QSZ, 2);
	mw(0x20, DESC, 8);
	mw(0x28, AVAIL, 8);
	mw(0x30, USED, 8);
	mw(0x1c, 1, 2);
	mw(0x14, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, virtio_blk_event_fd(b),
				&(struct epoll_event){ .events = EPOLLIN | EPOLLET }) < 0) {
		perror("epoll");
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	for (unsigned s = 0; s < qd; s++) {
		uint64_t sec = seq ? next_seq : (xorshift() % (cap / 8)) * 8;

		if (seq)
			next_seq = (next_seq + nsect + nsect > cap) ? 0 : next_seq + nsect;
		post(s, sec, len);
	}
	mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	for (;;) {
		struct epoll_event ev;
		uint16_t used;
		bool any = false;

		epoll_wait(ep, &ev, 1, 1000);
		virtio_blk_process(b);
		used = __atomic_load_n((uint16_t *)(ram + USED + 2), __ATOMIC_ACQUIRE);
		while (used_seen != used) {
			uint32_t id;
			unsigned slot;
			uint64_t sec;

			memcpy(&id, ram + USED + 4 + 8 * (used_seen % QSZ), 4);
			used_seen++;
			slot = id / 3;
			if (ram[HDRS + 64ULL * slot + 32] != VIRTIO_BLK_S_OK)
				errors++;
			done++;
			if (now_s() - t0 >= secs)
				continue;
			sec = seq ? next_seq : (xorshift() % (cap / 8)) * 8;
			if (seq)
				next_seq = (next_seq + nsect + nsect > cap) ? 0 : next_seq + nsect;
			post(slot, sec, len);
			if (single)
				mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
			else
				any = true;
		}
		if (any)
			mw(VIRTIO_PCI_NOTIFY_OFF, 0, 2);
		if ((uint16_t)(avail_idx - used_seen) == 0 && now_s() - t0 >= secs)
			break;
	}
	t1 = now_s();
	c1 = cpu_s();
	printf("iops %.0f mibps %.1f cpu_us_per_req %.2f reqs %llu errors %llu\n",
	       done / (t1 - t0), done * (double)len / (1 << 20) / (t1 - t0),
	       (c1 - c0) * 1e6 / (done ? done : 1), (unsigned long long)done,
	       (unsigned long long)errors);
	virtio_blk_destroy(b);
	pci_destroy(pb);
	free(ram);
	return errors ? 1 : 0;
}
