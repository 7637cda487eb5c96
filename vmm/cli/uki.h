/* vmm/cli/uki.h: the `fukivmm uki` subcommand.
 * Owns its argument parsing and output (text, --json).  UKI parsing and the
 * firmware choice come from loader/uki.c, CHIDs from vmm/cli/smbios.c,
 * plans and measurements from vmm/launch/launch.h. */
#ifndef FUKI_CLI_UKI_H
#define FUKI_CLI_UKI_H

/* argv[0] = "uki": inspect | select | measure | extract.  Exit 0 ok,
 * 1 no firmware matches, 2 usage or input error. */
int uki_cli_main(int argc, char **argv);

#endif
