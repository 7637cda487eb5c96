/* devices/virtio_blk.c: virtio-blk requests (virtio spec 1.2, 5.2.6) on
 * io_uring (liburing): reads/writes as readv/writev, FLUSH as fdatasync,
 * DISCARD as fallocate(PUNCH_HOLE), WRITE_ZEROES as fallocate(ZERO_RANGE).
 * Owns: the disk fd, the ring, the eventfd and a fixed request pool (no
 * allocation after start-up).  Must not touch transport registers. */
#include "devices/virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio_pci.h"
#include "devices/virtqueue.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define BLK_HDR_LEN   16     /* struct virtio_blk_req header: type, reserved, sector */
#define BLK_DWZ_LEN   16     /* struct virtio_blk_discard_write_zeroes */
#define BLK_DWZ_UNMAP 1
#define BLK_MAX_DWZ_SECTORS (1u << 22)   /* 2 GiB per discard/write-zeroes */

struct blk_req {
	struct blk_req *next_free;
	uint16_t head;
	uint8_t *status;           /* host view of the guest's status byte */
	uint32_t written;          /* used.len on success */
	uint64_t expect;           /* result that means success */
	unsigned niov;
	struct iovec iov[VIRTQ_MAX_SEG];
};

struct virtio_blk {
	struct virtio_pci *vp;
	int fd;
	int efd;
	struct io_uring ring;
	bool ring_ok;
	bool readonly;
	uint64_t size;             /* bytes */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_dev_ops ops;
	uint8_t cfg[VIRTIO_BLK_CFG_LEN];
	struct blk_req *pool;
	struct blk_req *free;
	unsigned inflight;
	unsigned unsubmitted;
	bool starved;              /* queue stopped for lack of free requests */
	struct virtq_chain chain;  /* scratch for virtq_pop */
};


/* Slice [off, off+len) of one direction of @c into @out; returns count or
 * -1 if it does not fit. */
static int blk_slice(const struct virtq_chain *c, bool in, uint64_t off, uint64_t len,
		     struct iovec *out, unsigned max)
{
	unsigned first = in ? c->nout : 0, last = in ? c->nout + c->nin : c->nout, n = 0;

	for (unsigned i = first; i < last && len; i++) {
		uint64_t l = c->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		if (n == max)
			return -1;
		out[n++] = (struct iovec){ (uint8_t *)c->iov[i].iov_base + off, l };
		len -= l;
		off = 0;
	}
	return len ? -1 : (int)n;
}

/* Last writable byte of the chain: the status. */
static uint8_t *blk_status_ptr(const struct virtq_chain *c)
{
	for (unsigned i = c->nout + c->nin; i > c->nout; i--)
		if (c->iov[i - 1].iov_len)
			return (uint8_t *)c->iov[i - 1].iov_base + c->iov[i - 1].iov_len - 1;
	return NULL;
}

static struct blk_req *blk_req_get(struct virtio_blk *b)
{
	struct blk_req *r = b->free;

	if (r)
		b->free = r->next_free;
	return r;
}

static void blk_req_put(struct virtio_blk *b, struct blk_req *r)
{
	r->next_free = b->free;
	b->free = r;
}

static struct io_uring_sqe *blk_sqe(struct virtio_blk *b)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&b->ring);

	if (!s && b->unsubmitted) {
		io_uring_submit(&b->ring);
		b->unsubmitted = 0;
		s = io_uring_get_sqe(&b->ring);
	}
	return s;
}

/* Complete at once, without I/O. */
static void blk_done_now(struct virtio_blk *b, struct virtq *q, uint16_t head, uint8_t *status,
			 uint8_t st, uint32_t written, bool *pushed)
{
	*status = st;
	virtq_push(q, head, written);
	*pushed = true;
}

static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = b->size / VIRTIO_BLK_SECTOR;

	return sector <= cap && bytes / VIRTIO_BLK_SECTOR <= cap - sector &&
	       bytes % VIRTIO_BLK_SECTOR == 0;
}

/* Turn one chain into an SQE, or complete it now.  Returns false when the
 * device must stop (needs reset). */
