/* vmm/cli/ctl.c: `fukivmm ctl SOCKET COMMAND`, the control-socket client
 * (docs/api.md).  Owns: argument parsing, one blocking connection, how the
 * replies are printed (vmm/cli/json.c writes them).  Never talks to KVM or
 * reads VM configs. */
#include "vmm/cli/ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/api/proto.h"
#include "vmm/base/exitcode.h"
#include "vmm/cli/json.h"

/* ctl's own status for "the VM answered with an error" (docs/api.md) */
#define CTL_EXIT_ERROR 1
#define CTL_REPLY_TIMEOUT_S 30

/* The replies as one compact line each; \n, \t, \r and DEL escaped. */
int ctl_json_print(FILE *out, const cbor_item_t *it)
{
	return json_print_cbor(out, it, JSON_ESC_SHORT | JSON_ESC_DEL);
}

/* ---- the connection ---- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "fukivmm ctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "fukivmm ctl: cannot connect to %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int ctl_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1: @n bytes read; 0: clean end of file before the first byte; -1: error. */
static int ctl_read_all(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got ? -1 : 0;
		got += (size_t)r;
	}
	return 1;
}

/* Next message; NULL with *eof set on a clean end of stream. */
static cbor_item_t *ctl_read_msg(int fd, bool *eof)
{
	uint8_t hdr[API_FRAME_HDR], *body;
	uint32_t len;
	char msg[128];
	cbor_item_t *it;
	int rc = ctl_read_all(fd, hdr, sizeof(hdr));

	*eof = rc == 0;
	if (rc <= 0) {
		if (rc < 0)
			fprintf(stderr, "fukivmm ctl: reading a reply: %s\n",
				errno ? strerror(errno) : "connection closed mid-frame");
		return NULL;
	}
	if (api_frame_peek(hdr, sizeof(hdr), &len) < 0) {
		fprintf(stderr, "fukivmm ctl: bad frame length %u from the server\n", len);
		return NULL;
	}
	body = malloc(len);
	if (!body)
		return NULL;
	if (ctl_read_all(fd, body, len) != 1) {
		fprintf(stderr, "fukivmm ctl: connection closed mid-frame\n");
		free(body);
		return NULL;
	}
	it = api_cbor_load(body, len, msg, sizeof(msg));
	free(body);
	if (!it)
		fprintf(stderr, "fukivmm ctl: bad reply: %s\n", msg);
	else if (!cbor_isa_map(it)) {
		fprintf(stderr, "fukivmm ctl: bad reply: not a map\n");
		cbor_decref(&it);
	}
	return it;
}

static int ctl_send(int fd, cbor_item_t *req)
{
	uint8_t *f = NULL;
	long n = api_frame_encode(req, &f);
	int rc = n > 0 ? ctl_write_all(fd, f, (size_t)n) : -1;

	free(f);
	if (rc)
		fprintf(stderr, "fukivmm ctl: sending the request: %s\n", strerror(errno));
	return rc;
}

/* Prints {"error": {...}} on stdout and a line on stderr; returns 1. */
static int ctl_print_error(const cbor_item_t *err)
{
	const cbor_item_t *name = api_map_get(err, "name"), *msg = api_map_get(err, "message");

	fputs("{\"error\":", stdout);
	ctl_json_print(stdout, err);
	fputs("}\n", stdout);
	fflush(stdout);
	fputs("fukivmm ctl: error", stderr);
	if (name && cbor_isa_string(name) && cbor_string_is_definite(name))
		fprintf(stderr, " %.*s", (int)cbor_string_length(name),
			(const char *)cbor_string_handle(name));
	if (msg && cbor_isa_string(msg) && cbor_string_is_definite(msg))
		fprintf(stderr, ": %.*s", (int)cbor_string_length(msg),
			(const char *)cbor_string_handle(msg));
	fputc('\n', stderr);
	return CTL_EXIT_ERROR;
}

