/* vmm/config/toml.c: TOML 1.0.0 parser (https://toml.io/en/v1.0.0) behind vmm/config/toml.h.
 * Owns: byte-level parsing, UTF-8 validation, the value tree and its freeing.
 * Must not know fukivmm's config schema (vmm/config/config.c) and never aborts on
 * input: every problem becomes one "NAME:LINE:COL: message" error. */
#include "vmm/config/toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting cap for tables and arrays (the root is depth 0).  Keeps the
 * recursive descent and the recursive free bounded on hostile input. */
#define TOML_MAX_DEPTH 128

/* Table flags (low byte of toml_table.flags; depth lives above it). */
#define TF_EXPLICIT  0x01u  /* defined by a [header] or a [[header]] */
#define TF_IMPLICIT  0x02u  /* created as an intermediate of a header path */
#define TF_DOTTED    0x04u  /* created by a dotted key */
#define TF_INLINE    0x08u  /* inline table: sealed once its '}' is read */
/* Array value flags. */
#define VF_AOT       0x01u  /* array of tables created by [[header]] */

#define DEPTH_SHIFT  8

/* Every value the parser creates lives in one of these, so that internal
 * flags can ride along without touching the public struct. */
struct tval {
	struct toml_value v;
	unsigned flags;
};

static struct tval *tval_of(const struct toml_value *v)
{
	return (struct tval *)((char *)v - offsetof(struct tval, v));
}

struct kslot {
	struct toml_table *t;  /* NULL: empty slot */
	size_t i;              /* index into t->kv */
};

struct keypart {
	char *s;
	size_t len;
	unsigned line, col;
};

struct key {
	struct keypart *parts;
	size_t n, cap;
};

struct sbuf {
	char *p;
	size_t n, cap;
};

struct parser {
	const char *src;
	size_t len, pos;
	unsigned line;           /* current line, 1-based */
	size_t lstart;           /* byte offset where the current line starts */
	size_t ccache_pos;       /* column cache: byte offset ... */
	unsigned ccache_col;     /* ... and its column */
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
	struct toml_table *root, *cur;
	struct kslot *ix;        /* key index over all tables */
	size_t ixcap, ixn;
};

/* ---------------------------------------------------------------- errors */

static unsigned col_at(struct parser *p, size_t pos)
{
	if (p->ccache_pos < p->lstart || p->ccache_pos > pos) {
		p->ccache_pos = p->lstart;
		p->ccache_col = 1;
	}
	for (size_t i = p->ccache_pos; i < pos && i < p->len; i++)
		if (((unsigned char)p->src[i] & 0xC0) != 0x80)
			p->ccache_col++;
	p->ccache_pos = pos;
	return p->ccache_col;
}

static void fail_lcv(struct parser *p, unsigned line, unsigned col,
		     const char *fmt, va_list ap)
{
	if (p->failed)
		return;
	p->failed = true;
	if (!p->err || p->errlen == 0)
		return;
	int n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->name, line, col);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 4, 5)))
static void fail_lc(struct parser *p, unsigned line, unsigned col,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_lcv(p, line, col, fmt, ap);
	va_end(ap);
}

/* Error at byte @pos, which must be on the current line. */
__attribute__((format(printf, 3, 4)))
static void fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	unsigned col = col_at(p, pos);
	va_start(ap, fmt);
	fail_lcv(p, p->line, col, fmt, ap);
	va_end(ap);
}

#define fail(p, ...) fail_at((p), (p)->pos, __VA_ARGS__)

static void oom(struct parser *p)
{
	fail(p, "out of memory");
}

/* A printable rendering of a key for messages (never multi-line). */
static const char *kname(char *buf, size_t bufsz, const char *k, size_t n)
{
	size_t o = 0, i;
	for (i = 0; i < n && o + 8 < bufsz; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c >= 0x20 && c != 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02X", c);
	}
	if (i < n)
		o += (size_t)snprintf(buf + o, bufsz - o, "...");
	buf[o] = '\0';
	return buf;
}

/* Describe the character at @pos for messages. */
static const char *cdesc(struct parser *p, size_t pos, char *buf, size_t bufsz)
{
	if (pos >= p->len)
		return "end of input";
	unsigned char c = (unsigned char)p->src[pos];
	if (c == '\n' || (c == '\r' && pos + 1 < p->len && p->src[pos + 1] == '\n'))
		return "end of line";
	if (c > 0x20 && c < 0x7f) {
		snprintf(buf, bufsz, "'%c'", c);
		return buf;
	}
	if (c == ' ')
		return "' '";
	if (c < 0x80) {
		snprintf(buf, bufsz, "U+%04X", c);
		return buf;
	}
	/* Multi-byte: the document was validated as UTF-8 up front. */
	unsigned cp, n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	cp = c & (0x7Fu >> n);
	for (unsigned i = 1; i < n && pos + i < p->len; i++)
		cp = (cp << 6) | ((unsigned char)p->src[pos + i] & 0x3F);
	snprintf(buf, bufsz, "U+%04X", cp);
	return buf;
}

#define CDESC(p, pos) cdesc((p), (pos), (char[16]){0}, 16)

/* --------------------------------------------------------------- helpers */

static int peek_at(const struct parser *p, size_t off)
{
	size_t i = p->pos + off;
	return i < p->len ? (unsigned char)p->src[i] : -1;
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
	       c == '_' || c == '-';
}

static bool is_ctrl(int c)
{
	/* Control characters other than tab: U+0000..U+0008, U+000A..U+001F,
	 * U+007F (TOML 1.0.0, "Comment" and "String"). */
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t'))
		p->pos++;
}

