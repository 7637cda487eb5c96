/* vmm/api/proto.c: implementation of vmm/api/proto.h (the control-socket
 * wire format).  Pure functions over bytes and libcbor items; no I/O, no
 * threads, nothing about the VM. */
#include "vmm/api/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const api_err_names[] = {
	[API_E_BAD_FRAME] = "bad-frame",
	[API_E_BAD_REQUEST] = "bad-request",
	[API_E_UNKNOWN_OP] = "unknown-op",
	[API_E_BAD_VERSION] = "bad-version",
	[API_E_INVALID] = "invalid-argument",
	[API_E_FORBIDDEN] = "forbidden",
	[API_E_BUSY] = "busy",
	[API_E_TIMEOUT] = "timeout",
	[API_E_UNSUPPORTED] = "unsupported",
	[API_E_FAILED] = "failed",
	[API_E_OVERFLOW] = "overflow",
	[API_E_NO_MEMORY] = "no-memory",
	[API_E_STATE] = "bad-state",
};

const char *api_err_name(int code)
{
	if (code > 0 && (size_t)code < sizeof(api_err_names) / sizeof(api_err_names[0]) &&
	    api_err_names[code])
		return api_err_names[code];
	return "unknown";
}

static const char *const api_op_names[API_OP_COUNT] = {
	[API_OP_VERSION] = "version",
	[API_OP_STATUS] = "status",
	[API_OP_EVENTS] = "events",
	[API_OP_POLICY] = "doorbell-policy",
	[API_OP_MEASURE_PENDING] = "measure-pending",
	[API_OP_RESET] = "reset",
	[API_OP_SHUTDOWN] = "shutdown",
};

const char *api_op_name(enum api_op op)
{
	return (unsigned)op < API_OP_COUNT ? api_op_names[op] : NULL;
}

/* ---- framing ---- */

long api_frame_peek(const uint8_t *buf, size_t len, uint32_t *body_len)
{
	uint32_t n;

	if (len < API_FRAME_HDR)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (body_len)
		*body_len = n;
	if (n == 0)
		return -EINVAL;
	if (n > API_FRAME_MAX)
		return -EMSGSIZE;
	if (len - API_FRAME_HDR < n)
		return 0;
	return (long)n + API_FRAME_HDR;
}

