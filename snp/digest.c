/* snp/digest.c: the SEV-SNP launch digest of a launch plan.  Owns the
 * PAGE_INFO fold only; it walks the plan in order and never reorders or
 * re-types a region (that is snp/plan.c's job). */
#include "snp/snp.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vmm/base/le.h"
#include "vmm/base/log.h"
#include "vmm/base/thread.h"

/* SEV-SNP Firmware ABI #56860, SNP_LAUNCH_UPDATE, "PAGE_INFO" (0x70 bytes):
 * 0x00 DIGEST_CUR[48], 0x30 CONTENTS[48], 0x60 u16 LENGTH, 0x62 u8
 * PAGE_TYPE, 0x63 u8 IMI_PAGE, 0x64..0x66 VMPL3..1_PERMS, 0x67 reserved,
 * 0x68 u64 GPA.  CONTENTS = SHA-384(page) for NORMAL and VMSA pages, zero
 * otherwise.  VMSA pages are measured at GPA (u64)-1 page aligned with bits
 * above 51 cleared (PLAN_VMSA_GPA). */
#define PAGE_INFO_LEN 0x70

struct ahead;

struct folder {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	uint8_t ld[SNP_DIGEST_LEN];
	const uint8_t *prev;          /* last page hashed and its digest */
	uint8_t prev_hash[SNP_DIGEST_LEN];
	bool have_prev;
	struct ahead *ahead;          /* pages a second thread hashes, or NULL */
	size_t next;                  /* the fold's position in ahead->page */
};

/* The contents hashes are independent of the fold (only PAGE_INFO chains),
 * so a second thread hashes the full data pages from the last one
 * backwards while the fold walks forwards and hashes what the helper has
 * not claimed: each page is hashed once, by whoever claims it first, and
 * the digest does not depend on who did. */
enum { AHEAD_FREE, AHEAD_CLAIMED, AHEAD_DONE };
#define AHEAD_MIN_PAGES 64

struct ahead {
	const uint8_t **page;         /* the full data pages, in fold order */
	uint8_t (*hash)[SNP_DIGEST_LEN];
	_Atomic unsigned char *state;
	size_t n;
	const EVP_MD *md;
	pthread_t thread;
};

/* SHA-384, fetched from the provider once for the process: a fetch looks
 * the algorithm up by name every time, and the first one initialises the
 * provider.  Never freed. */
static EVP_MD *sha384_md;
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

static void sha384_fetch(void)
{
	sha384_md = EVP_MD_fetch(NULL, "SHA384", NULL);
}

static const EVP_MD *sha384(void)
{
	pthread_once(&sha384_once, sha384_fetch);
	return sha384_md;
}

static int hash(struct folder *f, const void *data, size_t len, uint8_t out[SNP_DIGEST_LEN])
{
	if (!EVP_DigestInit_ex2(f->ctx, f->md, NULL) ||
	    !EVP_DigestUpdate(f->ctx, data, len) ||
	    !EVP_DigestFinal_ex(f->ctx, out, NULL))
		return -EIO;
	return 0;
}

static int fold(struct folder *f, const uint8_t contents[SNP_DIGEST_LEN], uint8_t type,
		uint64_t gpa)
{
	uint8_t pi[PAGE_INFO_LEN];

	memcpy(pi, f->ld, SNP_DIGEST_LEN);
	memcpy(pi + 0x30, contents, SNP_DIGEST_LEN);
	pi[0x60] = PAGE_INFO_LEN;
	pi[0x61] = 0;
	pi[0x62] = type;
	memset(pi + 0x63, 0, 5);  /* IMI_PAGE, VMPL3/2/1 perms, reserved */
	le_wr64(pi + 0x68, gpa);
	return hash(f, pi, sizeof(pi), f->ld);
}

static bool same_as_before(struct ahead *a, size_t i)
{
	return i > 0 && !memcmp(a->page[i - 1], a->page[i], PLAN_PAGE);
}

