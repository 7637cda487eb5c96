/* vmm/vm/irqroute.h: interrupt routing from the device models to whichever
 * hypervisor VM is current.
 * Owns: the interrupt lock, the current VM as seen by interrupt delivery, the
 * split IOAPIC's routes (GSI = pin), the MSI route table (one GSI and irqfd
 * per MSI a device sent), the virtio notify eventfds registered as
 * ioeventfds, and the delivery counters.  Device models only see the sinks
 * below; a rebuild calls irqroute_on_new_vm and everything moves over.
 * Talks to the hypervisor only through struct hv_ops (tests use a fake). */
#ifndef FUKI_IRQROUTE_H
#define FUKI_IRQROUTE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/ioapic.h"
#include "devices/virtio_pci.h"
#include "vmm/base/irq.h"
#include "vmm/base/layout.h"
#include "vmm/config/config.h"
#include "vmm/hv/hv.h"

#define IRQROUTE_MSI_ROUTES   32
#define IRQROUTE_MSI_GSI_BASE LAYOUT_IOAPIC_PINS   /* GSIs above the IOAPIC's */
#define IRQROUTE_IOEVS        CFG_MAX_DISKS

struct irqroute_ioev {
	int fd;
	uint64_t gpa;
	unsigned len;
	bool on;                    /* asked for by the device */
	bool registered;            /* registered with the current VM */
};

struct irqroute_msi {
	uint64_t addr;
	uint32_t data;
	int fd;                     /* eventfd, kept for the process lifetime */
	bool used;                  /* routed in the current VM */
	bool irqfd;                 /* fd attached as irqfd in the current VM */
};

struct irqroute {
	pthread_mutex_t lock;       /* guards everything below but ops and split */
	const struct hv_ops *ops;
	bool split;                 /* IOAPIC in devices/ioapic.c, LAPICs in the hypervisor */
	struct ioapic *ioapic;      /* split irqchip only; set once at creation */
	struct hv_vm *hvvm;         /* the current VM, NULL between builds */
	/* split irqchip: the IOAPIC's unmasked entries as MSI routes (GSI = pin) */
	bool route_on[LAYOUT_IOAPIC_PINS];
	uint64_t route_addr[LAYOUT_IOAPIC_PINS];
	uint32_t route_data[LAYOUT_IOAPIC_PINS];
	/* the notify eventfds the devices asked for, as registered with the
	 * current VM (re-registered on every new VM) */
	struct irqroute_ioev ioev[IRQROUTE_IOEVS];
	/* MSIs the devices sent, each on its own GSI with an irqfd
	 * (IRQROUTE_MSI_GSI_BASE + index); emptied on every new VM */
	struct irqroute_msi msi[IRQROUTE_MSI_ROUTES];
	unsigned msi_next;          /* round-robin victim when the table is full */
	bool irqfd_off;             /* a route or irqfd failed: KVM_SIGNAL_MSI only */
	/* how interrupts travelled (the shutdown event) */
	uint64_t msi_irqfd, msi_signal;
};

void irqroute_init(struct irqroute *ir, const struct hv_ops *ops, bool split_irqchip);
/* Closes the MSI eventfds.  The devices must be gone. */
void irqroute_destroy(struct irqroute *ir);
/* The split irqchip's IOAPIC, once created (pins are routed to it). */
void irqroute_set_ioapic(struct irqroute *ir, struct ioapic *io);

/* The sinks the device models are given (all route to @ir). */
struct irq_chip irqroute_irq_chip(struct irqroute *ir);
struct ioapic_sink irqroute_ioapic_sink(struct irqroute *ir);
struct virtio_msi_sink irqroute_msi_sink(struct irqroute *ir);
struct virtio_ioevent_sink irqroute_ioevent_sink(struct irqroute *ir);

/* Deliver MSI @addr/@data to the current VM: through its irqfd (routed on
 * first use), else KVM_SIGNAL_MSI.  The virtio MSI sink calls this. */
int irqroute_msi(struct irqroute *ir, uint64_t addr, uint32_t data);
/* Split irqchip: a LAPIC EOI'd @vector (HV_EXIT_IOAPIC_EOI). */
void irqroute_ioapic_eoi(struct irqroute *ir, uint8_t vector);

/* @hvvm is now current: a new VM has no irqfds, routes or ioeventfds, so MSIs
 * are routed again on first use, the notify eventfds move over now and the
 * IOAPIC's routes are pushed as the guest programmed them. */
void irqroute_on_new_vm(struct irqroute *ir, struct hv_vm *hvvm);
/* The current VM is being retired: nothing is delivered until the next. */
void irqroute_on_retire(struct irqroute *ir);

void irqroute_stats(struct irqroute *ir, uint64_t *msi_irqfd, uint64_t *msi_signal);

#endif
