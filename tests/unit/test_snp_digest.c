/* tests/unit/test_snp_digest.c: the SEV-SNP launch digest of synthetic
 * plans against a plain sequential fold written here (one SHA-384 per page,
 * one PAGE_INFO per page, in plan order): the page hashing that runs ahead
 * of the fold, on several threads for large plans, with duplicate runs,
 * partial and zero-filled pages, must not change a bit of any stage.
 * Owns: only these tests. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "snp/snp.h"
#include "vmm/base/le.h"

static void sha384(const void *p, size_t n, uint8_t out[48])
{
	unsigned len = 0;

	cr_assert(EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) && len == 48);
}

static void ref_fold(uint8_t ld[48], const uint8_t contents[48], uint8_t type, uint64_t gpa)
{
	uint8_t pi[0x70] = { 0 };

	memcpy(pi, ld, 48);
	memcpy(pi + 0x30, contents, 48);
	pi[0x60] = 0x70;
	pi[0x62] = type;
	le_wr64(pi + 0x68, gpa);
	sha384(pi, sizeof(pi), ld);
}

static void ref_region(uint8_t ld[48], const struct plan_region *r)
{
	static const uint8_t zero[48];

	for (uint64_t off = 0; off < r->size; off += 4096) {
		uint8_t page[4096] = { 0 }, h[48];

		if (r->snp_type != PLAN_SNP_NORMAL) {
			ref_fold(ld, zero, r->snp_type, r->gpa + off);
			continue;
		}
		if (r->data && off < r->data_len)
			memcpy(page, r->data + off, r->data_len - off < 4096 ? r->data_len - off : 4096);
		sha384(page, sizeof(page), h);
		ref_fold(ld, h, PLAN_SNP_NORMAL, r->gpa + off);
	}
}

/* firmware: NPAGES pages where runs of equal pages alternate with distinct
 * ones; then metadata regions of every kind, a partial and an empty NORMAL
 * region among them. */
#define META_LEN (3 * 4096 + 100)

static uint8_t *build(struct launch_plan *p, size_t npages, unsigned nvcpus, uint8_t *meta)
{
	uint8_t *fw = malloc(npages * 4096);
	struct plan_region r;

	cr_assert_not_null(fw);
	srand(7);
	for (size_t i = 0; i < npages; i++) {
		uint8_t *pg = fw + i * 4096;

		if (i % 17 < 5 && i)         /* a run: the page before, again */
			memcpy(pg, pg - 4096, 4096);
		else if (i % 31 == 0)
			memset(pg, 0xff, 4096);
		else
			for (size_t k = 0; k < 4096; k++)
				pg[k] = (uint8_t)rand();
	}
	for (size_t k = 0; k < META_LEN; k++)
		meta[k] = (uint8_t)(k * 13);
	plan_init(p, PLAN_SNP);
	memset(&r, 0, sizeof(r));
	r = (struct plan_region){ .gpa = (1ULL << 32) - npages * 4096, .size = npages * 4096,
				  .data = fw, .data_len = npages * 4096, .snp_type = PLAN_SNP_NORMAL };
	strcpy(r.what, "firmware");
	cr_assert_eq(plan_add_region(p, &r), 0);
	struct plan_region more[] = {
		{ .gpa = 0x800000, .size = 0x3000, .snp_type = PLAN_SNP_ZERO },
		{ .gpa = 0x803000, .size = 0x5000, .data = meta, .data_len = META_LEN,
		  .snp_type = PLAN_SNP_NORMAL },                  /* partial 4th page, then zero */
		{ .gpa = 0x808000, .size = 0x1000, .snp_type = PLAN_SNP_SECRETS },
		{ .gpa = 0x809000, .size = 0x1000, .snp_type = PLAN_SNP_CPUID },
		{ .gpa = 0x80a000, .size = 0x2000, .snp_type = PLAN_SNP_NORMAL },   /* no data */
		{ .gpa = 0x80c000, .size = 0x1000, .data = meta, .data_len = 4096,
		  .snp_type = PLAN_SNP_NORMAL },
		{ .gpa = 0x80d000, .size = 0x2000, .snp_type = PLAN_SNP_UNMEASURED },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		strcpy(more[i].what, "meta");
		cr_assert_eq(plan_add_region(p, &more[i]), 0);
	}
	p->nvcpus = nvcpus;
	p->vmsa = calloc(nvcpus ? nvcpus : 1, PLAN_VMSA_SIZE);
	cr_assert_not_null(p->vmsa);
	for (unsigned v = 0; v < nvcpus; v++)
		p->vmsa[v][v ? 1 : 0] = 0x5a;   /* BSP differs from the APs */
	return fw;
}

static void check(size_t npages, unsigned nvcpus)
{
	struct launch_plan p;
	uint8_t *fw, ld[48] = { 0 }, fwst[48], meta[48], h[48];
	struct snp_digest_stages st, st2;
	uint8_t *metabuf = malloc(META_LEN);
	size_t i = 0;

	cr_assert_not_null(metabuf);
	fw = build(&p, npages, nvcpus, metabuf);

	for (; i < p.nregions && !strcmp(p.regions[i].what, "firmware"); i++)
		ref_region(ld, &p.regions[i]);
	memcpy(fwst, ld, 48);
	for (; i < p.nregions; i++)
		ref_region(ld, &p.regions[i]);
	memcpy(meta, ld, 48);
	for (unsigned v = 0; v < nvcpus; v++) {
		sha384(p.vmsa[v], PLAN_VMSA_SIZE, h);
		ref_fold(ld, h, PLAN_SNP_VMSA, PLAN_VMSA_GPA);
	}

	cr_assert_eq(snp_measure_plan(&p, &st), 0);
	cr_assert_eq(memcmp(st.firmware, fwst, 48), 0, "firmware stage, %zu pages", npages);
	cr_assert_eq(memcmp(st.metadata, meta, 48), 0, "metadata stage, %zu pages", npages);
	cr_assert_eq(memcmp(st.final, ld, 48), 0, "final, %zu pages", npages);
	/* seeded with the firmware stage: the same metadata and final */
	cr_assert_eq(snp_measure_plan_seeded(&p, fwst, &st2), 0);
	cr_assert_eq(memcmp(st2.firmware, fwst, 48), 0);
	cr_assert_eq(memcmp(st2.metadata, meta, 48), 0);
	cr_assert_eq(memcmp(st2.final, ld, 48), 0);
	plan_free(&p);
	free(fw);
	free(metabuf);
}

Test(snp_digest, small_plan_hashed_inline)
{
	check(3, 1);
	check(40, 2);
}

Test(snp_digest, large_plan_hashed_on_threads)
{
	check(512, 4);
	check(1031, 3);   /* distinct pages not a multiple of the threads */
}

Test(snp_digest, no_vcpus)
{
	check(100, 0);
}