/* Consume a newline (LF or CRLF) at the current position. */
static bool eat_nl(struct parser *p)
{
	int c = peek(p);
	if (c == '\n')
		p->pos += 1;
	else if (c == '\r' && peek_at(p, 1) == '\n')
		p->pos += 2;
	else
		return false;
	p->line++;
	p->lstart = p->pos;
	return true;
}

static void skip_comment(struct parser *p)
{
	p->pos++; /* '#' */
	while (p->pos < p->len) {
		int c = (unsigned char)p->src[p->pos];
		if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
			return;
		if (is_ctrl(c)) {
			fail(p, "control character U+%04X not allowed in a comment", c);
			return;
		}
		p->pos++;
	}
}

/* Whitespace, comments and newlines (inside arrays). */
static void skip_ws_nl_comments(struct parser *p)
{
	while (!p->failed) {
		skip_ws(p);
		if (peek(p) == '#')
			skip_comment(p);
		else if (!eat_nl(p))
			return;
	}
}

static bool sb_grow(struct parser *p, struct sbuf *b, size_t extra)
{
	if (b->n + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 32;
	while (cap < b->n + extra + 1) {
		if (cap > SIZE_MAX / 2) {
			oom(p);
			return false;
		}
		cap *= 2;
	}
	char *np = realloc(b->p, cap);
	if (!np) {
		oom(p);
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static bool sb_add(struct parser *p, struct sbuf *b, const char *s, size_t n)
{
	if (!sb_grow(p, b, n))
		return false;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return true;
}

static bool sb_addc(struct parser *p, struct sbuf *b, char c)
{
	return sb_add(p, b, &c, 1);
}

static bool sb_add_utf8(struct parser *p, struct sbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sb_add(p, b, u, n);
}

/* Make sure an empty buffer still yields a NUL-terminated allocation. */
static bool sb_finish(struct parser *p, struct sbuf *b)
{
	return sb_grow(p, b, 0) && ((b->p[b->n] = '\0'), true);
}

/* -------------------------------------------------------- tree, key index */

static unsigned tab_depth(const struct toml_table *t)
{
	return t->flags >> DEPTH_SHIFT;
}

static unsigned arr_depth(const struct toml_value *v)
{
	return tval_of(v)->flags >> DEPTH_SHIFT;
}

static struct toml_value *val_new(struct parser *p, enum toml_type type,
				  unsigned line, unsigned col)
{
	struct tval *tv = calloc(1, sizeof(*tv));
	if (!tv) {
		oom(p);
		return NULL;
	}
	tv->v.type = type;
	tv->v.line = line;
	tv->v.col = col;
	return &tv->v;
}

static void free_table(struct toml_table *t);

static void free_value(struct toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->u.s.ptr);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			free_value(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case TOML_TABLE:
		free_table(v->u.tab);
		break;
	default:
		break;
	}
	free(tval_of(v));
}

static void free_table(struct toml_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->kv[i].key);
		free_value(t->kv[i].val);
	}
	free(t->kv);
	free(t);
}

static bool depth_ok(struct parser *p, unsigned depth, unsigned line, unsigned col)
{
	if (depth <= TOML_MAX_DEPTH)
		return true;
	fail_lc(p, line, col, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	return false;
}

/* A table value (TOML_TABLE) with a fresh table at @depth. */
/* A value of @type at @depth, refused past the nesting limit. */
static struct toml_value *nested_val_new(struct parser *p, enum toml_type type, unsigned depth,
					 unsigned line, unsigned col)
{
	if (!depth_ok(p, depth, line, col))
		return NULL;
	return val_new(p, type, line, col);
}

static struct toml_value *table_val_new(struct parser *p, unsigned depth,
					unsigned flags, unsigned line, unsigned col)
{
	struct toml_value *v = nested_val_new(p, TOML_TABLE, depth, line, col);
	if (!v)
		return NULL;
	struct toml_table *t = calloc(1, sizeof(*t));
	if (!t) {
		free_value(v);
		oom(p);
		return NULL;
	}
	t->line = line;
	t->col = col;
	t->flags = flags | (depth << DEPTH_SHIFT);
	v->u.tab = t;
	return v;
}

static struct toml_value *array_val_new(struct parser *p, unsigned depth,
					unsigned flags, unsigned line, unsigned col)
{
	struct toml_value *v = nested_val_new(p, TOML_ARRAY, depth, line, col);
	if (v)
		tval_of(v)->flags = flags | (depth << DEPTH_SHIFT);
	return v;
}

static bool array_push(struct parser *p, struct toml_value *arr, struct toml_value *item)
{
	size_t n = arr->u.arr.n;
	/* Capacity is implicit: 4, then doubling at each power of two. */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n ? n * 2 : 4;
		struct toml_value **ni = realloc(arr->u.arr.items, cap * sizeof(*ni));
		if (!ni) {
			oom(p);
			return false;
		}
		arr->u.arr.items = ni;
	}
	arr->u.arr.items[n] = item;
	arr->u.arr.n = n + 1;
	return true;
}

static uint64_t khash(const struct toml_table *t, const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ULL);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 31);
}

static struct toml_kv *tab_find(struct parser *p, struct toml_table *t,
				const char *k, size_t n)
{
	if (!p->ixcap)
		return NULL;
	size_t mask = p->ixcap - 1;
	for (size_t i = khash(t, k, n) & mask; p->ix[i].t; i = (i + 1) & mask) {
		if (p->ix[i].t != t)
			continue;
		struct toml_kv *kv = &t->kv[p->ix[i].i];
		if (kv->keylen == n && memcmp(kv->key, k, n) == 0)
			return kv;
	}
	return NULL;
}

