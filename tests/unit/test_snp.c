/* tests/unit/test_snp.c: SEV-SNP plan, VMSA, kernel hashes, launch digest
 * and ID block.  Expected digests come from virtee/sev-snp-measure (commit
 * 8f2b337e38bc83f87cd30f3253cdfe8e3e12cc3a, version 0.0.13), each with the
 * command that produced it; the real-hardware check uses a report from an
 * AMD EPYC Milan host (dstack fixture) when ../shared/testdata is present. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "snp/snp.h"

#define OVMF_FD "/usr/share/ovmf/OVMF.fd"
#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE.fd"
#define TESTDATA "../shared/testdata"
#define AMDSEV TESTDATA "/sev-snp-measure/ovmf_AmdSev_suffix.bin"
#define OVMFX64 TESTDATA "/sev-snp-measure/ovmf_OvmfX64_suffix.bin"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void tohex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* The synthetic kernel and initrd (the bytes of testdata/synthetic/{kernel,initrd}.bin,
 * generated here so the tests need no file): kernel = bytes(range(256))*32,
 * initrd = b"fukivmm-initrd\n" * 100. */
static uint8_t kernel_bin[8192], initrd_bin[1500];
static void make_boot_files(void)
{
	for (size_t i = 0; i < sizeof(kernel_bin); i++)
		kernel_bin[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(initrd_bin); i++)
		initrd_bin[i] = (uint8_t)"fukivmm-initrd\n"[i % 15];
}

struct vec {
	const char *fw;
	unsigned vcpus;
	const char *cpu;            /* model name, or NULL with sig */
	uint32_t sig;
	enum snp_vmm_type vmm;
	uint64_t features;
	int kernel;                 /* 0 none, 1 kernel only, 2 kernel+initrd */
	const char *append;
	const char *seed;
	const char *expect;
};

/* sev-snp-measure.py --mode snp ... ; "K" = synthetic kernel.bin,
 * "I" = synthetic initrd.bin, "A" = ovmf_AmdSev_suffix.bin. */
