/* devices/debugexit.h: QEMU's isa-debug-exit device at a configurable port.
 * Owns: nothing but its port.  A guest write of v asks the VMM to exit with
 * status ((v << 1) | 1) truncated to 8 bits, as a process exit status is
 * (so a guest write of 0 gives 1, 0x10 gives 33, 0x80 gives 1). */
#ifndef FUKI_DEBUGEXIT_H
#define FUKI_DEBUGEXIT_H

#include <stdint.h>

struct bus;
struct vm_req_sink;

#define DEBUGEXIT_DEFAULT_PORT 0x501   /* QEMU's default iobase */
#define DEBUGEXIT_SIZE         4

struct debugexit;

/* @sink receives VM_REQ_EXIT with the status; may be NULL, must outlive
 * the device. */
struct debugexit *debugexit_create(uint16_t port, struct vm_req_sink *sink);
/* Register [port, port+4) on @pio; 1-, 2- and 4-byte writes are taken. */
int debugexit_attach(struct debugexit *d, struct bus *pio);
void debugexit_reset(struct debugexit *d);   /* no state: nothing to do */
void debugexit_destroy(struct debugexit *d);
/* The exit status a written value maps to. */
int debugexit_status(uint32_t v);

#endif