static bool blk_handle(struct virtio_blk *b, struct virtq *q, const struct virtq_chain *c,
		       bool *pushed)
{
	uint8_t hdr[BLK_HDR_LEN], *status = blk_status_ptr(c);
	uint64_t data_in = c->in_len ? c->in_len - 1 : 0;
	uint64_t data_out = c->out_len > BLK_HDR_LEN ? c->out_len - BLK_HDR_LEN : 0;
	uint32_t type;
	uint64_t sector;
	struct blk_req *r;
	struct io_uring_sqe *sqe;
	int n;

	if (!status) {
		virtq_push(q, c->head, 0);
		*pushed = true;
		virtio_pci_set_needs_reset(b->vp, "virtio-blk request without a status byte");
		return false;
	}
	if (virtq_chain_read(c, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_IOERR, 1, pushed);
		return true;
	}
	type = le_rd32(hdr);
	sector = le_rd64(hdr + 8);
	switch (type) {
	case VIRTIO_BLK_T_GET_ID: {
		size_t l = data_in < VIRTIO_BLK_ID_BYTES ? data_in : VIRTIO_BLK_ID_BYTES;

		virtq_chain_write(c, 0, b->id, l);
		blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_OK, (uint32_t)l + 1, pushed);
		return true;
	}
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		break;
	default:
		blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_UNSUPP, 1, pushed);
		return true;
	}
	if (type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
	    type == VIRTIO_BLK_T_WRITE_ZEROES) {
		if (b->readonly) {   /* writes, discard and write-zeroes alike */
			blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_IOERR, 1, pushed);
			return true;
		}
	}
	r = blk_req_get(b);
	if (!r) {
		/* cannot happen with distinct heads; a driver re-posting heads
		 * in flight gets an error rather than unbounded queuing */
		blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_IOERR, 1, pushed);
		return true;
	}
	r->head = c->head;
	r->status = status;
	r->written = 1;
	r->expect = 0;
	r->niov = 0;
	sqe = blk_sqe(b);
	if (!sqe)
		goto ioerr;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (!blk_range_ok(b, sector, data_in) || data_in == 0 ||
		    (n = blk_slice(c, true, 0, data_in, r->iov, VIRTQ_MAX_SEG)) < 0)
			goto ioerr_sqe;
		r->niov = (unsigned)n;
		r->expect = data_in;
		r->written = (uint32_t)data_in + 1;
		io_uring_prep_readv(sqe, b->fd, r->iov, r->niov, sector * VIRTIO_BLK_SECTOR);
		break;
	case VIRTIO_BLK_T_OUT:
		if (!blk_range_ok(b, sector, data_out) || data_out == 0 ||
		    (n = blk_slice(c, false, BLK_HDR_LEN, data_out, r->iov, VIRTQ_MAX_SEG)) < 0)
			goto ioerr_sqe;
		r->niov = (unsigned)n;
		r->expect = data_out;
		io_uring_prep_writev(sqe, b->fd, r->iov, r->niov, sector * VIRTIO_BLK_SECTOR);
		break;
	case VIRTIO_BLK_T_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	default: {   /* DISCARD, WRITE_ZEROES: exactly one segment (max_*_seg = 1) */
		uint8_t seg[BLK_DWZ_LEN];
		uint64_t s;
		uint32_t num, flags;
		int mode;

		if (data_out != BLK_DWZ_LEN ||
		    virtq_chain_read(c, BLK_HDR_LEN, seg, sizeof(seg)) != sizeof(seg))
			goto ioerr_sqe;
		s = le_rd64(seg);
		num = le_rd32(seg + 8);
		flags = le_rd32(seg + 12);
		if (num == 0 || num > BLK_MAX_DWZ_SECTORS ||
		    !blk_range_ok(b, s, (uint64_t)num * VIRTIO_BLK_SECTOR))
			goto ioerr_sqe;
		if ((flags & ~BLK_DWZ_UNMAP) ||
		    (type == VIRTIO_BLK_T_DISCARD && (flags & BLK_DWZ_UNMAP))) {
			/* 5.2.6.2: reserved flags, or unmap on discard */
			io_uring_prep_nop(sqe);
			r->expect = (uint64_t)-1;    /* forces UNSUPP below */
			io_uring_sqe_set_data(sqe, r);
			b->unsubmitted++;
			b->inflight++;
			return true;
		}
		if (type == VIRTIO_BLK_T_DISCARD || (flags & BLK_DWZ_UNMAP))
			mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		else
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(sqe, b->fd, mode, s * VIRTIO_BLK_SECTOR,
					(uint64_t)num * VIRTIO_BLK_SECTOR);
		break;
	}
	}
	io_uring_sqe_set_data(sqe, r);
	b->unsubmitted++;
	b->inflight++;
	return true;
