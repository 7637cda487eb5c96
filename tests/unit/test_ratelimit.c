/* tests/unit/test_ratelimit.c: the token buckets of vmm/base/ratelimit.c
 * (on an injected clock) and the rate-limited log lines of vmm/base/log.c.
 * Owns: only these tests; the log sink is redirected to a temporary file
 * and put back. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/base/ratelimit.h"

#define S 1000000000ULL

Test(ratelimit, burst_then_suppression)
{
	struct ratelimit rl = RATELIMIT_INIT(5, 1);
	uint64_t n = 99;

	for (int i = 0; i < 5; i++) {
		cr_assert(ratelimit_allow_at(&rl, 1000, &n), "event %d of the burst", i);
		cr_assert_eq(n, 0);
	}
	for (int i = 0; i < 100; i++)
		cr_assert_not(ratelimit_allow_at(&rl, 1000 + (uint64_t)i, &n));
	cr_assert_eq(n, 0, "a refused event leaves the count alone");
	cr_assert_eq(ratelimit_total_suppressed(&rl), 100);
}

Test(ratelimit, refill_over_time)
{
	struct ratelimit rl = RATELIMIT_INIT(3, 2);   /* one token every 500 ms */
	uint64_t t = 7 * S, n = 0;

	for (int i = 0; i < 3; i++)
		cr_assert(ratelimit_allow_at(&rl, t, &n));
	cr_assert_not(ratelimit_allow_at(&rl, t, &n));
	/* 499 ms later: still nothing */
	cr_assert_not(ratelimit_allow_at(&rl, t + 499000000ULL, &n));
	/* 500 ms: one token */
	cr_assert(ratelimit_allow_at(&rl, t + 500000000ULL, &n));
	cr_assert_eq(n, 2, "two suppressed before it");
	cr_assert_not(ratelimit_allow_at(&rl, t + 500000000ULL, &n));
	/* an hour later the bucket is full again, but never fuller than burst */
	t += 3600 * S;
	for (int i = 0; i < 3; i++) {
		cr_assert(ratelimit_allow_at(&rl, t, &n));
		cr_assert_eq(n, i == 0 ? 1 : 0, "the count is reported once (event %d)", i);
	}
	cr_assert_not(ratelimit_allow_at(&rl, t, &n));
}

Test(ratelimit, steady_rate)
{
	struct ratelimit rl = RATELIMIT_INIT(10, 4);
	uint64_t passed = 0, n;

	/* an event every millisecond for 10 s: burst + 4 per second */
	for (uint64_t ms = 0; ms < 10000; ms++)
		passed += ratelimit_allow_at(&rl, S + ms * 1000000ULL, &n);
	cr_assert_geq(passed, 10 + 39);
	cr_assert_leq(passed, 10 + 40);
}

Test(ratelimit, clock_edges)
{
	struct ratelimit rl;
	uint64_t n;

	ratelimit_init(&rl, 0, 0);   /* taken as 1 and 1 */
	cr_assert(ratelimit_allow_at(&rl, 5 * S, &n));
	/* time going back refills nothing */
	cr_assert_not(ratelimit_allow_at(&rl, 1 * S, &n));
	cr_assert_not(ratelimit_allow_at(&rl, 5 * S + S / 2, &n));
	cr_assert(ratelimit_allow_at(&rl, 6 * S, &n));
	cr_assert_eq(n, 2);
	/* the far end of the clock does not overflow */
	cr_assert(ratelimit_allow_at(&rl, UINT64_MAX - 1, &n));
	cr_assert_not(ratelimit_allow_at(&rl, UINT64_MAX, &n));
	/* a rate beyond one per nanosecond still limits */
	ratelimit_init(&rl, 2, 4000000000u);
	cr_assert(ratelimit_allow_at(&rl, 0, NULL));
	cr_assert(ratelimit_allow_at(&rl, 0, NULL));
	cr_assert_not(ratelimit_allow_at(&rl, 0, NULL));
	cr_assert(ratelimit_allow_at(&rl, 1, NULL));
}

struct hammer {
	struct ratelimit *rl;
	unsigned passed;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 20000; i++)
		h->passed += ratelimit_allow_at(h->rl, 42 * S, NULL);
	return NULL;
}

