/* devices/serial.h: 16550A UART (COM1 at 0x3f8, IRQ 4 on a PC).
 * Owns: the UART registers, the 16-byte receive FIFO and the interrupt
 * line level.  Knows nothing of KVM or of where output goes: bytes the
 * guest transmits are handed to a sink callback, host input is pushed in. */
#ifndef FUKI_SERIAL_H
#define FUKI_SERIAL_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct irq_chip;

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_GSI  4
#define SERIAL_NPORTS    8
#define SERIAL_FIFO_SIZE 16

/* Receives the bytes the guest writes to THR (not in loopback mode).
 * Called with the device lock (and the bus lock) held: it must not call
 * back into the device. */
typedef void (*serial_out_fn)(void *opaque, const uint8_t *buf, size_t n);

struct serial;

/* @irq/@gsi: the interrupt line (level-triggered, raised while an enabled
 * interrupt condition is pending); @irq may be NULL (no interrupts) and
 * must outlive the device.  @out may be NULL (output discarded).
 * NULL on allocation failure. */
struct serial *serial_create(uint16_t base, struct irq_chip *irq, unsigned gsi,
			     serial_out_fn out, void *out_opaque);
/* Register ports [base, base+8) on @pio.  0 or the bus_register error. */
int serial_attach(struct serial *s, struct bus *pio);
/* Power-on register state; receive FIFO emptied; the line is lowered if it
 * was raised. */
void serial_reset(struct serial *s);
void serial_destroy(struct serial *s);
/* Queue host input for the guest (thread-safe; takes the device lock).
 * Returns how many bytes were accepted: the free space of the receive
 * FIFO (16 bytes with FIFOs enabled, 1 without), possibly 0.  The caller
 * keeps the rest and retries later. */
size_t serial_push_input(struct serial *s, const uint8_t *buf, size_t n);

#endif
