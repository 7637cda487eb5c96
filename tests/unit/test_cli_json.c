/* tests/unit/test_cli_json.c: Criterion tests of the command line's JSON
 * writer (vmm/cli/json.c): escaping under each flag, the compact, indented
 * and one-line layouts, nesting, CBOR byte strings, keys, tags, chunked
 * strings and the depth limit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/proto.h"
#include "vmm/cli/json.h"

/* Output of a writer into a string. */
struct cap {
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->f);
}

/* Closes the stream; the caller frees the returned text. */
static char *cap_close(struct cap *c)
{
	fclose(c->f);
	return c->buf;
}

static char *cbor_json(const cbor_item_t *it, unsigned flags, int *rc)
{
	struct cap c;

	cap_open(&c);
	*rc = json_print_cbor(c.f, it, flags);
	return cap_close(&c);
}

static void assert_cbor_json(const cbor_item_t *it, unsigned flags, const char *want)
{
	int rc;
	char *got = cbor_json(it, flags, &rc);

	cr_assert_eq(rc, 0);
	cr_assert_str_eq(got, want);
	free(got);
}

static char *str_json(const char *s, size_t n, unsigned flags)
{
	struct cap c;
	struct json j;

	cap_open(&c);
	json_init(&j, c.f, flags);
	json_strn(&j, (const uint8_t *)s, n);
	return cap_close(&c);
}

Test(cli_json, escaping_plain)
{
	static const char s[] = "q\"b\\s/\n\t\r\x01\x1f\x7f \xc3\xa9";
	char *got = str_json(s, sizeof(s) - 1, 0);

	/* controls as \u00XX, DEL and UTF-8 as they are, / not escaped */
	cr_assert_str_eq(got, "\"q\\\"b\\\\s/\\u000a\\u0009\\u000d\\u0001\\u001f\x7f \xc3\xa9\"");
	free(got);
}

Test(cli_json, escaping_short_and_del)
{
	static const char s[] = "\n\t\r\x01\x7f\x08";
	char *got = str_json(s, sizeof(s) - 1, JSON_ESC_SHORT);

	cr_assert_str_eq(got, "\"\\n\\t\\r\\u0001\x7f\\u0008\"");
	free(got);
	got = str_json(s, sizeof(s) - 1, JSON_ESC_DEL);
	cr_assert_str_eq(got, "\"\\u000a\\u0009\\u000d\\u0001\\u007f\\u0008\"");
	free(got);
	got = str_json(s, sizeof(s) - 1, JSON_ESC_SHORT | JSON_ESC_DEL);
	cr_assert_str_eq(got, "\"\\n\\t\\r\\u0001\\u007f\\u0008\"");
	free(got);
}

Test(cli_json, embedded_nul_and_null_string)
{
	struct cap c;
	struct json j;
	char *got = str_json("a\0b", 3, 0);

	cr_assert_str_eq(got, "\"a\\u0000b\"");
	free(got);
	cap_open(&c);
	json_init(&j, c.f, JSON_PRETTY);
	json_str(&j, NULL);
	got = cap_close(&c);
	cr_assert_str_eq(got, "\"\"");
	free(got);
}

Test(cli_json, scalars)
{
	struct cap c;
	struct json j;
	char *got;

	cap_open(&c);
	json_init(&j, c.f, 0);
	json_array_begin(&j, false);
	json_uint(&j, UINT64_MAX);
	json_int(&j, INT64_MIN);
	json_int(&j, 7);
	json_bool(&j, true);
	json_bool(&j, false);
	json_null(&j);
	json_str(&j, "x");
	json_array_end(&j);
	got = cap_close(&c);
	cr_assert_str_eq(got, "[18446744073709551615,-9223372036854775808,7,true,false,null,\"x\"]");
	free(got);
}

