/* tests/fuzz/fuzz_igvm.c: libFuzzer target for loader/igvm.c.
 * Owns: feeding arbitrary bytes to the IGVM parser (open + full header
 * walk) and to the plan builder for every platform.  Touches nothing else. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "loader/igvm.h"
#include "vmm/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ap_vmsa[PLAN_VMSA_SIZE];
	static struct igvm_file f;     /* large: keep it off the stack */
	struct igvm_iter it;
	struct igvm_header h;
	struct launch_plan p;
	struct igvm_params prm = {
		.nvcpus = 2, .memory = 512ULL << 20, .cmdline = "console=ttyS0",
		.ap_vmsa = ap_vmsa,
	};
	char err[160];
	volatile uint64_t sink = 0;

	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	log_set_level(LOG_ERR);
	log_set_file(devnull);    /* rejections are expected: keep them quiet */
	if (igvm_open(&f, data, size, err, sizeof(err)) == 0) {
		igvm_iter_init(&f, &it);
		while (igvm_next(&f, &it, &h, err, sizeof(err)) > 0) {
			/* Touch the bytes the parser vouched for. */
			if (h.type == IGVM_VHT_PAGE_DATA && h.u.page.data)
				sink += h.u.page.data[0] + h.u.page.data[h.u.page.size - 1];
			if (h.type == IGVM_VHT_VP_CONTEXT && h.u.vp.data)
				sink += h.u.vp.data[h.u.vp.size - 1];
			if (h.type == IGVM_VHT_PARAMETER_AREA && h.u.param_area.data)
				sink += h.u.param_area.data[h.u.param_area.bytes - 1];
			if (h.length)
				sink += h.body[h.length - 1];
		}
	}
	for (int pl = PLAN_PLAIN; pl <= PLAN_TDX; pl++) {
		prm.snp_native_zero = size & 1;
		if (igvm_build_plan(&p, data, size, (enum plan_platform)pl, &prm, err,
				    sizeof(err)) == 0) {
			for (size_t i = 0; i < p.nregions; i++)
				if (p.regions[i].data)
					sink += p.regions[i].data[p.regions[i].data_len - 1];
			plan_free(&p);
		}
	}
	(void)sink;
	return 0;
}
