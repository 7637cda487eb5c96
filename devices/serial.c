/* devices/serial.c: 16550A UART model (register behaviour as in the
 * National Semiconductor PC16550D data sheet, interrupt level handling as in
 * QEMU hw/char/serial.c).
 * Owns: UART state, its lock and the output ring.  Must not touch KVM.  The
 * vCPU side never makes a system call: output goes through the sink
 * callback or into the ring; only serial_drain, called by the main loop,
 * writes to a file descriptor.  Input comes via serial_push_input. */
#include "devices/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

/* Register offsets (PC16550D). */
enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI   0x01   /* received data available */
#define IER_THRI  0x02   /* transmitter holding register empty */
#define IER_RLSI  0x04   /* receiver line status */
#define IER_MSI   0x08   /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_RLSI   0x06
#define IIR_CTI    0x0c  /* character timeout (FIFO mode) */
#define IIR_FIFO   0xc0  /* FIFOs enabled */

#define FCR_FE     0x01
#define FCR_RFR    0x02
#define FCR_XFR    0x04
#define FCR_ITL    0xc0

#define LCR_DLAB   0x80

#define MCR_DTR    0x01
#define MCR_RTS    0x02
#define MCR_OUT1   0x04
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_PE     0x04
#define LSR_FE     0x08
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_INT_ANY (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80
#define MSR_DELTA  0x0f

struct serial {
	pthread_mutex_t lock;
	uint16_t base;
	struct irq_chip *irq;
	unsigned gsi;
	serial_out_fn out;
	void *out_opaque;

	uint16_t divider;
	uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
	bool thr_ipending;
	int level;                      /* last level driven on the line */

	uint8_t fifo[SERIAL_FIFO_SIZE]; /* receive FIFO (ring) */
	unsigned head, count;

	/* buffered output (serial_out_fd); NULL obuf: the sink callback.
	 * The vCPU appends at (ohead + ocount); the one drainer reads
	 * [ohead, ohead + ocount) without the lock, which the vCPU never
	 * writes until the drainer has moved ohead past it. */
	uint8_t *obuf;                  /* SERIAL_OUTBUF_SIZE bytes */
	size_t ohead, ocount;
	int ofd;
	uint64_t omax;                  /* 0: no cap */
	uint64_t oaccepted, odropped;
	serial_notify_fn notify;
	void *notify_opaque;
};

/* Modem status lines: loopback mirrors MCR; otherwise a connected
 * terminal (DCD, DSR, CTS asserted), as QEMU reports without a chardev
 * that drives them. */
static uint8_t msr_lines(const struct serial *s)
{
	if (s->mcr & MCR_LOOP)
		return (uint8_t)(((s->mcr & MCR_DTR) << 5) | ((s->mcr & MCR_RTS) << 3) |
				 ((s->mcr & (MCR_OUT1 | MCR_OUT2)) << 4));
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

static unsigned fifo_cap(const struct serial *s)
{
	return (s->fcr & FCR_FE) ? SERIAL_FIFO_SIZE : 1;
}

static unsigned fifo_trigger(const struct serial *s)
{
	static const unsigned itl[4] = { 1, 4, 8, 14 };

	return (s->fcr & FCR_FE) ? itl[(s->fcr & FCR_ITL) >> 6] : 1;
}

static void update_irq(struct serial *s)
{
	uint8_t id = IIR_NO_INT;
	int level;

	if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY))
		id = IIR_RLSI;
	else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR))
		/* Below the trigger level, report the character timeout at
		 * once: no timers here, the guest just sees it early. */
		id = s->count >= fifo_trigger(s) ? IIR_RDI : IIR_CTI;
	else if ((s->ier & IER_THRI) && s->thr_ipending)
		id = IIR_THRI;
	else if ((s->ier & IER_MSI) && (s->msr & MSR_DELTA))
		id = IIR_MSI;

	s->iir = id | ((s->fcr & FCR_FE) ? IIR_FIFO : 0);
	level = id != IIR_NO_INT;
	if (level != s->level) {
		s->level = level;
		irq_set_level(s->irq, s->gsi, level);
	}
}

/* Put one received byte in the FIFO; overrun when full. */
static void rx_byte(struct serial *s, uint8_t b)
{
	if (s->count >= fifo_cap(s)) {
		s->lsr |= LSR_OE;
		return;
	}
	s->fifo[(s->head + s->count) % SERIAL_FIFO_SIZE] = b;
	s->count++;
	s->lsr |= LSR_DR;
}

