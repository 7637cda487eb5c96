/* vmm/api/server.c: the control socket server (vmm/api/api.h, docs/api.md).
 * Owns: the listening socket, the server thread and its epoll loop, every
 * connection's buffers, the event fan-out.  Touches no VM state: it only
 * calls the struct api_ops it was given, in its own thread. */
#include "vmm/api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/proto.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

#define API_MAX_UIDS 64
#define API_IN_INIT 1024
#define API_LISTEN_BACKLOG 128
/* epoll data of the two non-connection descriptors */
#define API_TAG_LISTEN UINT64_MAX
#define API_TAG_WAKE (UINT64_MAX - 1)

struct api_conn {
	int fd;
	unsigned slot;
	uint32_t gen;
	uint32_t uid;
	uint8_t *in;                /* server thread only */
	size_t inlen, incap;
	uint64_t partial_since_ms;  /* 0: no partial frame */
	uint64_t active_ms;         /* last byte read or written */
	uint32_t mask;              /* events registered with epoll */
	bool closing;               /* flush what is queued, then close */
	/* under s->lock (the event subscriber appends from other threads) */
	uint8_t *out;
	size_t outoff, outlen, outcap;
	bool subscribed;
	bool dead;                  /* close at the next sweep, queue dropped */
	int dead_code;              /* enum api_errcode that killed it, 0: none */
};

struct api_server {
	char *path;
	dev_t dev;
	ino_t ino;
	uid_t owner;
	uint32_t uids[API_MAX_UIDS];
	unsigned nuids;
	struct api_ops ops;
	void *opaque;
	struct api_limits lim;
	int lfd, wfd, ep;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	int ev_handle;
	pthread_mutex_t lock;
	struct api_conn **conns;    /* lim.max_conns slots; written by the thread under lock */
	uint32_t gen;
	atomic_uint nsubs;
	uint64_t accept_paused_until_ms;
	struct api_stats st;        /* counters: __atomic */
};

static uint64_t api_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define STAT_INC(s, f) __atomic_fetch_add(&(s)->st.f, 1, __ATOMIC_RELAXED)

static size_t conn_pending(const struct api_conn *c)
{
	return c->outlen - c->outoff;
}

/* Queue @n bytes on @c; s->lock held.  Over the bound the connection dies. */
static int conn_append_locked(struct api_server *s, struct api_conn *c,
			      const uint8_t *p, size_t n)
{
	size_t pend = conn_pending(c);

	if (c->dead)
		return -EPIPE;
	if (pend + n > s->lim.out_max) {
		c->dead = true;
		c->dead_code = API_E_OVERFLOW;
		return -ENOBUFS;
	}
	if (c->outoff && c->outlen + n > c->outcap) {
		memmove(c->out, c->out + c->outoff, pend);
		c->outoff = 0;
		c->outlen = pend;
	}
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap ? c->outcap * 2 : 4096;
		uint8_t *nb;

		while (cap < c->outlen + n)
			cap *= 2;
		if (cap > s->lim.out_max)
			cap = s->lim.out_max;
		nb = realloc(c->out, cap);
		if (!nb) {
			c->dead = true;
			c->dead_code = API_E_NO_MEMORY;
			return -ENOMEM;
		}
		c->out = nb;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return 0;
}

