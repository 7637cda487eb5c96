/* tdx/qgs.c: one GetQuote exchange with the quote generation service (see
 * qgs.h).  Must not know the guest or the VM: bytes in, bytes out. */
#include "tdx/qgs.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/base/clock.h"
#include "vmm/base/log.h"

/* Milliseconds left before @deadline (a clock_now_ns() value), at least 0. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = clock_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

/* Wait for @events on @fd until @deadline.  0, -ETIMEDOUT, or -EINTR: a
 * signal (the vCPU kick of a stop or reset) ends the exchange rather than
 * keeping the vCPU thread from its pause. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pf = { .fd = fd, .events = events };
	int left = ms_left(deadline);
	int r;

	if (!left)
		return -ETIMEDOUT;
	r = poll(&pf, 1, left);
	if (r < 0)
		return errno == EINTR ? -EINTR : -EIO;
	return r ? 0 : -ETIMEDOUT;
}

static int write_all(int fd, const void *buf, size_t n, uint64_t deadline)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		int r;

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r)
				return r;
			continue;
		}
		if (w < 0 && errno == EINTR)
			return -EINTR;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n, uint64_t deadline)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r;
		int e = wait_fd(fd, POLLIN, deadline);

		if (e)
			return e;
		r = recv(fd, p, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r < 0 && errno == EINTR)
			return -EINTR;
		if (r <= 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int qgs_exchange(int fd, uint8_t *payload, uint32_t in_len, uint32_t room, uint32_t *out_len,
		 int timeout_ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	uint8_t hdr[4];
	uint32_t n;
	int r;

	hdr[0] = (uint8_t)(in_len >> 24);
	hdr[1] = (uint8_t)(in_len >> 16);
	hdr[2] = (uint8_t)(in_len >> 8);
	hdr[3] = (uint8_t)in_len;
	r = write_all(fd, hdr, 4, deadline);
	if (!r)
		r = write_all(fd, payload, in_len, deadline);
	if (!r)
		r = read_all(fd, hdr, 4, deadline);
	if (r)
		return r;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > room)
		return -ENOSPC;
	r = read_all(fd, payload, n, deadline);
	if (r)
		return r;
	*out_len = n;
	return 0;
}

enum qgs_result qgs_relay(const char *path, uint8_t *payload, uint32_t in_len, uint32_t room,
			  uint32_t *out_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return QGS_UNAVAILABLE;
	strcpy(sa.sun_path, path);
	/* non-blocking: a QGS whose backlog is full (EAGAIN) is unavailable
	 * rather than a vCPU thread parked in connect() */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return QGS_UNAVAILABLE;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn_rl("tdx: GetQuote: cannot reach QGS at %s: %s", path, strerror(errno));
		close(fd);
		return QGS_UNAVAILABLE;
	}
	r = qgs_exchange(fd, payload, in_len, room, out_len, QGS_TIMEOUT_MS);
	close(fd);
	if (r) {
		log_warn_rl("tdx: GetQuote: QGS exchange failed: %s", strerror(-r));
		return QGS_FAILED;
	}
	return QGS_OK;
}
