/* devices/i8042.h: the PS/2 controller ports 0x60/0x64, reduced to what
 * firmware and kernels poll and to the reset line (no keyboard or mouse).
 * Owns: status, command byte, output port and a one-byte output buffer.
 * Knows nothing of KVM: reset goes to the vm_req_sink. */
#ifndef FUKI_I8042_H
#define FUKI_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct bus;
struct vm_req_sink;

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64

struct i8042;

/* @sink receives VM_REQ_RESET (command 0xFE, a pulse with bit 0 clear, or
 * an output-port write with the reset bit clear); it may be NULL and must
 * outlive the device.  NULL on allocation failure. */
struct i8042 *i8042_create(struct vm_req_sink *sink);
/* Register ports 0x60 and 0x64 (1 byte each) on @pio. */
int i8042_attach(struct i8042 *k, struct bus *pio);
/* Power-on state: command byte, output port (A20 on), empty buffer. */
void i8042_reset(struct i8042 *k);
void i8042_destroy(struct i8042 *k);
/* The A20 gate bit of the output port (informational: KVM has no A20
 * masking). */
bool i8042_a20(const struct i8042 *k);

#endif
