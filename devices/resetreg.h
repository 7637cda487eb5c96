/* devices/resetreg.h: the PIIX/ICH reset control register at port 0xCF9.
 * Owns: the one-byte register.  Only port 0xCF9 with length 1 is claimed:
 * the PCI host bridge owns the 0xCF8/0xCFC dword ports around it. */
#ifndef FUKI_RESETREG_H
#define FUKI_RESETREG_H

#include <stdbool.h>
#include <stdint.h>

struct bus;
struct vm_req_sink;

#define RESETREG_PORT 0xcf9

struct resetreg;

/* @sink receives VM_REQ_RESET when the guest writes a value with bit 2
 * (RST_CPU) set; it may be NULL and must outlive the device. */
struct resetreg *resetreg_create(struct vm_req_sink *sink);
int resetreg_attach(struct resetreg *r, struct bus *pio);
/* One byte access to 0xCF9, for the PCI config-address device
 * (devices/pci.c), which owns the 0xCF8-0xCFF range. */
void resetreg_io(struct resetreg *r, uint8_t *data, bool is_write);
/* Register back to 0. */
void resetreg_reset(struct resetreg *r);
void resetreg_destroy(struct resetreg *r);

#endif
