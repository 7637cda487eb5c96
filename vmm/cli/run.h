/* vmm/cli/run.h: `fukivmm run GUEST.toml`, the VMM itself.
 * Owns: its options and the process exit after the VM has ended. */
#ifndef FUKI_CLI_RUN_H
#define FUKI_CLI_RUN_H

/* argv[0] = "run".  Exit status: the VM's (README, "Exit status"). */
int run_main(int argc, char **argv);

#endif
