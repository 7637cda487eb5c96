/* vmm/base/bus.h: dispatch of guest port-I/O and MMIO accesses to device models.
 * Owns: the address -> device map of one address space (one bus for PIO,
 * one for MMIO) and the lock that serialises device callbacks.
 * Knows nothing of KVM: the vCPU loop calls bus_access() on an exit. */
#ifndef FUKI_BUS_H
#define FUKI_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Called with the bus lock held.  @offset is relative to the registered
 * base; @len is 1, 2, 4 or 8.  For reads the callee fills data[0..len). */
typedef void (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      unsigned len, bool is_write);

struct bus_dev {
	uint64_t base;
	uint64_t len;
	bus_access_fn fn;
	void *opaque;
	const char *name;
};

/* A subtractive decoder: offered, under the bus lock, every access that no
 * registered range covers wholly; @addr is absolute.  Returns true when it
 * took the access (for a read it filled data[0..len)), false to leave it
 * unhandled.  For decoders whose address moves at run time (a PCI function's
 * I/O block placed by a config register), which a fixed range cannot follow. */
typedef bool (*bus_fallback_fn)(void *opaque, uint64_t addr, uint8_t *data,
				unsigned len, bool is_write);

struct bus {
	struct bus_dev *devs;  /* sorted by base, non-overlapping */
	unsigned n, cap;
	pthread_mutex_t lock;
	uint64_t unhandled;    /* accesses that hit no device */
	bus_fallback_fn fallback;
	void *fallback_opaque;
};

void bus_init(struct bus *bus);
void bus_free(struct bus *bus);
/* -EINVAL for len 0 or base+len overflow, -EEXIST on overlap. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_access_fn fn, void *opaque, const char *name);
/* Install the one subtractive decoder (NULL removes it); -EEXIST if another
 * is installed. */
int bus_set_fallback(struct bus *bus, bus_fallback_fn fn, void *opaque);
/* Dispatch one access.  Returns 0 when a device took it, -ENOENT when none
 * covers [addr, addr+len) wholly and the fallback (if any) declines it
 * (reads then return all-ones bytes, writes are dropped).  Never fails otherwise. */
int bus_access(struct bus *bus, uint64_t addr, uint8_t *data, unsigned len,
	       bool is_write);

#endif
