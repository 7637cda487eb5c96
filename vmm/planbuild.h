/* vmm/planbuild.h: the launch plan from a validated configuration.
 * Owns: the one dispatch from [confidential] type to the platform plan
 * builder, and reading the files the plan depends on besides the firmware
 * (kernel/initrd hashes, ID block).  `run` and `measure` both call it: it is
 * the single place where a configuration becomes a plan. */
#ifndef FUKI_PLANBUILD_H
#define FUKI_PLANBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/config.h"

struct snp_params;

/* CC_NONE -> plan_build_plain, CC_SNP -> snp_build_plan, CC_TDX ->
 * tdx_build_plan.  @fw is the firmware file's bytes (copied into the plan).
 * 0, or a negative errno code with one line in @err; on failure the plan
 * may hold allocations: plan_free() it either way. */
int planbuild_from_config(struct launch_plan *p, const struct vm_config *cfg,
			  const uint8_t *fw, size_t fw_len, char *err, size_t errlen);

/* The SNP parameters a configuration stands for (vCPU signature from
 * vcpu_type or family/model/stepping, kernel hashes from [kernel], ID block
 * files).  Shared with `fukivmm measure` to report them. */
int planbuild_snp_params(const struct vm_config *cfg, struct snp_params *sp,
			 char *err, size_t errlen);

/* True if @fw starts with the IGVM magic: planbuild_from_config() then
 * builds the plan from the file's directives for the config's platform. */
bool planbuild_is_igvm(const uint8_t *fw, size_t fw_len);

/* SHA-256 of a whole file, streamed (kernel and initrd may be large). */
int planbuild_sha256_file(const char *path, uint8_t out[32], char *err, size_t errlen);

#endif
