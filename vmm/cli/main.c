/* vmm/cli/main.c: the fukivmm command line.
 * Owns: the table of subcommands and the dispatch to them, `version` and
 * `help`.  Each subcommand lives in its own file (run.c, measure.c, snp.c,
 * uki.c, smbios.c, ctl.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vmm/base/exitcode.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/ctl.h"
#include "vmm/cli/measure.h"
#include "vmm/cli/run.h"
#include "vmm/cli/smbios.h"
#include "vmm/cli/snp.h"
#include "vmm/cli/uki.h"

#define FUKIVMM_VERSION "0.1.0"

static int version_main(int argc, char **argv)
{
	printf("fukivmm %s\n", FUKIVMM_VERSION);
	return FUKI_EXIT_OK;
}

static int help_main(int argc, char **argv)
{
	cli_usage(stdout);
	return FUKI_EXIT_OK;
}

/* argv[0] of each entry is its name; the rest is the subcommand's.
 * legacy_names: the command needs OpenSSL's legacy algorithm names. */
static const struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv);
	bool legacy_names;
} commands[] = {
	{ "run", run_main, false },
	{ "measure", measure_main, false },
	{ "snp", snp_cli_main, true },
	{ "ctl", ctl_main, false },
	{ "smbios", smbios_cli_main, false },
	{ "uki", uki_cli_main, false },
	{ "version", version_main, false },
	{ "--version", version_main, false },
	{ "help", help_main, false },
	{ "--help", help_main, false },
	{ "-h", help_main, false },
};

/* OpenSSL serves fukivmm digests (SHA-256, SHA-384) from its default
 * provider, and `snp` the ID-block keys and signatures.  Reading the
 * system's OpenSSL configuration costs more than a whole launch digest
 * (about 1 ms here, on the first algorithm fetch) and changes none of them,
 * so it is read only when OPENSSL_CONF names one.  The table of legacy
 * algorithm names (another 0.6 ms on the first fetch) is left out for the
 * commands that only hash, which fetch by the provider's own names; `snp`
 * keeps it, as a PEM key encrypted with a cipher named in its header needs
 * it.  OpenSSL's exit-time cleanup is skipped: the process is ending. */
static void crypto_init(bool legacy_names)
{
	uint64_t opts = OPENSSL_INIT_NO_ATEXIT;

	if (!getenv("OPENSSL_CONF"))
		opts |= OPENSSL_INIT_NO_LOAD_CONFIG;
	if (!legacy_names)
		opts |= OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS;
	OPENSSL_init_crypto(opts, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return FUKI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			crypto_init(commands[i].legacy_names);
			return commands[i].main(argc - 1, argv + 1);
		}
	fprintf(stderr, "fukivmm: unknown command '%s'\n", argv[1]);
	cli_usage(stderr);
	return FUKI_EXIT_USAGE;
}
