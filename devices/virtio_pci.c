/* devices/virtio_pci.c: virtio 1.x over PCI (virtio spec 1.2, 4.1) with
 * MSI-X (PCI Local Bus 3.0, 6.8.2).
 * Owns: transport registers, negotiation and interrupt delivery.  Must not
 * touch the device's requests (struct virtio_dev_ops) or other PCI
 * functions (devices/pci.c). */
#include "devices/virtio_pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci.h"
#include "devices/virtqueue.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* 4.1.4: capability cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5
#define PCI_CAP_ID_VNDR            0x09
#define PCI_CAP_ID_MSIX            0x11
#define MSIX_CTRL_ENABLE           0x8000
#define MSIX_CTRL_MASKALL          0x4000
#define MSIX_VEC_MASKED            1

/* 4.1.4.3 common configuration offsets */
#define CC_DFSELECT   0x00
#define CC_DF         0x04
#define CC_GFSELECT   0x08
#define CC_GF         0x0c
#define CC_MSIX       0x10
#define CC_NUMQ       0x12
#define CC_STATUS     0x14
#define CC_CFGGEN     0x15
#define CC_Q_SELECT   0x16
#define CC_Q_SIZE     0x18
#define CC_Q_MSIX     0x1a
#define CC_Q_ENABLE   0x1c
#define CC_Q_NOFF     0x1e
#define CC_Q_DESCLO   0x20
#define CC_Q_DESCHI   0x24
#define CC_Q_AVAILLO  0x28
#define CC_Q_AVAILHI  0x2c
#define CC_Q_USEDLO   0x30
#define CC_Q_USEDHI   0x34

struct vp_queue {
	struct virtq vq;
	uint16_t size;
	uint16_t msix_vector;
	uint64_t desc, avail, used;
};

struct virtio_pci {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	const struct virtio_dev_ops *ops;
	void *opaque;
	struct virtio_msi_sink *msi;
	uint64_t dev_features;
	uint32_t dfselect, gfselect;
	uint64_t drv_features;
	uint16_t msix_config;
	uint8_t status;
	uint8_t isr;
	uint16_t qsel;
	unsigned nvec;
	unsigned msix_cap;             /* config offset of the MSI-X capability */
	unsigned pcicfg_cap;           /* config offset of VIRTIO_PCI_CAP_PCI_CFG */
	uint8_t msix_table[(VIRTIO_PCI_MAX_QUEUES + 1) * 16];
	uint64_t pba;
	struct vp_queue q[VIRTIO_PCI_MAX_QUEUES];
	struct virtio_ioevent_sink ioev;   /* set == NULL: notifications exit */
	int kick_fd[VIRTIO_PCI_MAX_QUEUES];
	uint64_t ioev_base;                /* BAR 0 address the eventfds watch, 0: none */
};

void virtio_pci_lock(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
}

void virtio_pci_unlock(struct virtio_pci *vp)
{
	pthread_mutex_unlock(&vp->lock);
}

struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned n)
{
	return n < vp->ops->nqueues ? &vp->q[n].vq : NULL;
}

uint8_t virtio_pci_status(const struct virtio_pci *vp)
{
	return vp->status;
}

/* ---------------- interrupts ---------------- */

static uint16_t vp_msix_ctrl(struct virtio_pci *vp)
{
	uint8_t *cfg = pci_config(vp->dev);

	if (!vp->msix_cap)
		return 0;   /* no MSI sink: no MSI-X capability, INTx only */
	return (uint16_t)(__atomic_load_n(&cfg[vp->msix_cap + 2], __ATOMIC_RELAXED) |
			  __atomic_load_n(&cfg[vp->msix_cap + 3], __ATOMIC_RELAXED) << 8);
}

static bool vp_msix_on(struct virtio_pci *vp)
{
	return vp_msix_ctrl(vp) & MSIX_CTRL_ENABLE;
}