static void ix_put(struct kslot *ix, size_t cap, struct toml_table *t, size_t idx)
{
	struct toml_kv *kv = &t->kv[idx];
	size_t mask = cap - 1, i = khash(t, kv->key, kv->keylen) & mask;
	while (ix[i].t)
		i = (i + 1) & mask;
	ix[i].t = t;
	ix[i].i = idx;
}

/* Append key @k (copied) with value @val to @t.  On failure @val is freed. */
static bool tab_add(struct parser *p, struct toml_table *t, const char *k, size_t n,
		    unsigned line, unsigned col, struct toml_value *val)
{
	if ((p->ixn + 1) * 2 > p->ixcap) {
		size_t cap = p->ixcap ? p->ixcap * 2 : 64;
		struct kslot *ix = calloc(cap, sizeof(*ix));
		if (!ix)
			goto nomem;
		for (size_t i = 0; i < p->ixcap; i++)
			if (p->ix[i].t)
				ix_put(ix, cap, p->ix[i].t, p->ix[i].i);
		free(p->ix);
		p->ix = ix;
		p->ixcap = cap;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct toml_kv *nkv = realloc(t->kv, cap * sizeof(*nkv));
		if (!nkv)
			goto nomem;
		t->kv = nkv;
		t->cap = cap;
	}
	char *kc = malloc(n + 1);
	if (!kc)
		goto nomem;
	memcpy(kc, k, n);
	kc[n] = '\0';
	t->kv[t->n] = (struct toml_kv){ .key = kc, .keylen = n, .line = line,
					.col = col, .val = val };
	ix_put(p->ix, p->ixcap, t, t->n);
	t->n++;
	p->ixn++;
	return true;
nomem:
	free_value(val);
	oom(p);
	return false;
}

/* --------------------------------------------------------------- strings */

static bool hexval(int c, unsigned *out)
{
	if (c >= '0' && c <= '9')
		*out = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*out = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*out = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* At a backslash inside a basic string.  @ml: multi-line string, where a
 * backslash ending a line trims the following whitespace and newlines. */
static bool parse_escape(struct parser *p, struct sbuf *b, bool ml)
{
	size_t at = p->pos;
	int c = peek_at(p, 1);
	const char *simple = NULL;
	switch (c) {
	case 'b': simple = "\b"; break;
	case 't': simple = "\t"; break;
	case 'n': simple = "\n"; break;
	case 'f': simple = "\f"; break;
	case 'r': simple = "\r"; break;
	case '"': simple = "\""; break;
	case '\\': simple = "\\"; break;
	default: break;
	}
	if (simple) {
		p->pos += 2;
		return sb_addc(p, b, simple[0]);
	}
	if (c == 'u' || c == 'U') {
		unsigned nd = c == 'u' ? 4 : 8, d;
		uint32_t cp = 0;
		for (unsigned i = 0; i < nd; i++) {
			if (!hexval(peek_at(p, 2 + i), &d)) {
				fail_at(p, at, "escape \\%c needs %u hex digits", c, nd);
				return false;
			}
			cp = (cp << 4) | d;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			fail_at(p, at, "escape \\%c%0*X is not a Unicode scalar value",
				c, (int)nd, (unsigned)cp);
			return false;
		}
		p->pos += 2 + nd;
		return sb_add_utf8(p, b, cp);
	}
	if (ml) {
		/* Line-ending backslash: "\" [ \t]* newline, then trim. */
		size_t q = p->pos + 1;
		while (q < p->len && (p->src[q] == ' ' || p->src[q] == '\t'))
			q++;
		if (q < p->len && (p->src[q] == '\n' ||
				   (p->src[q] == '\r' && q + 1 < p->len && p->src[q + 1] == '\n'))) {
			p->pos = q;
			for (;;) {
				skip_ws(p);
				if (!eat_nl(p))
					break;
			}
			return true;
		}
	}
	if (c < 0)
		fail_at(p, at, "unterminated string");
	else
		fail_at(p, at, "invalid escape sequence: backslash followed by %s",
			CDESC(p, at + 1));
	return false;
}

/* Parse a string starting at the current quote.  @allow_ml: whether a
 * triple-quoted string is allowed here (not for keys). */
static bool parse_string(struct parser *p, struct sbuf *b, bool allow_ml)
{
	char q = p->src[p->pos];
	bool basic = q == '"';
	size_t start = p->pos;
	bool ml = peek_at(p, 1) == q && peek_at(p, 2) == q;

	if (ml && !allow_ml) {
		fail(p, "a multi-line string cannot be a key");
		return false;
	}
	if (!ml) {
		p->pos++;
		for (;;) {
			int c = peek(p);
			if (c < 0 || c == '\n' || (c == '\r' && peek_at(p, 1) == '\n')) {
				fail(p, "unterminated string (opened at column %u)", col_at(p, start));
				return false;
			}
			if (c == q) {
				p->pos++;
				return sb_finish(p, b);
			}
			if (basic && c == '\\') {
				if (!parse_escape(p, b, false))
					return false;
				continue;
			}
			if (is_ctrl(c)) {
				fail(p, "control character U+%04X must be escaped", c);
				return false;
			}
			if (!sb_addc(p, b, (char)c))
				return false;
			p->pos++;
		}
	}

	p->pos += 3;
	eat_nl(p); /* a newline right after the opening delimiter is trimmed */
	for (;;) {
		int c = peek(p);
		if (c < 0) {
			fail(p, "unterminated multi-line string");
			return false;
		}
		if (c == q) {
			size_t n = 0;
			while (n < 5 && peek_at(p, n) == q)
				n++;
			if (n >= 3) {
				/* Up to two quotes may precede the closing delimiter. */
				for (size_t i = 3; i < n; i++)
					if (!sb_addc(p, b, q))
						return false;
				p->pos += n;
				return sb_finish(p, b);
			}
			if (!sb_add(p, b, p->src + p->pos, n))
				return false;
			p->pos += n;
			continue;
		}
		if (basic && c == '\\') {
			if (!parse_escape(p, b, true))
				return false;
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (!eat_nl(p)) {
				fail(p, "bare carriage return not allowed in a string");
				return false;
			}
			if (!sb_addc(p, b, '\n'))
				return false;
			continue;
		}
		if (is_ctrl(c)) {
			fail(p, "control character U+%04X must be escaped", c);
			return false;
		}
		if (!sb_addc(p, b, (char)c))
			return false;
		p->pos++;
	}
}

/* ------------------------------------------------------------------ keys */

static void key_free(struct key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->parts[i].s);
	free(k->parts);
	k->parts = NULL;
	k->n = k->cap = 0;
}