static void rx_clear(struct serial *s)
{
	s->head = s->count = 0;
	s->lsr &= ~(LSR_DR | LSR_BI);
}

static void set_mcr(struct serial *s, uint8_t v)
{
	uint8_t old = msr_lines(s), now, ch;

	s->mcr = v & 0x1f;
	now = msr_lines(s);
	ch = old ^ now;
	if (ch & MSR_CTS)
		s->msr |= MSR_DCTS;
	if (ch & MSR_DSR)
		s->msr |= MSR_DDSR;
	if (ch & MSR_DCD)
		s->msr |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		s->msr |= MSR_TERI;
	s->msr = (uint8_t)((s->msr & MSR_DELTA) | now);
}

/* One transmitted byte into the output ring; lock held.  Never waits: a
 * full ring or a spent cap drops the byte and counts it. */
static void out_append(struct serial *s, uint8_t v)
{
	if ((s->omax && s->oaccepted >= s->omax) || s->ocount >= SERIAL_OUTBUF_SIZE) {
		s->odropped++;
		return;
	}
	s->obuf[(s->ohead + s->ocount) % SERIAL_OUTBUF_SIZE] = v;
	s->ocount++;
	s->oaccepted++;
	if (s->ocount == 1 && s->notify)
		s->notify(s->notify_opaque);
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->divider = (uint16_t)((s->divider & 0xff00) | v);
			return;
		}
		/* Transmission is instantaneous: THR empties at once. */
		s->thr_ipending = false;
		if (s->mcr & MCR_LOOP)
			rx_byte(s, v);
		else if (s->obuf)
			out_append(s, v);
		else if (s->out)
			s->out(s->out_opaque, &v, 1);
		s->lsr |= LSR_THRE | LSR_TEMT;
		s->thr_ipending = true;
		break;
	case UART_IER: {
		uint8_t changed;

		if (s->lcr & LCR_DLAB) {
			s->divider = (uint16_t)((s->divider & 0x00ff) | v << 8);
			return;
		}
		changed = (s->ier ^ v) & 0x0f;
		s->ier = v & 0x0f;
		/* Enabling THRI with THR empty makes the interrupt pend. */
		if (changed & IER_THRI)
			s->thr_ipending = (s->ier & IER_THRI) && (s->lsr & LSR_THRE);
		break;
	}
	case UART_IIR_FCR:
		/* Toggling the enable bit clears both FIFOs. */
		if ((v ^ s->fcr) & FCR_FE)
			v |= FCR_RFR | FCR_XFR;
		if (v & FCR_RFR)
			rx_clear(s);
		s->fcr = v & (FCR_FE | FCR_ITL);
		if (!(s->fcr & FCR_FE) && s->count > 1)
			rx_clear(s);
		break;
	case UART_LCR:
		s->lcr = v;
		return;
	case UART_MCR:
		set_mcr(s, v);
		break;
	case UART_LSR:
	case UART_MSR:
		return;  /* read-only (factory test on real parts) */
	case UART_SCR:
		s->scr = v;
		return;
	}
	update_irq(s);
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	uint8_t v = 0;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return (uint8_t)s->divider;
		if (s->count) {
			v = s->fifo[s->head];
			s->head = (s->head + 1) % SERIAL_FIFO_SIZE;
			s->count--;
		}
		if (!s->count)
			s->lsr &= ~(LSR_DR | LSR_BI);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			return (uint8_t)(s->divider >> 8);
		return s->ier;
	case UART_IIR_FCR:
		v = s->iir;
		/* Reading IIR while it reports THRE acknowledges it. */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		break;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = s->lsr;
		s->lsr &= ~LSR_INT_ANY;
		break;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTA;
		break;
	case UART_SCR:
		return s->scr;
	}
	update_irq(s);
	return v;
}

static void serial_io(void *opaque, uint64_t offset, uint8_t *data,
		      unsigned len, bool is_write)
{
	struct serial *s = opaque;
	unsigned i;

	pthread_mutex_lock(&s->lock);
	/* Wider accesses act byte by byte on consecutive registers. */
	for (i = 0; i < len; i++) {
		unsigned reg = (unsigned)((offset + i) & 7);

		if (is_write)
			serial_write(s, reg, data[i]);
		else
			data[i] = serial_read(s, reg);
	}
	pthread_mutex_unlock(&s->lock);
}

static void serial_init_regs(struct serial *s)
{
	s->divider = 12;           /* 9600 baud from 1.8432 MHz */
	s->ier = 0;
	s->lcr = 0;
	s->mcr = MCR_OUT2;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->scr = 0;
	s->fcr = 0;
	s->thr_ipending = false;
	s->head = s->count = 0;
	s->iir = IIR_NO_INT;
}