/* Write what the socket takes now; s->lock held.  Never waits. */
static void conn_flush_locked(struct api_conn *c, uint64_t now)
{
	while (!c->dead && conn_pending(c)) {
		ssize_t w = send(c->fd, c->out + c->outoff, conn_pending(c),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0) {
			c->outoff += (size_t)w;
			c->active_ms = now;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		c->dead = true;   /* EPIPE, ECONNRESET: the peer is gone */
		break;
	}
	if (!conn_pending(c)) {
		c->outoff = c->outlen = 0;
		if (c->outcap > 16384) {
			free(c->out);
			c->out = NULL;
			c->outcap = 0;
		}
	}
}

/* One error frame straight onto a fresh socket (refused peers). */
static void api_send_error_now(int fd, int code, const char *msg)
{
	cbor_item_t *it = api_reply_error(false, 0, code, msg);
	uint8_t *f = NULL;
	long n = it ? api_frame_encode(it, &f) : -ENOMEM;

	if (it)
		cbor_decref(&it);
	if (n > 0 && send(fd, f, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("api: error frame to a refused peer not sent: %s", strerror(errno));
	free(f);
}

/* Encode @item (consumed) and queue it; @subscribe marks the connection a
 * subscriber in the same critical section, so events follow the reply. */
static void conn_send_item(struct api_server *s, struct api_conn *c, cbor_item_t *item,
			   bool subscribe)
{
	uint8_t *f = NULL;
	long n = item ? api_frame_encode(item, &f) : -ENOMEM;

	if (item)
		cbor_decref(&item);
	pthread_mutex_lock(&s->lock);
	if (n < 0) {
		c->dead = true;
		c->dead_code = API_E_NO_MEMORY;
	} else if (!conn_append_locked(s, c, f, (size_t)n) && subscribe && !c->subscribed) {
		c->subscribed = true;
		atomic_fetch_add(&s->nsubs, 1);
	}
	pthread_mutex_unlock(&s->lock);
	free(f);
}

static void conn_send_error(struct api_server *s, struct api_conn *c, bool has_id,
			    uint64_t id, int code, const char *msg)
{
	STAT_INC(s, errors);
	log_debug("api: fd %d: error %s: %s", c->fd, api_err_name(code), msg);
	conn_send_item(s, c, api_reply_error(has_id, id, code, msg), false);
}

/* ---- ops ---- */

static int api_errno_code(int rc)
{
	switch (rc) {
	case -EINVAL:
	case -ERANGE:
		return API_E_INVALID;
	case -ENOTSUP:
		return API_E_UNSUPPORTED;
	case -ENOMEM:
		return API_E_NO_MEMORY;
	case -EBUSY:
	case -EALREADY:
		return API_E_STATE;
	default:
		return API_E_FAILED;
	}
}

static cbor_item_t *api_policy_item(const struct doorbell_policy *p)
{
	cbor_item_t *m = api_map_new(5);

	if (m && api_map_put_bool(m, "enabled", p->enabled) &&
	    api_map_put_bool(m, "locked", p->locked) &&
	    api_map_put_uint(m, "max_image_size", p->max_image_size) &&
	    api_map_put_uint(m, "max_opaque_size", p->max_opaque_size) &&
	    api_map_put_uint(m, "min_reset_interval_ns", p->min_reset_interval_ns))
		return m;
	if (m)
		cbor_decref(&m);
	return NULL;
}

static cbor_item_t *api_do_version(struct api_server *s)
{
	cbor_item_t *m = api_map_new(5), *ops = cbor_new_definite_array(API_OP_COUNT);
	cbor_item_t *vers = cbor_new_definite_array(1);
	bool ok = m && ops && vers;

	for (unsigned i = 0; ok && i < API_OP_COUNT; i++) {
		cbor_item_t *n = cbor_build_string(api_op_name((enum api_op)i));

		ok = n && cbor_array_push(ops, n);
		if (n)
			cbor_decref(&n);
	}
	if (ok) {
		cbor_item_t *one = cbor_build_uint8(API_PROTO_VERSION);

		ok = one && cbor_array_push(vers, one);
		if (one)
			cbor_decref(&one);
	}
	ok = ok && api_map_put_str(m, "server", "fukivmm") &&
	     api_map_put_uint(m, "protocol", API_PROTO_VERSION);
	if (ok) {
		ok = api_map_put(m, "versions", vers) && api_map_put(m, "ops", ops);
		vers = ops = NULL;
	}
	ok = ok && api_map_put_uint(m, "max_frame", API_FRAME_MAX);
	if (vers)
		cbor_decref(&vers);
	if (ops)
		cbor_decref(&ops);
	if (!ok && m)
		cbor_decref(&m);
	return ok ? m : NULL;
}

static cbor_item_t *api_do_status(const struct api_status *st)
{
	cbor_item_t *m = api_map_new(14);
	bool ok = m && api_map_put_str(m, "name", st->name) &&
		  api_map_put_str(m, "state", st->state ? st->state : "unknown") &&
		  api_map_put_str(m, "platform", st->platform ? st->platform : "none") &&
		  api_map_put_uint(m, "vcpus", st->vcpus) &&
		  api_map_put_uint(m, "memory", st->memory) &&
		  api_map_put_float(m, "uptime_s", st->uptime_s) &&
		  api_map_put_bytes(m, "firmware_sha384", st->fw_sha384, 48) &&
		  api_map_put_uint(m, "swaps_accepted", st->swaps_accepted) &&
		  api_map_put_uint(m, "swaps_rejected", st->swaps_rejected) &&
		  api_map_put_uint(m, "resets", st->resets) &&
		  api_map_put(m, "policy", api_policy_item(&st->policy));

	if (ok && st->has_measurement)
		ok = api_map_put_bytes(m, "measurement", st->measurement, 48);
	if (!ok && m)
		cbor_decref(&m);
	return ok ? m : NULL;
}

/* measure-pending through the pending op: {"pending": false}, or
 * {"pending": true, "firmware", "sha384", ? "measurement", ? "fwid"}. */
static cbor_item_t *api_do_pending(struct api_server *s, uint64_t id)
{
	struct api_pending p;
	char msg[160];
	cbor_item_t *m;
	bool ok;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = s->ops.pending(s->opaque, &p);
	if (rc && rc != -ENOENT) {
		snprintf(msg, sizeof(msg), "measure-pending: %s", strerror(-rc));
		return api_reply_error(true, id, api_errno_code(rc), msg);
	}
	m = api_map_new(5);
	ok = m && api_map_put_bool(m, "pending", rc == 0);
	if (ok && rc == 0) {
		ok = api_map_put_str(m, "firmware", p.firmware ? p.firmware : "guest") &&
		     api_map_put_bytes(m, "sha384", p.sha384, 48);
		if (ok && p.has_measurement)
			ok = api_map_put_bytes(m, "measurement", p.measurement, 48);
		if (ok && p.fwid && p.fwid[0])
			ok = api_map_put_str(m, "fwid", p.fwid);
	}
	if (!ok) {
		if (m)
			cbor_decref(&m);
		return NULL;
	}
	return api_reply_ok(id, m);
}

/* Run @req; returns the reply item (NULL: out of memory). */
static cbor_item_t *api_dispatch(struct api_server *s, struct api_conn *c,
				 const struct api_request *req, bool *subscribe)
{
	const struct api_ops *o = &s->ops;
	char msg[160];
	int rc = 0;

	switch (req->op) {
	case API_OP_VERSION:
		return api_reply_ok(req->id, api_do_version(s));
	case API_OP_STATUS: {
		struct api_status st;

		if (!o->status)
			break;
		memset(&st, 0, sizeof(st));
		rc = o->status(s->opaque, &st);
		if (rc)
			goto failed;
		return api_reply_ok(req->id, api_do_status(&st));
	}
	case API_OP_EVENTS: {
		cbor_item_t *m;

		if (c->subscribed)
			return api_reply_error(true, req->id, API_E_STATE, "already subscribed");
		m = api_map_new(2);
		if (!m || !api_map_put_bool(m, "subscribed", true) ||
		    !api_map_put_uint(m, "queue_max", s->lim.out_max)) {
			if (m)
				cbor_decref(&m);
			return NULL;
		}
		*subscribe = true;
		return api_reply_ok(req->id, m);
	}
	case API_OP_POLICY: {
		const struct api_policy_args *a = &req->policy;
		struct doorbell_policy p;
		bool set = a->has_enabled || a->has_locked || a->has_max_image_size ||
			   a->has_max_opaque_size || a->has_min_reset_interval_ns;

		if (!o->policy_get || (set && !o->policy_set))
			break;
		rc = o->policy_get(s->opaque, &p);
		if (rc)
			goto failed;
		if (set) {
			if (a->has_max_image_size && a->max_image_size > DOORBELL_IMAGE_HARD_MAX) {
				snprintf(msg, sizeof(msg), "max_image_size %llu over the hard cap %llu",
					 (unsigned long long)a->max_image_size,
					 (unsigned long long)DOORBELL_IMAGE_HARD_MAX);
				return api_reply_error(true, req->id, API_E_INVALID, msg);
			}
			if (a->has_enabled)
				p.enabled = a->enabled;
			if (a->has_locked)
				p.locked = a->locked;
			if (a->has_max_image_size)
				p.max_image_size = a->max_image_size;
			if (a->has_max_opaque_size)
				p.max_opaque_size = a->max_opaque_size;
			if (a->has_min_reset_interval_ns)
				p.min_reset_interval_ns = a->min_reset_interval_ns;
			rc = o->policy_set(s->opaque, &p);
			if (rc)
				goto failed;
			log_info("api: doorbell policy set: enabled=%d locked=%d max_image_size=%llu "
				 "max_opaque_size=%llu min_reset_interval_ns=%llu", p.enabled, p.locked,
				 (unsigned long long)p.max_image_size,
				 (unsigned long long)p.max_opaque_size,
				 (unsigned long long)p.min_reset_interval_ns);
			rc = o->policy_get(s->opaque, &p);
			if (rc)
				goto failed;
		}
		return api_reply_ok(req->id, api_policy_item(&p));
	}
	case API_OP_MEASURE_PENDING: {
		uint8_t d[48];
		bool has = false;
		cbor_item_t *m;

		if (o->pending)
			return api_do_pending(s, req->id);
		if (!o->measure_pending)
			break;
		rc = o->measure_pending(s->opaque, d, &has);
		if (rc && rc != -ENOENT)
			goto failed;
		m = api_map_new(2);
		if (!m || !api_map_put_bool(m, "pending", rc == 0) ||
		    (rc == 0 && has && !api_map_put_bytes(m, "measurement", d, 48))) {
			if (m)
				cbor_decref(&m);
			return NULL;
		}
		return api_reply_ok(req->id, m);
	}
	case API_OP_RESET:
	case API_OP_SHUTDOWN:
		if (!(req->op == API_OP_RESET ? o->reset : o->shutdown))
			break;
		log_info("api: %s requested by uid %u", api_op_name(req->op), c->uid);
		rc = req->op == API_OP_RESET ? o->reset(s->opaque) : o->shutdown(s->opaque);
		if (rc)
			goto failed;
		return api_reply_ok(req->id, NULL);
	default:
		return api_reply_error(true, req->id, API_E_UNKNOWN_OP, "unknown op");
	}
	snprintf(msg, sizeof(msg), "op '%s' not implemented by this VM", api_op_name(req->op));
	return api_reply_error(true, req->id, API_E_UNSUPPORTED, msg);
failed:
	snprintf(msg, sizeof(msg), "%s: %s", api_op_name(req->op), strerror(-rc));
	return api_reply_error(true, req->id, api_errno_code(rc), msg);
}

static void conn_handle_frame(struct api_server *s, struct api_conn *c,
			      const uint8_t *body, size_t n)
{
	struct api_request req;
	char msg[160];
	bool subscribe = false;
	int code;
	cbor_item_t *reply;

	STAT_INC(s, requests);
	code = api_request_decode(body, n, &req, msg, sizeof(msg));
	if (code) {
		conn_send_error(s, c, req.has_id, req.id, code, msg);
		return;
	}
	reply = api_dispatch(s, c, &req, &subscribe);
	if (reply && api_map_get(reply, "error"))
		STAT_INC(s, errors);
	conn_send_item(s, c, reply, subscribe);
}

/* ---- connections ---- */

static void conn_close(struct api_server *s, struct api_conn *c, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->conns[c->slot] = NULL;
	if (c->subscribed)
		atomic_fetch_sub(&s->nsubs, 1);
	pthread_mutex_unlock(&s->lock);
	log_debug("api: fd %d (uid %u) closed: %s", c->fd, c->uid, why);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static bool conn_backpressured(struct api_server *s, struct api_conn *c)
{
	bool bp;

	pthread_mutex_lock(&s->lock);
	bp = conn_pending(c) > s->lim.out_max / 2;
	pthread_mutex_unlock(&s->lock);
	return bp;
}

/* Decode every whole frame in the input buffer. */
static void conn_process(struct api_server *s, struct api_conn *c, uint64_t now)
{
	bool progressed = false;

	while (!c->closing && c->inlen) {
		uint32_t blen = 0;
		long fl = api_frame_peek(c->in, c->inlen, &blen);
		char msg[96];

		if (fl < 0) {
			/* the stream cannot be resynchronised: say why and close */
			snprintf(msg, sizeof(msg), "frame length %u: must be 1..%u", blen,
				 API_FRAME_MAX);
			conn_send_error(s, c, false, 0, API_E_BAD_FRAME, msg);
			STAT_INC(s, dropped);
			c->closing = true;
			c->inlen = 0;
			break;
		}
		if (!fl)
			break;
		if (conn_backpressured(s, c))
			break;
		conn_handle_frame(s, c, c->in + API_FRAME_HDR, (size_t)fl - API_FRAME_HDR);
		memmove(c->in, c->in + fl, c->inlen - (size_t)fl);
		c->inlen -= (size_t)fl;
		progressed = true;
	}
	if (!c->inlen)
		c->partial_since_ms = 0;
	else if (progressed || !c->partial_since_ms)
		c->partial_since_ms = now;
}

/* Read what is there.  1: more may come, 0: end of file (the peer shut
 * its side down), -1: error. */
static int conn_read(struct api_server *s, struct api_conn *c, uint64_t now)
{
	for (;;) {
		uint32_t blen = 0;
		long fl = api_frame_peek(c->in, c->inlen, &blen);
		size_t want = c->incap;
		ssize_t r;

		if (c->inlen == c->incap) {
			if (fl != 0)
				return 1;   /* full, with a whole (or bad) frame to process */
			/* grow to the announced frame, or double while the header is short */
			want = c->inlen >= API_FRAME_HDR ? API_FRAME_HDR + (size_t)blen
							  : c->incap * 2;
			if (want <= c->incap)
				want = c->incap * 2;
			if (want > API_FRAME_HDR + API_FRAME_MAX)
				want = API_FRAME_HDR + API_FRAME_MAX;
			uint8_t *nb = realloc(c->in, want);

			if (!nb)
				return -1;
			c->in = nb;
			c->incap = want;
		}
		r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
		if (r > 0) {
			c->inlen += (size_t)r;
			c->active_ms = now;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		return r == 0 ? 0 : -1;
	}
}

static void conn_update_mask(struct api_server *s, struct api_conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;
	size_t pend;

	pthread_mutex_lock(&s->lock);
	pend = conn_pending(c);
	pthread_mutex_unlock(&s->lock);
	if (!c->closing && pend <= s->lim.out_max / 2)
		want |= EPOLLIN;
	if (pend)
		want |= EPOLLOUT;
	if (want == c->mask)
		return;
	ev.events = want;
	ev.data.u64 = (uint64_t)c->slot << 32 | c->gen;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->mask = want;
}

static bool api_uid_allowed(struct api_server *s, uint32_t uid)
{
	if (uid == (uint32_t)s->owner)
		return true;
	for (unsigned i = 0; i < s->nuids; i++)
		if (s->uids[i] == uid)
			return true;
	return false;
}

static void api_accept(struct api_server *s, uint64_t now)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct api_conn *c;
		struct epoll_event ev;
		unsigned slot;
		int sz = API_SOCK_SNDBUF;
		char msg[96];

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* EMFILE and friends: stop accepting for a moment */
				log_warn("api: accept on %s: %s", s->path, strerror(errno));
				s->accept_paused_until_ms = now + 100;
				ev.events = 0;
				ev.data.u64 = API_TAG_LISTEN;
				epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev);
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
			cred.uid = UINT32_MAX;
			cred.pid = 0;
		}
		if (!api_uid_allowed(s, cred.uid)) {
			uint32_t uid = cred.uid;

			snprintf(msg, sizeof(msg), "uid %u may not use this socket", uid);
			log_warn("api: refused a peer with uid %u (pid %d)", uid, (int)cred.pid);
			api_send_error_now(fd, API_E_FORBIDDEN, msg);
			close(fd);
			STAT_INC(s, refused);
			continue;
		}
		for (slot = 0; slot < s->lim.max_conns; slot++)
			if (!s->conns[slot])
				break;
		if (slot == s->lim.max_conns) {
			snprintf(msg, sizeof(msg), "too many connections (limit %u)",
				 s->lim.max_conns);
			log_warn("api: refused uid %u: %s", cred.uid, msg);
			api_send_error_now(fd, API_E_BUSY, msg);
			close(fd);
			STAT_INC(s, refused);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(API_IN_INIT);
		if (!c || !c->in) {
			if (c)
				free(c);
			log_warn("api: out of memory for a connection");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->slot = slot;
		c->gen = ++s->gen;
		c->uid = cred.uid;
		c->incap = API_IN_INIT;
		c->active_ms = now;
		c->mask = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)slot << 32 | c->gen;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("api: epoll_ctl add fd %d: %s", fd, strerror(errno));
			close(fd);
			free(c->in);
			free(c);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		s->conns[slot] = c;
		pthread_mutex_unlock(&s->lock);
		STAT_INC(s, accepted);
		log_debug("api: fd %d: uid %u pid %d connected", fd, cred.uid, (int)cred.pid);
	}
}

/* After every wake-up: flush queued output, close the dead and the done,
 * enforce the timeouts, set the epoll interest. */
static void api_sweep(struct api_server *s, uint64_t now)
{
	for (unsigned i = 0; i < s->lim.max_conns; i++) {
		struct api_conn *c = s->conns[i];
		bool dead, empty;
		int code;

		if (!c)
			continue;
		pthread_mutex_lock(&s->lock);
		conn_flush_locked(c, now);
		dead = c->dead;
		code = c->dead_code;
		empty = !conn_pending(c);
		pthread_mutex_unlock(&s->lock);
		if (dead) {
			if (code == API_E_OVERFLOW) {
				log_warn("api: fd %d (uid %u) dropped: output queue over %zu bytes",
					 c->fd, c->uid, s->lim.out_max);
				STAT_INC(s, dropped);
			}
			conn_close(s, c, code ? api_err_name(code) : "peer gone");
			continue;
		}
		if (c->closing && empty) {
			conn_close(s, c, "closing");
			continue;
		}
		if (!c->closing && c->inlen && c->partial_since_ms &&
		    now - c->partial_since_ms >= s->lim.partial_timeout_ms &&
		    api_frame_peek(c->in, c->inlen, NULL) == 0) {
			conn_send_error(s, c, false, 0, API_E_TIMEOUT,
					"partial frame not completed in time");
			STAT_INC(s, dropped);
			c->closing = true;
			c->inlen = 0;
		} else if (!c->closing && !c->subscribed &&
			   now - c->active_ms >= s->lim.idle_timeout_ms) {
			conn_send_error(s, c, false, 0, API_E_TIMEOUT, "idle too long");
			c->closing = true;
		}
		if (c->closing) {
			/* one more chance to flush the last frame, then go */
			pthread_mutex_lock(&s->lock);
			conn_flush_locked(c, now);
			empty = !conn_pending(c);
			pthread_mutex_unlock(&s->lock);
			if (empty || now - c->active_ms >= s->lim.partial_timeout_ms) {
				conn_close(s, c, "closing");
				continue;
			}
		}
		conn_update_mask(s, c);
	}
	if (s->accept_paused_until_ms && now >= s->accept_paused_until_ms) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = API_TAG_LISTEN };

		s->accept_paused_until_ms = 0;
		epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev);
	}
}

