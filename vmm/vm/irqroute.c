/* vmm/vm/irqroute.c: interrupt routing to the current VM (see irqroute.h).
 * Lock order: the IOAPIC model's lock, then ir->lock (the IOAPIC calls the
 * deliver and route sinks with its own lock held). */
#include "vmm/vm/irqroute.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/base/log.h"

void irqroute_init(struct irqroute *ir, const struct hv_ops *ops, bool split_irqchip)
{
	memset(ir, 0, sizeof(*ir));
	pthread_mutex_init(&ir->lock, NULL);
	ir->ops = ops;
	ir->split = split_irqchip;
	for (unsigned i = 0; i < IRQROUTE_IOEVS; i++)
		ir->ioev[i].fd = -1;
	for (unsigned i = 0; i < IRQROUTE_MSI_ROUTES; i++)
		ir->msi[i].fd = -1;
}

void irqroute_destroy(struct irqroute *ir)
{
	for (unsigned i = 0; i < IRQROUTE_MSI_ROUTES; i++)
		if (ir->msi[i].fd >= 0) {
			close(ir->msi[i].fd);
			ir->msi[i].fd = -1;
		}
	pthread_mutex_destroy(&ir->lock);
}

void irqroute_set_ioapic(struct irqroute *ir, struct ioapic *io)
{
	ir->ioapic = io;
}

static int irqroute_set_level(void *opaque, unsigned gsi, int level)
{
	struct irqroute *ir = opaque;
	int r = 0;

	if (ir->ioapic) {
		/* split irqchip: the pin goes to our IOAPIC, which takes
		 * ir->lock itself when it delivers */
		ioapic_set_level(ir->ioapic, gsi, level);
		return 0;
	}
	pthread_mutex_lock(&ir->lock);
	if (ir->hvvm)
		r = ir->ops->vm_irq_line(ir->hvvm, gsi, level);
	pthread_mutex_unlock(&ir->lock);
	return r;
}

/* Push every MSI route to the hypervisor: the split IOAPIC's unmasked
 * entries on GSIs 0-23 (KVM computes the EOI-exit vectors from them) and
 * the devices' MSIs from IRQROUTE_MSI_GSI_BASE.  ir->lock held. */
static int irqroute_push(struct irqroute *ir)
{
	enum { MAXR = LAYOUT_IOAPIC_PINS + IRQROUTE_MSI_ROUTES };
	unsigned gsi[MAXR], n = 0;
	uint64_t addr[MAXR];
	uint32_t data[MAXR];

	if (!ir->hvvm || !ir->ops->vm_set_msi_routes)
		return 0;
	for (unsigned i = 0; ir->split && i < LAYOUT_IOAPIC_PINS; i++) {
		if (!ir->route_on[i])
			continue;
		gsi[n] = i;
		addr[n] = ir->route_addr[i];
		data[n] = ir->route_data[i];
		n++;
	}
	for (unsigned i = 0; i < IRQROUTE_MSI_ROUTES; i++) {
		if (!ir->msi[i].used)
			continue;
		gsi[n] = IRQROUTE_MSI_GSI_BASE + i;
		addr[n] = ir->msi[i].addr;
		data[n] = ir->msi[i].data;
		n++;
	}
	return ir->ops->vm_set_msi_routes(ir->hvvm, n, gsi, addr, data);
}

static int irqroute_ioapic_deliver(void *opaque, unsigned pin, uint64_t addr, uint32_t data)
{
	struct irqroute *ir = opaque;
	int r = 0;

	pthread_mutex_lock(&ir->lock);
	if (ir->hvvm && ir->ops->vm_signal_msi)
		r = ir->ops->vm_signal_msi(ir->hvvm, addr, data);
	pthread_mutex_unlock(&ir->lock);
	if (r < 0)
		log_debug("ioapic: pin %u MSI 0x%llx/0x%x not delivered: %s", pin,
			  (unsigned long long)addr, data, strerror(-r));
	return r;
}

void irqroute_ioapic_eoi(struct irqroute *ir, uint8_t vector)
{
	if (ir->ioapic)
		ioapic_eoi(ir->ioapic, vector);
}

static void irqroute_ioapic_route(void *opaque, unsigned pin, uint64_t addr, uint32_t data,
				  bool masked)
{
	struct irqroute *ir = opaque;

	if (pin >= LAYOUT_IOAPIC_PINS)
		return;
	pthread_mutex_lock(&ir->lock);
	if (ir->route_on[pin] != !masked || ir->route_addr[pin] != addr ||
	    ir->route_data[pin] != data) {
		ir->route_on[pin] = !masked;
		ir->route_addr[pin] = addr;
		ir->route_data[pin] = data;
		irqroute_push(ir);
	}
	pthread_mutex_unlock(&ir->lock);
}

/* The irqfd for MSI @addr/@data in the current VM, routing it on first
 * use (ir->lock held): -1 when irqfds are unavailable or failed.  A full
 * table re-points its oldest-allocated GSI: KVM follows a route change for
 * an attached irqfd. */
