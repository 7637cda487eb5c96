/* tests/unit/test_api.c: Criterion tests of the control socket (vmm/api/server.c,
 * vmm/api/proto.c, the JSON printer of vmm/cli/ctl.c) with a fake VM backend
 * and a real socket in a temporary folder.  Owns its fake; touches no
 * other module's state besides the event subscriber list. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/proto.h"
#include "vmm/cli/ctl.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

/* ---- the fake VM ---- */

struct fake_vm {
	pthread_mutex_t lock;
	struct doorbell_policy policy;
	unsigned resets, shutdowns, status_calls;
	bool pending, pending_has;
	uint8_t pending_digest[48];
	int reset_rc;
};

static struct fake_vm fake = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int fake_status(void *o, struct api_status *st)
{
	struct fake_vm *f = o;

	pthread_mutex_lock(&f->lock);
	f->status_calls++;
	st->state = "running";
	st->platform = "snp";
	st->name = "guest-1";
	st->vcpus = 4;
	st->memory = 512ULL << 20;
	st->uptime_s = 12.5;
	for (int i = 0; i < 48; i++)
		st->fw_sha384[i] = (uint8_t)i;
	st->has_measurement = true;
	memset(st->measurement, 0xab, 48);
	st->swaps_accepted = 3;
	st->swaps_rejected = 2;
	st->resets = f->resets;
	st->policy = f->policy;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_policy_get(void *o, struct doorbell_policy *p)
{
	struct fake_vm *f = o;

	pthread_mutex_lock(&f->lock);
	*p = f->policy;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_policy_set(void *o, const struct doorbell_policy *p)
{
	struct fake_vm *f = o;

	if (p->max_opaque_size == 12345)
		return -EINVAL;   /* a value the "VM" refuses */
	pthread_mutex_lock(&f->lock);
	f->policy = *p;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_reset(void *o)
{
	struct fake_vm *f = o;

	if (f->reset_rc)
		return f->reset_rc;
	pthread_mutex_lock(&f->lock);
	f->resets++;
	pthread_mutex_unlock(&f->lock);
	/* an op may emit events from the server thread */
	EVENTS_EMIT("reset", EVF_STR("cause", "api"));
	return 0;
}

static int fake_shutdown(void *o)
{
	struct fake_vm *f = o;

	pthread_mutex_lock(&f->lock);
	f->shutdowns++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_measure(void *o, uint8_t out[48], bool *has)
{
	struct fake_vm *f = o;

	if (!f->pending)
		return -ENOENT;
	memcpy(out, f->pending_digest, 48);
	*has = f->pending_has;
	return 0;
}

static const struct api_ops fake_ops = {
	.status = fake_status,
	.policy_get = fake_policy_get,
	.policy_set = fake_policy_set,
	.reset = fake_reset,
	.shutdown = fake_shutdown,
	.measure_pending = fake_measure,
};

/* ---- fixture ---- */

static char tmpdir[64];
static char sockpath[128];
static struct api_server *srv;

static struct api_server *start(const struct api_limits *lim, const uint32_t *uids,
				unsigned nuids)
{
	char err[256] = "";
	struct api_server *s = api_start_ex(sockpath, uids, nuids, &fake_ops, &fake, lim,
					    err, sizeof(err));

	cr_assert_not_null(s, "api_start: %s", err);
	return s;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERR);
	events_open("/dev/null");
	strcpy(tmpdir, "/tmp/fuki-api-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/api.sock", tmpdir);
	memset(&fake.policy, 0, sizeof(fake.policy));
	fake.policy.enabled = true;
	fake.policy.max_image_size = 16 << 20;
	fake.policy.max_opaque_size = 4096;
	fake.resets = fake.shutdowns = fake.status_calls = 0;
	fake.pending = false;
	fake.reset_rc = 0;
	srv = NULL;
}

static void teardown(void)
{
	api_stop(srv);
	srv = NULL;
	unlink(sockpath);
	rmdir(tmpdir);
	events_close();
}

TestSuite(api, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a tiny client ---- */

static int cli_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	strcpy(a.sun_path, sockpath);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void cli_raw(int fd, const void *p, size_t n)
{
	cr_assert_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n, "send: %s", strerror(errno));
}

static void cli_frame(int fd, const void *body, uint32_t n)
{
	uint8_t hdr[4];

	api_frame_put_len(hdr, n);
	cli_raw(fd, hdr, 4);
	if (n)
		cli_raw(fd, body, n);
}

static void cli_send(int fd, cbor_item_t *m)
{
	uint8_t *f = NULL;
	long n = api_frame_encode(m, &f);

	cbor_decref(&m);
	cr_assert(n > 0);
	cli_raw(fd, f, (size_t)n);
	free(f);
}

static cbor_item_t *req(uint64_t id, const char *op)
{
	cbor_item_t *m = api_map_new(8);

	cr_assert(api_map_put_uint(m, "id", id));
	cr_assert(api_map_put_str(m, "op", op));
	return m;
}

/* Read all of @n within @ms; 1 done, 0 EOF at once, -1 timeout/error. */
static int cli_read_all(int fd, uint8_t *p, size_t n, int ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, ms) <= 0)
			return -1;
		r = read(fd, p + got, n - got);
		if (r == 0)
			return got ? -1 : 0;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 1;
}

/* Next frame as an item; NULL on EOF or timeout (*eof tells which). */
static cbor_item_t *cli_read_eof(int fd, int ms, bool *eof)
{
	uint8_t hdr[4], *body;
	uint32_t len;
	char msg[128];
	cbor_item_t *it;
	int rc = cli_read_all(fd, hdr, 4, ms);

	if (eof)
		*eof = rc == 0;
	if (rc != 1)
		return NULL;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	cr_assert(len > 0 && len <= API_FRAME_MAX, "server frame length %u", len);
	body = malloc(len);
	cr_assert_eq(cli_read_all(fd, body, len, ms), 1, "truncated server frame");
	it = api_cbor_load(body, len, msg, sizeof(msg));
	free(body);
	cr_assert_not_null(it, "server sent bad CBOR: %s", msg);
	cr_assert(cbor_isa_map(it));
	return it;
}

static cbor_item_t *cli_read(int fd)
{
	cbor_item_t *it = cli_read_eof(fd, 5000, NULL);

	cr_assert_not_null(it, "no reply from the server");
	return it;
}

static bool cli_eof(int fd, int ms)
{
	bool eof = false;
	uint8_t b;

	for (;;) {
		/* drain anything queued, then expect the end */
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, ms) <= 0)
			return eof;
		r = read(fd, &b, 1);
		if (r <= 0)
			return true;
	}
}

