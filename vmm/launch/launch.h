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
#include "vmm/base/guestmem.h"
#include "vmm/hv/hv.h"
#include "vmm/launch/coco.h"
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

/* A memory slot the caller keeps at a fixed number (plain builds). */
struct launch_slot {
	unsigned slot;
	uint64_t gpa, size;
	uint8_t *host;
	bool readonly;
};

struct launch_build_args {
	const struct hv_ops *ops;
	struct hv *hv;
	/* plain: its data regions are copied into RAM or given buffers of
	 * their own (added to the plan), so the plan must outlive the VM */
	struct launch_plan *plan;
	/* guest RAM and the BIOS area laid out; a plain build adds the plan's
	 * other regions, a confidential one backs RAM with guest_memfd */
	struct guestmem *gm;
	unsigned nvcpus;
	bool split_irqchip;               /* userspace IOAPIC (TDX always is) */
	const struct coco_config *coco;   /* confidential; may be NULL */
	/* plain: slots the caller keeps at fixed numbers (the BIOS area's PAM
	 * chunks); map regions in [own_lo, own_hi) are left to them */
	const struct launch_slot *own;
	unsigned nown;
	uint64_t own_lo, own_hi;
};

/* What a build made. */
struct launch_vm {
	struct hv_vm *hvvm;
	struct coco_vm *coco;             /* confidential state, else NULL */
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS];
};

/* Build a hypervisor VM for @a->plan, plain (plain.c) or confidential
 * (coco_build): memory, irqchip, vCPUs and, for SNP/TDX, the platform
 * launch.  0 with @out filled, or a negative errno code (logged) with
 * everything made destroyed. */
int launch_build(const struct launch_build_args *a, struct launch_vm *out);

/* The memory-map half of a plain build: lay @p's regions into @gm as
 * launch_build does (ROM regions mapped from the plan's buffers, data regions
 * copied into RAM), without a hypervisor call.  0 or a negative errno code. */
int launch_map_plain(struct guestmem *gm, struct launch_plan *p);

/* "sev-snp", "tdx" or "none": the one spelling of a platform in output. */
const char *launch_platform_name(enum plan_platform platform);

#endif