/* The same document in the three layouts. */
static char *nested_doc(unsigned flags, bool one_line_inner)
{
	struct cap c;
	struct json j;

	cap_open(&c);
	json_init(&j, c.f, flags);
	json_map_begin(&j, false);
	json_key(&j, "name");
	json_str(&j, "vm");
	json_key(&j, "list");
	json_array_begin(&j, false);
	json_map_begin(&j, one_line_inner);
	json_key(&j, "a");
	json_uint(&j, 1);
	json_key(&j, "b");
	json_array_begin(&j, one_line_inner);
	json_bool(&j, true);
	json_null(&j);
	json_array_end(&j);
	json_map_end(&j);
	json_uint(&j, 2);
	json_array_end(&j);
	json_key(&j, "empty");
	json_array_begin(&j, false);
	json_array_end(&j);
	json_map_end(&j);
	return cap_close(&c);
}

Test(cli_json, nested_compact)
{
	char *got = nested_doc(0, false);

	cr_assert_str_eq(got, "{\"name\":\"vm\",\"list\":[{\"a\":1,\"b\":[true,null]},2],\"empty\":[]}");
	free(got);
	/* one-line has no effect without JSON_PRETTY */
	got = nested_doc(0, true);
	cr_assert_str_eq(got, "{\"name\":\"vm\",\"list\":[{\"a\":1,\"b\":[true,null]},2],\"empty\":[]}");
	free(got);
}

Test(cli_json, nested_pretty)
{
	char *got = nested_doc(JSON_PRETTY, false);

	cr_assert_str_eq(got,
			 "{\n"
			 "  \"name\": \"vm\",\n"
			 "  \"list\": [\n"
			 "    {\n"
			 "      \"a\": 1,\n"
			 "      \"b\": [\n"
			 "        true,\n"
			 "        null\n"
			 "      ]\n"
			 "    },\n"
			 "    2\n"
			 "  ],\n"
			 "  \"empty\": [\n"
			 "  ]\n"
			 "}");
	free(got);
}

Test(cli_json, nested_one_line_members)
{
	char *got = nested_doc(JSON_PRETTY, true);

	cr_assert_str_eq(got,
			 "{\n"
			 "  \"name\": \"vm\",\n"
			 "  \"list\": [\n"
			 "    {\"a\": 1, \"b\": [true, null]},\n"
			 "    2\n"
			 "  ],\n"
			 "  \"empty\": [\n"
			 "  ]\n"
			 "}");
	free(got);
}

/* A multi-line array inside a one-line map is indented by the multi-line
 * containers around it only (uki inspect's "hwids"). */
Test(cli_json, multi_line_inside_one_line)
{
	struct cap c;
	struct json j;
	char *got;

	cap_open(&c);
	json_init(&j, c.f, JSON_PRETTY);
	json_map_begin(&j, false);
	json_key(&j, "h");
	json_map_begin(&j, true);
	json_key(&j, "valid");
	json_bool(&j, true);
	json_key(&j, "records");
	json_array_begin(&j, false);
	json_map_begin(&j, true);
	json_key(&j, "k\"ey");
	json_str(&j, "v");
	json_map_end(&j);
	json_array_end(&j);
	json_map_end(&j);
	json_map_end(&j);
	got = cap_close(&c);
	cr_assert_str_eq(got,
			 "{\n"
			 "  \"h\": {\"valid\": true, \"records\": [\n"
			 "    {\"k\\\"ey\": \"v\"}\n"
			 "  ]}\n"
			 "}");
	free(got);
}

Test(cli_json, cbor_nested_pretty)
{
	cbor_item_t *doc = api_map_new(4), *inner = api_map_new(2), *arr = cbor_new_definite_array(3);

	api_map_put_str(doc, "s", "x\ny");
	api_map_put_uint(inner, "n", 42);
	api_map_put_bool(inner, "b", false);
	api_map_put(doc, "inner", inner);
	(void)cbor_array_push(arr, cbor_move(cbor_build_uint8(1)));
	(void)cbor_array_push(arr, cbor_move(cbor_new_definite_array(0)));
	(void)cbor_array_push(arr, cbor_move(cbor_new_definite_map(0)));
	api_map_put(doc, "arr", arr);
	api_map_put(doc, "empty", cbor_new_definite_map(0));
	/* empty containers stay [] and {} even when indented */
	assert_cbor_json(doc, JSON_PRETTY,
			 "{\n"
			 "  \"s\": \"x\\u000ay\",\n"
			 "  \"inner\": {\n"
			 "    \"n\": 42,\n"
			 "    \"b\": false\n"
			 "  },\n"
			 "  \"arr\": [\n"
			 "    1,\n"
			 "    [],\n"
			 "    {}\n"
			 "  ],\n"
			 "  \"empty\": {}\n"
			 "}");
	assert_cbor_json(doc, JSON_ESC_SHORT,
			 "{\"s\":\"x\\ny\",\"inner\":{\"n\":42,\"b\":false},\"arr\":[1,[],{}],\"empty\":{}}");
	cbor_decref(&doc);
}

