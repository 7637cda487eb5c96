/* vmm/launch/planbuild.h: the launch plan from a validated configuration.
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
#include "vmm/config/config.h"

struct snp_params;

/* SHA-256 of the [kernel] files (an absent initrd hashes as empty), as SNP's
 * measured direct boot puts them in the kernel-hashes page.  `run` takes
 * them from the bytes it serves the guest (vmm/launch/linuxboot.c), once; `measure`
 * from the files, once. */
struct planbuild_kernel_hashes {
	uint8_t kernel[32];
	uint8_t initrd[32];
};
int planbuild_kernel_hashes(const struct vm_config *cfg, struct planbuild_kernel_hashes *kh,
			    char *err, size_t errlen);

/* CC_NONE -> plan_build_plain, CC_SNP -> snp_build_plan, CC_TDX ->
 * tdx_build_plan.  @fw is the firmware file's bytes (copied into the plan).
 * @kh: the kernel/initrd hashes when the config has a [kernel] (NULL: read
 * and hash the files now).  0, or a negative errno code with one line in
 * @err; on failure the plan may hold allocations: plan_free() it either way. */
int planbuild_from_config(struct launch_plan *p, const struct vm_config *cfg,
			  const uint8_t *fw, size_t fw_len,
			  const struct planbuild_kernel_hashes *kh, char *err, size_t errlen);

/* The SNP parameters a configuration stands for (vCPU signature from
 * vcpu_type or family/model/stepping, kernel hashes from [kernel] (@kh, or
 * the files when NULL), ID block files).  Shared with `fukivmm measure` to
 * report them. */
int planbuild_snp_params(const struct vm_config *cfg, const struct planbuild_kernel_hashes *kh,
			 struct snp_params *sp, char *err, size_t errlen);

/* True if @fw starts with the IGVM magic: planbuild_from_config() then
 * builds the plan from the file's directives for the config's platform. */
bool planbuild_is_igvm(const uint8_t *fw, size_t fw_len);

#endif
