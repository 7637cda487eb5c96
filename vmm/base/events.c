/* vmm/base/events.c: implementation of vmm/base/events.h. */
#include "vmm/base/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "vmm/base/clock.h"

#define EVENTS_MAX_SUBS 32

static FILE *ev_out;
static uint64_t ev_t0_ns;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { events_fn fn; void *opaque; } ev_subs[EVENTS_MAX_SUBS];

int events_open(const char *path)
{
	ev_t0_ns = clock_now_ns();
	ev_out = stderr;
	if (!path)
		return 0;
	FILE *f = fopen(path, "ae");

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	ev_out = f;
	return 0;
}

void events_close(void)
{
	if (ev_out && ev_out != stderr)
		fclose(ev_out);
	ev_out = NULL;
}

static void events_write_field(FILE *out, const struct event_field *f)
{
	fprintf(out, " %s=", f->key);
	switch (f->type) {
	case EV_STR: {
		const char *s = f->v.s ? f->v.s : "";
		bool quote = !*s;

		for (const char *c = s; *c; c++)
			if (*c == ' ' || *c == '"' || *c == '=' || (unsigned char)*c < 0x20)
				quote = true;
		if (!quote) {
			fputs(s, out);
			break;
		}
		fputc('"', out);
		for (const char *c = s; *c; c++) {
			if (*c == '"' || *c == '\\')
				fprintf(out, "\\%c", *c);
			else if ((unsigned char)*c < 0x20)
				fprintf(out, "\\x%02x", (unsigned char)*c);
			else
				fputc(*c, out);
		}
		fputc('"', out);
		break;
	}
	case EV_U64:
		fprintf(out, "%llu", (unsigned long long)f->v.u);
		break;
	case EV_I64:
		fprintf(out, "%lld", (long long)f->v.i);
		break;
	case EV_F64:
		fprintf(out, "%.3f", f->v.f);
		break;
	case EV_BOOL:
		fputs(f->v.b ? "true" : "false", out);
		break;
	case EV_BYTES:
		if (!f->v.bytes.p || !f->v.bytes.n) {
			fputc('-', out);
			break;
		}
		for (size_t i = 0; i < f->v.bytes.n; i++)
			fprintf(out, "%02x", f->v.bytes.p[i]);
		break;
	}
}

void events_emit(const char *name, const struct event_field *f, unsigned n)
{
	struct event ev = { .name = name, .f = f, .n = n };
	FILE *out;

	ev.t = (double)(clock_now_ns() - ev_t0_ns) / 1e9;
	pthread_mutex_lock(&ev_lock);
	out = ev_out ? ev_out : stderr;
	fprintf(out, "fukivmm-event t=%.6f event=%s", ev.t, name);
	for (unsigned i = 0; i < n; i++)
		events_write_field(out, &f[i]);
	fputc('\n', out);
	fflush(out);
	for (unsigned i = 0; i < EVENTS_MAX_SUBS; i++)
		if (ev_subs[i].fn)
			ev_subs[i].fn(ev_subs[i].opaque, &ev);
	pthread_mutex_unlock(&ev_lock);
}

int events_subscribe(events_fn fn, void *opaque)
{
	int h = -ENOSPC;

	pthread_mutex_lock(&ev_lock);
	for (unsigned i = 0; i < EVENTS_MAX_SUBS; i++)
		if (!ev_subs[i].fn) {
			ev_subs[i].fn = fn;
			ev_subs[i].opaque = opaque;
			h = (int)i;
			break;
		}
	pthread_mutex_unlock(&ev_lock);
	return h;
}

void events_unsubscribe(int handle)
{
	if (handle < 0 || handle >= EVENTS_MAX_SUBS)
		return;
	pthread_mutex_lock(&ev_lock);
	ev_subs[handle].fn = NULL;
	ev_subs[handle].opaque = NULL;
	pthread_mutex_unlock(&ev_lock);
}
