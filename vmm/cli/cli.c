/* vmm/cli/cli.c: implementation of vmm/cli/cli.h. */
#include "vmm/cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/exitcode.h"
#include "vmm/base/fileio.h"
#include "vmm/config/config.h"

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: fukivmm run GUEST.toml [--api-socket PATH] [--log-level error|warn|info|debug]\n"
		"                              [--clean-exit]\n"
		"       fukivmm measure GUEST.toml | --platform snp|tdx --firmware FILE ... (docs/measure.md)\n"
		"       fukivmm snp id-block ...\n"
		"       fukivmm ctl SOCKET status|events|policy|measure-pending|reset|shutdown|version (docs/api.md)\n"
		"       fukivmm smbios dump|chids GUEST.toml (docs/uki.md)\n"
		"       fukivmm uki inspect|select|measure|extract ... (docs/uki.md)\n"
		"       fukivmm version\n"
		"\n"
		"Exit status of run: 0 guest powered off or stopped by SIGTERM/SIGINT,\n"
		"2 configuration or host error at start-up, 4 the VM failed at run time,\n"
		"odd values (v << 1) | 1 from the guest's debug-exit port.\n");
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fukivmm %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return FUKI_EXIT_USAGE;
}

int cli_unhex(const char *s, uint8_t *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* strings come from files: nothing unprintable reaches the terminal */
void cli_quote(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			fputc(*p, o);
		else
			fprintf(o, "\\x%02x", *p);
	}
	fputc('"', o);
}

/* `uki measure` reads the kernel files through planbuild and fails there if
 * they are missing */
int cli_config_load_unchecked(const char *path, struct vm_config *cfg, char *err, size_t errlen)
{
	struct file_map m;
	char *dir, *slash;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (file_map(path, 1 << 20, &m, err, errlen))
		return -EINVAL;
	dir = strdup(path);
	if (!dir) {
		file_unmap(&m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	ret = config_parse((const char *)m.buf, m.len, path, dir, false, cfg, err, errlen);
	file_unmap(&m);
	if (ret) {
		free(dir);
		return -EINVAL;
	}
	cfg->path = strdup(path);
	cfg->dir = dir;
	return 0;
}
