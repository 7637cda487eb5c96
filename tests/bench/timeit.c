/* tests/bench/timeit.c: run a command N times; print the median and minimum
 * wall time in ms, the peak RSS of the child in KiB and the last exit
 * status: "MEDIAN_MS MIN_MS MAXRSS_KIB STATUS".  A run longer than TIMEOUT
 * seconds is killed (status 124).  Built and used by tests/bench/lib.sh. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n, timeout, status = 0;
	long maxrss = 0;
	double *t;

	if (argc < 5 || (n = atoi(argv[1])) < 1 || (timeout = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: timeit N TIMEOUT_S -- CMD [ARG...]\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		struct rusage ru;
		int st = 0;
		pid_t pid;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);

			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			alarm((unsigned)timeout);   /* survives exec: SIGALRM ends a hung run */
			execvp(argv[4], argv + 4);
			_exit(127);
		}
		if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? 124 : 128 + WTERMSIG(st);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.3f %.3f %ld %d\n", n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2, t[0], maxrss,
	       status);
	return 0;
}
