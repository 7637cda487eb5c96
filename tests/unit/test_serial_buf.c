/* tests/unit/test_serial_buf.c: the UART's buffered output (devices/serial.c
 * serial_out_fd / serial_drain): draining over a pipe, a full ring dropping
 * and counting, the max_size cap, a sink nobody reads never blocking the
 * writer, a closed reader not killing the process.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"
#include "vmm/base/bus.h"

#define COM 0x3f8

static struct bus pio;

static void setup(void)
{
	bus_init(&pio);
}

static void teardown(void)
{
	bus_free(&pio);
}

TestSuite(serial_buf, .init = setup, .fini = teardown);

static unsigned cb_calls;

static void cb_out(void *opaque, const uint8_t *buf, size_t n)
{
	cb_calls += (unsigned)n;
}

static atomic_uint notified;

static void on_notify(void *opaque)
{
	atomic_fetch_add(&notified, 1);
}

static struct serial *mk(void)
{
	struct serial *s = serial_create(COM, NULL, SERIAL_COM1_GSI, cb_out, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(serial_attach(s, &pio), 0);
	cb_calls = 0;
	atomic_store(&notified, 0);
	return s;
}

static void put(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		uint8_t v = b[i];

		cr_assert_eq(bus_access(&pio, COM, &v, 1, true), 0);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

Test(serial_buf, callback_until_buffered)
{
	struct serial *s = mk();
	int p[2];

	put("ab", 2);
	cr_assert_eq(cb_calls, 2, "the old interface is unchanged");
	cr_assert_eq(serial_output_fd(s), -1);
	cr_assert_eq(serial_drain(s, 1), 0, "nothing buffered: nothing to drain");
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, on_notify, NULL), 0);
	cr_assert_eq(serial_output_fd(s), p[1]);
	cr_assert(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	put("cd", 2);
	cr_assert_eq(cb_calls, 2, "buffered output does not reach the callback");
	cr_assert_eq(serial_pending(s), 2);
	cr_assert_eq(serial_out_fd(s, -1, 0, NULL, NULL), -EBADF);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

Test(serial_buf, drain_over_a_pipe)
{
	struct serial *s = mk();
	char got[64] = { 0 };
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, on_notify, NULL), 0);
	put("hello ", 6);
	cr_assert_eq(atomic_load(&notified), 1, "notified once, when the ring filled from empty");
	put("world", 5);
	cr_assert_eq(atomic_load(&notified), 1);
	cr_assert_eq(serial_pending(s), 11);
	cr_assert_eq(serial_drain(s, p[1]), 11);
	cr_assert_eq(serial_pending(s), 0);
	cr_assert_eq(read(p[0], got, sizeof(got)), 11);
	cr_assert_str_eq(got, "hello world");
	put("!", 1);
	cr_assert_eq(atomic_load(&notified), 2);
	/* a reset keeps what the guest already sent */
	serial_reset(s);
	cr_assert_eq(serial_pending(s), 1);
	cr_assert_eq(serial_drain(s, p[1]), 1);
	cr_assert_eq(serial_dropped(s), 0);
	cr_assert_eq(serial_accepted(s), 12);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

Test(serial_buf, ring_wraps_in_order)
{
	struct serial *s = mk();
	static uint8_t in[3 * SERIAL_OUTBUF_SIZE], out[3 * SERIAL_OUTBUF_SIZE];
	size_t sent = 0, got = 0;
	int p[2];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, NULL, NULL), 0);
	/* odd-sized pieces, so the ring's end falls inside a drain */
	while (got < sizeof(in)) {
		size_t n = sizeof(in) - sent < 10007 ? sizeof(in) - sent : 10007;
		ssize_t r;

		put(in + sent, n);
		sent += n;
		cr_assert_geq(serial_drain(s, p[1]), 0);
		while ((r = read(p[0], out + got, sizeof(out) - got)) > 0)
			got += (size_t)r;
		if (sent == sizeof(in) && !serial_pending(s) && r < 0)
			break;
	}
	cr_assert_eq(got, sizeof(in));
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
	cr_assert_eq(serial_dropped(s), 0);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

