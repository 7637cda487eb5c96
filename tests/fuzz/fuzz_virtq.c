/* tests/fuzz/fuzz_virtq.c: libFuzzer target for devices/virtqueue.c.
 * Input: queue size, ring addresses and the whole guest memory (RAM plus a
 * ROM page).  Pops every chain the ring offers, copies through it and
 * pushes it back.  Checks: no crash, every segment lies inside guest RAM
 * (writable ones never in ROM), readable before writable, segment and
 * length bounds hold, and the walk ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtqueue.h"
#include "vmm/base/guestmem.h"

#define RAM_SIZE 0x10000ULL
#define ROM_GPA  0x20000ULL
#define ROM_SIZE 0x1000ULL

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static uint8_t rom[ROM_SIZE] __attribute__((aligned(4096)));

static bool in_buf(const void *p, size_t len, const uint8_t *buf, size_t size)
{
	const uint8_t *b = p;

	return b >= buf && len <= size && (size_t)(b - buf) <= size - len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guestmem gm;
	struct virtq q;
	static struct virtq_chain c;
	uint16_t qsz;
	uint64_t desc, avail, used;
	uint8_t scratch[64];

	if (size < 8)
		return 0;
	qsz = (uint16_t)(1u << (data[0] % 11));       /* 1 .. 1024 */
	/* ring addresses: 16-bit offsets scaled into RAM, sometimes outside */
	desc = ((uint64_t)data[1] << 8 | data[2]) * (data[7] & 0x80 ? 16 : 1);
	avail = (uint64_t)data[3] << 8 | data[4];
	used = ((uint64_t)data[5] << 8 | data[6]) * (data[7] & 0x40 ? 4 : 1);
	data += 8;
	size -= 8;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);
	memset(rom, 0x5a, sizeof(rom));
	gm_init(&gm);
	if (gm_add(&gm, 0, RAM_SIZE, ram, GM_RAM, "ram") || gm_add(&gm, ROM_GPA, ROM_SIZE, rom, GM_ROM, "rom"))
		abort();
	virtq_init(&q, &gm);
	if (virtq_enable(&q, qsz, desc, avail, used) < 0)
		return 0;
	for (unsigned rounds = 0; rounds < 2 * VIRTQ_MAX_SIZE + 2; rounds++) {
		enum virtq_pop_result r = virtq_pop(&q, &c);
		uint64_t out = 0, in = 0;

		if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
			break;
		if (r == VIRTQ_BAD_CHAIN) {
			virtq_push(&q, c.head, 0);
			continue;
		}
		if (c.nout + c.nin > VIRTQ_MAX_SEG || c.head >= qsz)
			abort();
		for (unsigned i = 0; i < c.nout + c.nin; i++) {
			const struct iovec *v = &c.iov[i];

			if (v->iov_len == 0)
				continue;
			if (i < c.nout) {
				out += v->iov_len;
				if (!in_buf(v->iov_base, v->iov_len, ram, RAM_SIZE))
					abort();   /* ROM is not GM_RAM: not DMA-able either way */
			} else {
				in += v->iov_len;
				if (!in_buf(v->iov_base, v->iov_len, ram, RAM_SIZE))
					abort();
			}
		}
		if (out != c.out_len || in != c.in_len)
			abort();
		virtq_chain_read(&c, c.out_len / 2, scratch, sizeof(scratch));
		memset(scratch, 0xcc, sizeof(scratch));
		virtq_chain_write(&c, c.in_len / 3, scratch, sizeof(scratch));
		virtq_push(&q, c.head, (uint32_t)in);
		virtq_needs_notify(&q);
	}
	for (unsigned i = 0; i < ROM_SIZE; i++)
		if (rom[i] != 0x5a)
			abort();
	return 0;
}