static void vp_msix_fire(struct virtio_pci *vp, unsigned vec)
{
	const uint8_t *e = &vp->msix_table[16 * vec];

	if ((vp_msix_ctrl(vp) & MSIX_CTRL_MASKALL) || (le_rdn(e + 12, 4) & MSIX_VEC_MASKED)) {
		vp->pba |= 1ULL << vec;
		return;
	}
	vp->pba &= ~(1ULL << vec);
	if (vp->msi && vp->msi->signal)
		vp->msi->signal(vp->msi->opaque, le_rdn(e, 8), (uint32_t)le_rdn(e + 8, 4));
}

/* Deliver pending vectors that are no longer masked. */
static void vp_msix_flush(struct virtio_pci *vp)
{
	if (!vp_msix_on(vp))
		return;
	for (unsigned v = 0; v < vp->nvec; v++)
		if (vp->pba & (1ULL << v))
			vp_msix_fire(vp, v);
}

static void vp_interrupt(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (vp_msix_on(vp)) {
		if (vector < vp->nvec)
			vp_msix_fire(vp, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_set_intx(vp->dev, 1);
}

void virtio_pci_interrupt_queue(struct virtio_pci *vp, unsigned n)
{
	if (n < vp->ops->nqueues)
		vp_interrupt(vp, vp->q[n].msix_vector, 1);
}

void virtio_pci_set_needs_reset(struct virtio_pci *vp, const char *why)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn_rl("virtio-pci %02x: device needs reset: %s", vp->ops->device_id, why);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		vp_interrupt(vp, vp->msix_config, 2);
}

/* Move the notify eventfds to BAR 0 at @base (0: withdraw); lock held. */
static void vp_ioevent_update(struct virtio_pci *vp, uint64_t base)
{
	if (!vp->ioev.set || base == vp->ioev_base)
		return;
	for (unsigned q = 0; q < vp->ops->nqueues; q++) {
		uint64_t off = VIRTIO_PCI_NOTIFY_OFF + (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;

		if (vp->ioev_base)
			vp->ioev.set(vp->ioev.opaque, vp->kick_fd[q], vp->ioev_base + off, 2, false);
		if (base)
			vp->ioev.set(vp->ioev.opaque, vp->kick_fd[q], base + off, 2, true);
	}
	vp->ioev_base = base;
}

/* ---------------- reset ---------------- */

static void vp_reset_locked(struct virtio_pci *vp)
{
	if (vp->ops->reset)
		vp->ops->reset(vp->opaque);
	vp->status = 0;
	vp->drv_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->qsel = 0;
	vp->isr = 0;
	vp->pba = 0;
	pci_set_intx(vp->dev, 0);
	for (unsigned i = 0; i < vp->ops->nqueues; i++) {
		struct vp_queue *q = &vp->q[i];

		virtq_reset(&q->vq);
		q->size = vp->ops->max_queue_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->desc = q->avail = q->used = 0;
	}
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp_reset_locked(vp);
	vp_ioevent_update(vp, 0);     /* the system reset clears BAR 0 too */
	/* the MSI-X table is PCI function state: masked after a system reset,
	 * and the capability's enable/function-mask bits cleared */
	if (vp->msix_cap)
		pci_config(vp->dev)[vp->msix_cap + 3] &= 0x3f;
	memset(vp->msix_table, 0, sizeof(vp->msix_table));
	for (unsigned v = 0; v < vp->nvec; v++)
		vp->msix_table[16 * v + 12] = MSIX_VEC_MASKED;
	pthread_mutex_unlock(&vp->lock);
}

/* ---------------- common configuration ---------------- */

static void vp_common_read(struct virtio_pci *vp, unsigned off, uint8_t *data, unsigned len)
{
	uint8_t img[VIRTIO_PCI_COMMON_LEN];
	struct vp_queue *q = vp->qsel < vp->ops->nqueues ? &vp->q[vp->qsel] : NULL;

	memset(img, 0, sizeof(img));
	le_wrn(&img[CC_DFSELECT], vp->dfselect, 4);
	le_wrn(&img[CC_DF], vp->dfselect < 2 ? vp->dev_features >> (32 * vp->dfselect) : 0, 4);
	le_wrn(&img[CC_GFSELECT], vp->gfselect, 4);
	le_wrn(&img[CC_GF], vp->gfselect < 2 ? vp->drv_features >> (32 * vp->gfselect) : 0, 4);
	le_wrn(&img[CC_MSIX], vp->msix_config, 2);
	le_wrn(&img[CC_NUMQ], vp->ops->nqueues, 2);
	img[CC_STATUS] = vp->status;
	img[CC_CFGGEN] = 0;
	le_wrn(&img[CC_Q_SELECT], vp->qsel, 2);
	if (q) {
		le_wrn(&img[CC_Q_SIZE], q->size, 2);
		le_wrn(&img[CC_Q_MSIX], q->msix_vector, 2);
		le_wrn(&img[CC_Q_ENABLE], q->vq.ready, 2);
		le_wrn(&img[CC_Q_NOFF], vp->qsel, 2);
		le_wrn(&img[CC_Q_DESCLO], q->desc, 8);
		le_wrn(&img[CC_Q_AVAILLO], q->avail, 8);
		le_wrn(&img[CC_Q_USEDLO], q->used, 8);
	} else {
		le_wrn(&img[CC_Q_MSIX], VIRTIO_MSI_NO_VECTOR, 2);
	}
	memset(data, 0, len);
	if (off < sizeof(img))
		memcpy(data, &img[off], len <= sizeof(img) - off ? len : sizeof(img) - off);
}

/* FEATURES_OK (3.1.1 step 5): a subset of what was offered, VERSION_1 in it. */
static bool vp_features_ok(struct virtio_pci *vp)
{
	if (vp->drv_features & ~vp->dev_features) {
		log_warn_rl("virtio-pci: driver accepted unoffered features 0x%llx",
			    (unsigned long long)(vp->drv_features & ~vp->dev_features));
		return false;
	}
	if (!(vp->drv_features & (1ULL << VIRTIO_F_VERSION_1))) {
		log_warn_rl("virtio-pci: driver did not accept VERSION_1 (legacy drivers unsupported)");
		return false;
	}
	return true;
}

static void vp_write_status(struct virtio_pci *vp, uint8_t v)
{
	uint8_t old = vp->status;

	if (v == 0) {
		vp_reset_locked(vp);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !vp_features_ok(vp))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* NEEDS_RESET is the device's bit: keep it until a reset */
	vp->status = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
}

static void vp_queue_enable(struct virtio_pci *vp, struct vp_queue *q)
{
	if (q->vq.ready)
		return;
	if (virtq_enable(&q->vq, q->size, q->desc, q->avail, q->used) < 0)
		virtio_pci_set_needs_reset(vp, "queue enabled with invalid rings");
}

static void vp_common_write(struct virtio_pci *vp, unsigned off, const uint8_t *data, unsigned len)
{
	uint64_t v = le_rdn(data, len);
	struct vp_queue *q = vp->qsel < vp->ops->nqueues ? &vp->q[vp->qsel] : NULL;

	switch (off) {
	case CC_DFSELECT:
		vp->dfselect = (uint32_t)v;
		return;
	case CC_GFSELECT:
		vp->gfselect = (uint32_t)v;
		return;
	case CC_GF:
		if (vp->status & VIRTIO_STATUS_FEATURES_OK)
			return;    /* frozen after negotiation */
		if (vp->gfselect < 2) {
			unsigned sh = 32 * vp->gfselect;

			vp->drv_features = (vp->drv_features & ~(0xffffffffULL << sh)) |
					   ((v & 0xffffffffULL) << sh);
		}
		return;
	case CC_MSIX:
		vp->msix_config = (uint16_t)(v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR);
		return;
	case CC_STATUS:
		vp_write_status(vp, (uint8_t)v);
		return;
	case CC_Q_SELECT:
		vp->qsel = (uint16_t)v;
		return;
	}
	if (!q)
		return;
	/* 4.1.4.3.2: queue registers are frozen once the queue is enabled */
	if (q->vq.ready && off != CC_Q_MSIX)
		return;
	switch (off) {
	case CC_Q_SIZE:
		if (v && v <= vp->ops->max_queue_size && !(v & (v - 1)))
			q->size = (uint16_t)v;
		else
			log_warn_rl("virtio-pci: queue %u: size %llu rejected", vp->qsel,
				    (unsigned long long)v);
		return;
	case CC_Q_MSIX:
		q->msix_vector = (uint16_t)(v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR);
		return;
	case CC_Q_ENABLE:
		if (v == 1)
			vp_queue_enable(vp, q);
		return;
	}
	{
		uint64_t *field = NULL;
		unsigned base = 0;

		if (off >= CC_Q_DESCLO && off < CC_Q_AVAILLO) {
			field = &q->desc;
			base = CC_Q_DESCLO;
		} else if (off >= CC_Q_AVAILLO && off < CC_Q_USEDLO) {
			field = &q->avail;
			base = CC_Q_AVAILLO;
		} else if (off >= CC_Q_USEDLO && off < VIRTIO_PCI_COMMON_LEN) {
			field = &q->used;
			base = CC_Q_USEDLO;
		}
		if (field && off + len <= base + 8) {
			unsigned sh = 8 * (off - base);
			uint64_t m = len == 8 ? ~0ULL : ((1ULL << (8 * len)) - 1);

			*field = (*field & ~(m << sh)) | ((v & m) << sh);
		}
	}
}

/* ---------------- BAR 0 ---------------- */

static void vp_msix_access(struct virtio_pci *vp, uint64_t off, uint8_t *data, unsigned len,
			   bool is_write)
{
	if (off >= VIRTIO_PCI_MSIX_PBA_OFF) {
		uint64_t o = off - VIRTIO_PCI_MSIX_PBA_OFF;

		if (!is_write) {
			memset(data, 0, len);
			if (o < 8)
				le_wrn(data, vp->pba >> (8 * o), len);
		}
		return;   /* PBA is read-only */
	}
	off -= VIRTIO_PCI_MSIX_TABLE_OFF;
	if (off + len > 16ULL * vp->nvec) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (!is_write) {
		memcpy(data, &vp->msix_table[off], len);
		return;
	}
	memcpy(&vp->msix_table[off], data, len);
	/* unmasking a vector delivers its pending message */
	vp_msix_flush(vp);
}

/* A notification for queue @qn (register write or eventfd); lock held. */
static void vp_queue_kick(struct virtio_pci *vp, unsigned qn)
{
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    vp->q[qn].vq.ready && vp->ops->notify)
		vp->ops->notify(vp->opaque, qn);
}

int virtio_pci_set_ioevent_sink(struct virtio_pci *vp, const struct virtio_ioevent_sink *sink)
{
	for (unsigned q = 0; q < vp->ops->nqueues; q++) {
		vp->kick_fd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vp->kick_fd[q] < 0) {
			int e = errno;

			log_err("virtio-pci: notify eventfd: %s", strerror(e));
			while (q--) {
				close(vp->kick_fd[q]);
				vp->kick_fd[q] = -1;
			}
			return -e;
		}
	}
	pthread_mutex_lock(&vp->lock);
	vp->ioev = *sink;
	pthread_mutex_unlock(&vp->lock);
	return 0;
}