static uint64_t uint_of(const cbor_item_t *m, const char *k)
{
	cbor_item_t *v = api_map_get(m, k);

	cr_assert_not_null(v, "key '%s' missing", k);
	cr_assert(cbor_isa_uint(v), "key '%s' not a uint", k);
	return cbor_get_int(v);
}

static bool bool_of(const cbor_item_t *m, const char *k)
{
	cbor_item_t *v = api_map_get(m, k);

	cr_assert_not_null(v, "key '%s' missing", k);
	cr_assert(cbor_isa_float_ctrl(v) && cbor_is_bool(v), "key '%s' not a bool", k);
	return cbor_get_bool(v);
}

static bool str_is(const cbor_item_t *m, const char *k, const char *want)
{
	cbor_item_t *v = api_map_get(m, k);

	return v && cbor_isa_string(v) && cbor_string_is_definite(v) &&
	       cbor_string_length(v) == strlen(want) &&
	       !memcmp(cbor_string_handle(v), want, strlen(want));
}

/* The "ok" map of a reply to @id (asserts it is one). */
static cbor_item_t *ok_of(cbor_item_t *rep, uint64_t id)
{
	cbor_item_t *ok = api_map_get(rep, "ok");

	cr_assert_null(api_map_get(rep, "error"), "unexpected error reply");
	cr_assert_not_null(ok);
	cr_assert_eq(uint_of(rep, "id"), id);
	return ok;
}

/* Error code of a reply (0 if it is not an error); checks the id echo. */
static unsigned err_of(cbor_item_t *rep, bool has_id, uint64_t id)
{
	cbor_item_t *e = api_map_get(rep, "error");

	if (!e)
		return 0;
	cr_assert(cbor_isa_map(e));
	cr_assert(api_map_get(e, "message") && api_map_get(e, "name"));
	if (has_id)
		cr_assert_eq(uint_of(rep, "id"), id, "error reply does not echo the id");
	else
		cr_assert_null(api_map_get(rep, "id"));
	return (unsigned)uint_of(e, "code");
}

static cbor_item_t *call(int fd, cbor_item_t *m)
{
	cli_send(fd, m);
	return cli_read(fd);
}

/* The server still answers a fresh client. */
static void assert_serving(void)
{
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(77, "version"));

	cr_assert_eq(uint_of(ok_of(r, 77), "protocol"), API_PROTO_VERSION);
	cbor_decref(&r);
	close(fd);
}

/* ---- round trips ---- */

Test(api, version_round_trip)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(1, "version")), *ok = ok_of(r, 1);
	cbor_item_t *ops = api_map_get(ok, "ops");
	bool has_status = false;

	cr_assert_eq(uint_of(ok, "protocol"), 1);
	cr_assert_eq(uint_of(ok, "max_frame"), API_FRAME_MAX);
	cr_assert(ops && cbor_isa_array(ops));
	for (size_t i = 0; i < cbor_array_size(ops); i++) {
		cbor_item_t *o = cbor_array_handle(ops)[i];

		if (cbor_string_length(o) == 6 && !memcmp(cbor_string_handle(o), "status", 6))
			has_status = true;
	}
	cr_assert(has_status);
	cbor_decref(&r);
	/* explicit v = 1 is the same */
	cbor_item_t *m = req(2, "version");

	api_map_put_uint(m, "v", 1);
	r = call(fd, m);
	ok_of(r, 2);
	cbor_decref(&r);
	close(fd);
}

Test(api, status_round_trip)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(42, "status")), *ok = ok_of(r, 42);
	cbor_item_t *fw = api_map_get(ok, "firmware_sha384"), *ms = api_map_get(ok, "measurement");
	cbor_item_t *pol = api_map_get(ok, "policy"), *up = api_map_get(ok, "uptime_s");

	cr_assert(str_is(ok, "state", "running"));
	cr_assert(str_is(ok, "platform", "snp"));
	cr_assert(str_is(ok, "name", "guest-1"));
	cr_assert_eq(uint_of(ok, "vcpus"), 4);
	cr_assert_eq(uint_of(ok, "memory"), 512ULL << 20);
	cr_assert_eq(uint_of(ok, "swaps_accepted"), 3);
	cr_assert_eq(uint_of(ok, "swaps_rejected"), 2);
	cr_assert(up && cbor_isa_float_ctrl(up) && cbor_float_get_float(up) == 12.5);
	cr_assert(fw && cbor_isa_bytestring(fw) && cbor_bytestring_length(fw) == 48);
	cr_assert_eq(cbor_bytestring_handle(fw)[47], 47);
	cr_assert(ms && cbor_isa_bytestring(ms) && cbor_bytestring_length(ms) == 48);
	cr_assert_eq(cbor_bytestring_handle(ms)[0], 0xab);
	cr_assert(pol && cbor_isa_map(pol));
	cr_assert_eq(uint_of(pol, "max_image_size"), 16 << 20);
	cr_assert(bool_of(pol, "enabled"));
	cbor_decref(&r);
	close(fd);
}