static bool parse_simple_key(struct parser *p, struct keypart *kp)
{
	struct sbuf b = { 0 };
	int c = peek(p);
	kp->line = p->line;
	kp->col = col_at(p, p->pos);
	if (c == '"' || c == '\'') {
		if (!parse_string(p, &b, false)) {
			free(b.p);
			return false;
		}
	} else if (is_bare(c)) {
		size_t s = p->pos;
		while (is_bare(peek(p)))
			p->pos++;
		if (!sb_add(p, &b, p->src + s, p->pos - s)) {
			free(b.p);
			return false;
		}
	} else {
		fail(p, "expected a key, found %s", CDESC(p, p->pos));
		return false;
	}
	kp->s = b.p;
	kp->len = b.n;
	return true;
}

/* key = simple-key *( ws "." ws simple-key ); consumes trailing blanks. */
static bool parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		if (k->n == k->cap) {
			if (k->n >= TOML_MAX_DEPTH) {
				fail(p, "key has more than %d parts", TOML_MAX_DEPTH);
				return false;
			}
			size_t cap = k->cap ? k->cap * 2 : 4;
			struct keypart *np = realloc(k->parts, cap * sizeof(*np));
			if (!np) {
				oom(p);
				return false;
			}
			k->parts = np;
			k->cap = cap;
		}
		if (!parse_simple_key(p, &k->parts[k->n]))
			return false;
		k->n++;
		skip_ws(p);
		if (peek(p) != '.')
			return true;
		p->pos++;
		skip_ws(p);
	}
}

/* --------------------------------------------------------------- numbers */

/* Digits of @base with '_' only between two digits; returns false and sets
 * *bad to the offending index on a misplaced underscore or no digit. */
static bool digit_ok(int c, unsigned base)
{
	unsigned d;
	if (!hexval(c, &d))
		return false;
	return d < base;
}

static bool scan_digits(const char *t, size_t n, size_t *i, unsigned base, size_t *bad)
{
	size_t s = *i;
	if (s >= n || !digit_ok((unsigned char)t[s], base)) {
		*bad = s;
		return false;
	}
	while (*i < n) {
		int c = (unsigned char)t[*i];
		if (digit_ok(c, base)) {
			(*i)++;
		} else if (c == '_') {
			if (*i + 1 >= n || !digit_ok((unsigned char)t[*i + 1], base)) {
				*bad = *i;
				return false;
			}
			(*i)++;
		} else {
			break;
		}
	}
	return true;
}

static bool to_int(struct parser *p, size_t tokpos, const char *t, size_t n,
		   unsigned base, bool neg, int64_t *out)
{
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (t[i] == '_' || !hexval((unsigned char)t[i], &d))
			continue;
		if (acc > (limit - d) / base) {
			fail_at(p, tokpos, "integer does not fit in 64 bits");
			return false;
		}
		acc = acc * base + d;
	}
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return true;
}

