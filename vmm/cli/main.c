/* vmm/cli/main.c: the fukivmm command line.
 * Owns: the table of subcommands and the dispatch to them, `version` and
 * `help`.  Each subcommand lives in its own file (run.c, measure.c, snp.c,
 * uki.c, smbios.c, ctl.c). */
#include <stdio.h>
#include <string.h>

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

/* argv[0] of each entry is its name; the rest is the subcommand's. */
static const struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv);
} commands[] = {
	{ "run", run_main },
	{ "measure", measure_main },
	{ "snp", snp_cli_main },
	{ "ctl", ctl_main },
	{ "smbios", smbios_cli_main },
	{ "uki", uki_cli_main },
	{ "version", version_main },
	{ "--version", version_main },
	{ "help", help_main },
	{ "--help", help_main },
	{ "-h", help_main },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return FUKI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "fukivmm: unknown command '%s'\n", argv[1]);
	cli_usage(stderr);
	return FUKI_EXIT_USAGE;
}
