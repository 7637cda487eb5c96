/* vmm/launch/launch.h: the spine.  A configuration becomes a launch plan; a
 * plan is measured, or launched (plain or confidential).  `fukivmm run`,
 * `fukivmm measure`, `fukivmm uki measure` and the doorbell's validation call
 * these verbs; no caller switches on the platform.
 *
 *   launch_plan_from_config   config + firmware bytes -> plan (planbuild.c)
 *   launch_measure            plan -> the hardware's launch measurement
 *                             (SNP: launch digest; TDX: MRTD and the RTMR[0]
 *                             prediction fukivmm can make)           (measure.c)
 *   launch_build              plan -> a running hypervisor VM, plain
 *                             (plain.c) or confidential (coco.c)
 */
#ifndef FUKI_LAUNCH_H
#define FUKI_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/launch/planbuild.h"

#define LAUNCH_MEASUREMENT_LEN 48

/* What a plan measures to.  For a plain plan nothing is set (has == false):
 * plain KVM has no hardware launch measurement. */
struct launch_measurement {
	bool has;                          /* SNP or TDX plan, measured */
	enum plan_platform platform;
	uint8_t value[LAUNCH_MEASUREMENT_LEN];  /* SNP launch digest, TDX MRTD */
	/* SNP only: the digest after the firmware pages (sev-snp-measure's
	 * snp:ovmf-hash, or the seed) and after the metadata pages */
	uint8_t snp_firmware[LAUNCH_MEASUREMENT_LEN];
	uint8_t snp_metadata[LAUNCH_MEASUREMENT_LEN];
	/* TDX only: the RTMR[0] events fukivmm determines (TD HOB, CFV) */
	bool has_rtmr0_events;
	uint8_t td_hob[48];                /* SHA-384 of the measured TD HOB */
	uint8_t cfv[48];                   /* SHA-384 of the CFV (VARS template) */
	uint64_t ns;                       /* what measuring cost */
};

/* The plan for @cfg and firmware @fw (see planbuild_from_config). */
static inline int launch_plan_from_config(struct launch_plan *p, const struct vm_config *cfg,
					  const uint8_t *fw, size_t fw_len,
					  const struct planbuild_kernel_hashes *kh,
					  char *err, size_t errlen)
{
	return planbuild_from_config(p, cfg, fw, fw_len, kh, err, errlen);
}

/* Measure @p as the hardware will: 0 with @m filled (m->has false for a
 * plain plan), or a negative errno code with one line in @err.
 * @snp_seed: NULL, or a 48-byte initial launch digest (SNP only; `measure
 * --seed`; -EINVAL for another platform).  TDX: m->has_rtmr0_events when
 * the plan has a TD HOB and a CFV region (a TDVF image; not IGVM). */
int launch_measure(const struct launch_plan *p, const uint8_t *snp_seed,
		   struct launch_measurement *m, char *err, size_t errlen);

/* "sev-snp", "tdx" or "none": the one spelling of a platform in output. */
const char *launch_platform_name(enum plan_platform platform);

#endif
