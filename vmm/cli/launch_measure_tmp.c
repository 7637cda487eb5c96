/* vmm/cli/launch_measure_tmp.c: TEMPORARY stand-in for vmm/launch/measure.c
 * (launch_measure and launch_platform_name, declared in vmm/launch/launch.h)
 * so that this branch builds; drop this file when that one lands. */
#include "vmm/launch/launch.h"

#include <errno.h>
#include <string.h>

#include "loader/ovmf.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "vmm/base/err.h"
#include "vmm/base/le.h"

const char *launch_platform_name(enum plan_platform platform)
{
	return platform == PLAN_SNP ? "sev-snp" : platform == PLAN_TDX ? "tdx" : "none";
}

/* Length of the HOB list before its END_OF_HOB_LIST (type 0xffff), or 0. */
static size_t hob_len(const uint8_t *b, size_t n)
{
	for (size_t at = 0; at + 8 <= n;) {
		size_t len = le_rd16(b + at + 2);

		if (le_rd16(b + at) == 0xffff)
			return at;
		if (len < 8 || len > n - at)
			break;
		at += len;
	}
	return 0;
}

static void tdx_rtmr0(const struct launch_plan *p, struct launch_measurement *m)
{
	for (size_t i = 0; i < p->nregions; i++) {
		const struct plan_region *r = &p->regions[i];
		size_t n;

		if (r->tdx_type != OVMF_TDVF_TD_HOB || !r->data)
			continue;
		n = hob_len(r->data, r->data_len);
		m->has_rtmr0_events = n && !tdx_hob_digest(r->data, n, m->td_hob) &&
				      !tdx_cfv_digest(p, m->cfv);
		return;
	}
}

int launch_measure(const struct launch_plan *p, const uint8_t *snp_seed,
		   struct launch_measurement *m, char *err, size_t errlen)
{
	struct snp_digest_stages st;
	int ret;

	memset(m, 0, sizeof(*m));
	m->platform = p->platform;
	if (snp_seed && p->platform != PLAN_SNP)
		return err_set(err, errlen, -EINVAL, "a seed digest applies to SEV-SNP plans only");
	if (p->platform == PLAN_SNP) {
		ret = snp_seed ? snp_measure_plan_seeded(p, snp_seed, &st) : snp_measure_plan(p, &st);
		if (!ret)
			memcpy(m->value, st.final, sizeof(m->value));
	} else if (p->platform == PLAN_TDX) {
		ret = tdx_measure_mrtd(p, m->value);
		if (!ret)
			tdx_rtmr0(p, m);
	} else {
		return 0;
	}
	if (ret)
		return err_set(err, errlen, ret, "%s measurement failed (%s)",
			       launch_platform_name(p->platform), strerror(-ret));
	m->has = true;
	return 0;
}
