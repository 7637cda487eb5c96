/* vmm/base/clock.h: the monotonic clock every timing in fukivmm uses
 * (events, rebuild phases, control-socket deadlines). */
#ifndef FUKI_CLOCK_H
#define FUKI_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_now_ms(void)
{
	return clock_now_ns() / 1000000ULL;
}

#endif
