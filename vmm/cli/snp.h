/* vmm/cli/snp.h: the `fukivmm snp` subcommand (id-block). */
#ifndef FUKI_CLI_SNP_H
#define FUKI_CLI_SNP_H

/* argv[0] = "snp", argv[1] = "id-block".  Exit status: 0 success, 2 usage or
 * input error. */
int snp_cli_main(int argc, char **argv);

#endif