static void *ahead_main(void *arg)
{
	struct ahead *a = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (size_t i = a->n; ctx && i-- > 0;) {
		unsigned char want = AHEAD_FREE;

		/* a run of equal pages is the fold's (it reuses one digest) */
		if (same_as_before(a, i))
			continue;
		if (!atomic_compare_exchange_strong(&a->state[i], &want, AHEAD_CLAIMED))
			break;                /* the fold got here: the rest is its */
		if (!EVP_DigestInit_ex2(ctx, a->md, NULL) ||
		    !EVP_DigestUpdate(ctx, a->page[i], PLAN_PAGE) ||
		    !EVP_DigestFinal_ex(ctx, a->hash[i], NULL)) {
			atomic_store(&a->state[i], AHEAD_FREE);   /* the fold hashes it */
			break;
		}
		atomic_store_explicit(&a->state[i], AHEAD_DONE, memory_order_release);
	}
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/* The helper's hash of @page if it is the fold's next full data page and
 * the helper has finished it.  One it is still hashing is hashed here too:
 * waiting could mean waiting a whole time slice for a preempted helper. */
static bool ahead_take(struct folder *f, const uint8_t *page, uint8_t out[SNP_DIGEST_LEN])
{
	struct ahead *a = f->ahead;
	unsigned char want = AHEAD_FREE;
	size_t i;

	if (!a || f->next >= a->n || a->page[f->next] != page)
		return false;
	i = f->next++;
	if (atomic_compare_exchange_strong(&a->state[i], &want, AHEAD_CLAIMED) ||
	    want != AHEAD_DONE)
		return false;
	atomic_thread_fence(memory_order_acquire);
	memcpy(out, a->hash[i], SNP_DIGEST_LEN);
	return true;
}

/* SHA-384 of one 4 KiB page; a page equal to the one hashed just before
 * reuses its digest (firmware images have long runs of 0xff or 0x00). */
static int page_hash(struct folder *f, const uint8_t *page, uint8_t out[SNP_DIGEST_LEN])
{
	int ret;

	if (f->have_prev && (f->prev == page || !memcmp(f->prev, page, PLAN_PAGE))) {
		memcpy(out, f->prev_hash, SNP_DIGEST_LEN);
		f->prev = page;
		if (f->ahead && f->next < f->ahead->n && f->ahead->page[f->next] == page)
			f->next++;
		return 0;
	}
	if (ahead_take(f, page, out)) {
		memcpy(f->prev_hash, out, SNP_DIGEST_LEN);
		f->prev = page;
		f->have_prev = true;
		return 0;
	}
	ret = hash(f, page, PLAN_PAGE, out);
	if (ret)
		return ret;
	memcpy(f->prev_hash, out, SNP_DIGEST_LEN);
	f->prev = page;
	f->have_prev = true;
	return 0;
}

static int fold_region(struct folder *f, const struct plan_region *r)
{
	static const uint8_t zero[SNP_DIGEST_LEN];
	uint8_t tail[PLAN_PAGE] __attribute__((aligned(64)));
	uint8_t h[SNP_DIGEST_LEN];
	int ret;

	switch (r->snp_type) {
	case PLAN_SNP_NORMAL:
		for (uint64_t off = 0; off < r->size; off += PLAN_PAGE) {
			const uint8_t *page;

			if (r->data && off + PLAN_PAGE <= r->data_len) {
				page = r->data + off;
			} else {
				/* Past data_len the page is zero-filled. */
				uint64_t n = r->data && off < r->data_len ? r->data_len - off : 0;

				memset(tail, 0, sizeof(tail));
				if (n)
					memcpy(tail, r->data + off, n);
				f->have_prev = false;  /* tail is reused: no identity cache */
				page = tail;
			}
			ret = page_hash(f, page, h);
			if (!ret)
				ret = fold(f, h, PLAN_SNP_NORMAL, r->gpa + off);
			if (page == tail)
				f->have_prev = false;
			if (ret)
				return ret;
		}
		return 0;
	case PLAN_SNP_ZERO: case PLAN_SNP_UNMEASURED:
	case PLAN_SNP_SECRETS: case PLAN_SNP_CPUID:
		for (uint64_t off = 0; off < r->size; off += PLAN_PAGE) {
			ret = fold(f, zero, r->snp_type, r->gpa + off);
			if (ret)
				return ret;
		}
		return 0;
	default:
		log_err("snp: region '%s' at 0x%llx has page type %u, not measurable as a region",
			r->what, (unsigned long long)r->gpa, r->snp_type);
		return -EINVAL;
	}
}

int snp_digest_fold(uint8_t ld[SNP_DIGEST_LEN], const uint8_t contents[SNP_DIGEST_LEN],
		    uint8_t page_type, uint64_t gpa)
{
	struct folder f = { 0 };
	int ret = -EIO;

	f.ctx = EVP_MD_CTX_new();
	f.md = sha384();
	if (f.ctx && f.md) {
		memcpy(f.ld, ld, SNP_DIGEST_LEN);
		ret = fold(&f, contents, page_type, gpa);
		if (!ret)
			memcpy(ld, f.ld, SNP_DIGEST_LEN);
	}
	EVP_MD_CTX_free(f.ctx);
	return ret;
}

/* The helper for @p's full data pages (after stage 1 with a seed), when
 * there are enough of them and a second CPU; NULL to fold alone. */
static struct ahead *ahead_start(const struct launch_plan *p, const uint8_t *seed,
				 const EVP_MD *md)
{
	struct ahead *a = NULL;
	size_t n = 0, i = 0;
	int e;

	for (int pass = 0; pass < 2; pass++) {
		size_t r = 0;

		if (seed)
			while (r < p->nregions && !strcmp(p->regions[r].what, "firmware"))
				r++;
		for (; r < p->nregions; r++) {
			const struct plan_region *g = &p->regions[r];

			if (g->snp_type != PLAN_SNP_NORMAL || !g->data)
				continue;
			for (uint64_t off = 0; off < g->size && off + PLAN_PAGE <= g->data_len;
			     off += PLAN_PAGE) {
				if (pass)
					a->page[i++] = g->data + off;
				else
					n++;
			}
		}
		if (pass)
			break;
		if (n < AHEAD_MIN_PAGES || sysconf(_SC_NPROCESSORS_ONLN) < 2)
			return NULL;
		a = calloc(1, sizeof(*a));
		if (!a)
			return NULL;
		a->page = malloc(n * sizeof(*a->page));
		a->hash = malloc(n * sizeof(*a->hash));
		a->state = calloc(n, sizeof(*a->state));
		if (!a->page || !a->hash || !a->state)
			goto fail;
	}
	a->n = n;
	a->md = md;
	e = thread_start_beside(&a->thread, ahead_main, a);
	if (!e)
		return a;
fail:
	free(a->page);
	free(a->hash);
	free(a->state);
	free(a);
	return NULL;
}

static void ahead_stop(struct ahead *a)
{
	if (!a)
		return;
	/* claim what is left so that the helper stops at once */
	for (size_t i = 0; i < a->n; i++) {
		unsigned char want = AHEAD_FREE;

		atomic_compare_exchange_strong(&a->state[i], &want, AHEAD_CLAIMED);
	}
	pthread_join(a->thread, NULL);
	free(a->page);
	free(a->hash);
	free(a->state);
	free(a);
}

static int measure(const struct launch_plan *p, const uint8_t *seed,
		   struct snp_digest_stages *out)
{
	struct folder f = { 0 };
	uint8_t h[SNP_DIGEST_LEN];
	size_t i = 0;
	int ret = -EIO;

	memset(out, 0, sizeof(*out));
	if (p->platform != PLAN_SNP || (p->nvcpus && !p->vmsa)) {
		log_err("snp: measure: not an SNP plan (platform %d)", (int)p->platform);
		return -EINVAL;
	}
	f.ctx = EVP_MD_CTX_new();
	f.md = sha384();
	if (!f.ctx || !f.md) {
		log_err("snp: measure: OpenSSL has no SHA-384");
		goto out;
	}
	f.ahead = ahead_start(p, seed, f.md);
	/* Stage 1: the firmware regions (labelled "firmware" by the builder). */
	for (; i < p->nregions && !strcmp(p->regions[i].what, "firmware"); i++) {
		if (seed)
			continue;
		ret = fold_region(&f, &p->regions[i]);
		if (ret)
			goto out;
	}
	if (seed)
		memcpy(f.ld, seed, SNP_DIGEST_LEN);
	memcpy(out->firmware, f.ld, SNP_DIGEST_LEN);
	/* Stage 2: the metadata pages. */
	for (; i < p->nregions; i++) {
		ret = fold_region(&f, &p->regions[i]);
		if (ret)
			goto out;
	}
	memcpy(out->metadata, f.ld, SNP_DIGEST_LEN);
	/* Stage 3: one VMSA per vCPU. */
	f.have_prev = false;
	for (unsigned v = 0; v < p->nvcpus; v++) {
		ret = page_hash(&f, p->vmsa[v], h);
		if (!ret)
			ret = fold(&f, h, PLAN_SNP_VMSA, PLAN_VMSA_GPA);
		if (ret)
			goto out;
	}
	memcpy(out->final, f.ld, SNP_DIGEST_LEN);
	ret = 0;
out:
	if (ret == -EIO)
		log_err("snp: measure: SHA-384 failed");
	ahead_stop(f.ahead);
	EVP_MD_CTX_free(f.ctx);
	return ret;
}

int snp_measure_plan(const struct launch_plan *p, struct snp_digest_stages *out)
{
	return measure(p, NULL, out);
}

int snp_measure_plan_seeded(const struct launch_plan *p, const uint8_t seed[SNP_DIGEST_LEN],
			    struct snp_digest_stages *out)
{
	return measure(p, seed, out);
}