void api_frame_put_len(uint8_t hdr[API_FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* ---- well-formedness ---- */

struct cbor_level {
	uint64_t left;      /* items still expected (definite containers) */
	bool indef;         /* ends with a break */
	int strmt;          /* indefinite string: major type of its chunks, else -1 */
};

int api_cbor_check(const uint8_t *p, size_t n, unsigned max_depth)
{
	struct cbor_level st[64];
	unsigned depth = 0;
	size_t pos = 0;

	if (max_depth > 64)
		max_depth = 64;
	for (;;) {
		if (pos >= n)
			return -EINVAL;
		uint8_t ib = p[pos++];
		unsigned mt = ib >> 5, ai = ib & 31;
		uint64_t val = ai;

		if (ib == 0xff) {
			if (!depth || !st[depth - 1].indef)
				return -EINVAL;
			depth--;
			goto item_done;
		}
		if (depth && st[depth - 1].strmt >= 0 &&
		    ((int)mt != st[depth - 1].strmt || ai == 31))
			return -EINVAL;   /* chunks: definite strings of the same type */
		if (ai >= 24 && ai <= 27) {
			unsigned k = 1u << (ai - 24);

			if (n - pos < k)
				return -EINVAL;
			val = 0;
			for (unsigned i = 0; i < k; i++)
				val = val << 8 | p[pos + i];
			pos += k;
		} else if (ai >= 28 && ai <= 30) {
			return -EINVAL;
		} else if (ai == 31 && (mt < 2 || mt > 5)) {
			return -EINVAL;   /* mt 7 ai 31 is the break, handled above */
		}

		switch (mt) {
		case 0:
		case 1:
			goto item_done;
		case 2:
		case 3:
			if (ai == 31) {
				if (depth == max_depth)
					return -ELOOP;
				st[depth++] = (struct cbor_level){ .indef = true, .strmt = (int)mt };
				continue;
			}
			if (val > n - pos)
				return -EINVAL;
			pos += val;
			goto item_done;
		case 4:
		case 5:
		case 6:
			if (depth == max_depth)
				return -ELOOP;
			if (ai == 31) {
				st[depth++] = (struct cbor_level){ .indef = true, .strmt = -1 };
				continue;
			}
			if (mt == 6)
				val = 1;
			else if (val > n - pos || (mt == 5 && val > (n - pos) / 2))
				return -EINVAL;   /* every item takes at least one byte */
			else if (mt == 5)
				val *= 2;
			if (!val)
				goto item_done;
			st[depth++] = (struct cbor_level){ .left = val, .strmt = -1 };
			continue;
		default: /* 7 */
			if (ai == 24 && val < 32)
				return -EINVAL;   /* RFC 8949 3.3: two-byte simple < 32 */
			goto item_done;
		}
item_done:
		while (depth) {
			struct cbor_level *l = &st[depth - 1];

			if (l->indef)
				break;
			if (--l->left)
				break;
			depth--;
		}
		if (!depth)
			return pos == n ? 0 : -EINVAL;
	}
}

cbor_item_t *api_cbor_load(const uint8_t *p, size_t n, char *msg, size_t msglen)
{
	struct cbor_load_result res;
	cbor_item_t *it;
	int rc = api_cbor_check(p, n, API_MAX_DEPTH);

	if (rc == -ELOOP) {
		snprintf(msg, msglen, "CBOR nested deeper than %u", API_MAX_DEPTH);
		return NULL;
	}
	if (rc) {
		snprintf(msg, msglen, "not one well-formed CBOR item");
		return NULL;
	}
	it = cbor_load(p, n, &res);
	if (!it || res.error.code != CBOR_ERR_NONE || res.read != n) {
		if (it)
			cbor_decref(&it);
		snprintf(msg, msglen, "CBOR decoding failed (libcbor error %d at %zu)",
			 (int)res.error.code, res.error.position);
		return NULL;
	}
	return it;
}

/* ---- request decoding ---- */

static bool key_is(cbor_item_t *k, const char *s)
{
	size_t l = strlen(s);

	return cbor_isa_string(k) && cbor_string_is_definite(k) &&
	       cbor_string_length(k) == l && !memcmp(cbor_string_handle(k), s, l);
}

static bool get_uint(cbor_item_t *v, uint64_t *out)
{
	if (!cbor_isa_uint(v))
		return false;
	*out = cbor_get_int(v);
	return true;
}

static bool get_bool(cbor_item_t *v, bool *out)
{
	if (!cbor_isa_float_ctrl(v) || !cbor_is_bool(v))
		return false;
	*out = cbor_get_bool(v);
	return true;
}

/* Printable copy of a key for messages. */
static void key_text(cbor_item_t *k, char *out, size_t len)
{
	size_t l, i;

	if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) {
		snprintf(out, len, "(non-text key)");
		return;
	}
	l = cbor_string_length(k);
	for (i = 0; i < l && i + 1 < len && i < 40; i++) {
		unsigned char c = cbor_string_handle(k)[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
	}
	out[i] = '\0';
}

static int decode_policy_arg(struct api_request *req, cbor_item_t *k, cbor_item_t *v,
			     char *msg, size_t msglen, bool *known)
{
	struct api_policy_args *a = &req->policy;
	bool ok = true;

	*known = true;
	if (key_is(k, "enabled")) {
		ok = get_bool(v, &a->enabled);
		a->has_enabled = true;
	} else if (key_is(k, "locked")) {
		ok = get_bool(v, &a->locked);
		a->has_locked = true;
	} else if (key_is(k, "max_image_size")) {
		ok = get_uint(v, &a->max_image_size);
		a->has_max_image_size = true;
	} else if (key_is(k, "max_opaque_size")) {
		ok = get_uint(v, &a->max_opaque_size);
		a->has_max_opaque_size = true;
	} else if (key_is(k, "min_reset_interval_ns")) {
		ok = get_uint(v, &a->min_reset_interval_ns);
		a->has_min_reset_interval_ns = true;
	} else {
		*known = false;
		return 0;
	}
	if (!ok) {
		char kt[48];

		key_text(k, kt, sizeof(kt));
		snprintf(msg, msglen, "key '%s': wrong type", kt);
		return API_E_BAD_REQUEST;
	}
	return 0;
}

int api_request_decode(const uint8_t *body, size_t n, struct api_request *req,
		       char *msg, size_t msglen)
{
	cbor_item_t *it, *opv = NULL;
	struct cbor_pair *pairs;
	size_t np;
	int rc = 0;
	char kt[48];

	memset(req, 0, sizeof(*req));
	req->v = API_PROTO_VERSION;
	it = api_cbor_load(body, n, msg, msglen);
	if (!it)
		return API_E_BAD_FRAME;
	if (!cbor_isa_map(it)) {
		snprintf(msg, msglen, "request is not a CBOR map");
		rc = API_E_BAD_REQUEST;
		goto out;
	}
	pairs = cbor_map_handle(it);
	np = cbor_map_size(it);
	/* the id first, so that every later error can echo it */
	for (size_t i = 0; i < np; i++)
		if (!req->has_id && key_is(pairs[i].key, "id") &&
		    get_uint(pairs[i].value, &req->id))
			req->has_id = true;
	for (size_t i = 0; i < np && !rc; i++) {
		cbor_item_t *k = pairs[i].key, *v = pairs[i].value;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
			    cbor_isa_string(pairs[j].key) && cbor_string_is_definite(pairs[j].key) &&
			    cbor_string_length(k) == cbor_string_length(pairs[j].key) &&
			    !memcmp(cbor_string_handle(k), cbor_string_handle(pairs[j].key),
				    cbor_string_length(k)))
				seen = true;
		if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) {
			snprintf(msg, msglen, "map keys must be definite text strings");
			rc = API_E_BAD_REQUEST;
		} else if (seen) {
			key_text(k, kt, sizeof(kt));
			snprintf(msg, msglen, "key '%s' repeated", kt);
			rc = API_E_BAD_REQUEST;
		} else if (key_is(k, "id")) {
			if (!cbor_isa_uint(v)) {
				snprintf(msg, msglen, "key 'id': must be an unsigned integer");
				rc = API_E_BAD_REQUEST;
			}
		} else if (key_is(k, "op")) {
			if (!cbor_isa_string(v) || !cbor_string_is_definite(v)) {
				snprintf(msg, msglen, "key 'op': must be a text string");
				rc = API_E_BAD_REQUEST;
			}
			opv = v;
		} else if (key_is(k, "v")) {
			if (!get_uint(v, &req->v)) {
				snprintf(msg, msglen, "key 'v': must be an unsigned integer");
				rc = API_E_BAD_REQUEST;
			}
		}
	}
	if (rc)
		goto out;
	if (!req->has_id) {
		snprintf(msg, msglen, "missing key 'id'");
		rc = API_E_BAD_REQUEST;
		goto out;
	}
	if (!opv) {
		snprintf(msg, msglen, "missing key 'op'");
		rc = API_E_BAD_REQUEST;
		goto out;
	}
	if (req->v != API_PROTO_VERSION) {
		snprintf(msg, msglen, "protocol version %llu not supported (this server: %d)",
			 (unsigned long long)req->v, API_PROTO_VERSION);
		rc = API_E_BAD_VERSION;
		goto out;
	}
	req->op = API_OP_COUNT;
	for (unsigned o = 0; o < API_OP_COUNT; o++)
		if (key_is(opv, api_op_names[o]))
			req->op = (enum api_op)o;
	if (req->op == API_OP_COUNT) {
		key_text(opv, kt, sizeof(kt));
		snprintf(msg, msglen, "unknown op '%s'", kt);
		rc = API_E_UNKNOWN_OP;
		goto out;
	}
	/* op-specific arguments; anything else is a mistake worth reporting */
	for (size_t i = 0; i < np && !rc; i++) {
		cbor_item_t *k = pairs[i].key;
		bool known = false;

		if (key_is(k, "id") || key_is(k, "op") || key_is(k, "v"))
			continue;
		if (req->op == API_OP_POLICY)
			rc = decode_policy_arg(req, k, pairs[i].value, msg, msglen, &known);
		if (!rc && !known) {
			key_text(k, kt, sizeof(kt));
			snprintf(msg, msglen, "op '%s' takes no key '%s'", api_op_names[req->op], kt);
			rc = API_E_BAD_REQUEST;
		}
	}
out:
	cbor_decref(&it);
	return rc;
}