struct serial *serial_create(uint16_t base, struct irq_chip *irq, unsigned gsi,
			     serial_out_fn out, void *out_opaque)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s) {
		log_err("serial: out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->base = base;
	s->irq = irq;
	s->gsi = gsi;
	s->out = out;
	s->out_opaque = out_opaque;
	s->ofd = -1;
	serial_init_regs(s);
	return s;
}

int serial_attach(struct serial *s, struct bus *pio)
{
	return bus_register(pio, s->base, SERIAL_NPORTS, serial_io, s, "serial");
}

void serial_reset(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	serial_init_regs(s);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->obuf);
	free(s);
}

size_t serial_push_input(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n && s->count < fifo_cap(s); i++)
		rx_byte(s, buf[i]);
	if (i)
		update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return i;
}

/* ---- buffered output ---- */

int serial_out_fd(struct serial *s, int fd, uint64_t max_size,
		  serial_notify_fn notify, void *notify_opaque)
{
	uint8_t *buf = NULL;
	bool have;
	int fl;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	have = s->obuf != NULL;
	pthread_mutex_unlock(&s->lock);
	if (!have && !(buf = malloc(SERIAL_OUTBUF_SIZE)))
		return -ENOMEM;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
		int e = errno;

		free(buf);
		return -e;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->obuf) {
		s->obuf = buf;
		buf = NULL;
	}
	s->ofd = fd;
	s->omax = max_size;
	s->notify = notify;
	s->notify_opaque = notify_opaque;
	pthread_mutex_unlock(&s->lock);
	free(buf);
	return 0;
}

int serial_output_fd(struct serial *s)
{
	int fd;

	pthread_mutex_lock(&s->lock);
	fd = s->obuf ? s->ofd : -1;
	pthread_mutex_unlock(&s->lock);
	return fd;
}

/* write(2) that cannot raise SIGPIPE in this thread, whatever the process
 * does with the signal: a reader that went away is an EPIPE, not a kill. */
static ssize_t write_nosigpipe(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t w;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	w = write(fd, p, n);
	e = errno;
	if (w < 0 && e == EPIPE && !was_pending) {
		const struct timespec zero = { 0, 0 };

		/* take the SIGPIPE this write raised, before unblocking */
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

long serial_drain(struct serial *s, int fd)
{
	long total = 0;

	/* At most one ring's worth per call: a guest that writes as fast as
	 * the sink takes it must not keep the main loop here. */
	while (total < (long)SERIAL_OUTBUF_SIZE) {
		const uint8_t *p;
		size_t len;
		ssize_t w;

		pthread_mutex_lock(&s->lock);
		if (!s->obuf || !s->ocount) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		p = s->obuf + s->ohead;
		len = SERIAL_OUTBUF_SIZE - s->ohead;
		if (len > s->ocount)
			len = s->ocount;
		if (len > (size_t)(SERIAL_OUTBUF_SIZE - total))
			len = (size_t)(SERIAL_OUTBUF_SIZE - total);
		pthread_mutex_unlock(&s->lock);

		w = write_nosigpipe(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			pthread_mutex_lock(&s->lock);
			s->odropped += s->ocount;
			s->ohead = s->ocount = 0;
			pthread_mutex_unlock(&s->lock);
			return -e;
		}
		pthread_mutex_lock(&s->lock);
		s->ohead = (s->ohead + (size_t)w) % SERIAL_OUTBUF_SIZE;
		s->ocount -= (size_t)w;
		if (!s->ocount)
			s->ohead = 0;
		pthread_mutex_unlock(&s->lock);
		total += (long)w;
		if ((size_t)w < len)
			break;   /* the sink is full for now */
	}
	return total;
}

size_t serial_pending(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->ocount;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t serial_dropped(struct serial *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->odropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t serial_accepted(struct serial *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->oaccepted;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int serial_peek_output(struct serial *s, uint64_t seq)
{
	int v = -1;

	pthread_mutex_lock(&s->lock);
	/* the ring holds the accepted bytes [oaccepted - ocount, oaccepted) */
	if (s->obuf && seq < s->oaccepted && seq >= s->oaccepted - s->ocount)
		v = s->obuf[(s->ohead + (size_t)(seq - (s->oaccepted - s->ocount))) %
			    SERIAL_OUTBUF_SIZE];
	pthread_mutex_unlock(&s->lock);
	return v;
}
