/* vmm/base/irq.h: how device models raise interrupts and ask for machine-level
 * actions, without knowing which hypervisor backend is underneath.
 * Owns: nothing but the two small callback interfaces. */
#ifndef FUKI_IRQ_H
#define FUKI_IRQ_H

/* An interrupt controller input.  The VMM routes it to the current VM's
 * in-kernel irqchip (the VM fd changes on every rebuild; this does not). */
struct irq_chip {
	int (*set_level)(void *opaque, unsigned gsi, int level);
	void *opaque;
};

static inline int irq_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	return chip && chip->set_level ? chip->set_level(chip->opaque, gsi, level) : 0;
}

/* Machine-level requests a device can make (reset line, power off,
 * debug-exit).  They are acted on by the lifecycle code, never inside the
 * device callback. */
enum vm_req {
	VM_REQ_RESET = 1,     /* guest-initiated system reset */
	VM_REQ_POWEROFF = 2,  /* guest powered off: exit status 0 */
	VM_REQ_EXIT = 3,      /* leave with the given exit status (debug-exit) */
};

struct vm_req_sink {
	void (*request)(void *opaque, enum vm_req req, int status);
	void *opaque;
};

static inline void vm_request(struct vm_req_sink *s, enum vm_req req, int status)
{
	if (s && s->request)
		s->request(s->opaque, req, status);
}

#endif
