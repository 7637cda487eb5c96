/* snp/vcpu_sig.c: guest vCPU signatures (CPUID Fn0000_0001 EAX) from QEMU model
 * names or family/model/stepping.  Owns only this table; the VMSA builder
 * places the value in RDX. */
#include "snp/snp.h"

#include <errno.h>
#include <strings.h>

/* AMD CPUID specification #25481, "CPUID Fn0000_0001_EAX Family, Model,
 * Stepping Identifiers": family > 0xf is split into BaseFamily 0xf and
 * ExtFamily = family - 0xf. */
uint32_t snp_vcpu_sig(unsigned family, unsigned model, unsigned stepping)
{
	unsigned fam_lo = family > 0xf ? 0xf : family;
	unsigned fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return (uint32_t)(fam_hi << 20 | ((model >> 4) & 0xf) << 16 | fam_lo << 8 |
			  (model & 0xf) << 4 | (stepping & 0xf));
}

/* The model names virtee/sev-snp-measure (vcpu_types.py, CPU_SIGS) accepts;
 * family/model/stepping from QEMU target/i386/cpu.c builtin_x86_defs. */
static const struct {
	const char *name;
	unsigned family, model, stepping;
} models[] = {
	{ "EPYC", 23, 1, 2 },       { "EPYC-v1", 23, 1, 2 },
	{ "EPYC-v2", 23, 1, 2 },    { "EPYC-IBPB", 23, 1, 2 },
	{ "EPYC-v3", 23, 1, 2 },    { "EPYC-v4", 23, 1, 2 },
	{ "EPYC-Rome", 23, 49, 0 }, { "EPYC-Rome-v1", 23, 49, 0 },
	{ "EPYC-Rome-v2", 23, 49, 0 }, { "EPYC-Rome-v3", 23, 49, 0 },
	{ "EPYC-Milan", 25, 1, 1 }, { "EPYC-Milan-v1", 25, 1, 1 },
	{ "EPYC-Milan-v2", 25, 1, 1 },
	{ "EPYC-Genoa", 25, 17, 0 }, { "EPYC-Genoa-v1", 25, 17, 0 },
	{ "EPYC-Turin", 26, 0, 0 },
};

int snp_vcpu_sig_from_name(const char *name, uint32_t *sig)
{
	if (!name)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		if (!strcasecmp(name, models[i].name)) {
			*sig = snp_vcpu_sig(models[i].family, models[i].model, models[i].stepping);
			return 0;
		}
	}
	return -ENOENT;
}

const char *snp_vcpu_name(size_t i)
{
	return i < sizeof(models) / sizeof(models[0]) ? models[i].name : NULL;
}