static void *api_thread(void *arg)
{
	struct api_server *s = arg;
	struct epoll_event evs[32];
	unsigned tmo = s->lim.partial_timeout_ms < s->lim.idle_timeout_ms
		       ? s->lim.partial_timeout_ms : s->lim.idle_timeout_ms;

	tmo /= 4;
	if (tmo < 5)
		tmo = 5;
	if (tmo > 1000)
		tmo = 1000;
	while (!atomic_load(&s->stop)) {
		int n = epoll_wait(s->ep, evs, 32, (int)tmo);
		uint64_t now = api_now_ms();

		if (n < 0 && errno != EINTR) {
			log_err("api: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			struct api_conn *c;

			if (tag == API_TAG_LISTEN) {
				api_accept(s, now);
				continue;
			}
			if (tag == API_TAG_WAKE) {
				uint64_t v;

				if (read(s->wfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_debug("api: eventfd read: %s", strerror(errno));
				continue;
			}
			if ((tag >> 32) >= s->lim.max_conns)
				continue;
			c = s->conns[tag >> 32];
			if (!c || c->gen != (uint32_t)tag)
				continue;   /* closed earlier in this batch */
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				int r = 1;

				for (unsigned k = 0; k < 64 && !c->closing; k++) {
					size_t before = c->inlen;

					r = conn_read(s, c, now);
					conn_process(s, c, now);
					/* a peer that hung up may have left more frames */
					if (r != 1 || !(evs[i].events & EPOLLHUP) ||
					    c->inlen == before)
						break;
				}
				if (r < 0 || (evs[i].events & (EPOLLHUP | EPOLLERR))) {
					/* the peer is gone: anything queued cannot be delivered */
					conn_close(s, c, "peer closed");
					continue;
				}
				if (r == 0)
					c->closing = true;   /* half-closed: answer, then close */
			}
			if (evs[i].events & EPOLLOUT) {
				pthread_mutex_lock(&s->lock);
				conn_flush_locked(c, now);
				pthread_mutex_unlock(&s->lock);
				if (!c->closing)
					conn_process(s, c, now);   /* drained: resume input */
			}
		}
		api_sweep(s, now);
	}
	return NULL;
}

/* ---- events ---- */

static void api_on_event(void *opaque, const struct event *ev)
{
	struct api_server *s = opaque;
	cbor_item_t *it;
	uint8_t *f = NULL;
	long n;
	uint64_t one = 1;

	if (!atomic_load(&s->nsubs))
		return;
	it = api_event_item(ev);
	if (!it)
		return;
	n = api_frame_encode(it, &f);
	cbor_decref(&it);
	if (n < 0)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->lim.max_conns; i++) {
		struct api_conn *c = s->conns[i];

		if (c && c->subscribed && !c->dead)
			conn_append_locked(s, c, f, (size_t)n);
	}
	pthread_mutex_unlock(&s->lock);
	free(f);
	if (write(s->wfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the thread wakes anyway */
	}
}

/* ---- start / stop ---- */

/* Whether @sb is a socket this process may treat as its own. */
static bool api_sock_ours(const struct stat *sb)
{
	return S_ISSOCK(sb->st_mode) && sb->st_uid == geteuid();
}

/* Remove a socket left at s->path by an earlier run (nobody listens on it).
 * 0: nothing there or removed; else -errno with @err set. */
static int api_remove_stale(struct api_server *s, const struct sockaddr_un *a,
			    char *err, size_t errlen)
{
	struct stat sb, again;
	int fd, rc;

	/* lstat, not stat: a symlink at the path is "not a socket", never
	 * followed to whatever it names */
	if (lstat(s->path, &sb) < 0)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "api socket '%s': exists and is not a socket", s->path);
		return -EEXIST;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "api socket '%s': a socket owned by uid %u, not by this process's uid %u",
			 s->path, (unsigned)sb.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	rc = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	rc = rc == 0 ? 0 : -errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "api socket '%s': another process listens on it", s->path);
		return -EADDRINUSE;
	}
	if (rc != -ECONNREFUSED) {
		snprintf(err, errlen, "api socket '%s': %s", s->path, strerror(-rc));
		return rc;
	}
	/* Still the same node?  unlink() acts on a name, and there is no
	 * "unlink if this inode", so a race remains: between this lstat and
	 * the unlink, a process allowed to write to the folder may put
	 * something else at the name, and that is what goes.  In a sticky
	 * folder (/tmp, /run/user/UID) only the entry's owner or root may
	 * replace it, i.e. our own uid; in a folder only our uid can write
	 * (the service's runtime directory) there is nobody else at all.
	 * The re-check below only narrows the window. */
	if (lstat(s->path, &again) < 0)
		return 0;
	if (again.st_dev != sb.st_dev || again.st_ino != sb.st_ino || !api_sock_ours(&again)) {
		snprintf(err, errlen, "api socket '%s': changed while being checked", s->path);
		return -EAGAIN;
	}
	if (unlink(s->path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "api socket '%s': removing the stale socket: %s",
			 s->path, strerror(errno));
		return -errno;
	}
	log_info("api: removed stale socket %s", s->path);
	return 0;
}