Test(api, policy_set_get)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *m = req(5, "doorbell-policy"), *r, *ok;

	cr_assert(api_map_put_bool(m, "locked", true));
	cr_assert(api_map_put_uint(m, "max_image_size", 1 << 20));
	cr_assert(api_map_put_uint(m, "min_reset_interval_ns", 250000000));
	r = call(fd, m);
	ok = ok_of(r, 5);
	cr_assert(bool_of(ok, "locked"));
	cr_assert(bool_of(ok, "enabled"), "fields not set must keep their value");
	cr_assert_eq(uint_of(ok, "max_image_size"), 1 << 20);
	cr_assert_eq(uint_of(ok, "max_opaque_size"), 4096);
	cbor_decref(&r);
	cr_assert(fake.policy.locked);
	cr_assert_eq(fake.policy.min_reset_interval_ns, 250000000);

	/* get */
	r = call(fd, req(6, "doorbell-policy"));
	ok = ok_of(r, 6);
	cr_assert(bool_of(ok, "locked"));
	cr_assert_eq(uint_of(ok, "min_reset_interval_ns"), 250000000);
	cbor_decref(&r);

	/* unlock + disable */
	m = req(7, "doorbell-policy");
	api_map_put_bool(m, "locked", false);
	api_map_put_bool(m, "enabled", false);
	r = call(fd, m);
	ok = ok_of(r, 7);
	cr_assert(!bool_of(ok, "locked") && !bool_of(ok, "enabled"));
	cbor_decref(&r);

	/* over the hard cap: refused before reaching the VM */
	m = req(8, "doorbell-policy");
	api_map_put_uint(m, "max_image_size", DOORBELL_IMAGE_HARD_MAX + 1);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 8), API_E_INVALID);
	cbor_decref(&r);
	cr_assert_eq(fake.policy.max_image_size, 1 << 20);

	/* the VM refuses a value: -EINVAL */
	m = req(9, "doorbell-policy");
	api_map_put_uint(m, "max_opaque_size", 12345);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 9), API_E_INVALID);
	cbor_decref(&r);

	/* wrong type */
	m = req(10, "doorbell-policy");
	api_map_put_uint(m, "locked", 1);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 10), API_E_BAD_REQUEST);
	cbor_decref(&r);
	/* unknown key */
	m = req(11, "doorbell-policy");
	api_map_put_bool(m, "lock", true);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 11), API_E_BAD_REQUEST);
	cbor_decref(&r);
	cr_assert(!fake.policy.locked);
	close(fd);
}

Test(api, reset_shutdown_measure_reach_the_vm)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(1, "reset")), *ok;

	ok_of(r, 1);
	cbor_decref(&r);
	cr_assert_eq(fake.resets, 1);
	r = call(fd, req(2, "shutdown"));
	ok_of(r, 2);
	cbor_decref(&r);
	cr_assert_eq(fake.shutdowns, 1);

	fake.reset_rc = -EIO;
	r = call(fd, req(3, "reset"));
	cr_assert_eq(err_of(r, true, 3), API_E_FAILED);
	cbor_decref(&r);
	cr_assert_eq(fake.resets, 1);

	r = call(fd, req(4, "measure-pending"));
	ok = ok_of(r, 4);
	cr_assert(!bool_of(ok, "pending"));
	cr_assert_null(api_map_get(ok, "measurement"));
	cbor_decref(&r);
	fake.pending = true;
	fake.pending_has = true;
	memset(fake.pending_digest, 0x5a, 48);
	r = call(fd, req(5, "measure-pending"));
	ok = ok_of(r, 5);
	cr_assert(bool_of(ok, "pending"));
	cbor_item_t *mm = api_map_get(ok, "measurement");
	cr_assert(mm && cbor_isa_bytestring(mm) && cbor_bytestring_length(mm) == 48);
	cr_assert_eq(cbor_bytestring_handle(mm)[10], 0x5a);
	cbor_decref(&r);
	close(fd);
}

Test(api, unsupported_op_when_backend_lacks_it)
{
	static const struct api_ops none = { .status = fake_status };
	char err[256];

	srv = api_start(sockpath, NULL, 0, &none, &fake, err, sizeof(err));
	cr_assert_not_null(srv, "%s", err);
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(1, "reset"));

	cr_assert_eq(err_of(r, true, 1), API_E_UNSUPPORTED);
	cbor_decref(&r);
	close(fd);
}

/* ---- events ---- */

