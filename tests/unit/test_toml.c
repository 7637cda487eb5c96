/* tests/unit/test_toml.c: Criterion tests of the TOML 1.0.0 parser (vmm/config/toml.c).
 * Owns: hand-written valid and invalid documents with exact value, type and
 * error line/column checks.  Touches no other module. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config/toml.h"

static char errbuf[512];

static struct toml_table *parse_n(const char *s, size_t n)
{
	return toml_parse(s, n, "t.toml", errbuf, sizeof(errbuf));
}

static struct toml_table *ok(const char *s)
{
	struct toml_table *t = parse_n(s, strlen(s));
	cr_assert_not_null(t, "unexpected error: %s\n--- input:\n%s", errbuf, s);
	return t;
}

/* Expect a parse error at @line:@col whose message contains @what. */
static void bad_n(const char *s, size_t n, unsigned line, unsigned col, const char *what)
{
	struct toml_table *t = parse_n(s, n);
	if (t)
		toml_free(t);
	cr_assert_null(t, "accepted invalid input:\n%s", s);
	unsigned l = 0, c = 0;
	int used = 0;
	cr_assert_eq(sscanf(errbuf, "t.toml:%u:%u: %n", &l, &c, &used), 2,
		     "malformed error '%s'", errbuf);
	cr_assert(used > 0);
	cr_assert(strchr(errbuf, '\n') == NULL, "error has a newline: '%s'", errbuf);
	cr_assert(l == line && c == col, "error at %u:%u, want %u:%u: '%s'",
		  l, c, line, col, errbuf);
	cr_assert(strstr(errbuf + used, what), "error '%s' lacks '%s'", errbuf, what);
}

static void bad(const char *s, unsigned line, unsigned col, const char *what)
{
	bad_n(s, strlen(s), line, col, what);
}

static const struct toml_value *get(const struct toml_table *t, const char *k,
				    enum toml_type type)
{
	const struct toml_value *v = toml_get(t, k);
	cr_assert_not_null(v, "key '%s' missing", k);
	cr_assert_eq(v->type, type, "key '%s' is %s, want %s", k,
		     toml_type_name(v->type), toml_type_name(type));
	return v;
}

static const struct toml_table *tab(const struct toml_table *t, const char *k)
{
	return get(t, k, TOML_TABLE)->u.tab;
}

static int64_t geti(const struct toml_table *t, const char *k)
{
	return get(t, k, TOML_INTEGER)->u.i;
}

static double getf(const struct toml_table *t, const char *k)
{
	return get(t, k, TOML_FLOAT)->u.f;
}

static const char *gets_(const struct toml_table *t, const char *k)
{
	return get(t, k, TOML_STRING)->u.s.ptr;
}

/* ------------------------------------------------------------- strings */