/* ---- arguments ----
 * ctl's SIZE and DURATION are not config_parse_size/config_parse_duration's
 * (vmm/config/config.h): sizes are decimal with K, KiB, M, MiB, G or GiB as
 * written (no T, no "MB", no 0x or leading-zero octal), durations take "m"
 * and read a bare number as seconds.  docs/api.md documents this syntax. */

static int parse_u64_suffix(const char *s, const char *const *sfx, const uint64_t *mul,
			    unsigned nsfx, uint64_t dflt_mul, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t m = dflt_mul;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		unsigned i;

		for (i = 0; i < nsfx; i++)
			if (!strcmp(end, sfx[i]))
				break;
		if (i == nsfx)
			return -1;
		m = mul[i];
	}
	if (m && v > UINT64_MAX / m)
		return -1;
	*out = v * m;
	return 0;
}

/* "4096", "64K", "16M", "1G" (powers of 1024; KiB/MiB/GiB too). */
static int parse_size(const char *s, uint64_t *out)
{
	static const char *const sfx[] = { "K", "KiB", "M", "MiB", "G", "GiB" };
	static const uint64_t mul[] = { 1ULL << 10, 1ULL << 10, 1ULL << 20, 1ULL << 20,
					1ULL << 30, 1ULL << 30 };

	return parse_u64_suffix(s, sfx, mul, 6, 1, out);
}

/* "250ms", "2s", "100us", "5000ns", "1m"; a bare number is seconds. */
static int parse_duration_ns(const char *s, uint64_t *out)
{
	static const char *const sfx[] = { "ns", "us", "ms", "s", "m" };
	static const uint64_t mul[] = { 1, 1000, 1000000, 1000000000ULL, 60000000000ULL };

	return parse_u64_suffix(s, sfx, mul, 5, 1000000000ULL, out);
}

static void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: fukivmm ctl SOCKET status | version | events | measure-pending | reset | shutdown\n"
		"       fukivmm ctl SOCKET policy [--enable|--disable] [--lock|--unlock]\n"
		"                  [--max-image-size SIZE] [--max-opaque-size SIZE]\n"
		"                  [--min-reset-interval DURATION]\n"
		"Prints JSON (events: one object per line, byte strings as hex).  SIZE: bytes or\n"
		"K/M/G (KiB...); DURATION: ns/us/ms/s/m, a bare number is seconds.\n"
		"Exit status: 0 ok, 1 the VM answered with an error, 2 usage or connection error.\n");
}

/* Adds the policy options to @req; -1 on a usage error. */
static int ctl_policy_args(int argc, char **argv, cbor_item_t *req)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *key;
		uint64_t v = 0;
		bool is_bool = true, b = false;

		if (!strcmp(a, "--enable") || !strcmp(a, "--disable")) {
			key = "enabled";
			b = !strcmp(a, "--enable");
		} else if (!strcmp(a, "--lock") || !strcmp(a, "--unlock")) {
			key = "locked";
			b = !strcmp(a, "--lock");
		} else if (!strcmp(a, "--max-image-size") || !strcmp(a, "--max-opaque-size")) {
			if (i + 1 >= argc || parse_size(argv[i + 1], &v)) {
				fprintf(stderr, "fukivmm ctl: %s needs a size (4096, 64K, 16M)\n", a);
				return -1;
			}
			key = !strcmp(a, "--max-image-size") ? "max_image_size" : "max_opaque_size";
			is_bool = false;
			i++;
		} else if (!strcmp(a, "--min-reset-interval")) {
			if (i + 1 >= argc || parse_duration_ns(argv[i + 1], &v)) {
				fprintf(stderr, "fukivmm ctl: %s needs a duration (500ms, 2s)\n", a);
				return -1;
			}
			key = "min_reset_interval_ns";
			is_bool = false;
			i++;
		} else {
			fprintf(stderr, "fukivmm ctl: unknown policy option '%s'\n", a);
			return -1;
		}
		if (api_map_get(req, key)) {
			fprintf(stderr, "fukivmm ctl: '%s' repeats or contradicts an earlier option\n", a);
			return -1;
		}
		if (!(is_bool ? api_map_put_bool(req, key, b) : api_map_put_uint(req, key, v)))
			return -1;
	}
	return 0;
}