Test(api, events_streamed_in_order)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect(), other = cli_connect();
	cbor_item_t *r = call(fd, req(1, "events")), *ok = ok_of(r, 1);
	static const uint8_t digest[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct api_stats st;

	cr_assert(bool_of(ok, "subscribed"));
	cbor_decref(&r);
	api_get_stats(srv, &st);
	cr_assert_eq(st.subscribers, 1);

	EVENTS_EMIT("booted", EVF_U64("ms", 12));
	EVENTS_EMIT("rebuilt", EVF_U64("ms", 7), EVF_BYTES("measurement", digest, 4),
		    EVF_I64("delta", -3), EVF_BOOL("guest", true), EVF_F64("ratio", 0.5));
	EVENTS_EMIT("swap-rejected", EVF_U64("status", 3), EVF_STR("status_name", "too-large"),
		    EVF_STR("reason", "image over 16 MiB"));
	for (int i = 0; i < 50; i++)
		EVENTS_EMIT("reset", EVF_U64("n", (uint64_t)i));

	r = cli_read(fd);
	cr_assert(str_is(r, "event", "booted"));
	cr_assert_eq(uint_of(r, "ms"), 12);
	cr_assert(api_map_get(r, "t") && cbor_isa_float_ctrl(api_map_get(r, "t")));
	cbor_decref(&r);
	r = cli_read(fd);
	cr_assert(str_is(r, "event", "rebuilt"));
	cbor_item_t *b = api_map_get(r, "measurement"), *d = api_map_get(r, "delta");
	cr_assert(b && cbor_isa_bytestring(b) && cbor_bytestring_length(b) == 4);
	cr_assert_eq(memcmp(cbor_bytestring_handle(b), digest, 4), 0);
	cr_assert(d && cbor_isa_negint(d) && cbor_get_int(d) == 2);
	cr_assert(bool_of(r, "guest"));
	cr_assert_eq(cbor_float_get_float(api_map_get(r, "ratio")), 0.5);
	cbor_decref(&r);
	r = cli_read(fd);
	cr_assert(str_is(r, "event", "swap-rejected"));
	cr_assert(str_is(r, "status_name", "too-large"));
	cbor_decref(&r);
	for (int i = 0; i < 50; i++) {
		r = cli_read(fd);
		cr_assert(str_is(r, "event", "reset"));
		cr_assert_eq(uint_of(r, "n"), (uint64_t)i, "event out of order");
		cbor_decref(&r);
	}
	/* a connection that did not subscribe gets none */
	r = call(other, req(9, "version"));
	ok_of(r, 9);
	cbor_decref(&r);
	cr_assert_null(cli_read_eof(other, 100, NULL));

	/* requests still work on a subscribed connection, and an op may emit
	 * an event from the server thread */
	cli_send(fd, req(2, "reset"));
	for (int i = 0; i < 2; i++) {
		/* the event happened while the op ran: it may come first */
		r = cli_read(fd);
		if (api_map_get(r, "event"))
			cr_assert(str_is(r, "event", "reset") && str_is(r, "cause", "api"));
		else
			ok_of(r, 2);
		cbor_decref(&r);
	}
	r = call(fd, req(3, "events"));
	cr_assert_eq(err_of(r, true, 3), API_E_STATE);
	cbor_decref(&r);
	close(fd);
	close(other);
}

struct reader_arg {
	int fd;
	unsigned want, got;
	bool in_order;
};

static void *reader_thread(void *p)
{
	struct reader_arg *a = p;

	a->in_order = true;
	while (a->got < a->want) {
		cbor_item_t *it = cli_read_eof(a->fd, 5000, NULL);

		if (!it)
			break;
		if (api_map_get(it, "event")) {
			cbor_item_t *n = api_map_get(it, "n");

			if (!n || !cbor_isa_uint(n) || cbor_get_int(n) != a->got)
				a->in_order = false;
			a->got++;
		}
		cbor_decref(&it);
	}
	return NULL;
}

Test(api, subscriber_that_never_reads_is_dropped)
{
	srv = start(NULL, NULL, 0);
	int slow = cli_connect(), fast = cli_connect();
	static uint8_t blob[4096];
	struct reader_arg ra = { .want = 300 };
	struct api_stats st;
	pthread_t th;
	cbor_item_t *r;

	r = call(slow, req(1, "events"));
	ok_of(r, 1);
	cbor_decref(&r);
	r = call(fast, req(1, "events"));
	ok_of(r, 1);
	cbor_decref(&r);
	ra.fd = fast;
	pthread_create(&th, NULL, reader_thread, &ra);
	/* 300 events of ~4 KiB: far over the slow one's queue + socket buffer */
	for (unsigned i = 0; i < ra.want; i++) {
		EVENTS_EMIT("swap-requested", EVF_U64("n", i), EVF_BYTES("blob", blob, sizeof(blob)));
		usleep(500);
	}
	pthread_join(th, NULL);
	cr_assert_eq(ra.got, ra.want, "the reading subscriber lost events (%u)", ra.got);
	cr_assert(ra.in_order);
	api_get_stats(srv, &st);
	cr_assert_eq(st.subscribers, 1, "the slow subscriber is still connected");
	cr_assert_geq(st.dropped, 1);
	cr_assert(cli_eof(slow, 2000), "slow subscriber not disconnected");
	assert_serving();
	close(slow);
	close(fast);
}

/* ---- the socket ---- */