Test(toml_string, basic_escapes)
{
	struct toml_table *t = ok(
		"a = \"tab\\there \\\"q\\\" back\\\\slash\"\n"
		"b = \"\\b\\f\\n\\r\"\n"
		"c = \"caf\\u00E9 \\U0001F600\"\n"
		"d = \"\"\n");
	cr_assert_str_eq(gets_(t, "a"), "tab\there \"q\" back\\slash");
	cr_assert_str_eq(gets_(t, "b"), "\b\f\n\r");
	cr_assert_str_eq(gets_(t, "c"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
	cr_assert_eq(get(t, "d", TOML_STRING)->u.s.len, 0);
	cr_assert_str_eq(gets_(t, "d"), "");
	toml_free(t);
}

Test(toml_string, embedded_nul)
{
	struct toml_table *t = ok("s = \"x\\u0000y\"\n\"k\\u0000z\" = 7\n");
	const struct toml_value *v = get(t, "s", TOML_STRING);
	cr_assert_eq(v->u.s.len, 3);
	cr_assert_eq(memcmp(v->u.s.ptr, "x\0y", 4), 0);
	cr_assert_eq(t->n, 2);
	cr_assert_eq(t->kv[1].keylen, 3);
	cr_assert_eq(memcmp(t->kv[1].key, "k\0z", 4), 0);
	cr_assert_eq(t->kv[1].val->u.i, 7);
	toml_free(t);
}

Test(toml_string, literal_and_multiline)
{
	struct toml_table *t = ok(
		"lit = 'C:\\path\\no\\escape'\n"
		"ml = \"\"\"\nfirst\nsecond\"\"\"\n"
		"trim = \"\"\"one \\\n     two \\   \n\n  three\"\"\"\n"
		"quotes = \"\"\"\"x\"\" \"\"\"\"\n"
		"mllit = '''\nraw \\n ''text'''''\n");
	cr_assert_str_eq(gets_(t, "lit"), "C:\\path\\no\\escape");
	cr_assert_str_eq(gets_(t, "ml"), "first\nsecond");
	cr_assert_str_eq(gets_(t, "trim"), "one two three");
	cr_assert_str_eq(gets_(t, "quotes"), "\"x\"\" \"");
	cr_assert_str_eq(gets_(t, "mllit"), "raw \\n ''text''");
	toml_free(t);
}

Test(toml_string, utf8_passthrough_and_tab)
{
	struct toml_table *t = ok("s = \"\xE2\x82\xAC\tend\"  # comment \xC3\xA9\n");
	cr_assert_str_eq(gets_(t, "s"), "\xE2\x82\xAC\tend");
	toml_free(t);
}

Test(toml_string, errors)
{
	bad("s = \"abc\\qdef\"\n", 1, 9, "invalid escape");
	bad("s = \"\\uD800\"\n", 1, 6, "not a Unicode scalar");
	bad("s = \"\\U00110000\"\n", 1, 6, "not a Unicode scalar");
	bad("s = \"\\u12G4\"\n", 1, 6, "hex digits");
	bad("s = \"open\nx = 1\n", 1, 10, "unterminated string");
	bad("s = 'open\n", 1, 10, "unterminated string");
	bad("s = \"\"\"never closed\n\n", 3, 1, "unterminated multi-line");
	bad("s = \"a\x01" "b\"\n", 1, 7, "U+0001");
	bad("s = \"a\x7f\"\n", 1, 7, "U+007F");
	bad("s = '''a\rb'''\n", 1, 9, "carriage return");
	bad("s = \"\"\"\\ x\"\"\"\n", 1, 8, "invalid escape");
	/* Six quotes: two of them are content, the sixth is stray. */
	bad("s = \"\"\"a\"\"\"\"\"\"\n", 1, 14, "expected end of line");
}

Test(toml_string, raw_nul_byte_rejected)
{
	static const char doc[] = "a = 1 # c\0mment\n";
	bad_n(doc, sizeof(doc) - 1, 1, 10, "U+0000");
	static const char doc2[] = "a = \"x\0\"\n";
	bad_n(doc2, sizeof(doc2) - 1, 1, 7, "U+0000");
}

Test(toml_string, invalid_utf8)
{
	bad("a = 1\nb = \"\xC3\x28\"\n", 2, 6, "invalid UTF-8");
	bad("a = \"\xC0\x80\"\n", 1, 6, "invalid UTF-8");        /* overlong NUL */
	bad("a = \"\xED\xA0\x80\"\n", 1, 6, "invalid UTF-8");    /* surrogate */
	bad("a = \"\xE0\x80\xAF\"\n", 1, 6, "invalid UTF-8");    /* overlong '/' */
	bad("a = \"\xF4\x90\x80\x80\"\n", 1, 6, "invalid UTF-8"); /* > U+10FFFF */
	bad("\xC3\xA9\xC3\xA9 = \xFF\n", 1, 6, "invalid UTF-8");  /* columns count characters */
	bad("a = \"\xE2\x82", 1, 6, "invalid UTF-8");            /* truncated at EOF */
}

/* ------------------------------------------------------------- numbers */

Test(toml_number, integers)
{
	struct toml_table *t = ok(
		"a = 42\nb = -17\nc = +99\nd = 0\ne = -0\nf = 1_000_000\n"
		"g = 0xDEAD_beef\nh = 0o755\ni = 0b1101_0101\nj = 0x00ff\n"
		"max = 9223372036854775807\nmin = -9223372036854775808\n"
		"hmax = 0x7fffffffffffffff\n");
	cr_assert_eq(geti(t, "a"), 42);
	cr_assert_eq(geti(t, "b"), -17);
	cr_assert_eq(geti(t, "c"), 99);
	cr_assert_eq(geti(t, "d"), 0);
	cr_assert_eq(geti(t, "e"), 0);
	cr_assert_eq(geti(t, "f"), 1000000);
	cr_assert_eq(geti(t, "g"), 0xDEADBEEF);
	cr_assert_eq(geti(t, "h"), 0755);
	cr_assert_eq(geti(t, "i"), 0xD5);
	cr_assert_eq(geti(t, "j"), 255);
	cr_assert_eq(geti(t, "max"), INT64_MAX);
	cr_assert_eq(geti(t, "min"), INT64_MIN);
	cr_assert_eq(geti(t, "hmax"), INT64_MAX);
	toml_free(t);
}

Test(toml_number, integer_errors)
{
	bad("a = 9223372036854775808\n", 1, 5, "64 bits");
	bad("a = -9223372036854775809\n", 1, 5, "64 bits");
	bad("a = 0x8000000000000000\n", 1, 5, "64 bits");
	bad("a = 012\n", 1, 5, "leading zeros");
	bad("a = -01\n", 1, 6, "leading zeros");
	bad("a = 1__2\n", 1, 6, "invalid number");
	bad("a = 12_\n", 1, 7, "invalid number");
	bad("a = +_1\n", 1, 6, "invalid number");
	bad("a = +0x10\n", 1, 5, "sign");
	bad("a = 0x\n", 1, 7, "hexadecimal");
	bad("a = 0b102\n", 1, 9, "binary");
	bad("a = 0o8\n", 1, 7, "octal");
	bad("a = 0X10\n", 1, 6, "invalid number");
	bad("a = 1 2\n", 1, 7, "expected end of line");
	bad("a = hello\n", 1, 5, "expected a value");
}

Test(toml_number, floats)
{
	struct toml_table *t = ok(
		"a = 3.14\nb = -0.5\nc = 5e+22\nd = 1E6\ne = -2e-2\nf = 6.626e-34\n"
		"g = 224_617.445_991\nh = 0.0\ni = inf\nj = -inf\nk = +inf\nl = nan\n"
		"m = -nan\nn = 1e0_1\n");
	cr_assert_float_eq(getf(t, "a"), 3.14, 1e-12);
	cr_assert_eq(getf(t, "b"), -0.5);
	cr_assert_eq(getf(t, "c"), 5e22);
	cr_assert_eq(getf(t, "d"), 1e6);
	cr_assert_float_eq(getf(t, "e"), -0.02, 1e-15);
	cr_assert_float_eq(getf(t, "f"), 6.626e-34, 1e-45);
	cr_assert_float_eq(getf(t, "g"), 224617.445991, 1e-9);
	cr_assert_eq(getf(t, "h"), 0.0);
	cr_assert(isinf(getf(t, "i")) && getf(t, "i") > 0);
	cr_assert(isinf(getf(t, "j")) && getf(t, "j") < 0);
	cr_assert(isinf(getf(t, "k")) && getf(t, "k") > 0);
	cr_assert(isnan(getf(t, "l")));
	cr_assert(isnan(getf(t, "m")));
	cr_assert_eq(getf(t, "n"), 10.0);
	toml_free(t);
}

Test(toml_number, float_errors)
{
	bad("a = 1.\n", 1, 7, "expected a digit");
	bad("a = .5\n", 1, 5, "expected a value");
	bad("a = 1e\n", 1, 7, "exponent");
	bad("a = 1._5\n", 1, 7, "expected a digit");
	bad("a = 1e400\n", 1, 5, "out of range");
	bad("a = 03.14\n", 1, 5, "leading zeros");
	bad("a = infinity\n", 1, 5, "invalid number");
	bad("a = NaN\n", 1, 5, "expected a value");
	bad("a = 1.5.2\n", 1, 8, "invalid number");
}

Test(toml_bool, values)
{
	struct toml_table *t = ok("y = true\nn = false\n");
	cr_assert(get(t, "y", TOML_BOOL)->u.b);
	cr_assert_not(get(t, "n", TOML_BOOL)->u.b);
	toml_free(t);
	bad("y = True\n", 1, 5, "expected a value");
	bad("y = truex\n", 1, 9, "expected end of line");
}

/* ----------------------------------------------------------- date-time */

Test(toml_datetime, kinds)
{
	struct toml_table *t = ok(
		"odt = 1979-05-27T07:32:00-07:00\n"
		"z = 1979-05-27 07:32:00.999999Z\n"
		"ldt = 1979-05-27t00:32:00.123456789123\n"
		"ld = 2024-02-29\n"
		"lt = 07:32:00.5\n"
		"leap = 2016-12-31T23:59:60Z\n");
	const struct toml_datetime *d = &get(t, "odt", TOML_DATETIME)->u.dt;
	cr_assert(d->year == 1979 && d->month == 5 && d->day == 27);
	cr_assert(d->hour == 7 && d->minute == 32 && d->second == 0);
	cr_assert(d->has_offset && !d->offset_z && d->offset_minutes == -420);
	d = &get(t, "z", TOML_DATETIME)->u.dt;
	cr_assert(d->offset_z && d->offset_minutes == 0);
	cr_assert_eq(d->nanosecond, 999999000u);
	cr_assert_eq(d->frac_digits, 6);
	d = &get(t, "ldt", TOML_DATETIME_LOCAL)->u.dt;
	cr_assert_not(d->has_offset);
	cr_assert_eq(d->nanosecond, 123456789u);
	cr_assert_eq(d->frac_digits, 12);
	d = &get(t, "ld", TOML_DATE_LOCAL)->u.dt;
	cr_assert(d->year == 2024 && d->month == 2 && d->day == 29);
	d = &get(t, "lt", TOML_TIME_LOCAL)->u.dt;
	cr_assert(d->hour == 7 && d->nanosecond == 500000000u && d->frac_digits == 1);
	cr_assert_eq(get(t, "leap", TOML_DATETIME)->u.dt.second, 60);
	toml_free(t);
}

Test(toml_datetime, calendar)
{
	toml_free(ok("a = 2000-02-29\nb = 1600-02-29T00:00:00\n"));
	bad("a = 2023-02-29\n", 1, 13, "day 29 out of range");
	bad("a = 1900-02-29\n", 1, 13, "out of range");
	bad("a = 2023-04-31\n", 1, 13, "out of range");
	bad("a = 2023-00-10\n", 1, 10, "month 0");
	bad("a = 2023-13-10\n", 1, 10, "month 13");
	bad("a = 2023-01-00\n", 1, 13, "day 0");
	bad("a = 2023-01-01T24:00:00\n", 1, 16, "hour 24");
	bad("a = 2023-01-01T12:60:00\n", 1, 19, "minute 60");
	bad("a = 12:00:61\n", 1, 11, "second 61");
	bad("a = 2023-01-01T12:00:00+24:00\n", 1, 24, "offset");
	bad("a = 2023-01-01T12:00:00+05\n", 1, 24, "offset");
	bad("a = 2023-01-01T12:00\n", 1, 16, "HH:MM:SS");
	bad("a = 2023-1-01\n", 1, 5, "YYYY-MM-DD");
	bad("a = 12:00:00.\n", 1, 14, "digit");
	bad("a = 2023-01-01T\n", 1, 16, "HH:MM:SS");
	bad("a = 12:00:00Z\n", 1, 13, "expected end of line");
	bad("a = 10000-01-01\n", 1, 10, "invalid number");
}

/* --------------------------------------------------------------- arrays */

Test(toml_array, mixed_nested_multiline)
{
	struct toml_table *t = ok(
		"a = [ 1, 'two', 3.0, [true, []], { x = 1 }, ]\n"
		"b = [\n  1,  # one\n\n  2 # two\n  ,3\n]\n"
		"c = []\n");
	const struct toml_value *a = get(t, "a", TOML_ARRAY);
	cr_assert_eq(a->u.arr.n, 5);
	cr_assert_eq(a->u.arr.items[0]->type, TOML_INTEGER);
	cr_assert_eq(a->u.arr.items[1]->type, TOML_STRING);
	cr_assert_eq(a->u.arr.items[2]->type, TOML_FLOAT);
	cr_assert_eq(a->u.arr.items[3]->type, TOML_ARRAY);
	cr_assert_eq(a->u.arr.items[3]->u.arr.n, 2);
	cr_assert_eq(a->u.arr.items[3]->u.arr.items[1]->u.arr.n, 0);
	cr_assert_eq(a->u.arr.items[4]->type, TOML_TABLE);
	cr_assert_eq(a->u.arr.items[4]->line, 1);
	cr_assert_eq(a->u.arr.items[4]->col, 34);
	const struct toml_value *b = get(t, "b", TOML_ARRAY);
	cr_assert_eq(b->u.arr.n, 3);
	cr_assert_eq(b->u.arr.items[2]->u.i, 3);
	cr_assert_eq(b->u.arr.items[2]->line, 6);
	cr_assert_eq(b->u.arr.items[2]->col, 4);
	cr_assert_eq(get(t, "c", TOML_ARRAY)->u.arr.n, 0);
	toml_free(t);
}

Test(toml_array, many_items)
{
	size_t n = 5000, o = 0;
	char *doc = malloc(n * 8 + 16);
	cr_assert_not_null(doc);
	o += (size_t)sprintf(doc, "a = [");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(doc + o, "%zu,", i);
	sprintf(doc + o, "]\n");
	struct toml_table *t = ok(doc);
	const struct toml_value *a = get(t, "a", TOML_ARRAY);
	cr_assert_eq(a->u.arr.n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(a->u.arr.items[i]->u.i, (int64_t)i);
	toml_free(t);
	free(doc);
}

Test(toml_array, errors)
{
	bad("a = [1 2]\n", 1, 8, "expected ',' or ']'");
	bad("a = [1,,2]\n", 1, 8, "expected a value");
	bad("a = [,]\n", 1, 6, "expected a value");
	bad("a = [1,\n2\n", 3, 1, "expected ',' or ']'");
	bad("a = [\n  1, # c\x01\n]\n", 2, 9, "comment");
}

/* --------------------------------------------------------- inline tables */

Test(toml_inline, values)
{
	struct toml_table *t = ok(
		"p = { x = 1, y.z = 'deep', \"q k\" = { } }\n"
		"e = {}\n");
	const struct toml_table *p = tab(t, "p");
	cr_assert_eq(geti(p, "x"), 1);
	cr_assert_str_eq(gets_(tab(p, "y"), "z"), "deep");
	cr_assert_eq(tab(p, "q k")->n, 0);
	cr_assert_eq(tab(t, "e")->n, 0);
	toml_free(t);
}

Test(toml_inline, errors)
{
	bad("p = { x = 1, }\n", 1, 14, "trailing comma");
	bad("p = { x = 1\n}\n", 1, 12, "newline");
	bad("p = { x = 1, x = 2 }\n", 1, 14, "duplicate key 'x'");
	bad("p = { x = 1 }\np.y = 2\n", 2, 1, "inline table");
	bad("p = { x = 1 }\n[p]\n", 2, 2, "inline table");
	bad("p = { x = 1 }\n[p.q]\n", 2, 2, "inline table");
	bad("p = { x = { y = 1 }, x.z = 2 }\n", 1, 22, "inline table");
	bad("p = { x = 1 y = 2 }\n", 1, 13, "expected ',' or '}'");
	bad("p = { x }\n", 1, 9, "expected '='");
}

/* ----------------------------------------------------- tables and keys */

Test(toml_table, dotted_and_quoted_keys)
{
	struct toml_table *t = ok(
		"name.first = \"Tom\"\n"
		"name . last = 'P'\n"
		"\"a.b\" = 1\n"
		"'' = 2\n"
		"site.\"google.com\" = true\n"
		"3.14 = 'pi'\n"
		"-_- = 3\n");
	const struct toml_table *name = tab(t, "name");
	cr_assert_str_eq(gets_(name, "first"), "Tom");
	cr_assert_str_eq(gets_(name, "last"), "P");
	cr_assert_eq(geti(t, "a.b"), 1);
	cr_assert_eq(geti(t, ""), 2);
	cr_assert(get(tab(t, "site"), "google.com", TOML_BOOL)->u.b);
	cr_assert_str_eq(gets_(tab(t, "3"), "14"), "pi");
	cr_assert_eq(geti(t, "-_-"), 3);
	toml_free(t);
}

Test(toml_table, headers_and_positions)
{
	struct toml_table *t = ok(
		"top = 1\n"
		"[server]\n"
		"  port = 8080\n"
		"[server.tls] # sub\n"
		"cert = 'c.pem'\n"
		"[ x . \"y\" . z ]\n"
		"w = 1\n"
		"[x]\n"
		"v = 2\n");
	const struct toml_kv *kv = toml_get_kv(t, "server");
	cr_assert_not_null(kv);
	cr_assert(kv->line == 2 && kv->col == 2);
	const struct toml_table *srv = kv->val->u.tab;
	cr_assert(srv->line == 2 && srv->col == 1);
	kv = toml_get_kv(srv, "port");
	cr_assert(kv->line == 3 && kv->col == 3);
	cr_assert(kv->val->line == 3 && kv->val->col == 10);
	cr_assert_str_eq(gets_(tab(srv, "tls"), "cert"), "c.pem");
	const struct toml_table *x = tab(t, "x");
	cr_assert_eq(geti(tab(tab(x, "y"), "z"), "w"), 1);
	cr_assert_eq(geti(x, "v"), 2);
	cr_assert(x->line == 8 && x->col == 1);
	cr_assert_eq(geti(t, "top"), 1);
	/* Document order is preserved. */
	cr_assert_str_eq(t->kv[0].key, "top");
	cr_assert_str_eq(t->kv[1].key, "server");
	cr_assert_str_eq(t->kv[2].key, "x");
	toml_free(t);
}

Test(toml_table, array_of_tables)
{
	struct toml_table *t = ok(
		"[[fruit]]\n"
		"name = 'apple'\n"
		"[fruit.physical]\n"
		"color = 'red'\n"
		"[[fruit.variety]]\n"
		"name = 'red delicious'\n"
		"[[fruit.variety]]\n"
		"name = 'granny smith'\n"
		"[[fruit]]\n"
		"name = 'banana'\n"
		"[[fruit.variety]]\n"
		"name = 'plantain'\n");
	const struct toml_value *f = get(t, "fruit", TOML_ARRAY);
	cr_assert_eq(f->u.arr.n, 2);
	const struct toml_table *apple = f->u.arr.items[0]->u.tab;
	cr_assert_str_eq(gets_(apple, "name"), "apple");
	cr_assert_str_eq(gets_(tab(apple, "physical"), "color"), "red");
	const struct toml_value *var = get(apple, "variety", TOML_ARRAY);
	cr_assert_eq(var->u.arr.n, 2);
	cr_assert_str_eq(gets_(var->u.arr.items[1]->u.tab, "name"), "granny smith");
	const struct toml_table *banana = f->u.arr.items[1]->u.tab;
	cr_assert(banana->line == 9 && banana->col == 1);
	var = get(banana, "variety", TOML_ARRAY);
	cr_assert_eq(var->u.arr.n, 1);
	cr_assert_str_eq(gets_(var->u.arr.items[0]->u.tab, "name"), "plantain");
	toml_free(t);
}

Test(toml_table, implicit_then_explicit)
{
	struct toml_table *t = ok("[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n"
				  "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n");
	const struct toml_table *a = tab(t, "a");
	cr_assert_eq(geti(a, "y"), 2);
	cr_assert_eq(geti(tab(a, "b"), "z"), 3);
	cr_assert_eq(geti(tab(tab(a, "b"), "c"), "x"), 1);
	cr_assert(get(tab(tab(tab(t, "fruit"), "apple"), "texture"), "smooth", TOML_BOOL)->u.b);
	toml_free(t);
}

Test(toml_table, redefinitions)
{
	bad("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)");
	bad("a = 1\n\"a\" = 2\n", 2, 1, "duplicate key");
	bad("[t]\nx = 1\n[t]\n", 3, 2, "defined twice (first at 1:1)");
	bad("[t]\n[ t ]\n", 2, 3, "defined twice");
	bad("a.b = 1\n[a]\n", 2, 2, "dotted keys");
	bad("[x]\na.b = 1\n[x.a]\n", 3, 4, "dotted keys");
	bad("a.b = 1\na.b.c = 2\n", 2, 3, "already defined");
	bad("a = 1\na.b = 2\n", 2, 1, "already defined");
	bad("a.b.c = 1\na.b = 2\n", 2, 3, "duplicate key 'b'");
	bad("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 1, "[table] header");
	bad("[a]\nb = 1\n[a.b]\n", 3, 4, "already defined");
	bad("a = []\n[[a]]\n", 2, 3, "array of tables");
	bad("a = [{}]\n[a.b]\n", 2, 2, "array");
	bad("[[a]]\n[a]\n", 2, 2, "array of tables");
	bad("[a]\n[[a]]\n", 2, 3, "cannot define array of tables 'a'");
	bad("[[a.b]]\n[a]\nb.y = 2\n", 3, 1, "array of tables");
	bad("a = true\n[a.b]\n", 2, 2, "boolean");
}

Test(toml_table, header_errors)
{
	bad("[a\n", 1, 3, "expected ']'");
	bad("[[a]\n", 1, 5, "expected ']]'");
	bad("[[a] ]\n", 1, 5, "expected ']]'");
	bad("[]\n", 1, 2, "expected a key");
	bad("[a.]\n", 1, 4, "expected a key");
	bad("[a] b = 1\n", 1, 5, "expected end of line");
	bad("[\"\"\"a\"\"\"]\n", 1, 2, "multi-line");
	bad("a b = 1\n", 1, 3, "expected '='");
	bad("= 1\n", 1, 1, "expected a key");
	bad("a =\n", 1, 4, "expected a value");
	bad("a = 1 # ok\nb = # no\n", 2, 5, "expected a value");
}

Test(toml_table, key_names_are_sanitised)
{
	bad("\"a\\nb\" = 1\n\"a\\nb\" = 2\n", 2, 1, "duplicate key 'a\\x0Ab'");
}

/* ------------------------------------------------------ whitespace, CRLF */

Test(toml_misc, crlf_line_endings)
{
	struct toml_table *t = ok("# c\r\na = 1\r\n[t]\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\nc = [\r\n1,\r\n2]\r\n");
	cr_assert_eq(geti(t, "a"), 1);
	const struct toml_table *tt = tab(t, "t");
	cr_assert_str_eq(gets_(tt, "b"), "x\ny");
	const struct toml_kv *kv = toml_get_kv(tt, "c");
	cr_assert(kv->line == 7 && kv->col == 1);
	cr_assert_eq(kv->val->u.arr.items[1]->line, 9);
	toml_free(t);
	bad("a = 1\r\nb = 2\r\nb = 3\r\n", 3, 1, "duplicate key");
	bad("a = 1\rb = 2\n", 1, 6, "carriage return");
	bad("a = 1 # x\ry\n", 1, 10, "U+000D");
}

Test(toml_misc, bom_empty_comments)
{
	struct toml_table *t = ok("\xEF\xBB\xBF" "a = 1\n");
	cr_assert_eq(geti(t, "a"), 1);
	toml_free(t);
	t = ok("");
	cr_assert_eq(t->n, 0);
	toml_free(t);
	t = ok("  \t\n# only a comment\n\n   # indented");
	cr_assert_eq(t->n, 0);
	toml_free(t);
	bad("a = 1\n\xEF\xBB\xBF" "b = 2\n", 2, 1, "expected a key");
}

Test(toml_misc, api_edges)
{
	char small[12];
	struct toml_table *t = toml_parse("a = ", 4, "n", small, sizeof(small));
	cr_assert_null(t);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert_eq(strncmp(small, "n:1:5: ", 7), 0);
	cr_assert_null(toml_parse("a = ", 4, "n", NULL, 0));
	t = toml_parse(NULL, 0, NULL, NULL, 0);
	cr_assert_not_null(t);
	cr_assert_null(toml_get(t, "x"));
	cr_assert_null(toml_get_kv(NULL, "x"));
	toml_free(t);
	toml_free(NULL);
	cr_assert_str_eq(toml_type_name(TOML_INTEGER), "integer");
	cr_assert_str_eq(toml_type_name(TOML_TABLE), "table");
	cr_assert_str_eq(toml_type_name(TOML_DATETIME_LOCAL), "local date-time");
	/* Default name. */
	cr_assert_null(toml_parse("x", 1, NULL, errbuf, sizeof(errbuf)));
	cr_assert_eq(strncmp(errbuf, "<input>:1:2: ", 13), 0, "%s", errbuf);
}

/* ---------------------------------------------------------------- limits */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1), *o = s;
	cr_assert_not_null(s);
	memcpy(o, head, hl);
	o += hl;
	for (size_t i = 0; i < n; i++, o += ul)
		memcpy(o, unit, ul);
	memcpy(o, tail, tl + 1);
	return s;
}

Test(toml_limits, deep_arrays)
{
	char *s = repeat("a = ", "[", 100, "");
	char *doc = repeat(s, "]", 100, "\n");
	struct toml_table *t = ok(doc);
	toml_free(t);
	free(s);
	free(doc);
	/* 129 nested arrays exceed the cap; the 129th '[' is at column 4+129. */
	s = repeat("a = ", "[", 100000, "");
	bad(s, 1, 133, "nesting deeper than 128");
	free(s);
}

Test(toml_limits, deep_inline_tables_and_keys)
{
	char *s = repeat("a = ", "{b=", 5000, "");
	bad(s, 1, 4 + 3 * 128 + 1, "nesting deeper than 128");
	free(s);
	s = repeat("a", ".a", 5000, " = 1\n");
	bad(s, 1, 257, "more than 128 parts");
	free(s);
	s = repeat("[a", ".a", 127, "]\n");
	struct toml_table *t = ok(s);
	toml_free(t);
	free(s);
	/* Dotted tables under a deep header cannot pass the cap either. */
	s = repeat("[a", ".a", 127, "]\nb.c = 1\n");
	bad(s, 2, 1, "nesting deeper than 128");
	free(s);
}

Test(toml_limits, many_keys)
{
	size_t n = 20000, o = 0;
	char *doc = malloc(n * 24);
	cr_assert_not_null(doc);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(doc + o, "k%zu = %zu\n", i, i);
	struct toml_table *t = ok(doc);
	cr_assert_eq(t->n, n);
	cr_assert_eq(geti(t, "k19999"), 19999);
	toml_free(t);
	sprintf(doc + o, "k777 = 0\n");
	bad(doc, (unsigned)n + 1, 1, "duplicate key 'k777'");
	free(doc);
}
