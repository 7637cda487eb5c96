/* tools/toml-decode.c: toml-test decoder front end for vmm/config/toml.c.
 * Owns: reading TOML on stdin and printing toml-test's tagged JSON on stdout
 * (exit 0), or the parser's one-line error on stderr (exit 1).  No parsing
 * logic lives here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config/toml.h"

static void put_json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		default:
			/* The parser validated UTF-8, so bytes >= 0x80 pass through. */
			if (c < 0x20 || c == 0x7f)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

/* Shortest "%.*g" rendering that reads back as the same double. */
static void put_float(double d)
{
	char buf[64];
	if (isnan(d)) {
		fputs("nan", stdout);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-inf" : "inf", stdout);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	fputs(buf, stdout);
	if (!strpbrk(buf, ".e"))
		fputs(".0", stdout); /* keep it visibly a float */
}

static void put_datetime(const struct toml_value *v)
{
	const struct toml_datetime *dt = &v->u.dt;
	if (v->type != TOML_TIME_LOCAL)
		printf("%04d-%02d-%02d", dt->year, dt->month, dt->day);
	if (v->type == TOML_DATE_LOCAL)
		return;
	if (v->type != TOML_TIME_LOCAL)
		putchar('T');
	printf("%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
	if (dt->frac_digits > 0) {
		char frac[16];
		int nd = dt->frac_digits > 9 ? 9 : dt->frac_digits;
		snprintf(frac, sizeof(frac), "%09u", (unsigned)dt->nanosecond);
		printf(".%.*s", nd, frac);
	}
	if (v->type != TOML_DATETIME)
		return;
	if (dt->offset_z) {
		putchar('Z');
	} else {
		int m = dt->offset_minutes;
		printf("%c%02d:%02d", m < 0 ? '-' : '+', abs(m) / 60, abs(m) % 60);
	}
}

static void put_table(const struct toml_table *t);

static void put_value(const struct toml_value *v)
{
	static const char *const tags[] = {
		[TOML_STRING] = "string", [TOML_INTEGER] = "integer",
		[TOML_FLOAT] = "float", [TOML_BOOL] = "bool",
		[TOML_DATETIME] = "datetime", [TOML_DATETIME_LOCAL] = "datetime-local",
		[TOML_DATE_LOCAL] = "date-local", [TOML_TIME_LOCAL] = "time-local",
	};
	switch (v->type) {
	case TOML_TABLE:
		put_table(v->u.tab);
		return;
	case TOML_ARRAY:
		putchar('[');
		for (size_t i = 0; i < v->u.arr.n; i++) {
			if (i)
				putchar(',');
			put_value(v->u.arr.items[i]);
		}
		putchar(']');
		return;
	default:
		break;
	}
	printf("{\"type\":\"%s\",\"value\":", tags[v->type]);
	switch (v->type) {
	case TOML_STRING:
		put_json_string(v->u.s.ptr, v->u.s.len);
		break;
	case TOML_INTEGER:
		printf("\"%lld\"", (long long)v->u.i);
		break;
	case TOML_FLOAT:
		putchar('"');
		put_float(v->u.f);
		putchar('"');
		break;
	case TOML_BOOL:
		fputs(v->u.b ? "\"true\"" : "\"false\"", stdout);
		break;
	default:
		putchar('"');
		put_datetime(v);
		putchar('"');
		break;
	}
	putchar('}');
}

static void put_table(const struct toml_table *t)
{
	putchar('{');
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			putchar(',');
		put_json_string(t->kv[i].key, t->kv[i].keylen);
		putchar(':');
		put_value(t->kv[i].val);
	}
	putchar('}');
}

int main(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	if (!buf) {
		fputs("toml-decode: out of memory\n", stderr);
		return 2;
	}
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				fputs("toml-decode: out of memory\n", stderr);
				free(buf);
				return 2;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, stdin);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(stdin)) {
		fputs("toml-decode: error reading stdin\n", stderr);
		free(buf);
		return 2;
	}
	char err[512];
	struct toml_table *root = toml_parse(buf, len, "<stdin>", err, sizeof(err));
	free(buf);
	if (!root) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	put_table(root);
	putchar('\n');
	toml_free(root);
	return fflush(stdout) == 0 ? 0 : 2;
}