static struct toml_value *parse_number(struct parser *p, unsigned line, unsigned col)
{
	size_t start = p->pos, e = start;
	while (e < p->len && (is_bare((unsigned char)p->src[e]) || p->src[e] == '.' ||
			      p->src[e] == '+'))
		e++;
	const char *t = p->src + start;
	size_t n = e - start, i = 0, bad = 0;
	bool neg = false, sign = false;
	struct toml_value *v;

	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		sign = true;
		i = 1;
	}
	if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
		v = val_new(p, TOML_FLOAT, line, col);
		if (!v)
			return NULL;
		if (t[i] == 'i')
			v->u.f = neg ? -__builtin_inf() : __builtin_inf();
		else
			v->u.f = neg ? -__builtin_nan("") : __builtin_nan("");
		p->pos = e;
		return v;
	}
	if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		unsigned base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
		if (sign) {
			fail_at(p, start, "a sign is not allowed on a %s integer",
				base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary");
			return NULL;
		}
		i += 2;
		bool dok = scan_digits(t, n, &i, base, &bad);
		if (!dok || i != n) {
			fail_at(p, start + (dok ? i : bad), "invalid %s integer",
				base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary");
			return NULL;
		}
		v = val_new(p, TOML_INTEGER, line, col);
		if (!v)
			return NULL;
		if (!to_int(p, start, t + 2, n - 2, base, false, &v->u.i)) {
			free_value(v);
			return NULL;
		}
		p->pos = e;
		return v;
	}

	size_t ds = i;
	bool is_float = false;
	if (!scan_digits(t, n, &i, 10, &bad)) {
		fail_at(p, start + bad, "invalid number");
		return NULL;
	}
	if (t[ds] == '0' && i - ds > 1) {
		fail_at(p, start + ds, "leading zeros are not allowed");
		return NULL;
	}
	if (i < n && t[i] == '.') {
		is_float = true;
		i++;
		if (!scan_digits(t, n, &i, 10, &bad)) {
			fail_at(p, start + bad, "invalid float: expected a digit");
			return NULL;
		}
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		is_float = true;
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (!scan_digits(t, n, &i, 10, &bad)) {
			fail_at(p, start + bad, "invalid float exponent");
			return NULL;
		}
	}
	if (i != n) {
		fail_at(p, start + i, "invalid number");
		return NULL;
	}
	if (!is_float) {
		v = val_new(p, TOML_INTEGER, line, col);
		if (!v)
			return NULL;
		if (!to_int(p, start, t + ds, n - ds, 10, neg, &v->u.i)) {
			free_value(v);
			return NULL;
		}
		p->pos = e;
		return v;
	}
	char *buf = malloc(n + 1), *endp;
	size_t o = 0;
	if (!buf) {
		oom(p);
		return NULL;
	}
	for (size_t j = 0; j < n; j++)
		if (t[j] != '_')
			buf[o++] = t[j];
	buf[o] = '\0';
	errno = 0;
	double d = strtod(buf, &endp);
	bool range = errno == ERANGE && (d > 1.0 || d < -1.0);
	bool whole = *endp == '\0';
	free(buf);
	if (!whole) {
		fail_at(p, start, "invalid float");
		return NULL;
	}
	if (range) {
		fail_at(p, start, "float out of range");
		return NULL;
	}
	v = val_new(p, TOML_FLOAT, line, col);
	if (!v)
		return NULL;
	v->u.f = d;
	p->pos = e;
	return v;
}

/* ------------------------------------------------------------- date/time */

static bool digits_at(const struct parser *p, size_t pos, unsigned n, int *out)
{
	int v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (pos + i >= p->len || !is_digit((unsigned char)p->src[pos + i]))
			return false;
		v = v * 10 + (p->src[pos + i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static bool at_char(const struct parser *p, size_t pos, char c)
{
	return pos < p->len && p->src[pos] == c;
}

/* HH:MM:SS[.frac] at @q; advances *q.  (RFC 3339 partial-time; seconds are
 * required in TOML 1.0.0; 60 is accepted for leap seconds.) */
static bool parse_time(struct parser *p, size_t *q, struct toml_datetime *dt)
{
	size_t s = *q;
	if (!digits_at(p, s, 2, &dt->hour) || !at_char(p, s + 2, ':') ||
	    !digits_at(p, s + 3, 2, &dt->minute) || !at_char(p, s + 5, ':') ||
	    !digits_at(p, s + 6, 2, &dt->second)) {
		fail_at(p, s, "invalid time: expected HH:MM:SS");
		return false;
	}
	if (dt->hour > 23) {
		fail_at(p, s, "hour %d out of range", dt->hour);
		return false;
	}
	if (dt->minute > 59) {
		fail_at(p, s + 3, "minute %d out of range", dt->minute);
		return false;
	}
	if (dt->second > 60) {
		fail_at(p, s + 6, "second %d out of range", dt->second);
		return false;
	}
	s += 8;
	if (at_char(p, s, '.')) {
		s++;
		if (s >= p->len || !is_digit((unsigned char)p->src[s])) {
			fail_at(p, s, "expected a digit after '.' in a time");
			return false;
		}
		uint32_t ns = 0;
		int nd = 0;
		while (s < p->len && is_digit((unsigned char)p->src[s])) {
			if (nd < 9)
				ns = ns * 10 + (uint32_t)(p->src[s] - '0');
			nd++;
			s++;
		}
		for (int i = nd; i < 9; i++)
			ns *= 10;
		dt->nanosecond = ns;
		dt->frac_digits = nd;
	}
	*q = s;
	return true;
}

static struct toml_value *parse_datetime(struct parser *p, unsigned line, unsigned col)
{
	struct toml_datetime dt = { 0 };
	size_t s = p->pos, q = s;
	enum toml_type type;

	if (at_char(p, s + 2, ':')) {
		if (!parse_time(p, &q, &dt))
			return NULL;
		type = TOML_TIME_LOCAL;
		goto done;
	}
	if (!digits_at(p, s, 4, &dt.year) || !at_char(p, s + 4, '-') ||
	    !digits_at(p, s + 5, 2, &dt.month) || !at_char(p, s + 7, '-') ||
	    !digits_at(p, s + 8, 2, &dt.day)) {
		fail_at(p, s, "invalid date: expected YYYY-MM-DD");
		return NULL;
	}
	if (dt.month < 1 || dt.month > 12) {
		fail_at(p, s + 5, "month %d out of range", dt.month);
		return NULL;
	}
	if (dt.day < 1 || dt.day > days_in_month(dt.year, dt.month)) {
		fail_at(p, s + 8, "day %d out of range for %04d-%02d", dt.day, dt.year, dt.month);
		return NULL;
	}
	q = s + 10;
	type = TOML_DATE_LOCAL;
	if (q < p->len && (p->src[q] == 'T' || p->src[q] == 't' ||
			   (p->src[q] == ' ' && q + 3 < p->len && is_digit((unsigned char)p->src[q + 1]) &&
			    is_digit((unsigned char)p->src[q + 2]) && p->src[q + 3] == ':'))) {
		q++;
		if (!parse_time(p, &q, &dt))
			return NULL;
		type = TOML_DATETIME_LOCAL;
		if (q < p->len && (p->src[q] == 'Z' || p->src[q] == 'z')) {
			dt.has_offset = dt.offset_z = true;
			q++;
			type = TOML_DATETIME;
		} else if (q < p->len && (p->src[q] == '+' || p->src[q] == '-')) {
			int oh, om;
			if (!digits_at(p, q + 1, 2, &oh) || !at_char(p, q + 3, ':') ||
			    !digits_at(p, q + 4, 2, &om)) {
				fail_at(p, q, "invalid offset: expected +HH:MM or -HH:MM");
				return NULL;
			}
			if (oh > 23 || om > 59) {
				fail_at(p, q, "offset %c%02d:%02d out of range", p->src[q], oh, om);
				return NULL;
			}
			dt.has_offset = true;
			dt.offset_minutes = (p->src[q] == '-' ? -1 : 1) * (oh * 60 + om);
			q += 6;
			type = TOML_DATETIME;
		}
	}
done:;
	struct toml_value *v = val_new(p, type, line, col);
	if (!v)
		return NULL;
	v->u.dt = dt;
	p->pos = q;
	return v;
}

/* ---------------------------------------------------------------- values */

static struct toml_value *parse_value(struct parser *p, unsigned depth);
static bool parse_keyval(struct parser *p, struct toml_table *t);

static struct toml_value *parse_array(struct parser *p, unsigned depth,
				      unsigned line, unsigned col)
{
	struct toml_value *v = array_val_new(p, depth, 0, line, col);
	if (!v)
		return NULL;
	p->pos++; /* '[' */
	for (;;) {
		skip_ws_nl_comments(p);
		if (p->failed)
			break;
		if (peek(p) == ']') {
			p->pos++;
			return v;
		}
		struct toml_value *item = parse_value(p, depth + 1);
		if (!item)
			break;
		if (!array_push(p, v, item)) {
			free_value(item);
			break;
		}
		skip_ws_nl_comments(p);
		if (p->failed)
			break;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			return v;
		}
		fail(p, "expected ',' or ']' in array, found %s", CDESC(p, p->pos));
		break;
	}
	free_value(v);
	return NULL;
}

static struct toml_value *parse_inline_table(struct parser *p, unsigned depth,
					     unsigned line, unsigned col)
{
	struct toml_value *v = table_val_new(p, depth, 0, line, col);
	if (!v)
		return NULL;
	struct toml_table *t = v->u.tab;
	p->pos++; /* '{' */
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
		t->flags |= TF_INLINE;
		return v;
	}
	for (;;) {
		if (!parse_keyval(p, t))
			break;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			skip_ws(p);
			if (peek(p) == '}') {
				fail(p, "trailing comma not allowed in an inline table");
				break;
			}
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			t->flags |= TF_INLINE;
			return v;
		}
		if (peek(p) == '\n' || peek(p) == '\r')
			fail(p, "newline not allowed in an inline table");
		else
			fail(p, "expected ',' or '}' in inline table, found %s", CDESC(p, p->pos));
		break;
	}
	free_value(v);
	return NULL;
}

