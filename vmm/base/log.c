/* vmm/base/log.c: implementation of vmm/base/log.h. */
#include "vmm/base/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static enum log_level cur_level = LOG_INFO;
static FILE *sink;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level) { cur_level = level; }
enum log_level log_get_level(void) { return cur_level; }
void log_set_file(struct _IO_FILE *f) { sink = (FILE *)f; }

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	FILE *out = sink ? sink : stderr;

	pthread_mutex_lock(&log_lock);
	fprintf(out, "fukivmm: %s: ", names[level]);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_msg_rl(enum log_level level, struct ratelimit *rl, const char *site,
		const char *fmt, ...)
{
	uint64_t suppressed = 0;
	va_list ap;

	if (level > cur_level || !ratelimit_allow(rl, &suppressed))
		return;
	if (suppressed)
		log_msg(level, "%llu messages suppressed (%s)", (unsigned long long)suppressed,
			site ? site : "?");
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&log_lock);
	fputs("fukivmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
	va_end(ap);
	exit(2);
}