Test(api, socket_mode_and_stale_files)
{
	struct stat sb;
	char err[256];

	srv = start(NULL, NULL, 0);
	cr_assert_eq(lstat(sockpath, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
	/* a second server on a live socket is refused */
	cr_assert_null(api_start(sockpath, NULL, 0, &fake_ops, &fake, err, sizeof(err)));
	cr_assert(strstr(err, "listens"), "%s", err);
	api_stop(srv);
	srv = NULL;
	cr_assert_neq(lstat(sockpath, &sb), 0, "socket not removed by api_stop");

	/* a stale socket (nobody listens) is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	strcpy(a.sun_path, sockpath);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	srv = start(NULL, NULL, 0);
	assert_serving();
	api_stop(srv);
	srv = NULL;

	/* a regular file is never replaced */
	FILE *f = fopen(sockpath, "w");

	cr_assert_not_null(f);
	fputs("precious", f);
	fclose(f);
	cr_assert_null(api_start(sockpath, NULL, 0, &fake_ops, &fake, err, sizeof(err)));
	cr_assert(strstr(err, "not a socket"), "%s", err);
	cr_assert_eq(lstat(sockpath, &sb), 0);
	cr_assert_eq(sb.st_size, 8);
}

static int child_status_as_nobody(bool expect_ok)
{
	pid_t pid = fork();
	int ws;

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd;
		cbor_item_t *r;
		cbor_item_t *e;
		uint8_t *fr = NULL;
		long n;
		bool eof;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(a.sun_path, sockpath);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			_exit(11);
		r = api_map_new(2);
		api_map_put_uint(r, "id", 1);
		api_map_put_str(r, "op", "status");
		n = api_frame_encode(r, &fr);
		cbor_decref(&r);
		if (send(fd, fr, (size_t)n, MSG_NOSIGNAL) != n) {
			/* a refused peer may find the socket closed already */
		}
		free(fr);
		r = cli_read_eof(fd, 5000, &eof);
		if (!r)
			_exit(12);
		e = api_map_get(r, "error");
		if (expect_ok)
			_exit(api_map_get(r, "ok") ? 0 : 13);
		if (!e)
			_exit(14);
		_exit(uint_of(e, "code") == API_E_FORBIDDEN && cli_eof(fd, 2000) ? 0 : 15);
	}
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_assert(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

Test(api, other_uid_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	srv = start(NULL, NULL, 0);
	/* open the file mode so that the SO_PEERCRED check is what refuses */
	cr_assert_eq(chmod(tmpdir, 0711), 0);
	cr_assert_eq(chmod(sockpath, 0666), 0);
	cr_assert_eq(child_status_as_nobody(false), 0);
	struct api_stats st;

	api_get_stats(srv, &st);
	cr_assert_eq(st.refused, 1);
	assert_serving();
	api_stop(srv);

	uint32_t nobody = 65534;

	srv = start(NULL, &nobody, 1);
	cr_assert_eq(chmod(sockpath, 0666), 0);
	cr_assert_eq(child_status_as_nobody(true), 0, "an allowed uid was refused");
}

/* ---- hostile clients ---- */

Test(api, length_4gib_closes_with_error)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	static const uint8_t hdr[4] = { 0xff, 0xff, 0xff, 0xff };
	cbor_item_t *r;

	cli_raw(fd, hdr, 4);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_BAD_FRAME);
	cbor_decref(&r);
	cr_assert(cli_eof(fd, 2000));
	close(fd);
	/* just over the limit, and zero */
	fd = cli_connect();
	cli_frame(fd, NULL, 0);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_BAD_FRAME);
	cbor_decref(&r);
	close(fd);
	fd = cli_connect();
	uint8_t h2[4];

	api_frame_put_len(h2, API_FRAME_MAX + 1);
	cli_raw(fd, h2, 4);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_BAD_FRAME);
	cbor_decref(&r);
	close(fd);
	assert_serving();
}

Test(api, max_size_frame_accepted)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	/* {"id": 3, "op": "version", "pad": <bytes>} filling exactly 64 KiB */
	size_t n = API_FRAME_MAX;
	uint8_t *b = calloc(1, n), *p = b;
	cbor_item_t *r;

	*p++ = 0xa3;
	*p++ = 0x62; *p++ = 'i'; *p++ = 'd'; *p++ = 0x03;
	*p++ = 0x62; *p++ = 'o'; *p++ = 'p';
	*p++ = 0x67; memcpy(p, "version", 7); p += 7;
	*p++ = 0x63; *p++ = 'p'; *p++ = 'a'; *p++ = 'd';
	size_t left = n - (size_t)(p - b) - 3;
	*p++ = 0x59; *p++ = (uint8_t)(left >> 8); *p++ = (uint8_t)left;
	cr_assert_eq((size_t)(p - b) + left, n);
	cli_frame(fd, b, (uint32_t)n);
	free(b);
	r = cli_read(fd);
	/* decoded fine; "pad" is an unknown key */
	cr_assert_eq(err_of(r, true, 3), API_E_BAD_REQUEST);
	cbor_decref(&r);
	r = call(fd, req(4, "version"));
	ok_of(r, 4);
	cbor_decref(&r);
	close(fd);
}

Test(api, truncated_frames)
{
	struct api_limits lim = { .partial_timeout_ms = 300 };

	srv = start(&lim, NULL, 0);
	/* header announces 100 bytes, 10 come, then the client leaves */
	int fd = cli_connect();
	uint8_t hdr[4], junk[10] = { 0xa2 };
	cbor_item_t *r;

	api_frame_put_len(hdr, 100);
	cli_raw(fd, hdr, 4);
	cli_raw(fd, junk, sizeof(junk));
	close(fd);
	assert_serving();
	/* the same, but the client stays: timed out */
	fd = cli_connect();
	cli_raw(fd, hdr, 4);
	cli_raw(fd, junk, sizeof(junk));
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_TIMEOUT);
	cbor_decref(&r);
	cr_assert(cli_eof(fd, 2000));
	close(fd);
	/* half a header */
	fd = cli_connect();
	cli_raw(fd, hdr, 2);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_TIMEOUT);
	cbor_decref(&r);
	close(fd);
	/* a frame split in many writes is fine */
	fd = cli_connect();
	cbor_item_t *m = req(5, "version");
	uint8_t *f = NULL;
	long n = api_frame_encode(m, &f);

	cbor_decref(&m);
	for (long i = 0; i < n; i++) {
		cli_raw(fd, f + i, 1);
		usleep(2000);
	}
	free(f);
	r = cli_read(fd);
	ok_of(r, 5);
	cbor_decref(&r);
	close(fd);
	assert_serving();
}