/* ---- builders ---- */

cbor_item_t *api_map_new(size_t cap)
{
	return cbor_new_definite_map(cap);
}

bool api_map_put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k;
	bool ok;

	if (!map || !value) {
		if (value)
			cbor_decref(&value);
		return false;
	}
	k = cbor_build_string(key);
	if (!k) {
		cbor_decref(&value);
		return false;
	}
	ok = cbor_map_add(map, (struct cbor_pair){ .key = k, .value = value });
	/* the map holds its own references now (or none on failure) */
	cbor_decref(&k);
	cbor_decref(&value);
	return ok;
}

bool api_map_put_str(cbor_item_t *map, const char *key, const char *v)
{
	return api_map_put(map, key, cbor_build_string(v ? v : ""));
}

bool api_map_put_uint(cbor_item_t *map, const char *key, uint64_t v)
{
	return api_map_put(map, key, cbor_build_uint64(v));
}

bool api_map_put_int(cbor_item_t *map, const char *key, int64_t v)
{
	if (v >= 0)
		return api_map_put_uint(map, key, (uint64_t)v);
	cbor_item_t *it = cbor_build_uint64((uint64_t)(-(v + 1)));

	if (it)
		cbor_mark_negint(it);
	return api_map_put(map, key, it);
}

bool api_map_put_bool(cbor_item_t *map, const char *key, bool v)
{
	return api_map_put(map, key, cbor_build_bool(v));
}

