/* devices/virtio_pci.h: the virtio 1.x PCI transport ("modern" only,
 * virtio spec 1.2, 4.1).
 * Owns: the common/notify/ISR/device-config capabilities in BAR 0, feature
 * negotiation, queue registers, MSI-X table and PBA, INTx via the ISR, and
 * the device reset.  Must not know what a device does with its queues: it
 * calls struct virtio_dev_ops. */
#ifndef FUKI_VIRTIO_PCI_H
#define FUKI_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct guestmem;
struct pci_bus;
struct pci_dev;
struct virtq;

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040   /* 4.1.2.1: 0x1040 + device ID */

/* 2.1 device status */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

/* 6: reserved feature bits */
#define VIRTIO_F_INDIRECT_DESC     28
#define VIRTIO_F_VERSION_1         32
#define VIRTIO_F_ACCESS_PLATFORM   33   /* virtio 1.2, 6: DMA through the platform
                                           (a confidential guest's bounce buffers) */

#define VIRTIO_MSI_NO_VECTOR       0xffff

/* BAR 0 layout (our choice; the capabilities describe it) */
#define VIRTIO_PCI_BAR_SIZE        0x4000
#define VIRTIO_PCI_COMMON_OFF      0x0000
#define VIRTIO_PCI_COMMON_LEN      0x38
#define VIRTIO_PCI_ISR_OFF         0x0800
#define VIRTIO_PCI_DEVCFG_OFF      0x1000
#define VIRTIO_PCI_NOTIFY_OFF      0x1800
#define VIRTIO_PCI_NOTIFY_MULT     4
#define VIRTIO_PCI_MSIX_TABLE_OFF  0x2000
#define VIRTIO_PCI_MSIX_PBA_OFF    0x3000

#define VIRTIO_PCI_MAX_QUEUES      16

/* Deliver one MSI (address/data as the guest programmed them). */
struct virtio_msi_sink {
	int (*signal)(void *opaque, uint64_t addr, uint32_t data);
	void *opaque;
};

struct virtio_dev_ops {
	uint16_t device_id;          /* virtio device ID (5: 2 = block) */
	uint32_t pci_class;          /* class<<16 | subclass<<8 | prog-if */
	unsigned nqueues;            /* <= VIRTIO_PCI_MAX_QUEUES */
	uint16_t max_queue_size;     /* power of two */
	uint64_t features;           /* offered; VERSION_1 is added */
	unsigned cfg_len;            /* device-specific config length (<= 0x800) */
	/* All callbacks run with the transport lock held. */
	void (*cfg_access)(void *opaque, unsigned off, uint8_t *data, unsigned len,
			   bool is_write);
	void (*notify)(void *opaque, unsigned queue);
	/* Driver reset or system reset: stop using the queues; in-flight
	 * requests must be finished or cancelled before it returns. */
	void (*reset)(void *opaque);
};

/* Where a queue's notify register may be watched inside the hypervisor
 * (KVM_IOEVENTFD), so that a guest's notification does not exit to the
 * VMM: @on asks for 2-byte writes at @gpa to signal eventfd @fd, !@on
 * withdraws that.  Called with the PCI config lock and the transport lock
 * held, whenever BAR 0 starts or stops decoding or moves, and at reset. */
struct virtio_ioevent_sink {
	void (*set)(void *opaque, int fd, uint64_t gpa, unsigned len, bool on);
	void *opaque;
};

struct virtio_pci;

/* Create the function at 00:@slot.0.  @msi may be NULL (INTx only). */
struct virtio_pci *virtio_pci_create(struct pci_bus *pb, unsigned slot, const struct guestmem *gm,
				     struct virtio_msi_sink *msi, const struct virtio_dev_ops *ops,
				     void *opaque);
void virtio_pci_destroy(struct virtio_pci *vp);
/* System reset (VM rebuild): as if the driver wrote status 0. */
void virtio_pci_reset(struct virtio_pci *vp);
/* Give every queue an eventfd and report its notify address to @sink
 * (copied) from now on.  0 or -errno (eventfd). */
int virtio_pci_set_ioevent_sink(struct virtio_pci *vp, const struct virtio_ioevent_sink *sink);
/* Queue @n's notification eventfd (-1 without an ioevent sink): the VMM
 * watches it edge-triggered (EPOLLET: every write by KVM is an event) and
 * calls virtio_pci_notify_event() for each.  Nothing reads the eventfd:
 * its count is never reset, which costs a read(2) less per notification;
 * a level-triggered watcher must read it itself. */
int virtio_pci_notify_fd(const struct virtio_pci *vp, unsigned n);
/* Act on a notification of queue @n exactly as on a notify-register write
 * (ignored unless the driver is ready; a spurious one finds nothing new). */
void virtio_pci_notify_event(struct virtio_pci *vp, unsigned n);

/* The transport lock, for devices that complete requests from another
 * thread (virtio_blk_process). */
void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);
/* With the lock held: */
struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned n);
uint8_t virtio_pci_status(const struct virtio_pci *vp);
/* Used-buffer notification for queue @n (MSI-X vector or INTx + ISR bit 0). */
void virtio_pci_interrupt_queue(struct virtio_pci *vp, unsigned n);
/* Enter DEVICE_NEEDS_RESET (2.1.2) and send a configuration interrupt. */
void virtio_pci_set_needs_reset(struct virtio_pci *vp, const char *why);

#endif