Test(api, invalid_cbor_and_wrong_types)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *r;
	static const struct { const char *what; uint8_t b[16]; uint32_t n; unsigned code;
			      bool has_id; } cases[] = {
		{ "break", { 0xff }, 1, API_E_BAD_FRAME, false },
		{ "reserved ai", { 0x1c }, 1, API_E_BAD_FRAME, false },
		{ "truncated map", { 0xa2, 0x62, 'i', 'd' }, 4, API_E_BAD_FRAME, false },
		{ "trailing bytes", { 0xa0, 0x00 }, 2, API_E_BAD_FRAME, false },
		{ "not a map", { 0x83, 1, 2, 3 }, 4, API_E_BAD_REQUEST, false },
		{ "empty map", { 0xa0 }, 1, API_E_BAD_REQUEST, false },
		/* {"id": "x", "op": "status"} */
		{ "text id", { 0xa2, 0x62, 'i', 'd', 0x61, 'x', 0x62, 'o', 'p', 0x66,
			       's', 't', 'a', 't', 'u', 's' }, 16, API_E_BAD_REQUEST, false },
		/* {"id": 7, "op": 1} */
		{ "uint op", { 0xa2, 0x62, 'i', 'd', 0x07, 0x62, 'o', 'p', 0x01 }, 9,
		  API_E_BAD_REQUEST, true },
		/* {"id": 7} */
		{ "no op", { 0xa1, 0x62, 'i', 'd', 0x07 }, 5, API_E_BAD_REQUEST, true },
		/* {"id": 7, 1: 2, "op": ...} truncated to the int key */
		{ "int key", { 0xa2, 0x62, 'i', 'd', 0x07, 0x01, 0x02 }, 7, API_E_BAD_REQUEST, true },
		/* {"id": 7, "id": 8} */
		{ "repeated key", { 0xa2, 0x62, 'i', 'd', 0x07, 0x62, 'i', 'd', 0x08 }, 9,
		  API_E_BAD_REQUEST, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_frame(fd, cases[i].b, cases[i].n);
		r = cli_read(fd);
		cr_assert_eq(api_map_get(r, "id") != NULL, cases[i].has_id, "%s: id echo",
			     cases[i].what);
		unsigned code = err_of(r, cases[i].has_id, 7);

		cr_assert_eq(code, cases[i].code, "%s: code %u, want %u", cases[i].what, code,
			     cases[i].code);
		cbor_decref(&r);
	}
	/* "v" of the wrong type */
	cbor_item_t *m = req(8, "status");

	api_map_put_str(m, "v", "1");
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 8), API_E_BAD_REQUEST);
	cbor_decref(&r);
	/* the connection survived all of it */
	r = call(fd, req(9, "status"));
	ok_of(r, 9);
	cbor_decref(&r);
	close(fd);
}

Test(api, deep_nesting)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	size_t n = 60000;
	uint8_t *b = malloc(n);
	cbor_item_t *r;

	memset(b, 0x81, n - 1);   /* [[[[...0]]]] */
	b[n - 1] = 0x00;
	cli_frame(fd, b, (uint32_t)n);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_BAD_FRAME);
	cbor_decref(&r);
	/* indefinite maps, nested */
	memset(b, 0xbf, 1000);
	cli_frame(fd, b, 1000);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_BAD_FRAME);
	cbor_decref(&r);
	free(b);
	/* allowed depth in an argument is still a wrong type, not a crash */
	cbor_item_t *m = req(3, "doorbell-policy");
	cbor_item_t *arr = cbor_new_definite_array(1), *in = cbor_new_definite_array(0);

	cbor_array_push(arr, in);
	cbor_decref(&in);
	api_map_put(m, "locked", arr);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 3), API_E_BAD_REQUEST);
	cbor_decref(&r);
	close(fd);
	assert_serving();
}

Test(api, unknown_op_and_version)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	cbor_item_t *r = call(fd, req(11, "format-disk")), *m;

	cr_assert_eq(err_of(r, true, 11), API_E_UNKNOWN_OP);
	cbor_decref(&r);
	m = req(12, "status");
	api_map_put_uint(m, "v", 2);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 12), API_E_BAD_VERSION);
	cbor_decref(&r);
	m = req(13, "status");
	api_map_put_uint(m, "extra", 2);
	r = call(fd, m);
	cr_assert_eq(err_of(r, true, 13), API_E_BAD_REQUEST);
	cbor_decref(&r);
	cr_assert_eq(fake.status_calls, 0, "a refused request reached the VM");
	close(fd);
}

Test(api, pipelined_and_half_closed)
{
	srv = start(NULL, NULL, 0);
	int fd = cli_connect();
	uint8_t buf[4096];
	size_t len = 0;

	/* 50 requests in one write, then shut the write side */
	for (unsigned i = 0; i < 50; i++) {
		cbor_item_t *m = req(100 + i, "version");
		uint8_t *f = NULL;
		long n = api_frame_encode(m, &f);

		cbor_decref(&m);
		cr_assert(n > 0 && len + (size_t)n <= sizeof(buf));
		memcpy(buf + len, f, (size_t)n);
		len += (size_t)n;
		free(f);
	}
	cli_raw(fd, buf, len);
	shutdown(fd, SHUT_WR);
	for (unsigned i = 0; i < 50; i++) {
		cbor_item_t *r = cli_read(fd);

		ok_of(r, 100 + i);
		cbor_decref(&r);
	}
	cr_assert(cli_eof(fd, 2000));
	close(fd);
}

