/* vmm/cli/uki.h: the `fukivmm smbios` and `fukivmm uki` subcommands.
 * Owns their argument parsing and output (text, --json).  Tables come from
 * loader/smbios.c, CHIDs from loader/chid.c, UKI parsing and the firmware
 * choice from loader/uki.c, plans from vmm/launch/planbuild.c. */
#ifndef FUKI_UKI_CLI_H
#define FUKI_UKI_CLI_H

/* argv[0] = "smbios": dump | chids.  Exit 0 ok, 2 usage or input error. */
int smbios_cli_main(int argc, char **argv);
/* argv[0] = "uki": inspect | select | measure | extract.  Exit 0 ok,
 * 1 no firmware matches, 2 usage or input error. */
int uki_cli_main(int argc, char **argv);

#endif