bool api_map_put_float(cbor_item_t *map, const char *key, double v)
{
	return api_map_put(map, key, cbor_build_float8(v));
}

bool api_map_put_bytes(cbor_item_t *map, const char *key, const uint8_t *p, size_t n)
{
	static const uint8_t none;

	return api_map_put(map, key, cbor_build_bytestring(p ? p : &none, p ? n : 0));
}

cbor_item_t *api_reply_ok(uint64_t id, cbor_item_t *ok)
{
	cbor_item_t *m = api_map_new(2);

	if (!ok)
		ok = api_map_new(0);
	if (!m || !ok) {
		if (m)
			cbor_decref(&m);
		if (ok)
			cbor_decref(&ok);
		return NULL;
	}
	if (!api_map_put_uint(m, "id", id) || !api_map_put(m, "ok", ok)) {
		cbor_decref(&m);
		return NULL;
	}
	return m;
}

cbor_item_t *api_reply_error(bool has_id, uint64_t id, int code, const char *msg)
{
	cbor_item_t *m = api_map_new(2), *e = api_map_new(3);
	bool ok = m && e;

	if (ok && has_id)
		ok = api_map_put_uint(m, "id", id);
	ok = ok && api_map_put_uint(e, "code", (uint64_t)code) &&
	     api_map_put_str(e, "name", api_err_name(code)) &&
	     api_map_put_str(e, "message", msg ? msg : "");
	if (ok) {
		ok = api_map_put(m, "error", e);
		e = NULL;
	}
	if (e)
		cbor_decref(&e);
	if (!ok && m)
		cbor_decref(&m);
	return ok ? m : NULL;
}

cbor_item_t *api_event_item(const struct event *ev)
{
	cbor_item_t *m = api_map_new(2 + (size_t)ev->n);
	bool ok = m && api_map_put_str(m, "event", ev->name) &&
		  api_map_put_float(m, "t", ev->t);

	for (unsigned i = 0; ok && i < ev->n; i++) {
		const struct event_field *f = &ev->f[i];
		const char *k = f->key ? f->key : "";

		switch (f->type) {
		case EV_STR:
			ok = api_map_put_str(m, k, f->v.s);
			break;
		case EV_U64:
			ok = api_map_put_uint(m, k, f->v.u);
			break;
		case EV_I64:
			ok = api_map_put_int(m, k, f->v.i);
			break;
		case EV_F64:
			ok = api_map_put_float(m, k, f->v.f);
			break;
		case EV_BOOL:
			ok = api_map_put_bool(m, k, f->v.b);
			break;
		case EV_BYTES:
			ok = api_map_put_bytes(m, k, f->v.bytes.p, f->v.bytes.n);
			break;
		default:
			ok = false;
		}
	}
	if (!ok && m)
		cbor_decref(&m);
	return ok ? m : NULL;
}

long api_frame_encode(const cbor_item_t *item, uint8_t **out)
{
	unsigned char *buf = NULL;
	size_t cap = 0, len;
	uint8_t *f;

	*out = NULL;
	len = cbor_serialize_alloc(item, &buf, &cap);
	if (!len) {
		free(buf);
		return -ENOMEM;
	}
	if (len > API_FRAME_MAX) {
		free(buf);
		return -EMSGSIZE;
	}
	f = malloc(len + API_FRAME_HDR);
	if (!f) {
		free(buf);
		return -ENOMEM;
	}
	api_frame_put_len(f, (uint32_t)len);
	memcpy(f + API_FRAME_HDR, buf, len);
	free(buf);
	*out = f;
	return (long)(len + API_FRAME_HDR);
}

cbor_item_t *api_map_get(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs;
	size_t np;

	if (!map || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	np = cbor_map_size(map);
	for (size_t i = 0; i < np; i++)
		if (key_is(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}