static bool match_word(const struct parser *p, const char *w)
{
	size_t n = strlen(w);
	return p->len - p->pos >= n && memcmp(p->src + p->pos, w, n) == 0;
}

/* A value whose containers (if any) sit at @depth. */
static struct toml_value *parse_value(struct parser *p, unsigned depth)
{
	unsigned line = p->line, col = col_at(p, p->pos);
	int c = peek(p);
	struct toml_value *v;

	switch (c) {
	case '"':
	case '\'': {
		struct sbuf b = { 0 };
		if (!parse_string(p, &b, true)) {
			free(b.p);
			return NULL;
		}
		v = val_new(p, TOML_STRING, line, col);
		if (!v) {
			free(b.p);
			return NULL;
		}
		v->u.s.ptr = b.p;
		v->u.s.len = b.n;
		return v;
	}
	case '[':
		return parse_array(p, depth, line, col);
	case '{':
		return parse_inline_table(p, depth, line, col);
	case 't':
	case 'f':
		if (match_word(p, "true") || match_word(p, "false")) {
			bool t = c == 't';
			v = val_new(p, TOML_BOOL, line, col);
			if (!v)
				return NULL;
			v->u.b = t;
			p->pos += t ? 4 : 5;
			return v;
		}
		break;
	case 'i':
	case 'n':
		if (match_word(p, "inf") || match_word(p, "nan"))
			return parse_number(p, line, col);
		break;
	case '+':
	case '-':
		return parse_number(p, line, col);
	default:
		if (is_digit(c)) {
			if ((is_digit(peek_at(p, 1)) && peek_at(p, 2) == ':') ||
			    (is_digit(peek_at(p, 1)) && is_digit(peek_at(p, 2)) &&
			     is_digit(peek_at(p, 3)) && peek_at(p, 4) == '-'))
				return parse_datetime(p, line, col);
			return parse_number(p, line, col);
		}
		break;
	}
	if (c == '\r' && peek_at(p, 1) != '\n') {
		fail(p, "bare carriage return");
	} else if (is_bare(c)) {
		size_t n = 0;
		while (n < 24 && is_bare(peek_at(p, n)))
			n++;
		fail(p, "expected a value, found '%.*s' (strings must be quoted)",
		     (int)n, p->src + p->pos);
	} else {
		fail(p, "expected a value, found %s", CDESC(p, p->pos));
	}
	return NULL;
}

