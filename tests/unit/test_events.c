/* tests/unit/test_events.c: the event log's text form and how it is
 * written: each event is one write(2) of its whole line (read back from a
 * packet-mode pipe, where one read returns one write), the text of every
 * field type, quoting and escaping, long lines, the [log] file, and the
 * subscribers.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/events.h"

static int pfd[2] = { -1, -1 };

static void setup(void)
{
	cr_assert_eq(pipe2(pfd, O_DIRECT | O_CLOEXEC), 0, "pipe2: %s", strerror(errno));
	cr_assert_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
	fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
	events_open_fd(pfd[1]);
}

static void teardown(void)
{
	events_close();
	close(pfd[0]);
	close(pfd[1]);
}

TestSuite(events, .init = setup, .fini = teardown);

/* The next packet: one write(2) of the emitter.  NUL-terminated. */
static size_t next_packet(char *buf, size_t cap)
{
	ssize_t r = read(pfd[0], buf, cap - 1);

	cr_assert_gt(r, 0, "no event written");
	buf[r] = 0;
	return (size_t)r;
}

static void assert_no_more(void)
{
	char c;

	cr_assert_eq(read(pfd[0], &c, 1), -1, "more than one write for one event");
	cr_assert_eq(errno, EAGAIN);
}

/* The line with its timestamp checked and cut off: "event=... ...\n". */
static const char *body(char *line)
{
	const char *pre = "fukivmm-event t=";
	char *sp, *end;

	cr_assert(!strncmp(line, pre, strlen(pre)), "line: %s", line);
	strtod(line + strlen(pre), &end);
	cr_assert_neq(end, line + strlen(pre));
	/* t has six decimals */
	sp = strchr(line + strlen(pre), ' ');
	cr_assert_not_null(sp);
	cr_assert_eq(sp - strchr(line, '.'), 7, "t not in %%.6f: %s", line);
	return sp + 1;
}

Test(events, every_field_type_one_write)
{
	static const uint8_t digest[48] = { 0x00, 0x01, 0xab, 0xff, [47] = 0x5a };
	char buf[4096];

	EVENTS_EMIT("booted", EVF_U64("vcpus", 4), EVF_U64("memory", 67108864),
		    EVF_U64("max", UINT64_MAX), EVF_I64("neg", -42),
		    EVF_I64("min", INT64_MIN), EVF_F64("ms", 1.23456),
		    EVF_F64("zero", 0), EVF_F64("negf", -0.0004), EVF_BOOL("yes", true),
		    EVF_BOOL("no", false), EVF_STR("firmware", "host"),
		    EVF_BYTES("sha384", digest, sizeof(digest)), EVF_BYTES("none", NULL, 0),
		    EVF_BYTES("empty", digest, 0));
	next_packet(buf, sizeof(buf));
	assert_no_more();
	cr_assert_str_eq(body(buf),
			 "event=booted vcpus=4 memory=67108864 max=18446744073709551615 neg=-42 "
			 "min=-9223372036854775808 ms=1.235 zero=0.000 negf=-0.000 yes=true no=false "
			 "firmware=host sha384=0001abff"
			 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000005a "
			 "none=- empty=-\n");
}

Test(events, no_fields)
{
	char buf[256];

	events_emit("shutdown", NULL, 0);
	next_packet(buf, sizeof(buf));
	assert_no_more();
	cr_assert_str_eq(body(buf), "event=shutdown\n");
}

Test(events, strings_quoted_and_escaped)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "", "\"\"" },
		{ NULL, "\"\"" },
		{ "two words", "\"two words\"" },
		{ "a=b", "\"a=b\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "back\\slash" },             /* alone, not quoted */
		{ "back\\ slash", "\"back\\\\ slash\"" },     /* escaped once quoted */
		{ "tab\there", "\"tab\\x09here\"" },
		{ "nl\n", "\"nl\\x0a\"" },
		{ "\x1f\x01", "\"\\x1f\\x01\"" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },             /* bytes >= 0x80 as they are */
		{ "\x7f", "\x7f" },
	};
	char buf[512], want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVENTS_EMIT("swap-rejected", EVF_STR("reason", cases[i].in), EVF_U64("n", i));
		next_packet(buf, sizeof(buf));
		assert_no_more();
		snprintf(want, sizeof(want), "event=swap-rejected reason=%s n=%zu\n", cases[i].out, i);
		cr_assert_str_eq(body(buf), want, "case %zu", i);
	}
}

