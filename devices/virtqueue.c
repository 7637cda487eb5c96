/* devices/virtqueue.c: split virtqueue walk (virtio spec 1.2, 2.7).
 * Owns: bounds on everything a driver controls: chain length (at most the
 * queue size, or VIRTQ_MAX_SEG), one level of indirection, addresses that
 * must lie in guest RAM, readable-before-writable order.  Allocates nothing.
 * Must not interpret request contents. */
#include "devices/virtqueue.h"

#include <errno.h>
#include <string.h>

#include "vmm/base/guestmem.h"
#include "vmm/base/log.h"

void virtq_init(struct virtq *q, const struct guestmem *gm)
{
	memset(q, 0, sizeof(*q));
	q->gm = gm;
}

void virtq_reset(struct virtq *q)
{
	virtq_init(q, q->gm);
}

/* Host view of [gpa, gpa+len) in plain guest RAM: gm_ptr(GM_RAM) never
 * returns ROM (ROM regions do not carry GM_RAM), so rings and writable
 * buffers cannot land in the firmware. */
static void *virtq_ram(const struct guestmem *gm, uint64_t gpa, uint64_t len)
{
	return len ? gm_ptr(gm, gpa, len, GM_RAM) : NULL;
}

int virtq_enable(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	void *d, *a, *u;

	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		log_warn_rl("virtq: bad queue size %u", size);
		return -EINVAL;
	}
	if ((desc & 15) || (avail & 1) || (used & 3)) {
		log_warn_rl("virtq: misaligned rings desc 0x%llx avail 0x%llx used 0x%llx",
			    (unsigned long long)desc, (unsigned long long)avail,
			    (unsigned long long)used);
		return -EINVAL;
	}
	/* 2.7.5-2.7.8: desc 16*size, avail 6+2*size, used 6+8*size */
	d = virtq_ram(q->gm, desc, 16ULL * size);
	a = virtq_ram(q->gm, avail, 6 + 2ULL * size);
	u = virtq_ram(q->gm, used, 6 + 8ULL * size);
	if (!d || !a || !u) {
		log_warn_rl("virtq: rings outside guest RAM (desc 0x%llx avail 0x%llx used 0x%llx size %u)",
			    (unsigned long long)desc, (unsigned long long)avail,
			    (unsigned long long)used, size);
		return -EINVAL;
	}
	q->size = size;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->last_avail = 0;
	q->used_idx = 0;
	q->broken = false;
	q->ready = true;
	return 0;
}

static uint16_t ld16(const volatile void *p)
{
	uint16_t v;

	memcpy(&v, (const void *)p, 2);
	return v;
}

/* Append one segment; false on an illegal one. */
static bool virtq_add_seg(const struct virtq *q, struct virtq_chain *c, uint64_t addr,
			  uint32_t len, bool write)
{
	void *p;

	if (write) {
		c->nin++;
	} else {
		if (c->nin)
			return false;   /* readable after writable (2.7.4.2) */
		c->nout++;
	}
	if (c->nout + c->nin > VIRTQ_MAX_SEG)
		return false;
	if (len == 0) {
		/* keep empty segments as zero-length entries */
		c->iov[c->nout + c->nin - 1] = (struct iovec){ NULL, 0 };
		return true;
	}
	p = virtq_ram(q->gm, addr, len);
	if (!p)
		return false;
	c->iov[c->nout + c->nin - 1] = (struct iovec){ p, len };
	if (write)
		c->in_len += len;
	else
		c->out_len += len;
	return true;
}

/* Walk an indirect table (2.7.5.3): no nesting, length a nonzero multiple of
 * 16 up to VIRTQ_MAX_INDIRECT entries, in-table "next" bounded. */
static bool virtq_walk_indirect(const struct virtq *q, struct virtq_chain *c, uint64_t addr,
				uint32_t len)
{
	const struct virtq_desc *tab;
	unsigned n = len / 16, i = 0, steps = 0;

	if (len == 0 || (len % 16) || n > VIRTQ_MAX_INDIRECT)
		return false;
	tab = virtq_ram(q->gm, addr, len);
	if (!tab)
		return false;
	for (;;) {
		struct virtq_desc d;

		memcpy(&d, &tab[i], sizeof(d));   /* one snapshot per entry */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return false;
		if (!virtq_add_seg(q, c, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		if (d.next >= n || ++steps >= n)
			return false;   /* out of table, or a loop */
		i = d.next;
	}
}

enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	uint16_t avail_idx, head, i;
	unsigned steps = 0;

	if (!q->ready || q->broken)
		return VIRTQ_EMPTY;
	avail_idx = __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail)
		return VIRTQ_EMPTY;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
		log_warn_rl("virtq: avail idx %u jumped past last %u by more than the size %u",
			    avail_idx, q->last_avail, q->size);
		q->broken = true;
		return VIRTQ_BROKEN;
	}
	head = ld16(&q->avail[2 + (q->last_avail & (q->size - 1))]);
	q->last_avail++;
	if (head >= q->size) {
		log_warn_rl("virtq: head %u out of a queue of %u", head, q->size);
		q->broken = true;
		return VIRTQ_BROKEN;
	}
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	i = head;
	for (;;) {
		struct virtq_desc d;

		memcpy(&d, &q->desc[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: INDIRECT and NEXT together are illegal,
			 * and the table must be the only descriptor */
			if ((d.flags & VIRTQ_DESC_F_NEXT) || steps > 0 ||
			    !virtq_walk_indirect(q, c, d.addr, d.len))
				return VIRTQ_BAD_CHAIN;
			return VIRTQ_OK;
		}
		if (!virtq_add_seg(q, c, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE))
			return VIRTQ_BAD_CHAIN;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= q->size || ++steps >= q->size)
			return VIRTQ_BAD_CHAIN;   /* out of range, or a loop */
		i = d.next;
	}
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *e;
	uint32_t id = head;

	if (!q->ready)
		return;
	e = q->used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
	memcpy(e, &id, 4);
	memcpy(e + 4, &written, 4);
	q->used_idx++;
	/* the element is visible before the index (2.7.8) */
	__atomic_store_n((uint16_t *)(void *)(q->used + 2), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_needs_notify(struct virtq *q)
{
	uint16_t flags;

	if (!q->ready)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = ld16(&q->avail[0]);
	return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between @buf and the chain's descriptors [first, first + n), starting
 * @off bytes into them: to the descriptors when @to_chain. */
static size_t virtq_chain_copy(const struct virtq_chain *c, unsigned first, unsigned n,
			       uint64_t off, uint8_t *buf, size_t len, bool to_chain)
{
	size_t done = 0;

	for (unsigned i = first; i < first + n && done < len; i++) {
		size_t l = c->iov[i].iov_len;
		uint8_t *seg = c->iov[i].iov_base;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		if (to_chain)
			memcpy(seg + off, buf + done, l);
		else
			memcpy(buf + done, seg + off, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len)
{
	return virtq_chain_copy(c, 0, c->nout, off, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len)
{
	/* only read from @src: the cast lets one walker serve both ways */
	return virtq_chain_copy(c, c->nout, c->nin, off, (uint8_t *)(uintptr_t)src, len, true);
}