static int irqroute_msi_irqfd(struct irqroute *ir, uint64_t addr, uint32_t data)
{
	struct irqroute_msi *e = NULL;
	unsigned i;

	if (ir->irqfd_off || !ir->ops->vm_irqfd || !ir->ops->vm_set_msi_routes)
		return -1;
	for (i = 0; i < IRQROUTE_MSI_ROUTES; i++)
		if (ir->msi[i].used && ir->msi[i].addr == addr && ir->msi[i].data == data)
			return ir->msi[i].fd;
	for (i = 0; i < IRQROUTE_MSI_ROUTES && ir->msi[i].used; i++)
		;
	if (i == IRQROUTE_MSI_ROUTES)
		i = ir->msi_next++ % IRQROUTE_MSI_ROUTES;
	e = &ir->msi[i];
	if (e->fd < 0 && (e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto off;
	e->addr = addr;
	e->data = data;
	e->used = true;
	if (irqroute_push(ir) < 0)
		goto off;
	if (!e->irqfd) {
		if (ir->ops->vm_irqfd(ir->hvvm, IRQROUTE_MSI_GSI_BASE + i, e->fd, true) < 0)
			goto off;
		e->irqfd = true;
	}
	return e->fd;
off:
	log_warn("msi: irqfd for 0x%llx/0x%x unavailable: KVM_SIGNAL_MSI from now on",
		 (unsigned long long)addr, data);
	e->used = false;
	ir->irqfd_off = true;
	return -1;
}

int irqroute_msi(struct irqroute *ir, uint64_t addr, uint32_t data)
{
	int r = 0, fd;

	pthread_mutex_lock(&ir->lock);
	if (ir->hvvm) {
		fd = irqroute_msi_irqfd(ir, addr, data);
		if (fd >= 0) {
			uint64_t one = 1;

			r = write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
			ir->msi_irqfd++;
		} else if (ir->ops->vm_signal_msi) {
			r = ir->ops->vm_signal_msi(ir->hvvm, addr, data);
			ir->msi_signal++;
		}
	}
	pthread_mutex_unlock(&ir->lock);
	return r;
}

static int irqroute_msi_cb(void *opaque, uint64_t addr, uint32_t data)
{
	return irqroute_msi(opaque, addr, data);
}

/* A virtio queue's notify register, for KVM_IOEVENTFD (PCI config lock and
 * the transport lock held by the caller). */
static void irqroute_ioevent_cb(void *opaque, int fd, uint64_t gpa, unsigned len, bool on)
{
	struct irqroute *ir = opaque;
	struct irqroute_ioev *e = NULL;

	pthread_mutex_lock(&ir->lock);
	for (unsigned i = 0; i < IRQROUTE_IOEVS && !e; i++)
		if (ir->ioev[i].fd == fd || ir->ioev[i].fd < 0)
			e = &ir->ioev[i];
	if (e && e->registered && ir->hvvm)
		ir->ops->vm_ioeventfd(ir->hvvm, e->gpa, e->len, e->fd, false);
	if (e) {
		*e = (struct irqroute_ioev){ .fd = fd, .gpa = gpa, .len = len, .on = on };
		/* on failure the writes keep exiting to the MMIO handler */
		e->registered = on && ir->hvvm &&
				ir->ops->vm_ioeventfd(ir->hvvm, gpa, len, fd, true) == 0;
	}
	pthread_mutex_unlock(&ir->lock);
}

struct irq_chip irqroute_irq_chip(struct irqroute *ir)
{
	return (struct irq_chip){ .set_level = irqroute_set_level, .opaque = ir };
}

struct ioapic_sink irqroute_ioapic_sink(struct irqroute *ir)
{
	return (struct ioapic_sink){ .deliver = irqroute_ioapic_deliver,
				     .route = irqroute_ioapic_route, .opaque = ir };
}

struct virtio_msi_sink irqroute_msi_sink(struct irqroute *ir)
{
	return (struct virtio_msi_sink){ .signal = irqroute_msi_cb, .opaque = ir };
}

struct virtio_ioevent_sink irqroute_ioevent_sink(struct irqroute *ir)
{
	return (struct virtio_ioevent_sink){ .set = irqroute_ioevent_cb, .opaque = ir };
}

void irqroute_on_new_vm(struct irqroute *ir, struct hv_vm *hvvm)
{
	pthread_mutex_lock(&ir->lock);
	ir->hvvm = hvvm;
	for (unsigned i = 0; i < IRQROUTE_MSI_ROUTES; i++)
		ir->msi[i].used = ir->msi[i].irqfd = false;
	ir->irqfd_off = false;
	for (unsigned i = 0; i < IRQROUTE_IOEVS; i++)
		ir->ioev[i].registered = ir->ioev[i].on && ir->ops->vm_ioeventfd &&
			ir->ops->vm_ioeventfd(hvvm, ir->ioev[i].gpa, ir->ioev[i].len,
					      ir->ioev[i].fd, true) == 0;
	if (ir->split)
		irqroute_push(ir);    /* what the guest programmed so far */
	pthread_mutex_unlock(&ir->lock);
}

void irqroute_on_retire(struct irqroute *ir)
{
	pthread_mutex_lock(&ir->lock);
	ir->hvvm = NULL;
	pthread_mutex_unlock(&ir->lock);
}

void irqroute_stats(struct irqroute *ir, uint64_t *msi_irqfd, uint64_t *msi_signal)
{
	pthread_mutex_lock(&ir->lock);
	*msi_irqfd = ir->msi_irqfd;
	*msi_signal = ir->msi_signal;
	pthread_mutex_unlock(&ir->lock);
}
