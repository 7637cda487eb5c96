/* tests/fuzz/fuzz_api_server.c: libFuzzer target for the control socket
 * server (vmm/api/server.c): frames and ops against a fake VM, over a real
 * Unix socket, as a client would send them.  tests/fuzz/fuzz_api.c covers
 * the wire decoder alone; this one covers dispatch, every op's reply, the
 * policy merge, subscriptions with events emitted by ops, and connection
 * handling.
 * Input: the byte stream one client sends (its first byte picks how it is
 * cut into writes); the client then half-closes and reads to the end.
 * Checks: no crash or sanitizer report in the server; the server closes a
 * half-closed connection within 2 s; everything it sends is a sequence of
 * whole frames, each one CBOR map within the limits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/proto.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

/* ---- the fake VM ---- */

static struct doorbell_policy policy = { .enabled = true, .max_image_size = 16 << 20,
					 .max_opaque_size = 4096 };
static unsigned resets, shutdowns;

static int fake_status(void *o, struct api_status *st)
{
	st->state = "running";
	st->platform = "none";
	st->name = (resets & 1) ? NULL : "fuzz";
	st->vcpus = 2;
	st->memory = 64 << 20;
	st->uptime_s = 1.5;
	st->has_measurement = resets & 2;
	st->resets = resets;
	st->policy = policy;
	return 0;
}

static int fake_policy_get(void *o, struct doorbell_policy *p)
{
	*p = policy;
	return 0;
}

static int fake_policy_set(void *o, const struct doorbell_policy *p)
{
	if (p->max_image_size > (16u << 20) || p->max_image_size % 4096)
		return -EINVAL;
	policy = *p;
	EVENTS_EMIT("policy", EVF_BOOL("enabled", p->enabled));
	return 0;
}

static int fake_reset(void *o)
{
	resets++;
	EVENTS_EMIT("reset", EVF_STR("cause", "api"), EVF_U64("n", resets));
	return (resets % 5) == 0 ? -EBUSY : 0;
}

static int fake_shutdown(void *o)
{
	shutdowns++;
	return 0;
}

static int fake_measure(void *o, uint8_t out[48], bool *has)
{
	if (resets % 3 == 0)
		return -ENOENT;
	memset(out, 0x5a, 48);
	*has = resets & 1;
	return 0;
}

static const struct api_ops ops = {
	.status = fake_status,
	.policy_get = fake_policy_get,
	.policy_set = fake_policy_set,
	.reset = fake_reset,
	.shutdown = fake_shutdown,
	.measure_pending = fake_measure,
};

/* ---- the server, started once ---- */

static char dir[64], path[128];
static struct api_server *srv;

static void stop_server(void)
{
	api_stop(srv);
	unlink(path);
	rmdir(dir);
}

static void start_server(void)
{
	const struct api_limits lim = { .max_conns = 8, .partial_timeout_ms = 1000,
					.idle_timeout_ms = 1000 };
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERR);
	events_open("/dev/null");
	strcpy(dir, "/tmp/fuki-fuzzapi-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/s", dir);
	srv = api_start_ex(path, NULL, 0, &ops, NULL, &lim, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "fuzz_api_server: %s\n", err);
		abort();
	}
	atexit(stop_server);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void check_replies(const uint8_t *b, size_t n, bool clean)
{
	size_t pos = 0;

	while (pos < n) {
		uint32_t blen = 0;
		long fl = api_frame_peek(b + pos, n - pos, &blen);
		char msg[128];
		cbor_item_t *it;

		if (fl == 0 && !clean)
			break;
		if (fl <= 0)
			abort();   /* a partial or malformed frame from the server */
		it = api_cbor_load(b + pos + API_FRAME_HDR, blen, msg, sizeof(msg));
		if (!it || !cbor_isa_map(it))
			abort();
		if (!api_map_get(it, "ok") && !api_map_get(it, "error") && !api_map_get(it, "event"))
			abort();
		cbor_decref(&it);
		pos += (size_t)fl;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t reply[1 << 20];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t got = 0, sent = 0, chunk;
	uint64_t deadline;
	bool clean = true;
	int fd;

	if (!srv)
		start_server();
	if (!size)
		return 0;
	/* the fake VM starts every input afresh (the server is idle here) */
	policy = (struct doorbell_policy){ .enabled = true, .max_image_size = 16 << 20,
					   .max_opaque_size = 4096 };
	resets = shutdowns = 0;
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(a.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		abort();
	deadline = now_ms() + 2000;
	/* send in pieces, reading what comes back meanwhile (a subscriber's
	 * events must not fill the socket while the client only writes) */
	for (;;) {
		struct pollfd p = { fd, POLLIN | (sent < size ? POLLOUT : 0), 0 };
		int t = (int)(deadline > now_ms() ? deadline - now_ms() : 0);

		if (t == 0)
			abort();   /* the server neither took our bytes nor closed */
		if (poll(&p, 1, t) <= 0)
			continue;
		if (p.revents & POLLOUT) {
			size_t n = size - sent < chunk ? size - sent : chunk;
			ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				sent = size;   /* the server closed on us: fine */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(fd, reply + got, sizeof(reply) - got, MSG_DONTWAIT);

			if (r > 0) {
				got += (size_t)r;
				if (got == sizeof(reply))
					break;
			} else if (r == 0) {
				break;
			} else if (errno != EAGAIN && errno != EINTR) {
				clean = false;   /* reset: the last frame may be cut */
				break;
			}
		}
	}
	close(fd);
	/* a connection closed for overflow may end inside a frame */
	if (got < API_DEFAULT_OUT_MAX)
		check_replies(reply, got, clean);
	return 0;
}