/* ---------------------------------------------------------------- tables */

static const char *type_desc(const struct toml_value *v)
{
	if (v->type == TOML_TABLE && (v->u.tab->flags & TF_INLINE))
		return "inline table";
	if (v->type == TOML_ARRAY && (tval_of(v)->flags & VF_AOT))
		return "array of tables";
	return toml_type_name(v->type);
}

/* A new child table under key @kp of @t, created with @flags. */
static struct toml_table *child_table_new(struct parser *p, struct toml_table *t,
					  const struct keypart *kp, unsigned flags)
{
	struct toml_value *v = table_val_new(p, tab_depth(t) + 1, flags, kp->line, kp->col);

	if (!v || !tab_add(p, t, kp->s, kp->len, kp->line, kp->col, v))
		return NULL;
	return v->u.tab;
}

/* One step of a dotted key: descend into (or create) a dotted table. */
static struct toml_table *descend_dotted(struct parser *p, struct toml_table *t,
					 const struct keypart *kp)
{
	char kb[80];
	struct toml_kv *kv = tab_find(p, t, kp->s, kp->len);
	if (!kv)
		return child_table_new(p, t, kp, TF_DOTTED);
	struct toml_value *v = kv->val;
	if (v->type == TOML_TABLE && (v->u.tab->flags & TF_DOTTED) &&
	    !(v->u.tab->flags & TF_INLINE))
		return v->u.tab;
	if (v->type == TOML_TABLE && !(v->u.tab->flags & TF_INLINE))
		fail_lc(p, kp->line, kp->col,
			"cannot add to table '%s' with a dotted key: it was created by a [table] header at %u:%u",
			kname(kb, sizeof(kb), kp->s, kp->len), kv->line, kv->col);
	else
		fail_lc(p, kp->line, kp->col, "key '%s' is already defined (%s at %u:%u)",
			kname(kb, sizeof(kb), kp->s, kp->len), type_desc(v), kv->line, kv->col);
	return NULL;
}

/* key ws '=' ws value, stored into @t (the current table or an inline one). */
static bool parse_keyval(struct parser *p, struct toml_table *t)
{
	struct key k = { 0 };
	char kb[80];
	bool ok = false;

	if (!parse_key(p, &k))
		goto out;
	skip_ws(p);
	if (peek(p) != '=') {
		fail(p, "expected '=' after key, found %s", CDESC(p, p->pos));
		goto out;
	}
	p->pos++;
	skip_ws(p);
	for (size_t i = 0; i + 1 < k.n; i++)
		if (!(t = descend_dotted(p, t, &k.parts[i])))
			goto out;
	struct keypart *last = &k.parts[k.n - 1];
	struct toml_kv *kv = tab_find(p, t, last->s, last->len);
	if (kv) {
		fail_lc(p, last->line, last->col, "duplicate key '%s' (first defined at %u:%u)",
			kname(kb, sizeof(kb), last->s, last->len), kv->line, kv->col);
		goto out;
	}
	struct toml_value *v = parse_value(p, tab_depth(t) + 1);
	if (!v)
		goto out;
	ok = tab_add(p, t, last->s, last->len, last->line, last->col, v);
out:
	key_free(&k);
	return ok;
}

/* One intermediate step of a [header] path. */
static struct toml_table *descend_header(struct parser *p, struct toml_table *t,
					 const struct keypart *kp)
{
	char kb[80];
	struct toml_kv *kv = tab_find(p, t, kp->s, kp->len);
	if (!kv)
		return child_table_new(p, t, kp, TF_IMPLICIT);
	struct toml_value *v = kv->val;
	if (v->type == TOML_TABLE && !(v->u.tab->flags & TF_INLINE))
		return v->u.tab;
	if (v->type == TOML_ARRAY && (tval_of(v)->flags & VF_AOT))
		return v->u.arr.items[v->u.arr.n - 1]->u.tab;
	fail_lc(p, kp->line, kp->col, "key '%s' is already defined (%s at %u:%u)",
		kname(kb, sizeof(kb), kp->s, kp->len), type_desc(v), kv->line, kv->col);
	return NULL;
}

