/* vmm/launch/measure.c: a launch plan -> the hardware's launch measurement
 * (see launch.h).  Owns the one dispatch from a plan's platform to its
 * measuring rule (snp/digest.c, tdx/mr.c) and the TDX RTMR[0] inputs the
 * plan determines.  Must not build plans nor read files: the plan holds
 * every byte that is measured. */
#include "vmm/launch/launch.h"

#include <errno.h>
#include <string.h>

#include "loader/ovmf.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "vmm/base/clock.h"
#include "vmm/base/err.h"
#include "vmm/base/le.h"

const char *launch_platform_name(enum plan_platform platform)
{
	switch (platform) {
	case PLAN_SNP:
		return "sev-snp";
	case PLAN_TDX:
		return "tdx";
	case PLAN_PLAIN:
		break;
	}
	return "none";
}

/* The plan's region of TDVF section type @type that carries bytes, or NULL. */
static const struct plan_region *tdx_region(const struct launch_plan *p, unsigned type)
{
	for (size_t i = 0; i < p->nregions; i++)
		if (p->regions[i].tdx_type == type && p->regions[i].data)
			return &p->regions[i];
	return NULL;
}

/* Bytes of a TD HOB list the firmware measures: every HOB up to, not
 * including, END_OF_HOB_LIST (UEFI PI vol. 3: each HOB starts with the
 * generic header {u16 type, u16 length, u32 reserved}).  0 if the list
 * has no END within @len or a HOB is malformed. */
static size_t hob_measured_len(const uint8_t *hob, size_t len)
{
	size_t off = 0;

	while (off + 8 <= len) {
		uint16_t type = le_rd16(hob + off), hlen = le_rd16(hob + off + 2);

		if (type == 0xffff)
			return off;
		if (hlen < 8 || hlen > len - off)
			return 0;
		off += hlen;
	}
	return 0;
}

static int measure_snp(const struct launch_plan *p, const uint8_t *seed,
		       struct launch_measurement *m, char *err, size_t errlen)
{
	struct snp_digest_stages st;
	int ret = seed ? snp_measure_plan_seeded(p, seed, &st) : snp_measure_plan(p, &st);

	if (ret)
		return err_set(err, errlen, ret, "SEV-SNP launch digest failed (%s)",
			       strerror(-ret));
	memcpy(m->value, st.final, LAUNCH_MEASUREMENT_LEN);
	memcpy(m->snp_firmware, st.firmware, LAUNCH_MEASUREMENT_LEN);
	memcpy(m->snp_metadata, st.metadata, LAUNCH_MEASUREMENT_LEN);
	return 0;
}

static int measure_tdx(const struct launch_plan *p, struct launch_measurement *m,
		       char *err, size_t errlen)
{
	const struct plan_region *hob = tdx_region(p, OVMF_TDVF_TD_HOB);
	const struct plan_region *cfv = tdx_region(p, OVMF_TDVF_CFV);
	int ret = tdx_measure_mrtd(p, m->value);

	if (ret)
		return err_set(err, errlen, ret, "TDX MRTD failed (%s)", strerror(-ret));
	/* RTMR[0] events 1 and 2 exist only for a TDVF image (an IGVM plan
	 * has neither section) */
	if (hob && cfv) {
		size_t mlen = hob_measured_len(hob->data, hob->data_len);

		if (!mlen)
			return err_set(err, errlen, -EINVAL,
				       "TDX plan region %s holds no well-formed HOB list", hob->what);
		ret = tdx_hob_digest(hob->data, mlen, m->td_hob);
		if (!ret)
			ret = tdx_cfv_digest(p, m->cfv);
		if (ret)
			return err_set(err, errlen, ret, "TDX RTMR[0] event digests failed (%s)",
				       strerror(-ret));
		m->has_rtmr0_events = true;
	}
	return 0;
}

int launch_measure(const struct launch_plan *p, const uint8_t *snp_seed,
		   struct launch_measurement *m, char *err, size_t errlen)
{
	uint64_t t0 = clock_now_ns();
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	memset(m, 0, sizeof(*m));
	m->platform = p->platform;
	if (snp_seed && p->platform != PLAN_SNP)
		return err_set(err, errlen, -EINVAL,
			       "an initial launch digest (seed) applies to SEV-SNP plans only");
	switch (p->platform) {
	case PLAN_SNP:
		ret = measure_snp(p, snp_seed, m, err, errlen);
		break;
	case PLAN_TDX:
		ret = measure_tdx(p, m, err, errlen);
		break;
	case PLAN_PLAIN:
		break;        /* plain KVM measures nothing */
	default:
		ret = err_set(err, errlen, -EINVAL, "plan platform %d is unknown",
			      (int)p->platform);
		break;
	}
	m->has = !ret && p->platform != PLAN_PLAIN;
	m->ns = clock_now_ns() - t0;
	return ret;
}