struct par_arg {
	unsigned ok, busy, bad;
};

/* Runs in its own thread: no Criterion assertions here, counters only. */
static void *par_client(void *p)
{
	struct par_arg *a = p;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, sockpath);
	for (unsigned round = 0; round < 500 && a->ok < 20 && !a->bad; round++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			a->bad++;
			break;
		}
		while (a->ok < 20) {
			cbor_item_t *m = api_map_new(2), *r, *e;
			uint8_t *f = NULL;
			long n;
			bool eof;

			api_map_put_uint(m, "id", a->ok);
			api_map_put_str(m, "op", "status");
			n = api_frame_encode(m, &f);
			cbor_decref(&m);
			/* a refused client may find the socket closed: read the why */
			if (send(fd, f, (size_t)n, MSG_NOSIGNAL) != n) {
			}
			free(f);
			r = cli_read_eof(fd, 5000, &eof);
			if (!r) {
				a->bad++;
				break;
			}
			e = api_map_get(r, "error");
			if (!e && api_map_get(r, "id") && cbor_get_int(api_map_get(r, "id")) == a->ok) {
				a->ok++;
				cbor_decref(&r);
				continue;
			}
			if (e && !api_map_get(r, "id") &&
			    cbor_get_int(api_map_get(e, "code")) == API_E_BUSY)
				a->busy++;
			else
				a->bad++;
			cbor_decref(&r);
			break;
		}
		close(fd);
		if (a->ok < 20)
			usleep(2000);
	}
	return NULL;
}

Test(api, hundred_parallel_clients)
{
	srv = start(NULL, NULL, 0);
	pthread_t th[100];
	struct par_arg a[100];
	struct api_stats st;
	unsigned busy = 0;

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 100; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, par_client, &a[i]), 0);
	for (int i = 0; i < 100; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(a[i].ok, 20, "client %d got %u answers", i, a[i].ok);
		cr_assert_eq(a[i].bad, 0, "client %d got %u unexpected replies", i, a[i].bad);
		busy += a[i].busy;
	}
	api_get_stats(srv, &st);
	cr_assert_eq(fake.status_calls, 2000);
	cr_assert_eq(st.refused, busy);
	cr_log_info("100 clients x 20 status: %u busy refusals", busy);
	assert_serving();
}

Test(api, connection_limit)
{
	struct api_limits lim = { .max_conns = 4 };
	int fds[4];
	cbor_item_t *r;

	srv = start(&lim, NULL, 0);
	for (int i = 0; i < 4; i++) {
		fds[i] = cli_connect();
		r = call(fds[i], req(1, "version"));
		ok_of(r, 1);
		cbor_decref(&r);
	}
	int extra = cli_connect();

	r = cli_read(extra);
	cr_assert_eq(err_of(r, false, 0), API_E_BUSY);
	cbor_decref(&r);
	cr_assert(cli_eof(extra, 2000));
	close(extra);
	close(fds[0]);
	usleep(100000);
	assert_serving();
	for (int i = 1; i < 4; i++)
		close(fds[i]);
}

Test(api, idle_timeout)
{
	struct api_limits lim = { .idle_timeout_ms = 200 };

	srv = start(&lim, NULL, 0);
	int fd = cli_connect(), sub = cli_connect();
	cbor_item_t *r = call(sub, req(1, "events"));

	ok_of(r, 1);
	cbor_decref(&r);
	r = cli_read(fd);
	cr_assert_eq(err_of(r, false, 0), API_E_TIMEOUT);
	cbor_decref(&r);
	cr_assert(cli_eof(fd, 2000));
	/* a subscriber is exempt */
	EVENTS_EMIT("booted");
	r = cli_read(sub);
	cr_assert(str_is(r, "event", "booted"));
	cbor_decref(&r);
	close(fd);
	close(sub);
}

/* ---- codec pieces ---- */