Test(ratelimit, threads_share_one_bucket)
{
	struct ratelimit rl = RATELIMIT_INIT(100, 1);
	struct hammer h[4];
	pthread_t th[4];
	unsigned total = 0;
	uint64_t n = 0;

	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ .rl = &rl };
		pthread_create(&th[i], NULL, hammer_thread, &h[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += h[i].passed;
	}
	cr_assert_eq(total, 100, "exactly the burst passes (%u)", total);
	cr_assert_eq(ratelimit_total_suppressed(&rl), 4 * 20000 - 100);
	cr_assert(ratelimit_allow_at(&rl, 43 * S, &n));
	cr_assert_eq(n, 4 * 20000 - 100);
}

/* ---- the log lines ---- */

static char *read_all(FILE *f)
{
	long len;
	char *buf;

	fflush(f);
	len = ftell(f);
	buf = calloc(1, (size_t)len + 1);
	rewind(f);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void flood_site(unsigned times)
{
	for (unsigned i = 0; i < times; i++)
		log_warn_rl("flood %u", i);
}

Test(ratelimit, log_lines_suppressed_and_reported_once)
{
	FILE *f = tmpfile();
	struct ratelimit rl = RATELIMIT_INIT(3, 1);
	enum log_level old = log_get_level();
	char *out;

	cr_assert_not_null(f);
	log_set_file(f);
	log_set_level(LOG_INFO);
	for (int i = 0; i < 50; i++)
		log_rl(LOG_WARN, &rl, "bad thing %d", i);
	/* the refill a second later (one token), without waiting a second */
	pthread_mutex_lock(&rl.lock);
	rl.last_ns -= S;
	pthread_mutex_unlock(&rl.lock);
	log_rl(LOG_WARN, &rl, "bad thing again");
	log_rl(LOG_WARN, &rl, "bad thing and again");
	/* a debug line at info level costs no token and prints nothing */
	pthread_mutex_lock(&rl.lock);
	rl.last_ns -= 2 * S;
	pthread_mutex_unlock(&rl.lock);
	for (int i = 0; i < 20; i++)
		log_rl(LOG_DEBUG, &rl, "quiet %d", i);
	log_rl(LOG_WARN, &rl, "after the quiet ones");
	log_set_file(NULL);
	log_set_level(old);
	out = read_all(f);
	fclose(f);

	cr_assert_eq(count(out, "bad thing "), 4, "%s", out);
	cr_assert(strstr(out, "bad thing 2\n"), "%s", out);
	cr_assert_null(strstr(out, "bad thing 3\n"), "%s", out);
	cr_assert_eq(count(out, "messages suppressed"), 2, "%s", out);
	cr_assert(strstr(out, "fukivmm: warning: 47 messages suppressed (tests/unit/test_ratelimit.c:"),
		  "%s", out);
	/* the debug lines were not counted: only "and again" was suppressed */
	cr_assert(strstr(out, "fukivmm: warning: 1 messages suppressed (tests/unit/test_ratelimit.c:"),
		  "%s", out);
	/* the suppressed line comes right before the message let through */
	cr_assert(strstr(out, ")\nfukivmm: warning: bad thing again\n"), "%s", out);
	cr_assert_null(strstr(out, "bad thing and again"), "%s", out);
	cr_assert_null(strstr(out, "debug:"), "%s", out);
	cr_assert(strstr(out, ")\nfukivmm: warning: after the quiet ones\n"), "%s", out);
	free(out);
}

Test(ratelimit, a_bucket_per_call_site)
{
	FILE *f = tmpfile();
	char *out;

	cr_assert_not_null(f);
	log_set_file(f);
	flood_site(1000);
	log_warn_rl("another site");
	log_set_file(NULL);
	out = read_all(f);
	fclose(f);
	/* (one more if the loop took over a second) */
	cr_assert_geq(count(out, "flood "), RATELIMIT_BURST, "%s", out);
	cr_assert_leq(count(out, "flood "), RATELIMIT_BURST + 1, "%s", out);
	cr_assert_eq(count(out, "another site"), 1, "%s", out);
	free(out);
}
