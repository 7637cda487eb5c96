/* devices/debugexit.c: isa-debug-exit semantics (QEMU hw/misc/debugexit.c:
 * exit((val << 1) | 1)).
 * Owns: the port.  Must not exit the process itself: the request goes to
 * the vm_req_sink and the lifecycle code acts on it. */
#include "devices/debugexit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

struct debugexit {
	uint16_t port;
	struct vm_req_sink *sink;
};

int debugexit_status(uint32_t v)
{
	return (int)(((v << 1) | 1) & 0xff);
}

static void debugexit_io(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned len, bool is_write)
{
	struct debugexit *d = opaque;
	uint32_t v = 0;
	unsigned i;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (len != 1 && len != 2 && len != 4)
		return;
	for (i = 0; i < len; i++)
		v |= (uint32_t)data[i] << (8 * i);
	log_debug_rl("debugexit: guest wrote 0x%x, exit status %d", v,
		    debugexit_status(v));
	vm_request(d->sink, VM_REQ_EXIT, debugexit_status(v));
}

struct debugexit *debugexit_create(uint16_t port, struct vm_req_sink *sink)
{
	struct debugexit *d = calloc(1, sizeof(*d));

	if (!d) {
		log_err("debugexit: out of memory");
		return NULL;
	}
	d->port = port;
	d->sink = sink;
	return d;
}

int debugexit_attach(struct debugexit *d, struct bus *pio)
{
	return bus_register(pio, d->port, DEBUGEXIT_SIZE, debugexit_io, d,
			    "debug-exit");
}

void debugexit_reset(struct debugexit *d)
{
	(void)d;
}

void debugexit_destroy(struct debugexit *d)
{
	free(d);
}
