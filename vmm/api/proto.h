/* vmm/api/proto.h: the control-socket wire format (docs/api.md): framing
 * (4-byte big-endian length + one CBOR map), a bounded CBOR well-formedness
 * check, request decoding and reply/event encoding.
 * Owns: nothing but bytes.  Shared by the server (vmm/api/server.c), the client
 * (vmm/cli/ctl.c) and the fuzzer; knows nothing about sockets, threads or VMs. */
#ifndef FUKI_API_PROTO_H
#define FUKI_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "vmm/base/events.h"

#define API_PROTO_VERSION 1          /* the only version served */
#define API_FRAME_HDR 4              /* big-endian body length */
#define API_FRAME_MAX (64u * 1024)   /* body bytes, both directions */
#define API_MAX_DEPTH 16             /* nesting of arrays, maps and tags */
#define API_OP_MAX 32                /* bytes of an op name, with the NUL */

/* Error codes of an "error" reply (docs/api.md "Errors").  0 is never sent. */
enum api_errcode {
	API_E_BAD_FRAME = 1,        /* frame length 0 or over API_FRAME_MAX; not CBOR */
	API_E_BAD_REQUEST = 2,      /* not a map, missing id/op, wrong type, unknown key */
	API_E_UNKNOWN_OP = 3,
	API_E_BAD_VERSION = 4,      /* "v" other than API_PROTO_VERSION */
	API_E_INVALID = 5,          /* an argument out of range */
	API_E_FORBIDDEN = 6,        /* peer uid not allowed (sent, then closed) */
	API_E_BUSY = 7,             /* too many connections (sent, then closed) */
	API_E_TIMEOUT = 8,          /* partial frame or idle too long (sent, then closed) */
	API_E_UNSUPPORTED = 9,      /* this VM does not implement the op */
	API_E_FAILED = 10,          /* the VM could not do it (message says why) */
	API_E_OVERFLOW = 11,        /* output queue full (connection closed) */
	API_E_NO_MEMORY = 12,
	API_E_STATE = 13,           /* the op makes no sense now (e.g. subscribed twice) */
};
/* "bad-frame", "bad-request", ...; "unknown" for anything else. */
const char *api_err_name(int code);

enum api_op {
	API_OP_VERSION = 0,
	API_OP_STATUS,
	API_OP_EVENTS,
	API_OP_POLICY,              /* "doorbell-policy": get, or set some fields */
	API_OP_MEASURE_PENDING,
	API_OP_RESET,
	API_OP_SHUTDOWN,
	API_OP_COUNT
};
/* Wire name of @op ("doorbell-policy"), NULL when out of range. */
const char *api_op_name(enum api_op op);

/* The doorbell-policy fields a request sets (all optional: none = get). */
struct api_policy_args {
	bool has_enabled, enabled;
	bool has_locked, locked;
	bool has_max_image_size;
	uint64_t max_image_size;
	bool has_max_opaque_size;
	uint64_t max_opaque_size;
	bool has_min_reset_interval_ns;
	uint64_t min_reset_interval_ns;
};

struct api_request {
	bool has_id;                /* set as soon as a uint "id" was seen */
	uint64_t id;
	enum api_op op;
	uint64_t v;                 /* API_PROTO_VERSION when absent */
	struct api_policy_args policy;
};

/* Framing.  Looks at the first @len bytes of a stream: 0 when more bytes are
 * needed, the total frame length (header + body) when a whole frame is
 * there, -EMSGSIZE when the announced body is over API_FRAME_MAX, -EINVAL
 * when it is 0.  *@body_len gets the announced body length when >= 4 bytes
 * are there (may be NULL). */
long api_frame_peek(const uint8_t *buf, size_t len, uint32_t *body_len);
void api_frame_put_len(uint8_t hdr[API_FRAME_HDR], uint32_t len);

/* CBOR well-formedness (RFC 8949 appendix C) of exactly one item filling
 * @n bytes, iterative, nesting at most @max_depth.  0, -ELOOP when too deep,
 * -EINVAL when malformed, truncated or followed by more bytes. */
int api_cbor_check(const uint8_t *p, size_t n, unsigned max_depth);

/* Load one checked item (api_cbor_check first, then libcbor).  NULL with a
 * message on failure. */
cbor_item_t *api_cbor_load(const uint8_t *p, size_t n, char *msg, size_t msglen);

/* Decode a request frame body.  0, or an enum api_errcode with a one-line
 * message; req->has_id/req->id are filled as far as they could be read so
 * that the error reply can echo the id. */
int api_request_decode(const uint8_t *body, size_t n, struct api_request *req,
		       char *msg, size_t msglen);

/* Item builders.  All return NULL on out-of-memory; the api_map_put_*
 * helpers return false then (and on a full map).  A map made by
 * api_map_new() holds up to @cap pairs. */
cbor_item_t *api_map_new(size_t cap);
bool api_map_put(cbor_item_t *map, const char *key, cbor_item_t *value); /* takes @value */
bool api_map_put_str(cbor_item_t *map, const char *key, const char *v);
bool api_map_put_uint(cbor_item_t *map, const char *key, uint64_t v);
bool api_map_put_int(cbor_item_t *map, const char *key, int64_t v);
bool api_map_put_bool(cbor_item_t *map, const char *key, bool v);
bool api_map_put_float(cbor_item_t *map, const char *key, double v);
bool api_map_put_bytes(cbor_item_t *map, const char *key, const uint8_t *p, size_t n);

/* {"id": id, "ok": ok} (takes @ok; an empty map when NULL). */
cbor_item_t *api_reply_ok(uint64_t id, cbor_item_t *ok);
/* {"id"?: id, "error": {"code": code, "name": api_err_name(code), "message": msg}} */
cbor_item_t *api_reply_error(bool has_id, uint64_t id, int code, const char *msg);
/* {"event": name, "t": seconds, ...fields}: EV_BYTES become byte strings. */
cbor_item_t *api_event_item(const struct event *ev);

/* Serialize @item as one frame into a malloc'd buffer.  Returns the frame
 * length, or -ENOMEM, or -EMSGSIZE when the body would exceed API_FRAME_MAX. */
long api_frame_encode(const cbor_item_t *item, uint8_t **out);

/* Map lookup by text key (borrowed reference, NULL when absent). */
cbor_item_t *api_map_get(const cbor_item_t *map, const char *key);

#endif
