/* tests/unit/test_qgs.c: tdx/qgs.c, the GetQuote relay to the quote
 * generation service: framing over a socketpair (a thread plays the QGS),
 * answers too large, a peer that hangs up or stays silent, and qgs_relay
 * over a real unix socket. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tdx/qgs.h"

enum peer_mode {
	PEER_ANSWER,          /* answer with `reply_len` bytes of 0xA5 */
	PEER_HANG_UP,         /* read the request, close without answering */
	PEER_SHORT,           /* announce reply_len bytes, send half, close */
	PEER_SILENT,          /* read the request, then say nothing */
};

struct peer {
	int fd;               /* the QGS end; closed by the peer thread */
	enum peer_mode mode;
	uint32_t reply_len;
	uint8_t got[256];     /* the request payload the peer received */
	uint32_t got_len;
	int ok;               /* the request was framed as expected */
};

static int read_n(int fd, uint8_t *b, size_t n)
{
	while (n) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *peer_main(void *arg)
{
	struct peer *pe = arg;
	uint8_t hdr[4], out[512];
	uint32_t n;

	if (read_n(pe->fd, hdr, 4) == 0) {
		n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (n <= sizeof(pe->got) && read_n(pe->fd, pe->got, n) == 0) {
			pe->got_len = n;
			pe->ok = 1;
		}
	}
	if (pe->mode == PEER_ANSWER || pe->mode == PEER_SHORT) {
		uint32_t len = pe->mode == PEER_SHORT ? pe->reply_len / 2 : pe->reply_len;

		hdr[0] = (uint8_t)(pe->reply_len >> 24);
		hdr[1] = (uint8_t)(pe->reply_len >> 16);
		hdr[2] = (uint8_t)(pe->reply_len >> 8);
		hdr[3] = (uint8_t)pe->reply_len;
		memset(out, 0xA5, sizeof(out));
		/* no cr_assert off the test's thread: a failed send shows as a
		 * failed exchange; MSG_NOSIGNAL: the client may have closed */
		if (send(pe->fd, hdr, 4, MSG_NOSIGNAL) == 4 && len)
			(void)!send(pe->fd, out, len, MSG_NOSIGNAL);
	} else if (pe->mode == PEER_SILENT) {
		char c;

		/* wait until the client gives up and closes its end */
		while (read(pe->fd, &c, 1) > 0)
			;
	}
	close(pe->fd);
	return NULL;
}

/* Run one qgs_exchange against a peer in @mode; returns its result. */
static int exchange(enum peer_mode mode, uint32_t reply_len, uint32_t room, uint8_t *buf,
		    uint32_t in_len, uint32_t *out_len, struct peer *pe, int timeout_ms)
{
	int sv[2], r;
	pthread_t t;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(pe, 0, sizeof(*pe));
	pe->fd = sv[1];
	pe->mode = mode;
	pe->reply_len = reply_len;
	cr_assert_eq(pthread_create(&t, NULL, peer_main, pe), 0);
	r = qgs_exchange(sv[0], buf, in_len, room, out_len, timeout_ms);
	close(sv[0]);
	pthread_join(t, NULL);
	return r;
}

Test(qgs, framing_round_trip)
{
	uint8_t buf[512];
	uint32_t out_len = 0;
	struct peer pe;

	for (unsigned i = 0; i < 100; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(exchange(PEER_ANSWER, 300, sizeof(buf), buf, 100, &out_len, &pe, 5000), 0);
	cr_assert(pe.ok, "request not framed as a 4-byte big-endian length + payload");
	cr_assert_eq(pe.got_len, 100);
	for (unsigned i = 0; i < 100; i++)
		cr_assert_eq(pe.got[i], (uint8_t)i);
	cr_assert_eq(out_len, 300);
	for (unsigned i = 0; i < 300; i++)
		cr_assert_eq(buf[i], 0xA5);
}

Test(qgs, empty_request_and_answer)
{
	uint8_t buf[16] = { 0 };
	uint32_t out_len = 7;
	struct peer pe;

	cr_assert_eq(exchange(PEER_ANSWER, 0, sizeof(buf), buf, 0, &out_len, &pe, 5000), 0);
	cr_assert(pe.ok);
	cr_assert_eq(pe.got_len, 0);
	cr_assert_eq(out_len, 0);
}

Test(qgs, answer_larger_than_room)
{
	uint8_t buf[512];
	uint32_t out_len = 7;
	struct peer pe;

	memset(buf, 0, sizeof(buf));
	cr_assert_eq(exchange(PEER_ANSWER, 300, 200, buf, 10, &out_len, &pe, 5000), -ENOSPC);
	cr_assert_eq(out_len, 7, "out_len written on failure");
	/* nothing of the answer landed in the buffer */
	cr_assert_eq(buf[0], 0);
}

Test(qgs, peer_hangs_up)
{
	uint8_t buf[64] = { 0 };
	uint32_t out_len = 7;
	struct peer pe;

	cr_assert_eq(exchange(PEER_HANG_UP, 0, sizeof(buf), buf, 8, &out_len, &pe, 5000), -EIO);
	cr_assert_eq(exchange(PEER_SHORT, 40, sizeof(buf), buf, 8, &out_len, &pe, 5000), -EIO);
	cr_assert_eq(out_len, 7);
}

Test(qgs, silent_peer_times_out)
{
	uint8_t buf[64] = { 0 };
	uint32_t out_len = 7;
	struct peer pe;

	cr_assert_eq(exchange(PEER_SILENT, 0, sizeof(buf), buf, 8, &out_len, &pe, 50),
		     -ETIMEDOUT);
	cr_assert(pe.ok);
	cr_assert_eq(out_len, 7);
}

/* ---- qgs_relay: connects by path ---- */

struct listener {
	int fd;
	struct peer pe;
};

static void *accept_one(void *arg)
{
	struct listener *ls = arg;
	int c = accept(ls->fd, NULL, NULL);

	if (c < 0)
		return NULL;      /* the relay then fails and the test says so */
	ls->pe.fd = c;
	return peer_main(&ls->pe);
}

Test(qgs, relay_over_a_unix_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/fuki-qgs-XXXXXX";
	struct listener ls;
	uint8_t buf[128];
	uint32_t out_len = 0;
	pthread_t t;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qgs.sock", dir);
	memset(&ls, 0, sizeof(ls));
	ls.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(ls.fd, 0);
	cr_assert_eq(bind(ls.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(ls.fd, 1), 0);
	ls.pe.mode = PEER_ANSWER;
	ls.pe.reply_len = 64;
	cr_assert_eq(pthread_create(&t, NULL, accept_one, &ls), 0);
	memset(buf, 0x11, 32);
	cr_assert_eq(qgs_relay(sa.sun_path, buf, 32, sizeof(buf), &out_len), QGS_OK);
	pthread_join(t, NULL);
	cr_assert(ls.pe.ok);
	cr_assert_eq(ls.pe.got_len, 32);
	cr_assert_eq(ls.pe.got[31], 0x11);
	cr_assert_eq(out_len, 64);
	cr_assert_eq(buf[63], 0xA5);
	close(ls.fd);
	unlink(sa.sun_path);
	/* nobody listening any more: unavailable, not failed */
	cr_assert_eq(qgs_relay(sa.sun_path, buf, 32, sizeof(buf), &out_len), QGS_UNAVAILABLE);
	rmdir(dir);
}

Test(qgs, relay_path_too_long_is_unavailable)
{
	char path[200];
	uint8_t buf[8];
	uint32_t out_len = 0;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	cr_assert_eq(qgs_relay(path, buf, 0, sizeof(buf), &out_len), QGS_UNAVAILABLE);
}
