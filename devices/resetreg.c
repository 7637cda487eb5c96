/* devices/resetreg.c: reset control register (Intel ICH9 datasheet, RST_CNT
 * at I/O 0xCF9: bit 1 SYS_RST, bit 2 RST_CPU, bit 3 FULL_RST; QEMU
 * hw/isa/lpc_ich9.c keeps bits 1 and 3).
 * Owns: the register value.  Must not act on the reset itself: it only
 * files a request with the vm_req_sink. */
#include "devices/resetreg.h"

#include <stdbool.h>
#include <stdlib.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

#define RST_SYS  0x02
#define RST_CPU  0x04
#define RST_FULL 0x08

struct resetreg {
	struct vm_req_sink *sink;
	uint8_t val;
};

static void resetreg_io_cb(void *opaque, uint64_t offset, uint8_t *data,
			unsigned len, bool is_write)
{
	struct resetreg *r = opaque;

	if (!is_write) {
		data[0] = r->val;
		return;
	}
	r->val = data[0] & (RST_SYS | RST_FULL);
	if (data[0] & RST_CPU) {
		log_debug_rl("resetreg: reset requested (0x%02x)", data[0]);
		vm_request(r->sink, VM_REQ_RESET, 0);
	}
}

void resetreg_io(struct resetreg *r, uint8_t *data, bool is_write)
{
	resetreg_io_cb(r, 0, data, 1, is_write);
}

struct resetreg *resetreg_create(struct vm_req_sink *sink)
{
	struct resetreg *r = calloc(1, sizeof(*r));

	if (!r) {
		log_err("resetreg: out of memory");
		return NULL;
	}
	r->sink = sink;
	return r;
}

int resetreg_attach(struct resetreg *r, struct bus *pio)
{
	return bus_register(pio, RESETREG_PORT, 1, resetreg_io_cb, r, "reset-control");
}

void resetreg_reset(struct resetreg *r)
{
	r->val = 0;
}

void resetreg_destroy(struct resetreg *r)
{
	free(r);
}