int virtio_pci_notify_fd(const struct virtio_pci *vp, unsigned n)
{
	return n < vp->ops->nqueues ? vp->kick_fd[n] : -1;
}

void virtio_pci_notify_event(struct virtio_pci *vp, unsigned n)
{
	if (n >= vp->ops->nqueues || vp->kick_fd[n] < 0)
		return;
	pthread_mutex_lock(&vp->lock);
	vp_queue_kick(vp, n);
	pthread_mutex_unlock(&vp->lock);
}

static void vp_bar_access(void *opaque, unsigned bar, uint64_t off, uint8_t *data, unsigned len,
			  bool is_write)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->lock);
	if (bar != 0) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (off < VIRTIO_PCI_COMMON_LEN) {
		if (is_write)
			vp_common_write(vp, (unsigned)off, data, len);
		else
			vp_common_read(vp, (unsigned)off, data, len);
	} else if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_ISR_OFF + 4) {
		if (!is_write) {
			/* 4.1.4.5: reading the ISR clears it and the INTx line */
			memset(data, 0, len);
			data[0] = vp->isr;
			vp->isr = 0;
			pci_set_intx(vp->dev, 0);
		}
	} else if (off >= VIRTIO_PCI_DEVCFG_OFF && off < VIRTIO_PCI_DEVCFG_OFF + vp->ops->cfg_len) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVCFG_OFF);

		if (o + len > vp->ops->cfg_len) {
			if (!is_write)
				memset(data, 0, len);
		} else if (vp->ops->cfg_access) {
			vp->ops->cfg_access(vp->opaque, o, data, len, is_write);
		} else if (!is_write) {
			memset(data, 0, len);
		}
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * vp->ops->nqueues) {
		unsigned qn = (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;

		if (!is_write)
			memset(data, 0, len);
		else
			vp_queue_kick(vp, qn);
	} else if (off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_BAR_SIZE) {
		vp_msix_access(vp, off, data, len, is_write);
	} else if (!is_write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* ---------------- config space hooks ---------------- */

/* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): pci_cfg_data is a window on BAR bar
 * at offset, length 1, 2 or 4. */
static bool vp_pcicfg_window(struct virtio_pci *vp, unsigned *bar, uint32_t *off, unsigned *len)
{
	uint8_t *cfg = pci_config(vp->dev);
	unsigned c = vp->pcicfg_cap;

	*bar = cfg[c + 4];
	*off = (uint32_t)le_rdn(&cfg[c + 8], 4);
	*len = (unsigned)le_rdn(&cfg[c + 12], 4);
	return (*len == 1 || *len == 2 || *len == 4) && *bar == 0 && (*off % *len) == 0 &&
	       *off + *len <= VIRTIO_PCI_BAR_SIZE;
}

static bool vp_config_read(void *opaque, unsigned off, uint8_t *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	unsigned c = vp->pcicfg_cap, bar, wlen;
	uint32_t boff;
	uint8_t buf[4];

	if (!c || off < c + 16 || off >= c + 20)
		return false;
	memcpy(data, &pci_config(vp->dev)[off], len);
	if (off != c + 16 || !vp_pcicfg_window(vp, &bar, &boff, &wlen))
		return true;
	memset(buf, 0, sizeof(buf));
	vp_bar_access(vp, bar, boff, buf, wlen, false);
	memcpy(data, buf, len < 4 ? len : 4);
	return true;
}

static void vp_config_write(void *opaque, unsigned off, unsigned len)
{
	struct virtio_pci *vp = opaque;
	unsigned c = vp->pcicfg_cap, bar, wlen;
	uint32_t boff;

	if (vp->msix_cap && off <= vp->msix_cap + 3 && off + len > vp->msix_cap + 2) {
		pthread_mutex_lock(&vp->lock);
		if (vp_msix_on(vp))
			pci_set_intx(vp->dev, 0);
		vp_msix_flush(vp);
		pthread_mutex_unlock(&vp->lock);
	}
	/* the command register or BAR 0 changed: follow with the eventfds
	 * (pci_bar_decode_locked: this hook runs under the config lock) */
	if (vp->ioev.set && ((off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND) ||
			     (off < PCI_BAR0 + 4 && off + len > PCI_BAR0))) {
		uint64_t base = pci_bar_decode_locked(vp->dev, 0);

		pthread_mutex_lock(&vp->lock);
		vp_ioevent_update(vp, base);
		pthread_mutex_unlock(&vp->lock);
	}
	if (c && off == c + 16 && vp_pcicfg_window(vp, &bar, &boff, &wlen)) {
		uint8_t buf[4];

		memcpy(buf, &pci_config(vp->dev)[c + 16], 4);
		vp_bar_access(vp, bar, boff, buf, wlen, true);
	}
}

static const struct pci_dev_ops vp_pci_ops = {
	.bar_access = vp_bar_access,
	.config_write = vp_config_write,
	.config_read = vp_config_read,
};

static int vp_add_vcap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
		       unsigned caplen)
{
	int at = pci_add_cap(vp->dev, PCI_CAP_ID_VNDR, caplen);
	uint8_t *cfg = pci_config(vp->dev);

	if (at < 0)
		return at;
	/* struct virtio_pci_cap (4.1.4): vndr, next, len, cfg_type, bar, id, pad[2], offset, length */
	cfg[at + 2] = (uint8_t)caplen;
	cfg[at + 3] = type;
	cfg[at + 4] = 0;
	le_wrn(&cfg[at + 8], off, 4);
	le_wrn(&cfg[at + 12], len, 4);
	return at;
}

struct virtio_pci *virtio_pci_create(struct pci_bus *pb, unsigned slot, const struct guestmem *gm,
				     struct virtio_msi_sink *msi, const struct virtio_dev_ops *ops,
				     void *opaque)
{
	struct virtio_pci *vp;
	uint8_t *cfg, *wm;
	int at;

	if (ops->nqueues == 0 || ops->nqueues > VIRTIO_PCI_MAX_QUEUES || ops->cfg_len > 0x800 ||
	    !ops->max_queue_size || ops->max_queue_size > VIRTQ_MAX_SIZE ||
	    (ops->max_queue_size & (ops->max_queue_size - 1))) {
		log_err("virtio-pci: bad device description (queues %u, size %u, cfg %u)",
			ops->nqueues, ops->max_queue_size, ops->cfg_len);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		log_err("virtio-pci: out of memory");
		return NULL;
	}
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->kick_fd[i] = -1;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->msi = msi;
	vp->nvec = ops->nqueues + 1;
	vp->dev_features = ops->features | (1ULL << VIRTIO_F_VERSION_1);
	for (unsigned i = 0; i < ops->nqueues; i++)
		virtq_init(&vp->q[i].vq, gm);
	vp->dev = pci_add_device(pb, slot, 0, VIRTIO_PCI_VENDOR,
				 (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id), ops->pci_class,
				 1 /* 4.1.2.1: revision >= 1 for modern-only */, &vp_pci_ops, vp);
	if (!vp->dev) {
		pthread_mutex_destroy(&vp->lock);
		free(vp);
		return NULL;
	}
	pci_set_subsystem(vp->dev, VIRTIO_PCI_VENDOR, 0x40 + ops->device_id);
	cfg = pci_config(vp->dev);
	wm = pci_wmask(vp->dev);
	cfg[PCI_INTERRUPT_PIN] = 1;
	if (pci_add_bar(vp->dev, 0, VIRTIO_PCI_BAR_SIZE, 0) < 0)
		goto fail;
	/* MSI-X: control (table size - 1), table and PBA in BAR 0; only
	 * when there is a way to deliver MSIs */
	if (msi && msi->signal) {
		at = pci_add_cap(vp->dev, PCI_CAP_ID_MSIX, 12);
		if (at < 0)
			goto fail;
		vp->msix_cap = (unsigned)at;
		le_wrn(&cfg[at + 2], vp->nvec - 1, 2);
		wm[at + 3] = 0xc0;    /* enable, function mask */
		le_wrn(&cfg[at + 4], VIRTIO_PCI_MSIX_TABLE_OFF, 4);
		le_wrn(&cfg[at + 8], VIRTIO_PCI_MSIX_PBA_OFF, 4);
	}
	if (vp_add_vcap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
			VIRTIO_PCI_COMMON_LEN, 16) < 0 ||
	    vp_add_vcap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 4, 16) < 0 ||
	    vp_add_vcap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF,
			ops->cfg_len ? ops->cfg_len : 4, 16) < 0)
		goto fail;
	at = vp_add_vcap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			 VIRTIO_PCI_NOTIFY_MULT * ops->nqueues, 20);
	if (at < 0)
		goto fail;
	le_wrn(&cfg[at + 16], VIRTIO_PCI_NOTIFY_MULT, 4);
	at = vp_add_vcap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 20);
	if (at < 0)
		goto fail;
	vp->pcicfg_cap = (unsigned)at;
	wm[at + 4] = 0xff;
	memset(&wm[at + 8], 0xff, 12);
	virtio_pci_reset(vp);
	return vp;
fail:
	log_err("virtio-pci: cannot lay out config space");
	/* the pci_dev stays registered in the bus and is freed with it */
	pthread_mutex_destroy(&vp->lock);
	free(vp);
	return NULL;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (vp->kick_fd[i] >= 0)
			close(vp->kick_fd[i]);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
