/* vmm/cli/measure.h: the `fukivmm measure` subcommand.
 * Owns: its argument parsing and output (hex, JSON, CBOR).  The plan and its
 * measurement come from vmm/launch/launch.h: nothing here decides what is
 * measured. */
#ifndef FUKI_CLI_MEASURE_H
#define FUKI_CLI_MEASURE_H

/* argv[0] = "measure".  Exit status: 0 success, 2 usage or input error. */
int measure_main(int argc, char **argv);

#endif