Test(serial_buf, full_ring_drops_and_counts)
{
	struct serial *s = mk();
	static uint8_t buf[SERIAL_OUTBUF_SIZE + 1000];
	int p[2];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, NULL, NULL), 0);
	put(buf, sizeof(buf));
	cr_assert_eq(serial_pending(s), SERIAL_OUTBUF_SIZE);
	cr_assert_eq(serial_dropped(s), 1000);
	cr_assert_eq(serial_accepted(s), SERIAL_OUTBUF_SIZE);
	/* draining makes room again */
	cr_assert_eq(serial_drain(s, p[1]), SERIAL_OUTBUF_SIZE);
	put("y", 1);
	cr_assert_eq(serial_pending(s), 1);
	cr_assert_eq(serial_dropped(s), 1000);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

Test(serial_buf, max_size_caps_a_file)
{
	struct serial *s = mk();
	char path[] = "/tmp/fuki-serial-XXXXXX";
	static uint8_t buf[5000];
	off_t size;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	memset(buf, 'z', sizeof(buf));
	cr_assert_eq(serial_out_fd(s, fd, 4096, NULL, NULL), 0);
	for (int round = 0; round < 3; round++) {
		put(buf, sizeof(buf));
		cr_assert_geq(serial_drain(s, fd), 0);
	}
	size = lseek(fd, 0, SEEK_END);
	cr_assert_eq(size, 4096, "the file stops at its cap (%lld)", (long long)size);
	cr_assert_eq(serial_accepted(s), 4096);
	cr_assert_eq(serial_dropped(s), 3 * sizeof(buf) - 4096);
	cr_assert_eq(serial_pending(s), 0);
	serial_destroy(s);
	close(fd);
}

/* A pipe nobody reads: the guest keeps writing, the drainer keeps
 * draining, neither ever waits. */
Test(serial_buf, unread_pipe_never_blocks, .timeout = 20)
{
	struct serial *s = mk();
	static uint8_t buf[4096];
	uint64_t t0, t1, total_drained = 0;
	int p[2];

	memset(buf, 'q', sizeof(buf));
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, NULL, NULL), 0);
	t0 = now_ms();
	/* 8 MiB of output into a 64 KiB pipe that is never read */
	for (int i = 0; i < 2048; i++) {
		long n;

		put(buf, sizeof(buf));
		n = serial_drain(s, p[1]);
		cr_assert_geq(n, 0, "drain error %ld", n);
		total_drained += (uint64_t)n;
	}
	t1 = now_ms();
	cr_assert_lt(t1 - t0, 10000, "took %llu ms", (unsigned long long)(t1 - t0));
	cr_assert_leq(total_drained, 1u << 20, "more went into the pipe than it holds");
	cr_assert_eq(serial_pending(s), SERIAL_OUTBUF_SIZE);
	cr_assert_eq(serial_accepted(s), total_drained + SERIAL_OUTBUF_SIZE);
	cr_assert_eq(serial_dropped(s), 2048ull * sizeof(buf) - serial_accepted(s));
	/* a drain on a full pipe returns at once with nothing written */
	t0 = now_ms();
	cr_assert_eq(serial_drain(s, p[1]), 0);
	cr_assert_lt(now_ms() - t0, 1000);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

/* The reader went away: an error, the bytes counted as dropped, and no
 * SIGPIPE even with the default disposition. */
Test(serial_buf, closed_reader_is_an_error_not_a_signal)
{
	struct serial *s = mk();
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	int p[2];

	cr_assert_eq(sigaction(SIGPIPE, &dfl, &old), 0);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(serial_out_fd(s, p[1], 0, NULL, NULL), 0);
	close(p[0]);
	put("lost", 4);
	cr_assert_eq(serial_drain(s, p[1]), -EPIPE);
	cr_assert_eq(serial_dropped(s), 4);
	cr_assert_eq(serial_pending(s), 0);
	sigaction(SIGPIPE, &old, NULL);
	serial_destroy(s);
	close(p[1]);
}
