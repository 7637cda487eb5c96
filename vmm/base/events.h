/* vmm/base/events.h: lifecycle events: one structured record per event, written
 * as one line to the event log and handed to subscribers (the control
 * socket streams them as CBOR maps).
 * Owns: the sink (stderr or [log] file), timestamps, the subscriber list and
 * the text form "fukivmm-event t=SECONDS event=NAME key=value ...".
 * Nothing here knows about devices or VMs. */
#ifndef FUKI_EVENTS_H
#define FUKI_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_type { EV_STR, EV_U64, EV_I64, EV_F64, EV_BOOL, EV_BYTES };

struct event_field {
	const char *key;
	enum event_type type;
	union {
		const char *s;
		uint64_t u;
		int64_t i;
		double f;
		bool b;
		struct { const uint8_t *p; size_t n; } bytes;   /* hex in text */
	} v;
};

struct event {
	const char *name;          /* "booted", "reset", "swap-accepted", ... */
	double t;                  /* seconds since events_open() */
	const struct event_field *f;
	unsigned n;
};

#define EVF_STR(k, x)   { .key = (k), .type = EV_STR, .v.s = (x) }
#define EVF_U64(k, x)   { .key = (k), .type = EV_U64, .v.u = (x) }
#define EVF_I64(k, x)   { .key = (k), .type = EV_I64, .v.i = (x) }
#define EVF_F64(k, x)   { .key = (k), .type = EV_F64, .v.f = (x) }
#define EVF_BOOL(k, x)  { .key = (k), .type = EV_BOOL, .v.b = (x) }
#define EVF_BYTES(k, p_, n_) { .key = (k), .type = EV_BYTES, .v.bytes = { (p_), (n_) } }

/* NULL path: stderr.  Returns 0 or -errno (then stderr is used). */
int events_open(const char *path);
/* Write the log to FD, which stays the caller's (events_close leaves it
 * open).  Each event is one write(2) of its whole line. */
int events_open_fd(int fd);
void events_close(void);
/* Write the line and call every subscriber (in the caller's thread: a
 * subscriber must not block; it copies what it needs). */
void events_emit(const char *name, const struct event_field *f, unsigned n);
#define EVENTS_EMIT(name, ...) do { \
	const struct event_field ev_f_[] = { __VA_ARGS__ }; \
	events_emit((name), ev_f_, sizeof(ev_f_) / sizeof(ev_f_[0])); \
} while (0)

/* While @quiet is set on the calling thread, the events it emits reach the
 * subscribers but not the log (the VM withholds the lines of a reset loop
 * past its rate limit).  Returns the previous setting. */
bool events_log_quiet(bool quiet);
bool events_log_is_quiet(void);

typedef void (*events_fn)(void *opaque, const struct event *ev);
/* Returns a handle >= 0, or -ENOSPC. */
int events_subscribe(events_fn fn, void *opaque);
void events_unsubscribe(int handle);

#endif
