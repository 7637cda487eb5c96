/* vmm/cli/cli.h: what the fukivmm subcommands share: the one-line usage error
 * (exit status 2) and hex output.  Nothing else. */
#ifndef FUKI_CLI_H
#define FUKI_CLI_H

#include <stddef.h>
#include <stdint.h>

#define CLI_EXIT_USAGE 2

/* "fukivmm CMD: message" on stderr; returns CLI_EXIT_USAGE. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lowercase hex of @n bytes into @out (2n+1 bytes). */
void cli_hex(char *out, const uint8_t *b, size_t n);

#endif
