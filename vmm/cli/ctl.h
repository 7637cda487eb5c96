/* vmm/cli/ctl.h: `fukivmm ctl`, the control-socket client (docs/api.md).
 * Owns: its command line, one connection, how replies are printed.  Knows
 * nothing of the VM: it only speaks the protocol of vmm/api/proto.h. */
#ifndef FUKI_CTL_H
#define FUKI_CTL_H

#include <stdio.h>

#include <cbor.h>

/* argv[0] = "ctl", argv[1] = socket path, argv[2] = command.  Exit status:
 * 0 ok, 1 the server answered with an error, 2 usage or connection error. */
int ctl_main(int argc, char **argv);

/* @it as one compact JSON value (no newline), as ctl prints replies: see
 * json_print_cbor (vmm/cli/json.h).  Returns 0, or -1 when nested deeper
 * than 64 (the deeper part is written as null). */
int ctl_json_print(FILE *out, const cbor_item_t *it);

#endif