static void parse_header(struct parser *p)
{
	unsigned hline = p->line, hcol = col_at(p, p->pos);
	struct key k = { 0 };
	char kb[80];
	bool aot = peek_at(p, 1) == '[';

	p->pos += aot ? 2 : 1;
	skip_ws(p);
	if (!parse_key(p, &k))
		goto out;
	skip_ws(p);
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
		size_t at = p->pos + (peek(p) == ']' ? 1 : 0);
		fail_at(p, at, "expected '%s' to close the table header, found %s",
			aot ? "]]" : "]", CDESC(p, at));
		goto out;
	}
	p->pos += aot ? 2 : 1;

	struct toml_table *t = p->root;
	for (size_t i = 0; i + 1 < k.n; i++)
		if (!(t = descend_header(p, t, &k.parts[i])))
			goto out;
	struct keypart *last = &k.parts[k.n - 1];
	const char *name = kname(kb, sizeof(kb), last->s, last->len);
	struct toml_kv *kv = tab_find(p, t, last->s, last->len);
	if (aot) {
		struct toml_value *arr;
		if (!kv) {
			arr = array_val_new(p, tab_depth(t) + 1, VF_AOT, hline, hcol);
			if (!arr || !tab_add(p, t, last->s, last->len, last->line, last->col, arr))
				goto out;
		} else {
			arr = kv->val;
			if (arr->type != TOML_ARRAY || !(tval_of(arr)->flags & VF_AOT)) {
				fail_lc(p, last->line, last->col,
					"cannot define array of tables '%s': key is already defined (%s at %u:%u)",
					name, type_desc(arr), kv->line, kv->col);
				goto out;
			}
		}
		struct toml_value *tv = table_val_new(p, arr_depth(arr) + 1, TF_EXPLICIT,
						      hline, hcol);
		if (!tv)
			goto out;
		if (!array_push(p, arr, tv)) {
			free_value(tv);
			goto out;
		}
		p->cur = tv->u.tab;
		goto out;
	}
	if (!kv) {
		struct toml_value *tv = table_val_new(p, tab_depth(t) + 1, TF_EXPLICIT,
						      hline, hcol);
		if (!tv || !tab_add(p, t, last->s, last->len, last->line, last->col, tv))
			goto out;
		p->cur = tv->u.tab;
		goto out;
	}
	struct toml_value *v = kv->val;
	if (v->type != TOML_TABLE || (v->u.tab->flags & TF_INLINE)) {
		fail_lc(p, last->line, last->col,
			"cannot define table '%s': key is already defined (%s at %u:%u)",
			name, type_desc(v), kv->line, kv->col);
		goto out;
	}
	struct toml_table *tab = v->u.tab;
	if (tab->flags & TF_DOTTED) {
		fail_lc(p, last->line, last->col,
			"cannot define table '%s': already created by dotted keys at %u:%u",
			name, kv->line, kv->col);
		goto out;
	}
	if (tab->flags & TF_EXPLICIT) {
		fail_lc(p, last->line, last->col, "table '%s' defined twice (first at %u:%u)",
			name, tab->line, tab->col);
		goto out;
	}
	tab->flags = (tab->flags & ~TF_IMPLICIT) | TF_EXPLICIT;
	tab->line = hline;
	tab->col = hcol;
	p->cur = tab;
out:
	key_free(&k);
}

/* ------------------------------------------------------------ UTF-8 check */

static bool check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->src;
	size_t n = p->len, i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c == '\n') {
				p->line++;
				p->lstart = i + 1;
			}
			i++;
			continue;
		}
		unsigned len, min;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2; min = 0x80; cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3; min = 0x800; cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4; min = 0x10000; cp = c & 0x07;
		} else {
			goto bad;
		}
		if (n - i < len)
			goto bad;
		for (unsigned j = 1; j < len; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += len;
		continue;
bad:
		fail_at(p, i, "invalid UTF-8 (byte 0x%02X)", c);
		return false;
	}
	p->line = 1;
	p->lstart = 0;
	p->ccache_pos = 0;
	p->ccache_col = 1;
	return true;
}

/* ------------------------------------------------------------------- API */

struct toml_table *toml_parse(const char *src, size_t len, const char *name,
			      char *err, size_t errlen)
{
	struct parser p = {
		.src = src ? src : "", .len = src ? len : 0, .line = 1, .ccache_col = 1,
		.name = name ? name : "<input>", .err = err, .errlen = errlen,
	};
	if (err && errlen)
		err[0] = '\0';
	if (!check_utf8(&p))
		return NULL;
	p.root = calloc(1, sizeof(*p.root));
	if (!p.root) {
		oom(&p);
		return NULL;
	}
	p.root->line = p.root->col = 1;
	p.root->flags = TF_EXPLICIT;
	p.cur = p.root;
	/* One leading byte order mark is allowed (and ignored). */
	if (p.len >= 3 && memcmp(p.src, "\xEF\xBB\xBF", 3) == 0) {
		p.pos = 3;
		p.lstart = 3;
	}
	while (!p.failed) {
		skip_ws(&p);
		if (p.pos >= p.len)
			break;
		int c = peek(&p);
		if (c == '#')
			skip_comment(&p);
		else if (eat_nl(&p))
			continue;
		else if (c == '[')
			parse_header(&p);
		else
			parse_keyval(&p, p.cur);
		if (p.failed)
			break;
		skip_ws(&p);
		if (peek(&p) == '#')
			skip_comment(&p);
		if (p.failed)
			break;
		if (p.pos < p.len && !eat_nl(&p)) {
			if (peek(&p) == '\r')
				fail(&p, "bare carriage return");
			else
				fail(&p, "expected end of line, found %s", CDESC(&p, p.pos));
		}
	}
	free(p.ix);
	if (p.failed) {
		free_table(p.root);
		return NULL;
	}
	return p.root;
}

void toml_free(struct toml_table *root)
{
	free_table(root);
}

const struct toml_kv *toml_get_kv(const struct toml_table *tab, const char *key)
{
	if (!tab || !key)
		return NULL;
	size_t n = strlen(key);
	for (size_t i = 0; i < tab->n; i++)
		if (tab->kv[i].keylen == n && memcmp(tab->kv[i].key, key, n) == 0)
			return &tab->kv[i];
	return NULL;
}

const struct toml_value *toml_get(const struct toml_table *tab, const char *key)
{
	const struct toml_kv *kv = toml_get_kv(tab, key);
	return kv ? kv->val : NULL;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	case TOML_DATETIME: return "offset date-time";
	case TOML_DATETIME_LOCAL: return "local date-time";
	case TOML_DATE_LOCAL: return "local date";
	case TOML_TIME_LOCAL: return "local time";
	case TOML_ARRAY: return "array";
	case TOML_TABLE: return "table";
	}
	return "unknown";
}
