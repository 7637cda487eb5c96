/* devices/virtqueue.h: the virtio 1.x split virtqueue (virtio spec 1.2,
 * 2.7), device side.
 * Owns: ring addresses, the device's avail/used indices and the walk of
 * descriptor chains, every one of which is treated as hostile.  Must not
 * know what a request means: devices interpret the iovecs it returns. */
#ifndef FUKI_VIRTQUEUE_H
#define FUKI_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guestmem;

/* virtio 1.2, 2.7.5 */
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
/* 2.7.6 / 2.7.8 */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define VIRTQ_MAX_SIZE   1024    /* largest queue we accept (power of two) */
#define VIRTQ_MAX_SEG    256     /* segments of one chain, indirect included */
#define VIRTQ_MAX_INDIRECT 256   /* entries of one indirect table */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct virtq {
	const struct guestmem *gm;
	uint16_t size;
	bool ready;
	bool broken;                 /* ring state inconsistent: device needs reset */
	struct virtq_desc *desc;     /* host views, valid while ready */
	uint16_t *avail;             /* flags, idx, ring[size] */
	uint8_t *used;               /* flags, idx, {id, len}[size] */
	uint16_t last_avail;
	uint16_t used_idx;
};

/* One request: readable segments first (nout), then writable (nin). */
struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SEG];
};

enum virtq_pop_result {
	VIRTQ_EMPTY = 0,     /* nothing available */
	VIRTQ_OK = 1,        /* chain filled */
	VIRTQ_BAD_CHAIN = -1,/* malformed chain, head known: complete it with len 0 */
	VIRTQ_BROKEN = -2,   /* ring itself is corrupt: device must enter NEEDS_RESET */
};

void virtq_init(struct virtq *q, const struct guestmem *gm);
/* Validate and enable: size a power of two <= VIRTQ_MAX_SIZE, alignment
 * (2.7: desc 16, avail 2, used 4) and every ring byte in guest RAM.
 * -EINVAL with a log line otherwise. */
int virtq_enable(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used);
void virtq_reset(struct virtq *q);
/* Take the next available chain. */
enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Return a chain to the driver with @written bytes written. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
/* After pushes: does the driver want an interrupt? */
bool virtq_needs_notify(struct virtq *q);
/* Copy from/to a chain's readable/writable segments starting at byte
 * @off of that direction; returns bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len);

#endif
