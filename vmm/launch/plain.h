/* vmm/launch/plain.h: the plain (non-confidential) launch of a plan, the twin
 * of coco_build: the plan's regions into the guest-memory map, a hypervisor
 * VM with memslots first (cheap before the irqchip), then the irqchip and
 * PIT, then vCPUs.  Must not touch devices or vCPU threads. */
#ifndef FUKI_PLAIN_H
#define FUKI_PLAIN_H

#include "vmm/launch/launch.h"

/* See launch_build (a->plan is PLAN_PLAIN). */
int plain_build(const struct launch_build_args *a, struct launch_vm *out);

#endif
