/* devices/serial.h: 16550A UART (COM1 at 0x3f8, IRQ 4 on a PC).
 * Owns: the UART registers, the 16-byte receive FIFO and the interrupt
 * line level, and the bounded output ring.  Knows nothing of KVM: bytes the
 * guest transmits are handed to a sink callback, or (serial_out_fd) kept in
 * a ring the main loop drains to a file descriptor; host input is pushed in. */
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

/* ---- Buffered output: the vCPU never waits for the sink ----
 *
 * serial_out_fd() switches the device from the sink callback to a bounded
 * ring of SERIAL_OUTBUF_SIZE bytes.  A guest write to THR then only appends
 * to the ring (under the device lock, no system call); the main loop moves
 * the bytes to the file descriptor with serial_drain().  When the ring is
 * full, new bytes are dropped and counted, never waited for.  The sink
 * callback given to serial_create() is not called any more.
 *
 * Main loop, in outline: poll @fd for POLLOUT while serial_pending() > 0
 * (and wake on the notify callback, which fires when the ring goes from
 * empty to non-empty), call serial_drain(s, fd) when it is writable, and
 * report serial_dropped() when the VM stops. */
#ifndef FUKI_FUZZING
#define SERIAL_OUTBUF_SIZE (64u * 1024)
#else
#define SERIAL_OUTBUF_SIZE 1024u   /* fuzz builds: a full ring within a short input */
#endif

/* Called from the vCPU thread, device lock held, when output arrives in an
 * empty ring: it must not block or call back into the device (writing an
 * eventfd is the intended use). */
typedef void (*serial_notify_fn)(void *opaque);

/* Buffered output to @fd.  @fd is put in non-blocking mode (O_NONBLOCK is a
 * property of the open file description: hand over one the VMM owns, e.g.
 * stdout reopened through /proc/self/fd/1, so as not to change the
 * terminal or pipe of the process that started the VMM).  @max_size: the
 * most bytes ever accepted for @fd (0: no limit); after it, output is
 * dropped and counted ([serial] max_size for file outputs).  @notify may be
 * NULL.  May be called again to change the fd or the cap (bytes already
 * accepted keep counting against the cap; the ring keeps its content).
 * 0, or -ENOMEM / -errno of fcntl; on failure the device is unchanged. */
int serial_out_fd(struct serial *s, int fd, uint64_t max_size,
		  serial_notify_fn notify, void *notify_opaque);
/* The fd of serial_out_fd(), or -1 when output is not buffered. */
int serial_output_fd(struct serial *s);
/* Write what the ring holds to @fd (normally serial_output_fd()) without
 * ever blocking: the device lock is not held during write(), and @fd is
 * expected to be non-blocking.  Only one thread may drain.  Returns the
 * bytes written (0: nothing pending, or @fd would block: EAGAIN keeps the
 * rest for the next call), or -errno on a write error other than EAGAIN
 * and EINTR; then the pending bytes are discarded and counted as dropped
 * (a closed pipe must not stop the guest). */
long serial_drain(struct serial *s, int fd);
/* Bytes waiting in the ring. */
size_t serial_pending(struct serial *s);
/* Output bytes dropped since creation: ring full, over max_size, or lost to
 * a write error. */
uint64_t serial_dropped(struct serial *s);
/* Output bytes accepted into the ring since the first serial_out_fd()
 * (what counts against max_size). */
uint64_t serial_accepted(struct serial *s);
/* The byte accepted as number @seq (0 for the first, counted as
 * serial_accepted() counts) while it is still in the ring, else -1 (not
 * accepted yet, or already drained).  For the drainer, which alone moves
 * bytes out: what it has not drained since it read serial_accepted() is
 * still there. */
int serial_peek_output(struct serial *s, uint64_t seq);

#endif
