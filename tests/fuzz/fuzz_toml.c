/* tests/fuzz/fuzz_toml.c: libFuzzer entry for the TOML parser (vmm/config/toml.c).
 * Owns: feeding arbitrary bytes to toml_parse and checking the error/tree
 * contract; touches no other module. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config/toml.h"

/* Walk the tree so that every stored value is read (ASan sees bad links). */
static size_t walk_value(const struct toml_value *v);

static size_t walk_table(const struct toml_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->kv[i].key[t->kv[i].keylen] != '\0' || t->kv[i].line == 0)
			abort();
		n += 1 + walk_value(t->kv[i].val);
	}
	return n;
}

static size_t walk_value(const struct toml_value *v)
{
	size_t n = 0;
	if (v->line == 0 || v->col == 0)
		abort();
	switch (v->type) {
	case TOML_STRING:
		if (v->u.s.ptr[v->u.s.len] != '\0')
			abort();
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			n += walk_value(v->u.arr.items[i]);
		break;
	case TOML_TABLE:
		n += walk_table(v->u.tab);
		break;
	default:
		break;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	/* An exact-size copy, so reads past the end are caught. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct toml_table *t = toml_parse(buf, size, "fuzz", err, sizeof(err));
	if (t) {
		walk_table(t);
		toml_free(t);
	} else if (strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n')) {
		abort(); /* the error contract: one "NAME:LINE:COL: msg" line */
	}
	free(buf);
	return 0;
}