/* A line longer than the on-stack buffer: still one write, text whole. */
Test(events, long_line_one_write)
{
	static uint8_t bytes[1500];
	static char s[700], want[8192], buf[8192];
	size_t k;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7);
	memset(s, 'x', sizeof(s) - 1);
	s[100] = ' ';
	EVENTS_EMIT("big", EVF_BYTES("b", bytes, sizeof(bytes)), EVF_STR("s", s));
	next_packet(buf, sizeof(buf));
	assert_no_more();
	k = (size_t)snprintf(want, sizeof(want), "event=big b=");
	for (size_t i = 0; i < sizeof(bytes); i++)
		k += (size_t)snprintf(want + k, sizeof(want) - k, "%02x", bytes[i]);
	snprintf(want + k, sizeof(want) - k, " s=\"%s\"\n", s);
	cr_assert_str_eq(body(buf), want);
}

static void count_sub(void *opaque, const struct event *ev)
{
	int *n = opaque;

	if (!strcmp(ev->name, "reset") && ev->n == 1 && ev->f[0].type == EV_U64 &&
	    ev->f[0].v.u == 7 && ev->t >= 0)
		(*n)++;
}

Test(events, subscribers_see_the_event)
{
	int n = 0, h = events_subscribe(count_sub, &n);
	char buf[256];

	cr_assert_geq(h, 0);
	EVENTS_EMIT("reset", EVF_U64("resets", 7));
	cr_assert_eq(n, 1);
	events_unsubscribe(h);
	EVENTS_EMIT("reset", EVF_U64("resets", 7));
	cr_assert_eq(n, 1);
	next_packet(buf, sizeof(buf));
	cr_assert_str_eq(body(buf), "event=reset resets=7\n");
	next_packet(buf, sizeof(buf));
	assert_no_more();
}

static void count_all(void *opaque, const struct event *ev)
{
	(*(int *)opaque)++;
}

static void *emit_elsewhere(void *arg)
{
	EVENTS_EMIT("other-thread");
	return NULL;
}

Test(events, quiet_thread_reaches_subscribers_only)
{
	int n = 0, h = events_subscribe(count_all, &n);
	char buf[256];
	pthread_t t;

	cr_assert_geq(h, 0);
	cr_assert_eq(events_log_quiet(true), false);
	cr_assert(events_log_is_quiet());
	EVENTS_EMIT("reset", EVF_U64("n", 1));
	cr_assert_eq(n, 1, "the subscriber got the quiet event");
	assert_no_more();
	/* quiet is the calling thread's only */
	cr_assert_eq(pthread_create(&t, NULL, emit_elsewhere, NULL), 0);
	pthread_join(t, NULL);
	cr_assert_eq(n, 2);
	next_packet(buf, sizeof(buf));
	cr_assert_str_eq(body(buf), "event=other-thread\n");
	cr_assert_eq(events_log_quiet(false), true);
	EVENTS_EMIT("reset", EVF_U64("n", 2));
	next_packet(buf, sizeof(buf));
	cr_assert_str_eq(body(buf), "event=reset n=2\n");
	assert_no_more();
	events_unsubscribe(h);
}

Test(events, log_file_appends_lines)
{
	char path[] = "/tmp/fuki-events-XXXXXX", buf[512];
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "old\n", 4), 4);
	close(fd);
	cr_assert_eq(events_open(path), 0);
	EVENTS_EMIT("first-output", EVF_U64("byte", 72));
	EVENTS_EMIT("shutdown", EVF_U64("status", 65), EVF_STR("why", "debug exit"));
	events_close();
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_assert_str_eq(buf, "old\n");
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_assert_str_eq(body(buf), "event=first-output byte=72\n");
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_assert_str_eq(body(buf), "event=shutdown status=65 why=\"debug exit\"\n");
	cr_assert_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
	cr_assert_eq(events_open("/nonexistent-dir/log"), -ENOENT);
	events_open_fd(pfd[1]);
}
