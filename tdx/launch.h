/* tdx/launch.h: the Intel TDX launch sequence (tdx/launch.c), called by the
 * confidential VM build (vmm/launch/coco.c) through struct coco_launch. */
#ifndef FUKI_TDX_LAUNCH_H
#define FUKI_TDX_LAUNCH_H

#include "vmm/hv/coco_launch.h"

/* In this order:
 *   tdx_launch_init_vm: CAPABILITIES, EXIT_HYPERCALL, SPLIT_IRQCHIP(24),
 *     APIC bus 40 ns, INIT_VM; before memory and vCPUs.
 *   tdx_launch_finish: SET_CPUID2 (x2APIC) then INIT_VCPU(RCX = hob_gpa) on
 *     every vCPU, INIT_MEM_REGION per plan region, FINALIZE.
 * 0, or a negative errno with one log line. */
int tdx_launch_init_vm(struct coco_launch *l);
int tdx_launch_finish(struct coco_launch *l);

#endif