static int api_listen(struct api_server *s, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat sb;
	mode_t old;
	int fd, rc;

	if (strlen(s->path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "api socket path '%s' longer than %zu bytes", s->path,
			 sizeof(a.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, s->path);
	rc = api_remove_stale(s, &a, err, errlen);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	/* bind() creates the node with 0777 & ~umask: with 0177 it is 0600
	 * from the moment it exists, never wider.  The umask is per process;
	 * a file another thread creates meanwhile gets at most 0600 too
	 * (stricter, never looser). */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	rc = rc == 0 ? 0 : -errno;
	umask(old);
	if (rc == 0 && listen(fd, API_LISTEN_BACKLOG) < 0)
		rc = -errno;
	if (rc == 0 && lstat(s->path, &sb) < 0)
		rc = -errno;
	/* A default ACL on the folder overrides the umask: bring the mode
	 * back to 0600 by name without following a symlink (it was just
	 * created; only our own uid could have swapped it). */
	if (rc == 0 && api_sock_ours(&sb) && (sb.st_mode & 07777) != 0600) {
		if (fchmodat(AT_FDCWD, s->path, 0600, AT_SYMLINK_NOFOLLOW) < 0 ||
		    lstat(s->path, &sb) < 0)
			rc = -errno;
	}
	if (rc == 0 && (!api_sock_ours(&sb) || (sb.st_mode & 07777) != 0600)) {
		snprintf(err, errlen, "api socket '%s': not a socket of this uid with mode 0600 after bind (mode %o, uid %u)",
			 s->path, (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
		close(fd);
		return -EPERM;
	}
	if (rc) {
		snprintf(err, errlen, "api socket '%s': %s", s->path, strerror(-rc));
		close(fd);
		return rc;
	}
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->lfd = fd;
	return 0;
}

static void api_free(struct api_server *s)
{
	if (s->ev_handle >= 0)
		events_unsubscribe(s->ev_handle);
	for (unsigned i = 0; s->conns && i < s->lim.max_conns; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i], "server stopping");
	if (s->lfd >= 0) {
		struct stat sb;

		close(s->lfd);
		if (lstat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
			unlink(s->path);
	}
	if (s->wfd >= 0)
		close(s->wfd);
	if (s->ep >= 0)
		close(s->ep);
	pthread_mutex_destroy(&s->lock);
	free(s->conns);
	free(s->path);
	free(s);
}

struct api_server *api_start_ex(const char *path, const uint32_t *uids, unsigned nuids,
				const struct api_ops *ops, void *opaque,
				const struct api_limits *lim, char *err, size_t errlen)
{
	struct api_server *s;
	struct epoll_event ev;
	int rc;

	if (!path || !*path || !ops || nuids > API_MAX_UIDS || (nuids && !uids)) {
		snprintf(err, errlen, "api: bad arguments (path, ops, or %u uids)", nuids);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "api: out of memory");
		return NULL;
	}
	s->lfd = s->wfd = s->ep = s->ev_handle = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->owner = geteuid();
	if (nuids)
		memcpy(s->uids, uids, nuids * sizeof(*uids));
	s->nuids = nuids;
	s->ops = *ops;
	s->opaque = opaque;
	if (lim)
		s->lim = *lim;
	if (!s->lim.max_conns)
		s->lim.max_conns = API_DEFAULT_MAX_CONNS;
	if (!s->lim.out_max)
		s->lim.out_max = API_DEFAULT_OUT_MAX;
	if (s->lim.out_max < 2 * (API_FRAME_MAX + API_FRAME_HDR))
		s->lim.out_max = 2 * (API_FRAME_MAX + API_FRAME_HDR);   /* room for a reply */
	if (!s->lim.partial_timeout_ms)
		s->lim.partial_timeout_ms = API_DEFAULT_PARTIAL_MS;
	if (!s->lim.idle_timeout_ms)
		s->lim.idle_timeout_ms = API_DEFAULT_IDLE_MS;
	s->path = strdup(path);
	s->conns = calloc(s->lim.max_conns, sizeof(*s->conns));
	if (!s->path || !s->conns) {
		snprintf(err, errlen, "api: out of memory");
		goto fail;
	}
	if (api_listen(s, err, errlen))
		goto fail;
	s->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->wfd < 0 || s->ep < 0) {
		snprintf(err, errlen, "api: eventfd/epoll: %s", strerror(errno));
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = API_TAG_LISTEN;
	rc = epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.u64 = API_TAG_WAKE;
	if (!rc)
		rc = epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wfd, &ev);
	if (rc) {
		snprintf(err, errlen, "api: epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	s->ev_handle = events_subscribe(api_on_event, s);
	if (s->ev_handle < 0) {
		snprintf(err, errlen, "api: no event subscriber slot left");
		goto fail;
	}
	rc = pthread_create(&s->thread, NULL, api_thread, s);
	if (rc) {
		snprintf(err, errlen, "api: pthread_create: %s", strerror(rc));
		goto fail;
	}
	s->started = true;
	log_info("api: listening on %s (%u extra uids)", s->path, nuids);
	return s;
fail:
	api_free(s);
	return NULL;
}

struct api_server *api_start(const char *path, const uint32_t *uids, unsigned nuids,
			     const struct api_ops *ops, void *opaque,
			     char *err, size_t errlen)
{
	return api_start_ex(path, uids, nuids, ops, opaque, NULL, err, errlen);
}

void api_stop(struct api_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	/* no event callback may touch a connection after this */
	if (s->ev_handle >= 0)
		events_unsubscribe(s->ev_handle);
	s->ev_handle = -1;
	if (s->started) {
		atomic_store(&s->stop, true);
		if (write(s->wfd, &one, sizeof(one)) < 0)
			log_debug("api: eventfd write: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	api_free(s);
}

void api_get_stats(struct api_server *s, struct api_stats *st)
{
	st->accepted = __atomic_load_n(&s->st.accepted, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&s->st.refused, __ATOMIC_RELAXED);
	st->requests = __atomic_load_n(&s->st.requests, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&s->st.errors, __ATOMIC_RELAXED);
	st->dropped = __atomic_load_n(&s->st.dropped, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->lock);
	st->conns = 0;
	for (unsigned i = 0; i < s->lim.max_conns; i++)
		if (s->conns[i])
			st->conns++;
	pthread_mutex_unlock(&s->lock);
	st->subscribers = atomic_load(&s->nsubs);
}
