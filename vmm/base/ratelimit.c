/* vmm/base/ratelimit.c: implementation of vmm/base/ratelimit.h.
 *
 * The bucket's content is kept as refill time rather than as a token
 * count: one token is worth 1e9 / rate nanoseconds, a full bucket
 * burst * 1e9 / rate.  Refilling is then adding the elapsed time and
 * clamping, with no multiplication that could overflow. */
#include "vmm/base/ratelimit.h"

#include "vmm/base/clock.h"

#define NS_PER_S 1000000000ULL

static uint64_t token_ns(const struct ratelimit *rl)
{
	uint32_t rate = rl->rate ? rl->rate : 1;
	uint64_t ns = NS_PER_S / rate;

	return ns ? ns : 1;
}

static uint64_t full_ns(const struct ratelimit *rl)
{
	return (uint64_t)(rl->burst ? rl->burst : 1) * token_ns(rl);
}

void ratelimit_init(struct ratelimit *rl, uint32_t burst, uint32_t rate)
{
	pthread_mutex_init(&rl->lock, NULL);
	rl->burst = burst ? burst : 1;
	rl->rate = rate ? rate : 1;
	rl->started = false;
	rl->credit_ns = 0;
	rl->last_ns = 0;
	rl->suppressed = 0;
	rl->total_suppressed = 0;
}

bool ratelimit_allow_at(struct ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	uint64_t full, cost;
	bool ok;

	pthread_mutex_lock(&rl->lock);
	full = full_ns(rl);
	cost = token_ns(rl);
	if (!rl->started) {
		rl->started = true;
		rl->credit_ns = full;
		rl->last_ns = now_ns;
	} else if (now_ns > rl->last_ns) {
		uint64_t gained = now_ns - rl->last_ns;

		rl->credit_ns = gained >= full - rl->credit_ns ? full : rl->credit_ns + gained;
		rl->last_ns = now_ns;
	}
	/* (a clock that goes back refills nothing and keeps the later mark) */
	ok = rl->credit_ns >= cost;
	if (ok) {
		rl->credit_ns -= cost;
		if (suppressed)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
		rl->total_suppressed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t *suppressed)
{
	return ratelimit_allow_at(rl, clock_now_ns(), suppressed);
}

uint64_t ratelimit_total_suppressed(struct ratelimit *rl)
{
	uint64_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->total_suppressed;
	pthread_mutex_unlock(&rl->lock);
	return n;
}