static const struct vec vecs[] = {
	/* --vcpus 1 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 1, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "11570979c77a0adb515761a702527c8b9e11554e730552621d950988613a3a75c6ff1703f540bd22a9beede8fe7a97e3" },
	/* --vcpus 2 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 2, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "a5b54e62ae971b58274dd24cc6c47b842662617036e7bd67d7326c07ac6363f35399ef933330a5ea160cead90a00603f" },
	/* --vcpus 4 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 4, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f" },
	/* --vcpus 64 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 64, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "5639a30a8a52d07ccc971c4debceb92f0976f693a06af17035af8802023588cd7f2e80e96229a6c88a4c89d1f4967351" },
	/* --vcpus 4 --vcpu-type EPYC-Milan --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 4, "EPYC-Milan", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "e9c10ab98f8086bf4a4993dcdc1f768b1128bcb02301d1791f1d3274329e790db2d12a301d66d99a462a13b5d87e2840" },
	/* --vcpus 4 --vcpu-type EPYC-Genoa --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 4, "EPYC-Genoa", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "a509186122f6e4e095ebab39abf4aea568d9949b9e929d0759f45a3983dfc2df71404de97367aba26c08ddeebc3d7ba0" },
	/* --vcpus 2 --vcpu-type EPYC-Rome --guest-features 0x21 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 2, "EPYC-Rome", 0, SNP_VMM_QEMU, 0x21, 0, NULL, NULL,
	  "4cb7fc43f714faa0cdb8b32a49b43f91fe8ee3038e3bc8675095e0cffd2b6a9304258293207a05c8d0cb4f99cdbdd400" },
	/* --vcpus 4 --vmm-type ec2 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 4, NULL, 0, SNP_VMM_EC2, 1, 0, NULL, NULL,
	  "247ad4ffd2aa671f172a61d8fc73337c2b3489dae4e53a8d9dd2d96d3b71b35ab008b3581c496f99810fe72bfd84d5ac" },
	/* --vcpus 1 --vmm-type ec2 --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 1, NULL, 0, SNP_VMM_EC2, 1, 0, NULL, NULL,
	  "0aaa035d47b06741a745a62cb88eade395f648a7383d71cc322fab9df33859ca3c188a0578534c01526f1b4c0f0b0eb6" },
	/* --vcpus 4 --vmm-type gce --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 4, NULL, 0, SNP_VMM_GCE, 1, 0, NULL, NULL,
	  "dc9e0c41c8b0ca2000043e749d6fd77737d0ef146b3c9eaaaf693f50dd5ce57fbcb379cb4af9918c94d265a7e0bd8317" },
	/* --vcpus 64 --vmm-type gce --ovmf /usr/share/ovmf/OVMF.fd */
	{ OVMF_FD, 64, NULL, 0, SNP_VMM_GCE, 1, 0, NULL, NULL,
	  "ab35dd493e70ba9aec26396a80e8c1ca4c7a116b291c8e98be7f03efb6668fdd530e9e69326f9a5ae6d02e499da41adf" },
	/* --vcpus 4 --vcpu-type EPYC-v4 --ovmf /usr/share/OVMF/OVMF_CODE.fd */
	{ OVMF_CODE, 4, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "022a949083cab59e19c5ca3f5f7ddb9c991874f49f76f72ea3f8cee1aa411e70c0a92766729328069f00b3053fc8ea6f" },
	/* --vcpus 4 --vmm-type ec2 --ovmf /usr/share/OVMF/OVMF_CODE.fd */
	{ OVMF_CODE, 4, NULL, 0, SNP_VMM_EC2, 1, 0, NULL, NULL,
	  "49389a8455e93dfa5b5c986ee06e64d1eafa21dcf6ba39b55eb65687c4f5e1e8aa9aa3ef7c16217ffaf47ac6a40b421b" },
	/* --vcpus 4 --vmm-type gce --ovmf /usr/share/OVMF/OVMF_CODE.fd */
	{ OVMF_CODE, 4, NULL, 0, SNP_VMM_GCE, 1, 0, NULL, NULL,
	  "da88893d22e0c644cdaaa3d62579fdfd7fc52fe5d2f7bd720f2bd358262c672dd0aedbcd0dca672e7df46dac95cf92e2" },
	/* --vcpus 2 --vcpu-type EPYC-v4 --ovmf A --kernel K --initrd I --append "console=ttyS0 root=/dev/vda" */
	{ AMDSEV, 2, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 2, "console=ttyS0 root=/dev/vda", NULL,
	  "13c3824e6d4533e2ceed0b12987c9e9da9d55ec9284c5abc0015ab70a85d447b0898dd83510ec0beafe2b66a2f797ab4" },
	/* --vcpus 4 --vcpu-type EPYC-Milan --ovmf A --kernel K */
	{ AMDSEV, 4, "EPYC-Milan", 0, SNP_VMM_QEMU, 1, 1, NULL, NULL,
	  "57a40022fbf29053d6006f294957cb903627fe9007d4508d554d0d685f532131278402c93fb201a6ab15391806228331" },
	/* --vcpus 4 --vmm-type ec2 --ovmf A --kernel K --initrd I --append quiet */
	{ AMDSEV, 4, NULL, 0, SNP_VMM_EC2, 1, 2, "quiet", NULL,
	  "1b37c5f400bba225efd730894de4a74f2fcfc201dd15e0f3d8f4c4fd95912a39c5a276f68bd065b1a9c6eb697c986fb1" },
	/* --vcpus 4 --vmm-type gce --ovmf A --kernel K --initrd I */
	{ AMDSEV, 4, NULL, 0, SNP_VMM_GCE, 1, 2, NULL, NULL,
	  "042261b43d7f74c96c9fa0e1687650a77f1f6113b4baca5726df2c46e952e00f490d63429a81418c9f2a602f733b0f52" },
	/* --vcpus 1 --vcpu-type EPYC-v4 --ovmf A  (no kernel: hashes page ZERO) */
	{ AMDSEV, 1, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d" },
	/* --vcpus 3 --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 1 --ovmf A */
	{ AMDSEV, 3, NULL, 0x00a10f11, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "cf5f88879d87f8e587a7b38416cc3b2fdc747d84d71526916996882d6f88c986a7e9754c6edf92834d16e49ea0057b50" },
	/* --vcpus 2 --vcpu-type EPYC-v4 --ovmf ovmf_OvmfX64_suffix.bin */
	{ OVMFX64, 2, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 0, NULL, NULL,
	  "da0b008078565bd9f0c21a9c6b4e71f514ca0d7b81a7b00ecbe2a73f52c1b051b9db4914cdf84dffcdc63258f9ce46b2" },
	/* --vcpus 2 --vcpu-type EPYC-v4 --ovmf A --kernel K --snp-ovmf-hash 0123..cdef (x6) */
	{ AMDSEV, 2, "EPYC-v4", 0, SNP_VMM_QEMU, 1, 1, NULL,
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  "4c8eb2cd2171f444a055199327d560368dcfcaa959c17ed8ed27093caf7140b583ba471d7b9d55485cc5fb5429600b4d" },
	/* sev-snp-measure tests/test_guest.py test_snp_default: --vcpus 1 EPYC-v4
	 * --ovmf A --kernel /dev/null --initrd /dev/null --append "console=ttyS0 loglevel=7"
	 * --guest-features 0x21 (kernel = 3: empty kernel and initrd) */
	{ AMDSEV, 1, "EPYC-v4", 0, SNP_VMM_QEMU, 0x21, 3, "console=ttyS0 loglevel=7", NULL,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
};

static int run_vec(const struct vec *v, char *got)
{
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st;
	uint8_t seed[48];
	size_t len;
	char err[256];
	uint8_t *fw = slurp(v->fw, &len);
	int ret;

	if (!fw)
		return 1;
	snp_params_init(&sp);
	sp.nvcpus = v->vcpus;
	sp.vmm_type = v->vmm;
	sp.sev_features = v->features;
	if (v->cpu)
		cr_assert_eq(snp_vcpu_sig_from_name(v->cpu, &sp.vcpu_sig), 0);
	else
		sp.vcpu_sig = v->sig;
	if (v->kernel == 3)
		cr_assert_eq(snp_params_set_kernel(&sp, NULL, 0, NULL, 0, v->append), 0);
	else if (v->kernel)
		cr_assert_eq(snp_params_set_kernel(&sp, kernel_bin, sizeof(kernel_bin),
						   v->kernel == 2 ? initrd_bin : NULL,
						   sizeof(initrd_bin), v->append), 0);
	ret = snp_build_plan(&p, fw, len, &sp, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s: %s", v->fw, err);
	if (v->seed) {
		unhex(v->seed, seed, 48);
		cr_assert_eq(snp_measure_plan_seeded(&p, seed, &st), 0);
		cr_assert_eq(memcmp(st.firmware, seed, 48), 0);
	} else {
		cr_assert_eq(snp_measure_plan(&p, &st), 0);
	}
	tohex(got, st.final, 48);
	plan_free(&p);
	free(fw);
	return 0;
}

Test(snp, sev_snp_measure_vectors)
{
	unsigned ran = 0, skipped = 0;

	make_boot_files();
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		char got[97] = "";

		if (run_vec(&vecs[i], got)) {
			skipped++;
			continue;
		}
		ran++;
		cr_expect_str_eq(got, vecs[i].expect, "vector %zu (%s, %u vCPUs)", i, vecs[i].fw,
				 vecs[i].vcpus);
	}
	/* a note, not cr_log_warn: Criterion exits 1 after any warning, which
	 * would fail a run on a machine without the fixtures */
	if (skipped)
		fprintf(stderr, "NOTE: sev_snp_measure_vectors skipped %u of %zu vectors: firmware file "
			"absent (make deps installs package ovmf; ../shared/testdata holds the suffix "
			"fixtures)\n", skipped, sizeof(vecs) / sizeof(vecs[0]));
	if (!ran)
		cr_skip_test("no firmware image available");
}

Test(snp, firmware_stage_is_ovmf_hash)
{
	/* sev-snp-measure.py --mode snp:ovmf-hash --ovmf /usr/share/ovmf/OVMF.fd */
	static const char expect[] =
		"ba2c811512ef868474f239a21f7d7057d65a20de87a003c4f116e4fb1573183bfbcd75c3e99b2f558575a5d0094f73c6";
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st, st2;
	size_t len;
	char err[200], got[97];
	uint8_t *fw = slurp(OVMF_FD, &len);

	if (!fw)
		cr_skip_test(OVMF_FD " absent (make deps installs package ovmf)");
	snp_params_init(&sp);
	sp.nvcpus = 4;
	snp_vcpu_sig_from_name("EPYC-v4", &sp.vcpu_sig);
	cr_assert_eq(snp_build_plan(&p, fw, len, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(snp_measure_plan(&p, &st), 0);
	tohex(got, st.firmware, 48);
	cr_assert_str_eq(got, expect);
	/* Seeding with the firmware stage gives the same final digest. */
	cr_assert_eq(snp_measure_plan_seeded(&p, st.firmware, &st2), 0);
	cr_assert_eq(memcmp(st.final, st2.final, 48), 0);
	cr_assert_eq(memcmp(st.metadata, st2.metadata, 48), 0);
	/* Plan shape: firmware at 4 GiB - 2 MiB, then the 5 metadata items in
	 * metadata order with their page types. */
	cr_assert_eq(p.nregions, 6);
	cr_assert_eq(p.regions[0].gpa, 0xffe00000);
	cr_assert_eq(p.regions[0].snp_type, PLAN_SNP_NORMAL);
	cr_assert_eq(p.regions[1].gpa, 0x800000);
	cr_assert_eq(p.regions[1].size, 0x9000);
	cr_assert_eq(p.regions[1].snp_type, PLAN_SNP_ZERO);
	cr_assert_eq(p.regions[3].snp_type, PLAN_SNP_SECRETS);
	cr_assert_eq(p.regions[4].snp_type, PLAN_SNP_CPUID);
	cr_assert_eq(p.snp.ap_reset_eip, 0x80b004);
	plan_free(&p);
	free(fw);
}

/* Per-page fold equals the region fold: what a launcher issuing one
 * SNP_LAUNCH_UPDATE per page would be checked against. */
Test(snp, fold_page_by_page_matches)
{
	size_t len;
	uint8_t *fw = slurp(AMDSEV, &len);
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st;
	uint8_t ld[48] = { 0 }, h[48];
	char err[200];

	if (!fw)
		cr_skip_test(AMDSEV " absent");
	snp_params_init(&sp);
	sp.nvcpus = 2;
	snp_vcpu_sig_from_name("EPYC-v4", &sp.vcpu_sig);
	cr_assert_eq(snp_build_plan(&p, fw, len, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(snp_measure_plan(&p, &st), 0);
	for (size_t i = 0; i < p.nregions; i++) {
		const struct plan_region *r = &p.regions[i];

		for (uint64_t off = 0; off < r->size; off += 4096) {
			uint8_t contents[48] = { 0 };

			if (r->snp_type == PLAN_SNP_NORMAL) {
				uint8_t page[4096] = { 0 };

				if (r->data && off < r->data_len)
					memcpy(page, r->data + off,
					       r->data_len - off < 4096 ? r->data_len - off : 4096);
				EVP_Digest(page, 4096, contents, NULL, EVP_sha384(), NULL);
			}
			cr_assert_eq(snp_digest_fold(ld, contents, r->snp_type, r->gpa + off), 0);
		}
	}
	cr_assert_eq(memcmp(ld, st.metadata, 48), 0);
	for (unsigned v = 0; v < p.nvcpus; v++) {
		EVP_Digest(p.vmsa[v], 4096, h, NULL, EVP_sha384(), NULL);
		snp_digest_fold(ld, h, PLAN_SNP_VMSA, PLAN_VMSA_GPA);
	}
	cr_assert_eq(memcmp(ld, st.final, 48), 0);
	plan_free(&p);
	free(fw);
}

/* The fold of a hand-made plan, page by page, as a reference: NORMAL
 * pages hashed (zero past data_len), the other types with zero contents;
 * @seed replaces the firmware stage. */
static void reference_fold(const struct launch_plan *p, const uint8_t *seed, uint8_t ld[48])
{
	size_t i = 0;

	memset(ld, 0, 48);
	if (seed) {
		while (i < p->nregions && !strcmp(p->regions[i].what, "firmware"))
			i++;
		memcpy(ld, seed, 48);
	}
	for (; i < p->nregions; i++) {
		const struct plan_region *r = &p->regions[i];

		for (uint64_t off = 0; off < r->size; off += 4096) {
			uint8_t contents[48] = { 0 }, page[4096] = { 0 };

			if (r->snp_type == PLAN_SNP_NORMAL) {
				if (r->data && off < r->data_len)
					memcpy(page, r->data + off,
					       r->data_len - off < 4096 ? r->data_len - off : 4096);
				EVP_Digest(page, 4096, contents, NULL, EVP_sha384(), NULL);
			}
			cr_assert_eq(snp_digest_fold(ld, contents, r->snp_type, r->gpa + off), 0);
		}
	}
}

/* Plans large enough for the second hashing thread (snp/digest.c hashes
 * the full data pages from the end while the fold walks from the start):
 * runs of equal pages, equal pages across a region boundary, a partial
 * last page, a zero region between, with and without a seed, many times
 * over so that the two threads meet at different pages. */
Test(snp, measure_with_a_hashing_helper_matches_the_page_fold)
{
	enum { NPAGES = 300 };
	uint8_t *buf = aligned_alloc(4096, NPAGES * 4096);
	uint8_t seed[48], ld[48];
	unsigned x = 12345;

	cr_assert_not_null(buf);
	for (size_t pg = 0; pg < NPAGES; pg++) {
		/* pages 40-89 and 200-229 repeat one page each; the rest differ */
		size_t src = pg >= 40 && pg < 90 ? 40 : pg >= 200 && pg < 230 ? 200 : pg;

		for (size_t b = 0; b < 4096; b++) {
			x = x * 1103515245u + 12345u;
			buf[pg * 4096 + b] = (uint8_t)(src == pg ? x >> 16 : buf[src * 4096 + b]);
		}
	}
	memset(seed, 0x5a, sizeof(seed));
	for (unsigned round = 0; round < 60; round++) {
		struct launch_plan p;
		struct snp_digest_stages st;
		const struct plan_region regions[] = {
			{ .gpa = 0xff000000, .size = 120 * 4096, .data = buf, .data_len = 120 * 4096,
			  .snp_type = PLAN_SNP_NORMAL, .what = "firmware" },
			{ .gpa = 0xff078000, .size = 100 * 4096, .data = buf + 120 * 4096,
			  .data_len = 100 * 4096, .snp_type = PLAN_SNP_NORMAL, .what = "firmware" },
			{ .gpa = 0x800000, .size = 3 * 4096, .snp_type = PLAN_SNP_ZERO, .what = "SEC_MEM" },
			/* the last 80 pages, the final one partly filled */
			{ .gpa = 0x900000, .size = 81 * 4096, .data = buf + 220 * 4096,
			  .data_len = 79 * 4096 + (round * 37) % 4096 + 1, .snp_type = PLAN_SNP_NORMAL,
			  .what = "kernel" },
		};

		plan_init(&p, PLAN_SNP);
		for (size_t r = 0; r < sizeof(regions) / sizeof(regions[0]); r++)
			cr_assert_eq(plan_add_region(&p, &regions[r]), 0);
		cr_assert_eq(snp_measure_plan(&p, &st), 0);
		reference_fold(&p, NULL, ld);
		cr_assert_eq(memcmp(ld, st.final, 48), 0, "round %u", round);
		cr_assert_eq(snp_measure_plan_seeded(&p, seed, &st), 0);
		reference_fold(&p, seed, ld);
		cr_assert_eq(memcmp(ld, st.final, 48), 0, "seeded, round %u", round);
		plan_free(&p);
	}
	free(buf);
}

/* ---- the real SEV-SNP report (EPYC Milan) from dstack's fixtures ---- */

static const char *json_find(const char *doc, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(doc, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

static void json_string(const char *doc, const char *key, char *out, size_t n)
{
	const char *p = json_find(doc, key);
	size_t i = 0;

	cr_assert(p && *p == '"', "key %s", key);
	for (p++; *p && *p != '"' && i + 1 < n; p++)
		out[i++] = *p;
	out[i] = '\0';
}

static unsigned long long json_num(const char *doc, const char *key)
{
	const char *p = json_find(doc, key);

	cr_assert(p, "key %s", key);
	return strtoull(p, NULL, 10);
}

Test(snp, real_milan_report_matches)
{
	size_t jlen, rlen;
	char *doc = (char *)slurp(TESTDATA "/dstack/snp_real_measurement_input.json", &jlen);
	uint8_t *rep = slurp(TESTDATA "/dstack/sev_snp_attestation.bin", &rlen);
	static struct ovmf_info info;
	struct snp_params sp;
	struct launch_plan p;
	struct snp_digest_stages st;
	char s[1024], cpu[32], err[200];
	uint8_t seed[48];
	const char *q;
	char *cmd, *e;

	if (!doc || !rep) {
		free(doc);
		free(rep);
		cr_skip_test("../shared/testdata/dstack absent: real-report check skipped");
	}
	doc = realloc(doc, jlen + 1);
	doc[jlen] = '\0';
	cr_assert_geq(rlen, 4 + 0xc0);

	memset(&info, 0, sizeof(info));
	info.has_footer = info.has_sev_meta = info.has_reset_block = info.has_hash_table = true;
	info.ap_reset_eip = (uint32_t)json_num(doc, "sev_es_reset_eip");
	info.hash_table_gpa = (uint32_t)json_num(doc, "sev_hashes_table_gpa");
	info.hash_table_size = 0x400;  /* not in the document; >= the table */
	q = json_find(doc, "ovmf_sections");
	cr_assert(q);
	while ((q = strstr(q, "\"gpa\"")) != NULL) {
		struct ovmf_sev_item *it = &info.sev[info.nsev++];

		it->gpa = (uint32_t)json_num(q, "gpa");
		it->size = (uint32_t)json_num(q, "size");
		it->type = (uint32_t)json_num(q, "section_type");
		q++;
	}
	cr_assert_eq(info.nsev, 7);

	snp_params_init(&sp);
	sp.nvcpus = (unsigned)json_num(doc, "vcpus");
	sp.sev_features = json_num(doc, "guest_features");
	json_string(doc, "vcpu_type", cpu, sizeof(cpu));
	cr_assert_eq(snp_vcpu_sig_from_name(cpu, &sp.vcpu_sig), 0);
	json_string(doc, "kernel_hash", s, sizeof(s));
	unhex(s, sp.kernel_sha256, 32);
	json_string(doc, "initrd_hash", s, sizeof(s));
	unhex(s, sp.initrd_sha256, 32);
	json_string(doc, "base_cmdline", s, sizeof(s));
	/* dstack measures the trimmed base command line */
	for (cmd = s; *cmd == ' '; cmd++)
		;
	for (e = cmd + strlen(cmd); e > cmd && e[-1] == ' '; e--)
		e[-1] = '\0';
	cr_assert_eq(snp_cmdline_sha256(cmd, sp.cmdline_sha256), 0);
	sp.kernel_hashes = true;
	json_string(doc, "ovmf_hash", s, sizeof(s));
	unhex(s, seed, 48);

	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(snp_measure_plan_seeded(&p, seed, &st), 0);
	/* MEASUREMENT: report bytes 0x90..0xC0; the report starts at byte 4. */
	cr_assert_eq(memcmp(st.final, rep + 4 + 0x90, 48), 0,
		     "computed launch digest differs from the hardware report");
	plan_free(&p);
	free(doc);
	free(rep);
}

/* ---- pieces ---- */

Test(snp, vcpu_signatures)
{
	uint32_t s;

	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-v4", &s), 0);
	cr_assert_eq(s, 0x00800f12);
	cr_assert_eq(snp_vcpu_sig_from_name("epyc-rome-v2", &s), 0);
	cr_assert_eq(s, 0x00830f10);
	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-Milan", &s), 0);
	cr_assert_eq(s, 0x00a00f11);
	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-Genoa-v1", &s), 0);
	cr_assert_eq(s, 0x00a10f10);
	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-Turin", &s), 0);
	cr_assert_eq(s, 0x00b00f00);
	cr_assert_eq(snp_vcpu_sig_from_name("EPYC-Nope", &s), -ENOENT);
	cr_assert_eq(snp_vcpu_sig(6, 0x55, 7), 0x00050657);
	cr_assert_eq(snp_vcpu_name(0) != NULL, 1);
	cr_assert_null(snp_vcpu_name(1000));
}

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

Test(snp, vmsa_fields)
{
	uint8_t pg[4096];

	snp_vmsa_build(pg, 0x0080b004, 0x00800f12, 0x1, SNP_VMM_QEMU);
	cr_assert_eq(rd(pg + 0x10, 2), 0xf000);            /* CS selector */
	cr_assert_eq(rd(pg + 0x12, 2), 0x9b);              /* CS attrib */
	cr_assert_eq(rd(pg + 0x18, 8), 0x00800000);        /* CS base */
	cr_assert_eq(rd(pg + 0x178, 8), 0xb004);           /* RIP */
	cr_assert_eq(rd(pg + 0x310, 8), 0x00800f12);       /* RDX */
	cr_assert_eq(rd(pg + 0x3b0, 8), 0x1);              /* SEV_FEATURES */
	cr_assert_eq(rd(pg + 0x268, 8), 0x0007040600070406ULL);
	cr_assert_eq(rd(pg + 0x408, 4), 0x1f80);
	cr_assert_eq(rd(pg + 0x410, 2), 0x37f);
	cr_assert_eq(rd(pg + 0xd0, 8), 0x1000);
	snp_vmsa_build(pg, SNP_BSP_EIP, 0x00800f12, 0x1, SNP_VMM_EC2);
	cr_assert_eq(rd(pg + 0x12, 2), 0x9a);
	cr_assert_eq(rd(pg + 0x22, 2), 0x92);
	cr_assert_eq(rd(pg + 0x92, 2), 0x83);
	cr_assert_eq(rd(pg + 0x310, 8), 0x600);
	cr_assert_eq(rd(pg + 0x408, 4), 0);
	cr_assert_eq(rd(pg + 0x18, 8), 0xffff0000);
	cr_assert_eq(rd(pg + 0x178, 8), 0xfff0);
	snp_vmsa_build(pg, SNP_BSP_EIP, 0x00800f12, 0x1, SNP_VMM_GCE);
	cr_assert_eq(rd(pg + 0x268, 8), 0x00070106);
	cr_assert_eq(rd(pg + 0x12, 2), 0x9b);
}

Test(snp, hash_table_layout)
{
	struct snp_params sp;
	uint8_t t[SNP_HASH_TABLE_PADDED], h[32];

	snp_params_init(&sp);
	cr_assert_eq(snp_params_set_kernel(&sp, "k", 1, NULL, 0, NULL), 0);
	snp_hash_table_build(&sp, t);
	cr_assert_eq(t[0], 0x06);                  /* 9438d606-... little-endian */
	cr_assert_eq(rd(t + 16, 2), 168);
	cr_assert_eq(rd(t + 18 + 16, 2), 50);
	/* cmdline entry: SHA-256 of a lone NUL */
	EVP_Digest("", 1, h, NULL, EVP_sha256(), NULL);
	cr_assert_eq(memcmp(t + 18 + 18, h, 32), 0);
	/* initrd entry: SHA-256 of nothing */
	EVP_Digest("", 0, h, NULL, EVP_sha256(), NULL);
	cr_assert_eq(memcmp(t + 68 + 18, h, 32), 0);
	EVP_Digest("k", 1, h, NULL, EVP_sha256(), NULL);
	cr_assert_eq(memcmp(t + 118 + 18, h, 32), 0);
	for (int i = 168; i < SNP_HASH_TABLE_PADDED; i++)
		cr_assert_eq(t[i], 0);
}

Test(snp, plan_errors)
{
	struct snp_params sp;
	struct launch_plan p;
	static struct ovmf_info info;
	char err[200];

	snp_params_init(&sp);
	memset(&info, 0, sizeof(info));
	info.has_footer = true;
	/* no SEV metadata */
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "SEV metadata"));
	plan_free(&p);
	info.has_sev_meta = info.has_reset_block = true;
	info.ap_reset_eip = 0x80b004;
	info.nsev = 2;
	info.sev[0] = (struct ovmf_sev_item){ 0x800000, 0x2000, OVMF_SEV_SEC_MEM };
	info.sev[1] = (struct ovmf_sev_item){ 0x801000, 0x1000, OVMF_SEV_SECRETS };
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "overlap"), "%s", err);
	plan_free(&p);
	info.sev[1] = (struct ovmf_sev_item){ 0x802000, 0x1000, 0x77 };
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unknown type"), "%s", err);
	plan_free(&p);
	info.sev[1] = (struct ovmf_sev_item){ 0x802800, 0x1000, OVMF_SEV_CPUID };
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "aligned"), "%s", err);
	plan_free(&p);
	/* kernel hashes without a KERNEL_HASHES section */
	info.sev[1] = (struct ovmf_sev_item){ 0x802000, 0x1000, OVMF_SEV_CPUID };
	cr_assert_eq(snp_params_set_kernel(&sp, "k", 1, NULL, 0, "x"), 0);
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "KERNEL_HASHES"), "%s", err);
	plan_free(&p);
	/* zero vCPUs */
	sp.kernel_hashes = false;
	sp.nvcpus = 0;
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), -EINVAL);
	plan_free(&p);
	/* a valid one: zero-size items are skipped, ec2 moves CPUID last */
	sp.nvcpus = 2;
	sp.vmm_type = SNP_VMM_EC2;
	info.nsev = 4;
	info.sev[1] = (struct ovmf_sev_item){ 0x802000, 0x1000, OVMF_SEV_CPUID };
	info.sev[2] = (struct ovmf_sev_item){ 0x900000, 0, OVMF_SEV_SEC_MEM };
	info.sev[3] = (struct ovmf_sev_item){ 0x803000, 0x1000, OVMF_SEV_SECRETS };
	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nregions, 3);
	cr_assert_eq(p.regions[2].snp_type, PLAN_SNP_CPUID);
	cr_assert_eq(p.regions[1].snp_type, PLAN_SNP_SECRETS);
	plan_free(&p);
}

