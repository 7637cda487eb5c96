/* vmm/cli/cli.h: what the fukivmm subcommands share: the top-level usage
 * text, the one-line usage error (exit status 2), hex and number parsing,
 * quoted text, the JSON style of uki and smbios, and the configuration load
 * of the commands that do not run the guest.  Nothing else. */
#ifndef FUKI_CLI_H
#define FUKI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How `uki` and `smbios` write JSON (vmm/cli/json.h): indented, UTF-8
 * passed through, controls and DEL as \u00XX. */
#define CLI_JSON_FLAGS (JSON_PRETTY | JSON_ESC_DEL)

struct vm_config;

/* The usage of every subcommand, one line each, and run's exit statuses. */
void cli_usage(FILE *out);
/* "fukivmm CMD: message" on stderr; returns FUKI_EXIT_USAGE. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exactly 2n hex digits of @s into @n bytes: 0 or -EINVAL. */
int cli_unhex(const char *s, uint8_t *out, size_t n);
/* A whole unsigned number, decimal, 0x hex or 0 octal (no sign): 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t *out);
/* @s in quotes for text output: printable ASCII as is, the rest \xNN. */
void cli_quote(FILE *o, const char *s);
/* Like config_load, but the files the configuration names need not exist:
 * for the commands that read only its SMBIOS identity and platform.  0, or
 * -EINVAL / -ENOMEM with one line in @err. */
int cli_config_load_unchecked(const char *path, struct vm_config *cfg, char *err,
			      size_t errlen);

#endif
