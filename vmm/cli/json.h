/* vmm/cli/json.h: the one JSON writer of the command line.
 * Owns: string escaping, separators and indentation, both for documents
 * written member by member (uki, smbios) and for CBOR items (the report of
 * `measure`, the replies `ctl` prints).  Builds no CBOR: the map builders
 * are vmm/api/proto.h's api_map_put_*. */
#ifndef FUKI_CLI_JSON_H
#define FUKI_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cbor.h>

enum json_flags {
	JSON_PRETTY = 1u << 0,     /* members on their own lines, two spaces a
	                              level; else compact, no spaces at all */
	JSON_ESC_SHORT = 1u << 1,  /* \n \t \r rather than \u000a \u0009 \u000d */
	JSON_ESC_DEL = 1u << 2,    /* DEL (0x7f) as \u007f rather than as is */
};

/* Deepest nesting json_print_cbor writes; deeper items become null. */
#define JSON_MAX_DEPTH 64

/* A document being written.  Containers nest at most JSON_MAX_DEPTH + 1
 * deep. */
struct json {
	FILE *out;
	unsigned flags;            /* enum json_flags */
	unsigned depth;            /* open containers */
	unsigned indent;           /* open multi-line containers */
	struct json_level {
		bool map, one_line, any, after_key;
	} lv[JSON_MAX_DEPTH + 1];
};

void json_init(struct json *j, FILE *out, unsigned flags);

/* Containers.  With JSON_PRETTY, a multi-line container puts each member on
 * a line of its own and its closing bracket on the next, even when empty; a
 * @one_line container writes "{"a": 1, "b": 2}".  Without JSON_PRETTY
 * @one_line has no effect. */
void json_map_begin(struct json *j, bool one_line);
void json_map_end(struct json *j);
void json_array_begin(struct json *j, bool one_line);
void json_array_end(struct json *j);

/* In a map, each value follows its key. */
void json_key(struct json *j, const char *key);
/* A string value; NULL is written as the empty string. */
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const uint8_t *s, size_t n);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* @it as one JSON value (no newline).  Byte strings become lowercase hex
 * text, tags are dropped, undefined, NaN and infinities become null, map
 * keys that are not text are written as text, an empty array or map is []
 * or {} whatever the flags.  Returns 0, or -1 where the item nests deeper
 * than JSON_MAX_DEPTH (the deeper part is written as null). */
int json_print_cbor(FILE *out, const cbor_item_t *it, unsigned flags);

#endif