Test(cli_json, cbor_byte_strings)
{
	static const uint8_t b[70] = { 0x00, 0x01, 0xab, [69] = 0xff };
	cbor_item_t *m = api_map_new(3), *chunked = cbor_new_indefinite_bytestring();
	char want[256];

	api_map_put_bytes(m, "b", b, 3);
	api_map_put_bytes(m, "empty", NULL, 0);
	/* longer than the writer's hex buffer, and chunked */
	(void)cbor_bytestring_add_chunk(chunked, cbor_move(cbor_build_bytestring(b, 70)));
	(void)cbor_bytestring_add_chunk(chunked, cbor_move(cbor_build_bytestring(b + 1, 2)));
	api_map_put(m, "long", chunked);
	snprintf(want, sizeof(want), "{\"b\":\"0001ab\",\"empty\":\"\",\"long\":\"0001ab%0*dff01ab\"}",
		 2 * 66, 0);
	assert_cbor_json(m, 0, want);
	cbor_decref(&m);
}

Test(cli_json, cbor_keys_numbers_tags)
{
	cbor_item_t *m = cbor_new_definite_map(8), *neg = cbor_build_uint64(UINT64_MAX);
	cbor_item_t *s = cbor_new_indefinite_string();
	static const uint8_t kb[2] = { 0xde, 0xad };

	cbor_mark_negint(neg);
	(void)cbor_string_add_chunk(s, cbor_move(cbor_build_string("ab")));
	(void)cbor_string_add_chunk(s, cbor_move(cbor_build_string("\"c")));
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_uint8(7)),
						  .value = cbor_move(neg) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_bytestring(kb, 2)),
						  .value = cbor_move(s) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_negint8(4)),
						  .value = cbor_move(cbor_build_float8(1.0 / 3)) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_bool(true)),
						  .value = cbor_move(cbor_build_tag(1, cbor_move(cbor_build_uint8(5)))) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string("nan")),
						  .value = cbor_move(cbor_build_float8(NAN)) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string("null")),
						  .value = cbor_move(cbor_new_null()) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string("undef")),
						  .value = cbor_move(cbor_new_undef()) });
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string("simple")),
						  .value = cbor_move(cbor_build_ctrl(16)) });
	assert_cbor_json(m, 0,
			 "{\"7\":-18446744073709551616,\"dead\":\"ab\\\"c\",\"-5\":0.33333333333333331,"
			 "\"?\":5,\"nan\":null,\"null\":null,\"undef\":null,\"simple\":16}");
	cbor_decref(&m);
}

Test(cli_json, cbor_depth_limit)
{
	cbor_item_t *top = cbor_new_definite_array(1), *cur = top;
	int rc;
	char *got;
	size_t opens = 0;

	/* JSON_MAX_DEPTH + 1 arrays print; the one inside them becomes null */
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) {
		cbor_item_t *next = cbor_new_definite_array(1);

		(void)cbor_array_push(cur, next);
		cbor_decref(&next);
		cur = cbor_array_get(cur, 0);
		cbor_decref(&cur);   /* the parent keeps it alive */
	}
	(void)cbor_array_push(cur, cbor_move(cbor_build_uint8(1)));
	got = cbor_json(top, JSON_PRETTY, &rc);
	cr_assert_eq(rc, -1);
	for (const char *p = got; *p; p++)
		opens += *p == '[';
	cr_assert_eq(opens, JSON_MAX_DEPTH + 1);
	cr_assert_not_null(strstr(got, "null"));
	cr_assert_null(strstr(got, "1"));
	free(got);
	cbor_decref(&top);
}
