/* vmm/base/exitcode.h: fukivmm's process exit statuses, defined once (README,
 * "Exit status").  A guest's debug-exit write of v ends the VMM with
 * (v << 1) | 1, always odd. */
#ifndef FUKI_EXITCODE_H
#define FUKI_EXITCODE_H

#define FUKI_EXIT_OK       0   /* guest powered off, SIGTERM/SIGINT, or a command succeeded */
#define FUKI_EXIT_NOMATCH  1   /* a query found nothing (uki select: no firmware matches) */
#define FUKI_EXIT_USAGE    2   /* usage, configuration or host error at start-up */
#define FUKI_EXIT_FAILURE  4   /* the VM failed at run time */
#define FUKI_EXIT_STUCK    6   /* stopping: a vCPU thread did not come back from the
                                  kernel within 5 s of the kick; exited without teardown */

#endif
