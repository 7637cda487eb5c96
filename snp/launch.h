/* snp/launch.h: the SEV-SNP launch sequence (snp/launch.c), called by the
 * confidential VM build (vmm/launch/coco.c) through struct coco_launch. */
#ifndef FUKI_SNP_LAUNCH_H
#define FUKI_SNP_LAUNCH_H

#include "vmm/hv/coco_launch.h"

/* In this order:
 *   snp_launch_start: KVM_SEV_INIT2 (vmsa_features = plan sev_features minus
 *     SNP_ACTIVE), KVM_CAP_EXIT_HYPERCALL, [ENABLE_REQ_CERTS], LAUNCH_START;
 *     before memory and vCPUs.
 *   snp_launch_finish: vCPU CPUID, registers from the plan's VMSAs, one
 *     LAUNCH_UPDATE per plan region in plan order, LAUNCH_FINISH; after the
 *     memory is private and every vCPU exists.
 * 0, or a negative errno with one log line. */
int snp_launch_start(struct coco_launch *l);
int snp_launch_finish(struct coco_launch *l);

#endif
