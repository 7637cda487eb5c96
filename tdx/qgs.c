/* tdx/qgs.c: one GetQuote exchange with the quote generation service (see
 * qgs.h).  Must not know the guest or the VM: bytes in, bytes out. */
#include "tdx/qgs.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/base/log.h"

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;

	while (n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
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
	uint8_t hdr[4];
	uint32_t n;
	int r;

	hdr[0] = (uint8_t)(in_len >> 24);
	hdr[1] = (uint8_t)(in_len >> 16);
	hdr[2] = (uint8_t)(in_len >> 8);
	hdr[3] = (uint8_t)in_len;
	r = write_all(fd, hdr, 4);
	if (!r)
		r = write_all(fd, payload, in_len);
	if (!r)
		r = read_all(fd, hdr, 4, timeout_ms);
	if (r)
		return r;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > room)
		return -ENOSPC;
	r = read_all(fd, payload, n, timeout_ms);
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
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return QGS_UNAVAILABLE;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn("tdx: GetQuote: cannot reach QGS at %s: %s", path, strerror(errno));
		close(fd);
		return QGS_UNAVAILABLE;
	}
	r = qgs_exchange(fd, payload, in_len, room, out_len, QGS_TIMEOUT_MS);
	close(fd);
	if (r) {
		log_warn("tdx: GetQuote: QGS exchange failed: %s", strerror(-r));
		return QGS_FAILED;
	}
	return QGS_OK;
}