ioerr_sqe:
	/* the SQE is already taken from the ring: make it a no-op that
	 * completes with IOERR */
	io_uring_prep_nop(sqe);
	r->expect = (uint64_t)-2;
	io_uring_sqe_set_data(sqe, r);
	b->unsubmitted++;
	b->inflight++;
	return true;
ioerr:
	blk_req_put(b, r);
	blk_done_now(b, q, c->head, status, VIRTIO_BLK_S_IOERR, 1, pushed);
	return true;
}

/* Pop and submit everything available (lock held). */
static void blk_kick(struct virtio_blk *b)
{
	struct virtq *q = virtio_pci_queue(b->vp, 0);
	bool pushed = false;

	b->starved = false;
	while (q->ready && !(virtio_pci_status(b->vp) & VIRTIO_STATUS_NEEDS_RESET)) {
		enum virtq_pop_result pr;

		if (!b->free) {
			b->starved = true;
			break;
		}
		pr = virtq_pop(q, &b->chain);
		if (pr == VIRTQ_EMPTY)
			break;
		if (pr == VIRTQ_BROKEN) {
			virtio_pci_set_needs_reset(b->vp, "virtqueue avail ring corrupt");
			break;
		}
		if (pr == VIRTQ_BAD_CHAIN) {
			virtio_pci_set_needs_reset(b->vp, "malformed descriptor chain");
			break;
		}
		if (!blk_handle(b, q, &b->chain, &pushed))
			break;
	}
	if (b->unsubmitted) {
		int r = io_uring_submit(&b->ring);

		if (r < 0)
			log_warn_rl("virtio-blk: io_uring_submit: %s", strerror(-r));
		b->unsubmitted = 0;
	}
	if (pushed && virtq_needs_notify(q))
		virtio_pci_interrupt_queue(b->vp, 0);
}

static void blk_notify(void *opaque, unsigned queue)
{
	blk_kick(opaque);
}

static uint8_t blk_result(const struct blk_req *r, int res)
{
	if (r->expect == (uint64_t)-1)
		return VIRTIO_BLK_S_UNSUPP;
	if (r->expect == (uint64_t)-2)
		return VIRTIO_BLK_S_IOERR;
	if (res < 0) {
		log_debug_rl("virtio-blk: request %u failed: %s", r->head, strerror(-res));
		return VIRTIO_BLK_S_IOERR;
	}
	return (uint64_t)res == r->expect ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* Reap ready CQEs; @deliver false drops them (reset).  Lock held. */
static unsigned blk_reap(struct virtio_blk *b, bool deliver)
{
	struct virtq *q = virtio_pci_queue(b->vp, 0);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&b->ring, head, cqe) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);

		n++;
		if (!r)
			continue;
		if (deliver) {
			uint8_t st = blk_result(r, cqe->res);

			*r->status = st;
			virtq_push(q, r->head, st == VIRTIO_BLK_S_OK ? r->written : 1);
		}
		b->inflight--;
		blk_req_put(b, r);
	}
	io_uring_cq_advance(&b->ring, n);
	return n;
}

void virtio_blk_process(struct virtio_blk *b)
{
	struct virtq *q;

	virtio_pci_lock(b->vp);
	q = virtio_pci_queue(b->vp, 0);
	if (blk_reap(b, true) && virtq_needs_notify(q))
		virtio_pci_interrupt_queue(b->vp, 0);
	if (b->starved)
		blk_kick(b);
	virtio_pci_unlock(b->vp);
}