Test(api_proto, frame_peek)
{
	uint8_t b[8] = { 0, 0, 0, 3, 1, 2, 3, 9 };
	uint32_t n = 0;

	cr_assert_eq(api_frame_peek(b, 3, NULL), 0);
	cr_assert_eq(api_frame_peek(b, 6, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(api_frame_peek(b, 7, NULL), 7);
	cr_assert_eq(api_frame_peek(b, 8, NULL), 7);
	b[3] = 0;
	cr_assert_eq(api_frame_peek(b, 8, NULL), -EINVAL);
	api_frame_put_len(b, API_FRAME_MAX + 1);
	cr_assert_eq(api_frame_peek(b, 8, NULL), -EMSGSIZE);
}

Test(api_proto, cbor_check)
{
	static const uint8_t ok1[] = { 0xa1, 0x61, 'a', 0x9f, 0x01, 0x5f, 0x41, 0x00, 0xff, 0xff };
	static const uint8_t bad_chunk[] = { 0x5f, 0x61, 'a', 0xff };   /* text chunk in bytes */
	static const uint8_t simple[] = { 0xf8, 0x10 };
	static const uint8_t huge_arr[] = { 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_map[] = { 0xbb, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t deep[20];

	cr_assert_eq(api_cbor_check(ok1, sizeof(ok1), 16), 0);
	cr_assert_eq(api_cbor_check(ok1, sizeof(ok1) - 1, 16), -EINVAL);
	cr_assert_eq(api_cbor_check(bad_chunk, sizeof(bad_chunk), 16), -EINVAL);
	cr_assert_eq(api_cbor_check(simple, sizeof(simple), 16), -EINVAL);
	cr_assert_eq(api_cbor_check(huge_arr, sizeof(huge_arr), 16), -EINVAL);
	cr_assert_eq(api_cbor_check(huge_map, sizeof(huge_map), 16), -EINVAL);
	memset(deep, 0x81, sizeof(deep));
	deep[sizeof(deep) - 1] = 0;
	cr_assert_eq(api_cbor_check(deep, sizeof(deep), 19), 0);
	cr_assert_eq(api_cbor_check(deep, sizeof(deep), 18), -ELOOP);
	cr_assert_eq(api_cbor_check(deep, 0, 16), -EINVAL);
}

Test(api_proto, json_printer)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cbor_item_t *m = api_map_new(6);
	static const uint8_t bytes[3] = { 0x00, 0xab, 0xff };

	api_map_put_str(m, "s", "a\"b\\c\n\x01");
	api_map_put_bytes(m, "b", bytes, 3);
	api_map_put_int(m, "neg", -5);
	api_map_put_float(m, "f", 0.25);
	api_map_put_bool(m, "t", true);
	api_map_put_uint(m, "u", UINT64_MAX);
	cr_assert_eq(ctl_json_print(f, m), 0);
	fclose(f);
	cr_assert_str_eq(buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"b\":\"00abff\",\"neg\":-5,"
			      "\"f\":0.25,\"t\":true,\"u\":18446744073709551615}");
	free(buf);
	cbor_decref(&m);
}

/* ---- fukivmm ctl against the same server ---- */

struct ctl_run {
	pid_t pid;
	int out;
};

static struct ctl_run ctl_spawn(char **argv)
{
	struct ctl_run r;
	int p[2];
	int argc = 0;

	while (argv[argc])
		argc++;
	cr_assert_eq(pipe(p), 0);
	fflush(NULL);
	r.pid = fork();
	cr_assert(r.pid >= 0);
	if (r.pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		dup2(devnull, 2);
		close(p[0]);
		_exit(ctl_main(argc, argv));
	}
	close(p[1]);
	r.out = p[0];
	return r;
}

/* Waits for the client; returns its exit status, output in @buf. */
static int ctl_wait(struct ctl_run r, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int ws;

	while (got + 1 < len && (n = read(r.out, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(r.out);
	cr_assert_eq(waitpid(r.pid, &ws, 0), r.pid);
	cr_assert(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

static int ctl_run(char *buf, size_t len, char **argv)
{
	return ctl_wait(ctl_spawn(argv), buf, len);
}

Test(api, ctl_client)
{
	char out[8192];

	srv = start(NULL, NULL, 0);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "status", NULL }), 0);
	cr_assert(strstr(out, "\"name\":\"guest-1\""), "%s", out);
	cr_assert(strstr(out, "\"firmware_sha384\":\"000102030405"), "%s", out);
	cr_assert(strstr(out, "\"uptime_s\":12.5"), "%s", out);
	cr_assert_eq(out[strlen(out) - 1], '\n');
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);

	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "policy", "--lock",
		     "--max-image-size", "2M", "--min-reset-interval", "250ms", NULL }), 0);
	cr_assert(strstr(out, "\"locked\":true"), "%s", out);
	cr_assert(fake.policy.locked);
	cr_assert_eq(fake.policy.max_image_size, 2 << 20);
	cr_assert_eq(fake.policy.min_reset_interval_ns, 250000000);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "policy", "--unlock",
		     NULL }), 0);
	cr_assert(!fake.policy.locked);

	/* an error reply: exit 1, the error as JSON */
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "policy",
		     "--max-image-size", "1G", NULL }), 1);
	cr_assert(strstr(out, "{\"error\":{\"code\":5,"), "%s", out);
	fake.reset_rc = -EIO;
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "reset", NULL }), 1);
	fake.reset_rc = 0;
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "reset", NULL }), 0);
	cr_assert_str_eq(out, "{}\n");
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "measure-pending",
		     NULL }), 0);
	cr_assert_str_eq(out, "{\"pending\":false}\n");

	/* usage and connection errors: 2 */
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "frobnicate", NULL }), 2);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "policy", "--lock",
		     "--unlock", NULL }), 2);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "policy",
		     "--max-image-size", "12Q", NULL }), 2);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", sockpath, "status", "x", NULL }), 2);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", "/nonexistent/sock", "status",
		     NULL }), 2);
	cr_assert_eq(ctl_run(out, sizeof(out), (char *[]){ "ctl", NULL }), 2);
}

Test(api, ctl_events)
{
	char out[8192];
	struct api_stats st;
	static const uint8_t d[3] = { 1, 2, 0xfe };

	srv = start(NULL, NULL, 0);
	struct ctl_run r = ctl_spawn((char *[]){ "ctl", sockpath, "events", NULL });

	for (int i = 0; i < 500; i++) {
		api_get_stats(srv, &st);
		if (st.subscribers)
			break;
		usleep(10000);
	}
	cr_assert_eq(st.subscribers, 1, "the client did not subscribe");
	EVENTS_EMIT("swap-accepted", EVF_STR("format", "raw-rom"), EVF_BYTES("sha384", d, 3));
	EVENTS_EMIT("shutdown", EVF_I64("status", 0));
	usleep(100000);
	api_stop(srv);   /* the stream ends: the client exits 0 */
	srv = NULL;
	cr_assert_eq(ctl_wait(r, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "\"event\":\"swap-accepted\""), "%s", out);
	cr_assert(strstr(out, "\"sha384\":\"0102fe\"}\n{\"event\":\"shutdown\""), "%s", out);
	cr_assert(strstr(out, "\"status\":0}\n"), "%s", out);
}
