/* tests/bench/api_bench.c: control-socket benchmark driver (built and run by
 * tests/bench/bench_api.sh, not by the Makefile).  Owns a fake VM backend
 * and in-process clients; measures status round trips per second from 1 and
 * 16 clients and the delay from events_emit() to a subscriber's read.
 * Needs no KVM.  Usage: api_bench SOCKET_PATH [SECONDS_PER_FIGURE]. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/proto.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

static const char *sock;
static double secs = 2.0;

static int fake_status(void *o, struct api_status *st)
{
	st->state = "running";
	st->platform = "snp";
	st->name = "bench";
	st->vcpus = 2;
	st->memory = 256 << 20;
	st->has_measurement = true;
	return 0;
}

static const struct api_ops ops = { .status = fake_status };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int connect_to(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "api_bench: connect %s: %s\n", sock, strerror(errno));
		exit(2);
	}
	return fd;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One whole frame into @buf (size API_FRAME_HDR + API_FRAME_MAX). */
static long read_frame(int fd, uint8_t *buf)
{
	uint32_t len;

	if (read_all(fd, buf, API_FRAME_HDR) || api_frame_peek(buf, API_FRAME_HDR, &len) < 0)
		return -1;
	if (read_all(fd, buf + API_FRAME_HDR, len))
		return -1;
	return (long)len + API_FRAME_HDR;
}

struct worker {
	uint64_t n;
	uint64_t deadline;
	int rc;
};

static void *status_worker(void *p)
{
	struct worker *w = p;
	int fd = connect_to();
	static __thread uint8_t buf[API_FRAME_HDR + API_FRAME_MAX];
	cbor_item_t *m = api_map_new(2);
	uint8_t *f = NULL;
	long n;

	api_map_put_uint(m, "id", 1);
	api_map_put_str(m, "op", "status");
	n = api_frame_encode(m, &f);
	cbor_decref(&m);
	while (now_ns() < w->deadline) {
		for (int k = 0; k < 64; k++) {
			if (write(fd, f, (size_t)n) != n || read_frame(fd, buf) < 0) {
				w->rc = -1;
				goto out;
			}
			w->n++;
		}
	}
out:
	free(f);
	close(fd);
	return NULL;
}

static double status_rps(unsigned nclients)
{
	pthread_t th[64];
	struct worker w[64];
	uint64_t t0 = now_ns(), total = 0;

	for (unsigned i = 0; i < nclients; i++) {
		w[i] = (struct worker){ .deadline = t0 + (uint64_t)(secs * 1e9) };
		pthread_create(&th[i], NULL, status_worker, &w[i]);
	}
	for (unsigned i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		if (w[i].rc) {
			fprintf(stderr, "api_bench: a client failed\n");
			exit(1);
		}
		total += w[i].n;
	}
	return (double)total / ((double)(now_ns() - t0) / 1e9);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct lat {
	int fd;
	unsigned n;
	uint64_t *d;
	volatile uint64_t emitted_at;
};

static void *sub_reader(void *p)
{
	struct lat *l = p;
	static uint8_t buf[API_FRAME_HDR + API_FRAME_MAX];

	for (unsigned i = 0; i < l->n; i++) {
		if (read_frame(l->fd, buf) < 0) {
			fprintf(stderr, "api_bench: subscriber lost\n");
			exit(1);
		}
		l->d[i] = now_ns() - l->emitted_at;
	}
	return NULL;
}

static void event_latency(unsigned n)
{
	static uint8_t buf[API_FRAME_HDR + API_FRAME_MAX];
	struct lat l = { .n = n, .d = calloc(n, sizeof(uint64_t)) };
	cbor_item_t *m = api_map_new(2);
	uint8_t *f = NULL, digest[48] = { 0 };
	long fl;
	pthread_t th;
	uint64_t sum = 0;

	l.fd = connect_to();
	api_map_put_uint(m, "id", 1);
	api_map_put_str(m, "op", "events");
	fl = api_frame_encode(m, &f);
	cbor_decref(&m);
	if (write(l.fd, f, (size_t)fl) != fl || read_frame(l.fd, buf) < 0) {
		fprintf(stderr, "api_bench: subscribe failed\n");
		exit(1);
	}
	free(f);
	pthread_create(&th, NULL, sub_reader, &l);
	for (unsigned i = 0; i < n; i++) {
		l.emitted_at = now_ns();
		EVENTS_EMIT("rebuilt", EVF_U64("n", i), EVF_F64("ms", 1.5),
			    EVF_BYTES("sha384", digest, 48));
		usleep(1000);   /* one at a time: delay, not queueing */
	}
	pthread_join(th, NULL);
	qsort(l.d, n, sizeof(uint64_t), cmp_u64);
	for (unsigned i = 0; i < n; i++)
		sum += l.d[i];
	printf("event delay emit->read (%u events): median %.1f us, p99 %.1f us, mean %.1f us\n",
	       n, l.d[n / 2] / 1e3, l.d[n * 99 / 100] / 1e3, (double)sum / n / 1e3);
	close(l.fd);
	free(l.d);
}

int main(int argc, char **argv)
{
	struct api_server *s;
	char err[256];

	if (argc < 2) {
		fprintf(stderr, "usage: api_bench SOCKET_PATH [SECONDS]\n");
		return 2;
	}
	sock = argv[1];
	if (argc > 2)
		secs = atof(argv[2]);
	log_set_level(LOG_ERR);
	events_open("/dev/null");
	s = api_start(sock, NULL, 0, &ops, NULL, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "api_bench: %s\n", err);
		return 2;
	}
	printf("status round trips/s, 1 client:   %.0f\n", status_rps(1));
	printf("status round trips/s, 16 clients: %.0f\n", status_rps(16));
	event_latency(1000);
	api_stop(s);
	events_close();
	return 0;
}