/* Wait for every in-flight request and drop its completion (lock held).
 * On a driver reset this runs on a vCPU thread under the MMIO bus lock.
 * It is bounded by the host's storage, not by the guest: at most a
 * queue's worth of requests the guest submitted before, on the disk file
 * the host configured; and it must wait, since a completion after the
 * reset would write into memory the driver has reused.  A backing store
 * that never answers leaves the thread in the kernel: the stop deadline
 * (vmm/vm/vcpu.h) then ends the VMM.  docs/devices.md, "Blocking calls
 * under the bus locks". */
static void blk_drain(struct virtio_blk *b)
{
	unsigned tries = 0;

	if (b->unsubmitted) {
		io_uring_submit(&b->ring);
		b->unsubmitted = 0;
	}
	while (b->inflight && tries < 1000000) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&b->ring, &cqe);

		if (r < 0 && r != -EINTR && r != -EAGAIN) {
			log_err("virtio-blk: waiting for in-flight I/O: %s", strerror(-r));
			break;
		}
		blk_reap(b, false);
		tries++;
	}
	b->starved = false;
}

static void blk_dev_reset(void *opaque)
{
	blk_drain(opaque);
}

static void blk_cfg_access(void *opaque, unsigned off, uint8_t *data, unsigned len,
			   bool is_write)
{
	struct virtio_blk *b = opaque;

	if (is_write) {
		/* only "writeback" is writable, and only with CONFIG_WCE: not offered */
		return;
	}
	memcpy(data, &b->cfg[off], len);
}

static int blk_open(struct virtio_blk *b, const struct virtio_blk_opts *o, char *err,
		    size_t errlen)
{
	struct stat st;
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);

	b->fd = open(o->path, flags);
	if (b->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "disk %s: %s", o->path, strerror(e));
		return -e;
	}
	if (fstat(b->fd, &st) < 0) {
		snprintf(err, errlen, "disk %s: fstat: %s", o->path, strerror(errno));
		return -EIO;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &b->size) < 0) {
			snprintf(err, errlen, "disk %s: BLKGETSIZE64: %s", o->path, strerror(errno));
			return -EIO;
		}
	} else if (S_ISREG(st.st_mode)) {
		b->size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "disk %s: not a regular file or block device", o->path);
		return -EINVAL;
	}
	if (b->size == 0 || b->size % VIRTIO_BLK_SECTOR) {
		snprintf(err, errlen, "disk %s: size %llu is not a nonzero multiple of 512 bytes",
			 o->path, (unsigned long long)b->size);
		return -EINVAL;
	}
	return 0;
}

static void blk_build_cfg(struct virtio_blk *b)
{
	uint8_t *c = b->cfg;

	memset(c, 0, sizeof(b->cfg));
	le_wr64(c + 0, b->size / VIRTIO_BLK_SECTOR);      /* capacity */
	le_wr32(c + 12, VIRTQ_MAX_SEG - 2);                /* seg_max: header and status */
	le_wr32(c + 20, VIRTIO_BLK_SECTOR);                /* blk_size */
	le_wr16(c + 34, 1);                                /* num_queues */
	le_wr32(c + 36, BLK_MAX_DWZ_SECTORS);              /* max_discard_sectors */
	le_wr32(c + 40, 1);                                /* max_discard_seg */
	le_wr32(c + 44, 8);                                /* discard_sector_alignment */
	le_wr32(c + 48, BLK_MAX_DWZ_SECTORS);              /* max_write_zeroes_sectors */
	le_wr32(c + 52, 1);                                /* max_write_zeroes_seg */
	c[56] = 1;                                         /* write_zeroes_may_unmap */
}

