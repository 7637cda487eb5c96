/* tdx/qgs.h: the client side of the TDX quote generation service (QGS)
 * socket, for the GetQuote TDVMCALL.  Owns the framing only: a 4-byte
 * big-endian length then the payload, answered the same way (QEMU
 * tdx-quote-generator.c).  No VM state: the caller hands in the guest's
 * buffer and maps the result onto the GetQuote status. */
#ifndef FUKI_TDX_QGS_H
#define FUKI_TDX_QGS_H

#include <stdint.h>

#define QGS_TIMEOUT_MS 30000   /* for the whole exchange */

enum qgs_result {
	QGS_OK = 0,
	QGS_UNAVAILABLE,        /* no socket at the path, or it cannot be reached */
	QGS_FAILED,             /* the exchange broke, timed out or the answer is
	                           larger than the room */
};

/* Send @in_len bytes of @payload over the connected stream @fd and read
 * the answer into @payload (at most @room bytes; *out_len = its length).
 * Never blocks in a system call: the socket is used with MSG_DONTWAIT and
 * poll(), and the whole exchange takes at most @timeout_ms.  A signal
 * (the vCPU kick of a stop or a reset) ends it.  0, -EIO (write/read failed
 * or the peer closed), -ETIMEDOUT, -EINTR or -ENOSPC (answer longer than
 * @room). */
int qgs_exchange(int fd, uint8_t *payload, uint32_t in_len, uint32_t room, uint32_t *out_len,
		 int timeout_ms);

/* Connect to the QGS unix socket at @path (non-blocking: a full backlog is
 * QGS_UNAVAILABLE) and run one qgs_exchange (with QGS_TIMEOUT_MS).
 * Synchronous on the vCPU thread, which holds no bus lock here: Linux's
 * tdx-guest driver polls the buffer status, so no notification interrupt is
 * needed.  A failure is logged as one rate-limited warning. */
enum qgs_result qgs_relay(const char *path, uint8_t *payload, uint32_t in_len, uint32_t room,
			  uint32_t *out_len);

#endif
