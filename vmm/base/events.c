/* vmm/base/events.c: implementation of vmm/base/events.h. */
#include "vmm/base/events.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/clock.h"

#define EVENTS_MAX_SUBS 32

static int ev_fd = -1;           /* -1: stderr */
static bool ev_own_fd;
static uint64_t ev_t0_ns;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { events_fn fn; void *opaque; } ev_subs[EVENTS_MAX_SUBS];
static _Thread_local bool ev_quiet;

bool events_log_quiet(bool quiet)
{
	bool was = ev_quiet;

	ev_quiet = quiet;
	return was;
}

bool events_log_is_quiet(void)
{
	return ev_quiet;
}

static void events_reset_sink(void)
{
	if (ev_own_fd && ev_fd >= 0)
		close(ev_fd);
	ev_fd = -1;
	ev_own_fd = false;
}

int events_open(const char *path)
{
	ev_t0_ns = clock_now_ns();
	events_reset_sink();
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);

	if (fd < 0)
		return -errno;
	ev_fd = fd;
	ev_own_fd = true;
	return 0;
}

int events_open_fd(int fd)
{
	ev_t0_ns = clock_now_ns();
	events_reset_sink();
	ev_fd = fd;
	return 0;
}

void events_close(void)
{
	events_reset_sink();
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* the log is best effort, as stdio's was */
		p += w;
		n -= (size_t)w;
	}
}

/* One event's line.  It lives on the stack and grows on the heap for long
 * lines; should memory run out, what is formatted so far is written and
 * the buffer starts again, so the text stays whole (in several writes). */
struct evbuf {
	char *p;
	size_t n, cap;
	int fd;
	char stack[1024];
};

static void buf_room(struct evbuf *b, size_t need)
{
	if (b->n + need <= b->cap)
		return;
	size_t cap = b->cap * 2;

	while (cap < b->n + need)
		cap *= 2;
	char *p = b->p == b->stack ? malloc(cap) : realloc(b->p, cap);

	if (!p) {
		write_all(b->fd, b->p, b->n);
		b->n = 0;
		if (need > b->cap)
			abort();   /* cannot happen: no piece is longer than 256 bytes */
	}
	if (b->p == b->stack)
		memcpy(p, b->stack, b->n);
	b->p = p;
	b->cap = cap;
}

static void buf_putc(struct evbuf *b, char c)
{
	buf_room(b, 1);
	b->p[b->n++] = c;
}

static void buf_puts(struct evbuf *b, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		size_t k = len < 256 ? len : 256;

		buf_room(b, k);
		memcpy(b->p + b->n, s, k);
		b->n += k;
		s += k;
		len -= k;
	}
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct evbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if ((size_t)k < sizeof(tmp)) {
		buf_room(b, (size_t)k);
		memcpy(b->p + b->n, tmp, (size_t)k);
		b->n += (size_t)k;
		return;
	}
	char *big = malloc((size_t)k + 1);   /* a huge double: "%.3f" of 1e300 */

	if (!big)
		return;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)k + 1, fmt, ap);
	va_end(ap);
	buf_puts(b, big);
	free(big);
}

static void events_format_field(struct evbuf *b, const struct event_field *f)
{
	static const char hex[] = "0123456789abcdef";

	buf_putc(b, ' ');
	buf_puts(b, f->key ? f->key : "(null)");
	buf_putc(b, '=');
	switch (f->type) {
	case EV_STR: {
		const char *s = f->v.s ? f->v.s : "";
		bool quote = !*s;

		for (const char *c = s; *c; c++)
			if (*c == ' ' || *c == '"' || *c == '=' || (unsigned char)*c < 0x20)
				quote = true;
		if (!quote) {
			buf_puts(b, s);
			break;
		}
		buf_putc(b, '"');
		for (const char *c = s; *c; c++) {
			unsigned char u = (unsigned char)*c;

			buf_room(b, 4);
			if (u == '"' || u == '\\') {
				b->p[b->n++] = '\\';
				b->p[b->n++] = (char)u;
			} else if (u < 0x20) {
				b->p[b->n++] = '\\';
				b->p[b->n++] = 'x';
				b->p[b->n++] = hex[u >> 4];
				b->p[b->n++] = hex[u & 15];
			} else {
				b->p[b->n++] = (char)u;
			}
		}
		buf_putc(b, '"');
		break;
	}
	case EV_U64:
		buf_printf(b, "%llu", (unsigned long long)f->v.u);
		break;
	case EV_I64:
		buf_printf(b, "%lld", (long long)f->v.i);
		break;
	case EV_F64:
		buf_printf(b, "%.3f", f->v.f);
		break;
	case EV_BOOL:
		buf_puts(b, f->v.b ? "true" : "false");
		break;
	case EV_BYTES:
		if (!f->v.bytes.p || !f->v.bytes.n) {
			buf_putc(b, '-');
			break;
		}
		for (size_t i = 0; i < f->v.bytes.n; i++) {
			buf_room(b, 2);
			b->p[b->n++] = hex[f->v.bytes.p[i] >> 4];
			b->p[b->n++] = hex[f->v.bytes.p[i] & 15];
		}
		break;
	}
}

void events_emit(const char *name, const struct event_field *f, unsigned n)
{
	struct event ev = { .name = name, .f = f, .n = n };
	struct evbuf b;

	ev.t = (double)(clock_now_ns() - ev_t0_ns) / 1e9;
	pthread_mutex_lock(&ev_lock);
	b.p = b.stack;
	b.n = 0;
	b.cap = sizeof(b.stack);
	b.fd = ev_fd >= 0 ? ev_fd : STDERR_FILENO;
	buf_printf(&b, "fukivmm-event t=%.6f event=", ev.t);
	buf_puts(&b, name ? name : "(null)");
	for (unsigned i = 0; i < n; i++)
		events_format_field(&b, &f[i]);
	buf_putc(&b, '\n');
	if (!ev_quiet)
		write_all(b.fd, b.p, b.n);
	if (b.p != b.stack)
		free(b.p);
	for (unsigned i = 0; i < EVENTS_MAX_SUBS; i++)
		if (ev_subs[i].fn)
			ev_subs[i].fn(ev_subs[i].opaque, &ev);
	pthread_mutex_unlock(&ev_lock);
}

int events_subscribe(events_fn fn, void *opaque)
{
	int h = -ENOSPC;

	pthread_mutex_lock(&ev_lock);
	for (unsigned i = 0; i < EVENTS_MAX_SUBS; i++)
		if (!ev_subs[i].fn) {
			ev_subs[i].fn = fn;
			ev_subs[i].opaque = opaque;
			h = (int)i;
			break;
		}
	pthread_mutex_unlock(&ev_lock);
	return h;
}

void events_unsubscribe(int handle)
{
	if (handle < 0 || handle >= EVENTS_MAX_SUBS)
		return;
	pthread_mutex_lock(&ev_lock);
	ev_subs[handle].fn = NULL;
	ev_subs[handle].opaque = NULL;
	pthread_mutex_unlock(&ev_lock);
}
