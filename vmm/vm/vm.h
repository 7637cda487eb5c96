/* vmm/vm/vm.h: one virtual machine and its lifecycle: build, run, rebuild.
 * Owns: guest RAM (kept across rebuilds), the device models (kept), the
 * current launch plan and hypervisor VM (replaced on every reset), the vCPU
 * threads (kept: a rebuild gives them new vCPU handles, not new threads) and
 * the main event loop.  There is one way to reset: rebuild.  struct vm is
 * opaque outside vmm/vm/ (vm_internal.h). */
#ifndef FUKI_VM_H
#define FUKI_VM_H

#include <stddef.h>

#include "vmm/config/config.h"
#include "vmm/hv/hv.h"

struct vm;

/* Create the VM from a validated config: open the hypervisor, map RAM,
 * create devices.  Returns NULL with one line in @err. */
struct vm *vm_create(const struct vm_config *cfg, const struct hv_ops *ops,
		     char *err, size_t errlen);
/* Build, run until the guest or the host ends it, tear down.  Returns the
 * process exit status. */
int vm_run(struct vm *vm);
/* @clean: vm_run waits, before its shutdown event, until every retired
 * hypervisor VM is destroyed, so that event's fds count only the live VM's
 * (--clean-exit, FUKIVMM_CLEAN_EXIT).  Otherwise the teardown is left to
 * the process's exit. */
void vm_set_clean_exit(struct vm *vm, bool clean);
void vm_destroy(struct vm *vm);

#endif
