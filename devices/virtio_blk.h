/* devices/virtio_blk.h: virtio-blk (virtio spec 1.2, 5.2) on a file or
 * block device, served through io_uring.
 * Owns: the disk fd, its io_uring and eventfd, the request pool.  Must not
 * touch the transport (devices/virtio_pci.c) or the event loop: the VMM's
 * loop watches virtio_blk_event_fd() and calls virtio_blk_process(). */
#ifndef FUKI_VIRTIO_BLK_H
#define FUKI_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guestmem;
struct pci_bus;
struct virtio_msi_sink;
struct virtio_pci;

/* 5.2.6 request types and status */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2
/* 5.2.3 feature bits */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_ID_BYTES       20
#define VIRTIO_BLK_SECTOR         512
#define VIRTIO_BLK_CFG_LEN        60
#define VIRTIO_BLK_QUEUE_SIZE     256

struct virtio_blk_opts {
	const char *path;
	bool readonly;
	bool direct;          /* O_DIRECT (guest buffers must then be aligned) */
	const char *serial;   /* GET_ID string (<= 20 bytes used); NULL: file name */
	bool access_platform; /* offer VIRTIO_F_ACCESS_PLATFORM (confidential guests) */
	/* where the queue's notify register can be watched by the hypervisor
	 * (KVM_IOEVENTFD); NULL: notifications are MMIO exits only */
	const struct virtio_ioevent_sink *ioevent;
};

struct virtio_blk;

/* Open the disk and create the PCI function at 00:@slot.0.  NULL with a
 * line in @err (size not a multiple of 512, cannot open, io_uring setup). */
struct virtio_blk *virtio_blk_create(const struct virtio_blk_opts *o, struct pci_bus *pb,
				     unsigned slot, const struct guestmem *gm,
				     struct virtio_msi_sink *msi, char *err, size_t errlen);
/* An eventfd io_uring writes when completions arrive; stays the same fd
 * for the device's lifetime, across VM rebuilds.  Watch it edge-triggered
 * (EPOLLET): virtio_blk_process() does not read it (a read(2) less per
 * batch of completions), so it stays readable; a level-triggered watcher
 * must read it itself. */
int virtio_blk_event_fd(const struct virtio_blk *b);
/* With an ioevent sink: written when the guest notified the queue through
 * the eventfd (-1 without a sink), watched edge-triggered as the one above
 * (virtio_pci_notify_fd); then call virtio_blk_notify_event(). */
int virtio_blk_notify_fd(const struct virtio_blk *b);
void virtio_blk_notify_event(struct virtio_blk *b);
/* Reap completions, return them to the guest, interrupt, and take more
 * requests if the queue had to wait for free slots.  Thread-safe. */
void virtio_blk_process(struct virtio_blk *b);
/* System reset: waits for in-flight I/O, then resets the transport. */
void virtio_blk_reset(struct virtio_blk *b);
void virtio_blk_destroy(struct virtio_blk *b);

uint64_t virtio_blk_capacity(const struct virtio_blk *b);   /* Requests submitted and not yet reaped (tests, benchmark). */
unsigned virtio_blk_inflight(struct virtio_blk *b);

#endif