/* ---- ID block: verify the signatures with OpenSSL ---- */

static EVP_PKEY *gen_p384(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
}

static int verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(sig, 72, NULL), *s = BN_lebin2bn(sig + 72, 72, NULL);
	unsigned char *der = NULL;
	int dlen, ok;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	ECDSA_SIG_set0(es, r, s);
	dlen = i2d_ECDSA_SIG(es, &der);
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, k) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)dlen, msg, len) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return ok;
}

Test(snp, id_block_signatures_verify)
{
	EVP_PKEY *id = gen_p384(), *author = gen_p384();
	struct snp_id_params ip;
	uint8_t block[96], idd[48], ad[48], h[48];
	static uint8_t auth[4096];
	char err[200];

	cr_assert(id && author);
	memset(&ip, 0, sizeof(ip));
	for (int i = 0; i < 48; i++)
		ip.ld[i] = (uint8_t)i;
	memset(ip.family_id, 0xaa, 16);
	memset(ip.image_id, 0xbb, 16);
	ip.version = 1;
	ip.guest_svn = 7;
	ip.policy = 0x30000;
	cr_assert_eq(snp_id_block_build(&ip, id, author, block, auth, idd, ad, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(memcmp(block, ip.ld, 48), 0);
	cr_assert_eq(block[0x30], 0xaa);
	cr_assert_eq(block[0x40], 0xbb);
	cr_assert_eq(rd(block + 0x50, 4), 1);
	cr_assert_eq(rd(block + 0x54, 4), 7);
	cr_assert_eq(rd(block + 0x58, 8), 0x30000);
	cr_assert_eq(rd(auth, 4), 1);
	cr_assert_eq(rd(auth + 4, 4), 1);
	cr_assert_eq(rd(auth + SNP_ID_AUTH_ID_KEY, 4), 2);
	cr_assert_eq(rd(auth + SNP_ID_AUTH_AUTHOR_KEY, 4), 2);
	cr_assert(verify(id, block, 96, auth + SNP_ID_AUTH_BLOCK_SIG), "ID block signature");
	cr_assert(verify(author, auth + SNP_ID_AUTH_ID_KEY, SNP_PUBKEY_SIZE,
			 auth + SNP_ID_AUTH_ID_KEY_SIG), "ID key signature");
	/* a flipped bit breaks it */
	block[0] ^= 1;
	cr_assert_not(verify(id, block, 96, auth + SNP_ID_AUTH_BLOCK_SIG));
	/* key digest = SHA-384 of the 1028-byte public key */
	EVP_Digest(auth + SNP_ID_AUTH_ID_KEY, SNP_PUBKEY_SIZE, h, NULL, EVP_sha384(), NULL);
	cr_assert_eq(memcmp(h, idd, 48), 0);
	/* the encoded key is the key: rebuild it from QX/QY and verify */
	BIGNUM *x = BN_lebin2bn(auth + SNP_ID_AUTH_ID_KEY + 4, 72, NULL);
	BIGNUM *x2 = NULL;
	EVP_PKEY_get_bn_param(id, "qx", &x2);
	cr_assert_eq(BN_cmp(x, x2), 0);
	BN_free(x);
	BN_free(x2);
	/* without an author key */
	cr_assert_eq(snp_id_block_build(&ip, id, NULL, block, auth, idd, ad, err, sizeof(err)), 0);
	cr_assert_eq(rd(auth + 4, 4), 0);
	cr_assert_eq(rd(auth + SNP_ID_AUTH_AUTHOR_KEY, 4), 0);
	EVP_PKEY_free(id);
	EVP_PKEY_free(author);
}
