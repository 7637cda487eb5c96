/* vmm/base/bus.c: implementation of vmm/base/bus.h.
 * Owns: the sorted device array of one address space and its lock.
 * Must not know about KVM or any device's register layout. */
#include "vmm/base/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

void bus_free(struct bus *bus)
{
	free(bus->devs);
	bus->devs = NULL;
	bus->n = bus->cap = 0;
	pthread_mutex_destroy(&bus->lock);
}

/* Index of the first device whose base is > @addr (0..n). */
static unsigned bus_upper(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (bus->devs[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_access_fn fn, void *opaque, const char *name)
{
	unsigned i;
	int ret = 0;

	if (len == 0 || len > UINT64_MAX - base || !fn) {
		log_err("bus: bad range for %s: base=0x%llx len=0x%llx",
			name ? name : "?", (unsigned long long)base,
			(unsigned long long)len);
		return -EINVAL;
	}
	pthread_mutex_lock(&bus->lock);
	i = bus_upper(bus, base);
	/* Ends are representable: every registered range passed the check. */
	if ((i > 0 && bus->devs[i - 1].base + bus->devs[i - 1].len > base) ||
	    (i < bus->n && base + len > bus->devs[i].base)) {
		const struct bus_dev *o = i > 0 &&
			bus->devs[i - 1].base + bus->devs[i - 1].len > base ?
			&bus->devs[i - 1] : &bus->devs[i];

		log_err("bus: %s at 0x%llx+0x%llx overlaps %s",
			name ? name : "?", (unsigned long long)base,
			(unsigned long long)len, o->name ? o->name : "?");
		ret = -EEXIST;
		goto out;
	}
	if (bus->n == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_dev *d = realloc(bus->devs, cap * sizeof(*d));

		if (!d) {
			log_err("bus: out of memory registering %s",
				name ? name : "?");
			ret = -ENOMEM;
			goto out;
		}
		bus->devs = d;
		bus->cap = cap;
	}
	memmove(&bus->devs[i + 1], &bus->devs[i],
		(bus->n - i) * sizeof(bus->devs[0]));
	bus->devs[i] = (struct bus_dev){
		.base = base, .len = len, .fn = fn, .opaque = opaque,
		.name = name,
	};
	bus->n++;
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_set_fallback(struct bus *bus, bus_fallback_fn fn, void *opaque)
{
	int ret = 0;

	pthread_mutex_lock(&bus->lock);
	if (fn && bus->fallback && (bus->fallback != fn || bus->fallback_opaque != opaque)) {
		ret = -EEXIST;
	} else {
		bus->fallback = fn;
		bus->fallback_opaque = fn ? opaque : NULL;
	}
	pthread_mutex_unlock(&bus->lock);
	if (ret)
		log_err("bus: a fallback decoder is already installed");
	return ret;
}

int bus_access(struct bus *bus, uint64_t addr, uint8_t *data, unsigned len,
	       bool is_write)
{
	const struct bus_dev *d = NULL;
	unsigned i;

	pthread_mutex_lock(&bus->lock);
	i = bus_upper(bus, addr);
	if (len && i > 0) {
		d = &bus->devs[i - 1];
		if (addr - d->base >= d->len || len > d->len - (addr - d->base))
			d = NULL;
	}
	if (d) {
		d->fn(d->opaque, addr - d->base, data, len, is_write);
		pthread_mutex_unlock(&bus->lock);
		return 0;
	}
	if (len && bus->fallback &&
	    bus->fallback(bus->fallback_opaque, addr, data, len, is_write)) {
		pthread_mutex_unlock(&bus->lock);
		return 0;
	}
	bus->unhandled++;
	pthread_mutex_unlock(&bus->lock);
	if (!is_write && len)
		memset(data, 0xff, len);
	log_debug_rl("bus: unhandled %s addr=0x%llx len=%u",
		     is_write ? "write" : "read", (unsigned long long)addr, len);
	return -ENOENT;
}
