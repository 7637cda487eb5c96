/* vmm/base/ratelimit.h: token buckets for messages a guest can trigger.
 * Owns: the bucket arithmetic and its lock.  Knows nothing of what is
 * limited; vmm/base/log.h builds its rate-limited log macros on it.
 *
 * A bucket holds at most @burst tokens and gains @rate tokens per second.
 * Every event takes one token; with none left the event is suppressed and
 * counted.  The next event that finds a token again is told how many were
 * suppressed since the last one passed (once: the count then restarts at
 * zero), so the log can say "N messages suppressed".  Each bucket carries
 * its own mutex: any thread may use any bucket. */
#ifndef FUKI_RATELIMIT_H
#define FUKI_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	pthread_mutex_t lock;
	uint32_t burst;         /* tokens when full: events let through back to back */
	uint32_t rate;          /* tokens gained per second (at least 1) */
	/* the state, under @lock */
	bool started;           /* false until the first event: the bucket starts full */
	uint64_t credit_ns;     /* tokens held, as refill time: one token = 1e9 / rate ns */
	uint64_t last_ns;       /* clock of the last refill */
	uint64_t suppressed;    /* events refused since the last one let through */
	uint64_t total_suppressed;  /* events ever refused (tests, statistics) */
};

/* A bucket that lets 10 events through back to back and then 1 a second:
 * one message source can add at most about one line a second to the log. */
#define RATELIMIT_BURST 10
#define RATELIMIT_RATE 1

#define RATELIMIT_INIT(b, r) \
	{ .lock = PTHREAD_MUTEX_INITIALIZER, .burst = (b), .rate = (r) }

/* For buckets not initialised statically (a zero @rate or @burst is taken
 * as 1).  The bucket starts full. */
void ratelimit_init(struct ratelimit *rl, uint32_t burst, uint32_t rate);

/* One event at monotonic time @now_ns (any origin; it must not go back).
 * True when it may be reported; then *@suppressed (if not NULL) is set to
 * the number of events refused since the last one let through, and that
 * count restarts at zero.  False when the bucket is empty: the event is
 * counted and *@suppressed is left alone. */
bool ratelimit_allow_at(struct ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

/* The same on clock_now_ns(). */
bool ratelimit_allow(struct ratelimit *rl, uint64_t *suppressed);

/* Events ever refused by @rl. */
uint64_t ratelimit_total_suppressed(struct ratelimit *rl);

#endif