int ctl_main(int argc, char **argv)
{
	static const struct { const char *cmd, *op; } cmds[] = {
		{ "status", "status" }, { "version", "version" }, { "events", "events" },
		{ "measure-pending", "measure-pending" }, { "reset", "reset" },
		{ "shutdown", "shutdown" }, { "policy", "doorbell-policy" },
	};
	const char *op = NULL;
	cbor_item_t *req, *rep = NULL;
	const cbor_item_t *err, *ok, *id;
	bool events, eof = false;
	int fd, rc = FUKI_EXIT_USAGE;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		ctl_usage(stdout);
		return FUKI_EXIT_OK;
	}
	if (argc < 3) {
		ctl_usage(stderr);
		return FUKI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[2], cmds[i].cmd))
			op = cmds[i].op;
	if (!op) {
		fprintf(stderr, "fukivmm ctl: unknown command '%s'\n", argv[2]);
		ctl_usage(stderr);
		return FUKI_EXIT_USAGE;
	}
	if (strcmp(op, "doorbell-policy") && argc > 3) {
		fprintf(stderr, "fukivmm ctl: '%s' takes no arguments\n", argv[2]);
		return FUKI_EXIT_USAGE;
	}
	events = !strcmp(op, "events");
	req = api_map_new(8);
	if (!req || !api_map_put_uint(req, "id", 1) || !api_map_put_str(req, "op", op) ||
	    !api_map_put_uint(req, "v", API_PROTO_VERSION) ||
	    ctl_policy_args(argc - 3, argv + 3, req)) {
		if (req)
			cbor_decref(&req);
		return FUKI_EXIT_USAGE;
	}
	fd = ctl_connect(argv[1]);
	if (fd < 0) {
		cbor_decref(&req);
		return FUKI_EXIT_USAGE;
	}
	if (!events) {
		struct timeval tv = { .tv_sec = CTL_REPLY_TIMEOUT_S };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (ctl_send(fd, req))
		goto out;
	/* the reply to our id; an id-less error (refused, busy) ends it too */
	for (;;) {
		rep = ctl_read_msg(fd, &eof);
		if (!rep) {
			if (eof)
				fprintf(stderr, "fukivmm ctl: the server closed the connection\n");
			goto out;
		}
		id = api_map_get(rep, "id");
		err = api_map_get(rep, "error");
		if ((id && cbor_isa_uint(id) && cbor_get_int(id) == 1) || (!id && err))
			break;
		cbor_decref(&rep);
	}
	ok = api_map_get(rep, "ok");
	if (err) {
		rc = ctl_print_error(err);
		goto out;
	}
	if (!ok) {
		fprintf(stderr, "fukivmm ctl: reply without 'ok' or 'error'\n");
		goto out;
	}
	if (!events) {
		ctl_json_print(stdout, ok);
		fputc('\n', stdout);
		rc = fflush(stdout) ? FUKI_EXIT_USAGE : FUKI_EXIT_OK;
		goto out;
	}
	/* events: one JSON object per line until the server goes away */
	for (;;) {
		cbor_decref(&rep);
		rep = ctl_read_msg(fd, &eof);
		if (!rep) {
			rc = eof ? FUKI_EXIT_OK : FUKI_EXIT_USAGE;
			goto out;
		}
		if ((err = api_map_get(rep, "error"))) {
			rc = ctl_print_error(err);
			goto out;
		}
		if (!api_map_get(rep, "event"))
			continue;
		ctl_json_print(stdout, rep);
		fputc('\n', stdout);
		if (fflush(stdout)) {
			rc = FUKI_EXIT_USAGE;   /* stdout closed: nobody listens */
			goto out;
		}
	}
out:
	if (rep)
		cbor_decref(&rep);
	cbor_decref(&req);
	close(fd);
	return rc;
}
