/* vmm/api/api.h: the control socket server (protocol in docs/api.md, wire
 * format in vmm/api/proto.h).
 * Owns: the listening Unix socket, its connections, the server thread and
 * the event fan-out to subscribers.  Does not own the VM: it calls the
 * struct api_ops the VM implements and never touches VM state itself. */
#ifndef FUKI_API_H
#define FUKI_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/doorbell.h"

/* What "status" reports.  Strings are copied into the reply before the
 * server looks at anything else; they must stay valid until the status op
 * returns (string literals or VM-owned strings are fine). */
struct api_status {
	const char *state;          /* "running", "resetting", "stopped", ... */
	const char *platform;       /* "snp", "tdx", "none" */
	const char *name;           /* [vm] name, may be NULL */
	unsigned vcpus;
	uint64_t memory;            /* bytes */
	double uptime_s;
	uint8_t fw_sha384[48];      /* SHA-384 of the firmware of the current build */
	bool has_measurement;
	uint8_t measurement[48];    /* launch measurement of the current build */
	uint64_t swaps_accepted, swaps_rejected, resets;
	struct doorbell_policy policy;
};

/* What "measure-pending" reports: the firmware the next reset builds. */
struct api_pending {
	const char *firmware;       /* "guest" (the doorbell's image) or "host" */
	uint8_t sha384[48];         /* that image's SHA-384 */
	bool has_measurement;       /* SEV-SNP / TDX, measured */
	uint8_t measurement[48];    /* its launch measurement (SNP digest, TDX MRTD) */
	const char *fwid;           /* the [uki] fwid naming a guest image, or NULL */
};

/* The VM side.  Every op is called in the server thread, never with a
 * server lock held, one at a time; it must be quick (no waiting for the
 * guest) and thread-safe against the vCPU and VM threads.  An op may call
 * events_emit().  Return 0 or a negative errno; the error reply carries
 * strerror() of it (-EINVAL becomes "invalid-argument", -ENOTSUP
 * "unsupported", anything else "failed").  A NULL op answers "unsupported". */
struct api_ops {
	int (*status)(void *opaque, struct api_status *st);
	int (*policy_get)(void *opaque, struct doorbell_policy *p);
	/* The whole new policy (the server merges the fields a request sets
	 * into the one policy_get returned). */
	int (*policy_set)(void *opaque, const struct doorbell_policy *p);
	/* Ask for a reset / a power-off; return once it is requested. */
	int (*reset)(void *opaque);
	int (*shutdown)(void *opaque);
	/* The launch measurement the pending guest image will have.  -ENOENT:
	 * nothing pending.  0 with *has = false: an image is pending but no
	 * measurement can be computed for it (e.g. no confidential platform). */
	int (*measure_pending)(void *opaque, uint8_t out[48], bool *has);
	/* The same with what the reply says besides (preferred when set):
	 * the firmware the next reset builds when it differs from the
	 * current one.  -ENOENT: the next reset keeps the firmware. */
	int (*pending)(void *opaque, struct api_pending *p);
};

/* Limits (docs/api.md "Limits"); a zero field takes the default. */
struct api_limits {
	unsigned max_conns;         /* 64: more are sent "busy" and closed */
	size_t out_max;             /* 256 KiB queued output per connection */
	unsigned partial_timeout_ms;/* 10 000: a frame must complete within this */
	unsigned idle_timeout_ms;   /* 300 000: no request and not subscribed */
};
#define API_DEFAULT_MAX_CONNS 64
#define API_DEFAULT_OUT_MAX (256u * 1024)
#define API_DEFAULT_PARTIAL_MS 10000
#define API_DEFAULT_IDLE_MS 300000
#define API_SOCK_SNDBUF (64 * 1024)  /* kernel send buffer asked per connection */

struct api_server;

/* Create the socket at @path (mode 0600; an existing socket nobody listens
 * on is replaced, anything else is refused), subscribe to events and start
 * the server thread.  Peers must have the effective uid of this process or
 * one of @uids.  NULL with one line in @err on failure. */
struct api_server *api_start(const char *path, const uint32_t *uids, unsigned nuids,
			     const struct api_ops *ops, void *opaque,
			     char *err, size_t errlen);
struct api_server *api_start_ex(const char *path, const uint32_t *uids, unsigned nuids,
				const struct api_ops *ops, void *opaque,
				const struct api_limits *lim, char *err, size_t errlen);
/* Stop the thread, close every connection, unsubscribe, unlink the socket.
 * NULL is fine.  Not to be called from an op or an event subscriber. */
void api_stop(struct api_server *s);

/* Counters, for tests and logs. */
struct api_stats {
	uint64_t accepted;          /* connections served */
	uint64_t refused;           /* uid not allowed or too many */
	uint64_t requests;          /* frames decoded (good or bad) */
	uint64_t errors;            /* error replies sent */
	uint64_t dropped;           /* connections closed for overflow/timeout/bad length */
	unsigned conns;             /* open now */
	unsigned subscribers;       /* open now */
};
void api_get_stats(struct api_server *s, struct api_stats *st);

#endif
