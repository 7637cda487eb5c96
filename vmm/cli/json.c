/* vmm/cli/json.c: see json.h. */
#include "vmm/cli/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/hex.h"

void json_init(struct json *j, FILE *out, unsigned flags)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->flags = flags;
}

static bool pretty(const struct json *j)
{
	return j->flags & JSON_PRETTY;
}

static void newline(struct json *j)
{
	fprintf(j->out, "\n%*s", 2 * (int)j->indent, "");
}

/* Before a key, or a value that is not a map value: the separator. */
static void member(struct json *j)
{
	struct json_level *l;

	if (!j->depth)
		return;
	l = &j->lv[j->depth - 1];
	if (l->map && l->after_key) {
		l->after_key = false;
		return;
	}
	if (l->any)
		fputc(',', j->out);
	if (pretty(j)) {
		if (!l->one_line)
			newline(j);
		else if (l->any)
			fputc(' ', j->out);
	}
	l->any = true;
}

static void begin(struct json *j, bool map, bool one_line)
{
	member(j);
	fputc(map ? '{' : '[', j->out);
	if (j->depth > JSON_MAX_DEPTH)
		abort();   /* a caller nests deeper than documented */
	j->lv[j->depth++] = (struct json_level){ .map = map, .one_line = one_line };
	if (!one_line)
		j->indent++;
}

static void end(struct json *j, bool map)
{
	const struct json_level *l = &j->lv[--j->depth];

	if (!l->one_line) {
		j->indent--;
		if (pretty(j))
			newline(j);
	}
	fputc(map ? '}' : ']', j->out);
}

void json_map_begin(struct json *j, bool one_line) { begin(j, true, one_line); }
void json_map_end(struct json *j) { end(j, true); }
void json_array_begin(struct json *j, bool one_line) { begin(j, false, one_line); }
void json_array_end(struct json *j) { end(j, false); }

static void escape(struct json *j, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			fprintf(j->out, "\\%c", c);
		else if ((j->flags & JSON_ESC_SHORT) && (c == '\n' || c == '\t' || c == '\r'))
			fputs(c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", j->out);
		else if (c < 0x20 || (c == 0x7f && (j->flags & JSON_ESC_DEL)))
			fprintf(j->out, "\\u%04x", c);
		else
			fputc(c, j->out);
	}
}

static void after_key(struct json *j)
{
	fputs(pretty(j) ? ": " : ":", j->out);
	j->lv[j->depth - 1].after_key = true;
}

void json_key(struct json *j, const char *key)
{
	member(j);
	fputc('"', j->out);
	escape(j, (const uint8_t *)key, strlen(key));
	fputc('"', j->out);
	after_key(j);
}

void json_strn(struct json *j, const uint8_t *s, size_t n)
{
	member(j);
	fputc('"', j->out);
	escape(j, s, n);
	fputc('"', j->out);
}