struct virtio_blk *virtio_blk_create(const struct virtio_blk_opts *o, struct pci_bus *pb,
				     unsigned slot, const struct guestmem *gm,
				     struct virtio_msi_sink *msi, char *err, size_t errlen)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	const char *base, *serial;
	int r;

	if (!b) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		return NULL;
	}
	b->fd = b->efd = -1;
	b->readonly = o->readonly;
	if (blk_open(b, o, err, errlen) < 0)
		goto fail;
	b->pool = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->pool));
	if (!b->pool) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		blk_req_put(b, &b->pool[i]);
	r = io_uring_queue_init(2 * VIRTIO_BLK_QUEUE_SIZE, &b->ring, 0);
	if (r < 0) {
		snprintf(err, errlen, "disk %s: io_uring_queue_init: %s", o->path, strerror(-r));
		goto fail;
	}
	b->ring_ok = true;
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->efd < 0 || (r = io_uring_register_eventfd(&b->ring, b->efd)) < 0) {
		snprintf(err, errlen, "disk %s: io_uring eventfd: %s", o->path,
			 strerror(b->efd < 0 ? errno : -r));
		goto fail;
	}
	base = strrchr(o->path, '/');
	serial = o->serial ? o->serial : (base ? base + 1 : o->path);
	/* 5.2.6: 20 bytes, NUL-padded, not terminated when 20 long */
	memcpy(b->id, serial, strlen(serial) < sizeof(b->id) ? strlen(serial) : sizeof(b->id));
	blk_build_cfg(b);
	b->ops = (struct virtio_dev_ops){
		.device_id = 2,
		.pci_class = 0x010000,      /* mass storage, SCSI (as QEMU's virtio-blk) */
		.nqueues = 1,
		.max_queue_size = VIRTIO_BLK_QUEUE_SIZE,
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
			    (o->readonly ? 1ULL << VIRTIO_BLK_F_RO : 0) |
			    (o->access_platform ? 1ULL << VIRTIO_F_ACCESS_PLATFORM : 0) |
			    (!b->readonly ? (1ULL << VIRTIO_BLK_F_DISCARD) |
				      (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) : 0),
		.cfg_len = VIRTIO_BLK_CFG_LEN,
		.cfg_access = blk_cfg_access,
		.notify = blk_notify,
		.reset = blk_dev_reset,
	};
	b->vp = virtio_pci_create(pb, slot, gm, msi, &b->ops, b);
	if (!b->vp) {
		snprintf(err, errlen, "disk %s: cannot create the PCI function at slot %u", o->path,
			 slot);
		goto fail;
	}
	if (o->ioevent && (r = virtio_pci_set_ioevent_sink(b->vp, o->ioevent)) < 0) {
		snprintf(err, errlen, "disk %s: notify eventfd: %s", o->path, strerror(-r));
		goto fail;
	}
	log_info("virtio-blk: %s at 00:%02x.0, %llu sectors%s", o->path, slot,
		 (unsigned long long)(b->size / VIRTIO_BLK_SECTOR), o->readonly ? ", read-only" : "");
	return b;
fail:
	virtio_blk_destroy(b);
	return NULL;
}

int virtio_blk_event_fd(const struct virtio_blk *b)
{
	return b->efd;
}

int virtio_blk_notify_fd(const struct virtio_blk *b)
{
	return virtio_pci_notify_fd(b->vp, 0);
}

void virtio_blk_notify_event(struct virtio_blk *b)
{
	virtio_pci_notify_event(b->vp, 0);
}

void virtio_blk_reset(struct virtio_blk *b)
{
	virtio_pci_reset(b->vp);
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	return b->size / VIRTIO_BLK_SECTOR;
}

unsigned virtio_blk_inflight(struct virtio_blk *b)
{
	unsigned n;

	virtio_pci_lock(b->vp);
	n = b->inflight;
	virtio_pci_unlock(b->vp);
	return n;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->vp) {
		virtio_pci_lock(b->vp);
		blk_drain(b);
		virtio_pci_unlock(b->vp);
		virtio_pci_destroy(b->vp);
	}
	if (b->ring_ok)
		io_uring_queue_exit(&b->ring);
	if (b->efd >= 0)
		close(b->efd);
	if (b->fd >= 0)
		close(b->fd);
	free(b->pool);
	free(b);
}
