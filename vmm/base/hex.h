/* vmm/base/hex.h: lowercase hex encoding of byte strings (event log, CLI
 * output, JSON).  The one copy in the tree. */
#ifndef FUKI_HEX_H
#define FUKI_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of @n bytes into @out, which holds 2n+1 bytes (NUL-ended).
 * Returns @out. */
char *hex_encode(char *out, const uint8_t *b, size_t n);

#endif
