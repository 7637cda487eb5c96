/* tests/fuzz/fuzz_ovmf.c: libFuzzer target for ovmf_parse and
 * snp_build_plan + snp_measure_plan on arbitrary firmware images.  The input
 * is the tail of an image; it is padded to a 4 KiB multiple so the SNP plan
 * builder sees a size it accepts and reaches the metadata walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/ovmf.h"
#include "snp/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ovmf_info info;
	char err[256];
	size_t padded;
	uint8_t *img;
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st;

	if (size > (64u << 10))
		return 0;
	/* The exact bytes first: any length. */
	(void)ovmf_parse(data, size, &info, err, sizeof(err));

	padded = (size + 4095) & ~(size_t)4095;
	if (!padded)
		return 0;
	img = calloc(1, padded);
	if (!img)
		return 0;
	memcpy(img + padded - size, data, size);
	snp_params_init(&sp);
	sp.nvcpus = 1 + (size & 3);
	sp.vmm_type = (enum snp_vmm_type)(size % 3);
	sp.vcpu_sig = 0x00800f12;
	if (size & 4)
		snp_params_set_kernel(&sp, data, size / 2, NULL, 0, "console=ttyS0");
	if (snp_build_plan(&p, img, padded, &sp, err, sizeof(err)) == 0)
		(void)snp_measure_plan(&p, &st);
	plan_free(&p);
	free(img);
	return 0;
}