void json_str(struct json *j, const char *s)
{
	json_strn(j, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
}

void json_uint(struct json *j, uint64_t v)
{
	member(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_int(struct json *j, int64_t v)
{
	member(j);
	fprintf(j->out, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	member(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
	member(j);
	fputs("null", j->out);
}

/* ---- CBOR items ---- */

static void hex(struct json *j, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;

		fputs(hex_encode(buf, p + i, k), j->out);
	}
}

/* Text or byte string contents, definite or chunked, without the quotes. */
static void string_body(struct json *j, const cbor_item_t *it, bool bytes)
{
	if (bytes ? cbor_bytestring_is_definite(it) : cbor_string_is_definite(it)) {
		const uint8_t *p = bytes ? cbor_bytestring_handle(it) : cbor_string_handle(it);
		size_t n = bytes ? cbor_bytestring_length(it) : cbor_string_length(it);

		if (!p)
			return;
		if (bytes)
			hex(j, p, n);
		else
			escape(j, p, n);
		return;
	}
	cbor_item_t **ch = bytes ? cbor_bytestring_chunks_handle(it) : cbor_string_chunks_handle(it);
	size_t nc = bytes ? cbor_bytestring_chunk_count(it) : cbor_string_chunk_count(it);

	for (size_t i = 0; i < nc; i++)
		string_body(j, ch[i], bytes);
}

/* A negative integer: CBOR holds -1 - @v. */
static void negint(struct json *j, uint64_t v)
{
	if (v == UINT64_MAX)
		fputs("-18446744073709551616", j->out);
	else
		fprintf(j->out, "-%" PRIu64, v + 1);
}

static void number(struct json *j, double d)
{
	char buf[64];

	if (!isfinite(d)) {
		fputs("null", j->out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, j->out);
}

static void cbor_key(struct json *j, const cbor_item_t *k)
{
	member(j);
	fputc('"', j->out);
	switch (cbor_typeof(k)) {
	case CBOR_TYPE_STRING:
		string_body(j, k, false);
		break;
	case CBOR_TYPE_BYTESTRING:
		string_body(j, k, true);
		break;
	case CBOR_TYPE_UINT:
		fprintf(j->out, "%" PRIu64, cbor_get_int(k));
		break;
	case CBOR_TYPE_NEGINT:
		negint(j, cbor_get_int(k));
		break;
	default:
		fputs("?", j->out);
	}
	fputc('"', j->out);
	after_key(j);
}

/* An array or map of @n members: when empty, written as @text ([] or {})
 * in every layout. */
static bool empty(struct json *j, size_t n, const char *text)
{
	if (n)
		return false;
	member(j);
	fputs(text, j->out);
	return true;
}

static int cbor_value(struct json *j, const cbor_item_t *it, unsigned depth)
{
	int rc = 0;

	if (depth > JSON_MAX_DEPTH) {
		json_null(j);
		return -1;
	}
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		json_uint(j, cbor_get_int(it));
		break;
	case CBOR_TYPE_NEGINT:
		member(j);
		negint(j, cbor_get_int(it));
		break;
	case CBOR_TYPE_BYTESTRING:
	case CBOR_TYPE_STRING:
		member(j);
		fputc('"', j->out);
		string_body(j, it, cbor_typeof(it) == CBOR_TYPE_BYTESTRING);
		fputc('"', j->out);
		break;
	case CBOR_TYPE_ARRAY: {
		cbor_item_t **a = cbor_array_handle(it);
		size_t n = cbor_array_size(it);

		if (empty(j, n, "[]"))
			break;
		json_array_begin(j, false);
		for (size_t i = 0; i < n; i++)
			if (cbor_value(j, a[i], depth + 1))
				rc = -1;
		json_array_end(j);
		break;
	}
	case CBOR_TYPE_MAP: {
		struct cbor_pair *p = cbor_map_handle(it);
		size_t n = cbor_map_size(it);

		if (empty(j, n, "{}"))
			break;
		json_map_begin(j, false);
		for (size_t i = 0; i < n; i++) {
			cbor_key(j, p[i].key);
			if (cbor_value(j, p[i].value, depth + 1))
				rc = -1;
		}
		json_map_end(j);
		break;
	}
	case CBOR_TYPE_TAG: {
		cbor_item_t *in = cbor_tag_item(it);   /* new reference */

		rc = cbor_value(j, in, depth + 1);
		cbor_decref(&in);
		break;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		member(j);
		if (!cbor_float_ctrl_is_ctrl(it))
			number(j, cbor_float_get_float(it));
		else if (cbor_is_bool(it))
			fputs(cbor_get_bool(it) ? "true" : "false", j->out);
		else if (cbor_ctrl_value(it) == CBOR_CTRL_NULL ||
			 cbor_ctrl_value(it) == CBOR_CTRL_UNDEF)
			fputs("null", j->out);
		else
			fprintf(j->out, "%u", cbor_ctrl_value(it));
		break;
	default:
		json_null(j);
	}
	return rc;
}

int json_print_cbor(FILE *out, const cbor_item_t *it, unsigned flags)
{
	struct json j;

	json_init(&j, out, flags);
	return cbor_value(&j, it, 0);
}
