/* vmm/cli/measure.h: the `fukivmm measure` and `fukivmm snp` subcommands.
 * Owns: their argument parsing and output (hex, JSON, CBOR).  The plan comes
 * from vmm/launch/planbuild.c, the digests from snp/ and tdx/: nothing here decides
 * what is measured. */
#ifndef FUKI_MEASURE_CLI_H
#define FUKI_MEASURE_CLI_H

/* argv[0] = "measure".  Exit status: 0 success, 2 usage or input error. */
int measure_main(int argc, char **argv);
/* argv[0] = "snp", argv[1] = "id-block".  Same exit statuses. */
int snp_cli_main(int argc, char **argv);

#endif
