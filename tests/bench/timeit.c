/* tests/bench/timeit.c: run a command N times and print, on one line,
 *
 *   MEDIAN_MS MIN_MS MAXRSS_KIB STATUS P90_MS MAX_MS CPU_MS CPU_P90_MS FIRST_MS FIRST_P90_MS
 *
 * wall time from fork to the end of wait4 (median, minimum, 90th percentile,
 * maximum), the peak RSS of the child in KiB, the last exit status, the CPU
 * time (user + system) the kernel charged to the child (median and p90), and
 * with -s the time from fork to the first byte the command writes on its
 * stdout ("-" without -s).  A run longer than TIMEOUT seconds is killed
 * (status 124).  Built and used by tests/bench/lib.sh.
 *
 *   -s     stdout of the command is a pipe read here; the first byte is
 *          timestamped when it is read (the command under test does not
 *          report it itself).
 *   -j K   each run starts K copies of the command at once and ends when
 *          the last has exited; CPU is their sum, MAXRSS the largest,
 *          STATUS 254 when the copies did not all exit alike.
 *   -k R   each run is R such rounds, one after the other.
 *   -o F   append one line per run to file F: "WALL_MS CPU_MS".
 *   -r     this process is a child subreaper: after each run it also waits
 *          for what the command left behind (a helper that outlives it),
 *          and CPU is everything its descendants used (RUSAGE_CHILDREN),
 *          the helpers included.  The wall time still ends with the
 *          command itself.
 *
 * The p90 is the value at rank ceil(0.9 N) of the sorted runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* sorted by median() first */
static double p90(const double *v, int n)
{
	int k = (9 * n + 9) / 10;

	return v[k < 1 ? 0 : k - 1];
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		return 124;
	return 128 + WTERMSIG(st);
}

static double cpu_ms(const struct rusage *ru)
{
	return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

static pid_t spawn(char **argv, int timeout, int out_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(out_fd >= 0 ? out_fd : fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		if (out_fd > 2)
			close(out_fd);
		alarm((unsigned)timeout);   /* survives exec: SIGALRM ends a hung run */
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* One run with stdout on a pipe: the first byte's time, then the exit. */
static int run_serial(char **argv, int timeout, double t0, double *first, double *end,
		      struct rusage *ru, int *st)
{
	int p[2], pidfd;
	bool got = false, eof = false;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = spawn(argv, timeout, p[1]);
	close(p[1]);
	if (pid < 0)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	*first = -1;
	for (;;) {
		struct pollfd f[2] = { { .fd = eof ? -1 : p[0], .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		char buf[4096];

		if (poll(f, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (f[0].revents) {
			ssize_t r = read(p[0], buf, sizeof(buf));

			if (r > 0 && !got) {
				*first = now_ms() - t0;
				got = true;
			}
			if (r <= 0)
				eof = true;
		}
		if (f[1].revents || pidfd < 0)
			break;
	}
	if (wait4(pid, st, 0, ru) < 0)
		return -1;
	*end = now_ms();
	close(p[0]);
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

static double children_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return cpu_ms(&ru);
}

int main(int argc, char **argv)
{
	int n, timeout, status = 0, jobs = 1, rounds = 1, a = 1, nfirst = 0;
	bool serial = false, reaper = false;
	FILE *raw = NULL;
	long maxrss = 0;
	double *t, *cpu, *first;
	pid_t *pids;

	for (; a < argc && argv[a][0] == '-' && strcmp(argv[a], "--"); a++) {
		if (!strcmp(argv[a], "-s"))
			serial = true;
		else if (!strcmp(argv[a], "-r"))
			reaper = true;
		else if (!strcmp(argv[a], "-j") && a + 1 < argc && (jobs = atoi(argv[a + 1])) >= 1)
			a++;
		else if (!strcmp(argv[a], "-k") && a + 1 < argc && (rounds = atoi(argv[a + 1])) >= 1)
			a++;
		else if (!strcmp(argv[a], "-o") && a + 1 < argc && (raw = fopen(argv[a + 1], "ae")))
			a++;
		else
			goto usage;
	}
	if (argc - a < 4 || (n = atoi(argv[a])) < 1 || (timeout = atoi(argv[a + 1])) < 1 ||
	    strcmp(argv[a + 2], "--") || (serial && (jobs > 1 || rounds > 1)))
		goto usage;
	argv += a + 3;
	t = calloc((size_t)n, sizeof(*t));
	cpu = calloc((size_t)n, sizeof(*cpu));
	first = calloc((size_t)n, sizeof(*first));
	pids = calloc((size_t)jobs, sizeof(*pids));
	if (!t || !cpu || !first || !pids)
		return 1;
	if (reaper && prctl(PR_SET_CHILD_SUBREAPER, 1))
		return 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), end = 0, f = -1, c0 = children_cpu_ms();
		struct rusage ru;
		int st = 0;

		cpu[i] = 0;
		if (serial) {
			if (run_serial(argv, timeout, t0, &f, &end, &ru, &st))
				return 1;
			cpu[i] = cpu_ms(&ru);
			if (ru.ru_maxrss > maxrss)
				maxrss = ru.ru_maxrss;
			if (f >= 0)
				first[nfirst++] = f;
			status = status_of(st);
		} else {
			for (int r = 0; r < rounds; r++) {
				for (int j = 0; j < jobs; j++)
					if ((pids[j] = spawn(argv, timeout, -1)) < 0)
						return 1;
				for (int j = 0; j < jobs; j++) {
					if (wait4(pids[j], &st, 0, &ru) < 0)
						return 1;
					cpu[i] += cpu_ms(&ru);
					if (ru.ru_maxrss > maxrss)
						maxrss = ru.ru_maxrss;
					if (r == 0 && j == 0)
						status = status_of(st);
					else if (status_of(st) != status)
						status = 254;   /* the copies did not agree */
				}
			}
			end = now_ms();
		}
		t[i] = end - t0;
		if (reaper) {
			while (wait4(-1, NULL, 0, NULL) > 0 || errno == EINTR)
				;
			cpu[i] = children_cpu_ms() - c0;
		}
		if (raw)
			fprintf(raw, "%.3f %.3f\n", t[i], cpu[i]);
	}
	if (raw)
		fclose(raw);
	double med = median(t, n), cmed = median(cpu, n);

	printf("%.3f %.3f %ld %d %.3f %.3f %.3f %.3f", med, t[0], maxrss, status, p90(t, n), t[n - 1],
	       cmed, p90(cpu, n));
	if (nfirst) {
		double fm = median(first, nfirst);

		printf(" %.3f %.3f\n", fm, p90(first, nfirst));
	} else {
		printf(" - -\n");
	}
	return 0;
usage:
	fprintf(stderr, "usage: timeit [-s] [-r] [-o FILE] [-j K] [-k R] N TIMEOUT_S -- CMD [ARG...]\n");
	return 2;
}
