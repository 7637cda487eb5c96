/* vmm/config/toml.h: a TOML 1.0.0 parser (https://toml.io/en/v1.0.0).
 * Owns: turning bytes into a tree of tables and values, each carrying the
 * line and column it came from, and one-line errors "FILE:LINE:COL: msg".
 * Knows nothing of fukivmm's schema (that is vmm/config/config.c). */
#ifndef FUKI_TOML_H
#define FUKI_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,        /* offset date-time */
	TOML_DATETIME_LOCAL,  /* local date-time */
	TOML_DATE_LOCAL,      /* local date */
	TOML_TIME_LOCAL,      /* local time */
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_datetime {
	int year, month, day;          /* date part (when present) */
	int hour, minute, second;      /* time part (when present) */
	uint32_t nanosecond;           /* fractional seconds, truncated to ns */
	int frac_digits;               /* digits written (for round-tripping) */
	bool has_offset;
	int offset_minutes;            /* e.g. -420 for -07:00; 0 for Z */
	bool offset_z;                 /* written as 'Z' */
};

struct toml_table;

struct toml_value {
	enum toml_type type;
	unsigned line, col;            /* 1-based position of the value */
	union {
		struct { char *ptr; size_t len; } s;  /* UTF-8, NUL-terminated,
		                                         may contain NULs */
		int64_t i;
		double f;
		bool b;
		struct toml_datetime dt;
		struct { struct toml_value **items; size_t n; } arr;
		struct toml_table *tab;
	} u;
};

struct toml_kv {
	char *key;                     /* NUL-terminated; may contain NULs */
	size_t keylen;
	unsigned line, col;            /* 1-based position of the key */
	struct toml_value *val;
};

struct toml_table {
	struct toml_kv *kv;            /* in document order */
	size_t n, cap;
	unsigned line, col;            /* where the table was opened */
	unsigned flags;                /* parser-internal state */
};

/* Parse @len bytes.  On success returns the root table (free it with
 * toml_free).  On failure returns NULL and writes one line
 * "NAME:LINE:COL: message" (no trailing newline) into @err. */
struct toml_table *toml_parse(const char *src, size_t len, const char *name,
			      char *err, size_t errlen);
void toml_free(struct toml_table *root);

/* The value stored under @key in @tab (NULL if absent). */
const struct toml_value *toml_get(const struct toml_table *tab, const char *key);
/* The key/value entry for @key (NULL if absent), for its position. */
const struct toml_kv *toml_get_kv(const struct toml_table *tab, const char *key);
/* Name of a type for messages: "string", "integer", ... */
const char *toml_type_name(enum toml_type type);

#endif
