/* tests/unit/test_budget.c: what a guest-supplied image may cost the host.
 * The IGVM builder's allocation budget (file size + IGVM_BUILD_SLACK), the
 * plain layout of a plan against a guest's memory map in its dry-run and
 * real modes (one check used twice: dry accepted => real succeeds), zero
 * pages that commit no memory, the doorbell statuses of the validation's
 * errors and the fallback of an image that failed to build.
 * Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/doorbell.h"
#include "loader/igvm.h"
#include "tests/unit/igvm_build.h"
#include "vmm/base/layout.h"
#include "vmm/launch/plain.h"
#include "vmm/vm/pam.h"
#include "vmm/vm/swap.h"

#define M_NATIVE 1u
#define MIB (1ULL << 20)

static char err[256];
static uint8_t page_a[4096], page_2m[IGVM_PAGE_2M];

/* ---- a guest's memory map as vm_map_ram lays it out ---- */

struct fake_vm {
	struct guestmem gm;
	uint8_t *ram;
	uint64_t size;
	struct vm_config cfg;
	struct swap swap;
};

static void fake_vm_init(struct fake_vm *v, uint64_t mem)
{
	uint64_t b = layout_below_4g(mem);

	memset(v, 0, sizeof(*v));
	v->size = mem;
	v->ram = mmap(NULL, mem, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(v->ram, MAP_FAILED);
	gm_init(&v->gm);
	cr_assert_eq(gm_add(&v->gm, 0, LAYOUT_VGA_START, v->ram, GM_RAM, "ram-low"), 0);
	cr_assert_eq(gm_add(&v->gm, LAYOUT_1M, b - LAYOUT_1M, v->ram + LAYOUT_1M, GM_RAM, "ram"), 0);
	if (layout_above_4g(mem))
		cr_assert_eq(gm_add(&v->gm, LAYOUT_4G, layout_above_4g(mem), v->ram + b, GM_RAM,
				    "ram-high"), 0);
	v->cfg.memory = mem;
	v->cfg.vcpus = 1;
	v->swap.cfg = &v->cfg;
	swap_set_memory(&v->swap, &v->gm, v->ram);
}

static void fake_vm_fini(struct fake_vm *v)
{
	munmap(v->ram, v->size);
}

/* The rebuild's layout of @p, on a scratch copy of @v's map (as vm_build
 * does on the live one): the BIOS area, then plain_layout for real. */
static int real_layout(struct fake_vm *v, struct launch_plan *p, struct guestmem *out)
{
	struct pam pam;
	int r;

	memset(&pam, 0, sizeof(pam));
	gm_copy(out, &v->gm);
	r = pam_map_bios_area(&pam, out, v->ram, p);
	return r ? r : plain_layout(out, p, false, err, sizeof(err));
}

static int plan_igvm(struct launch_plan *p, struct ib *b, uint64_t mem)
{
	struct igvm_params prm = { .nvcpus = 1, .memory = mem };
	size_t len;
	uint8_t *buf = ib_finish(b, &len);
	int r;

	ib_free(b);
	r = igvm_build_plan(p, buf, len, PLAN_PLAIN, &prm, err, sizeof(err));
	free(buf);
	return r;
}

static void native(struct ib *b)
{
	ib_init(b, 1);
	ib_platform(b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
}

static uint64_t rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static uint64_t plan_data_bytes(const struct launch_plan *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->nregions; i++)
		n += p->regions[i].data ? p->regions[i].data_len : 0;
	return n;
}

static void fill(void)
{
	memset(page_a, 0xA5, sizeof(page_a));
	memset(page_2m, 0x5A, sizeof(page_2m));
}

TestSuite(budget, .init = fill);

/* ---- the builder's budget: file size + IGVM_BUILD_SLACK ---- */

/* PAGE_DATA headers that all point at the same 2 MiB of file data: each
 * copy is charged, so a few bytes of header cannot stand for megabytes */
static void reused_2m(struct ib *b, unsigned n)
{
	uint8_t x[IGVM_SZ_PAGE_DATA] = { 0 };
	uint32_t rel = ib_data(b, page_2m, sizeof(page_2m));

	for (unsigned i = 0; i < n; i++) {
		size_t pos;

		memset(x, 0, sizeof(x));
		le_wr64(x, 0x10000000ULL + i * (uint64_t)IGVM_PAGE_2M);
		le_wr32(x + 8, M_NATIVE);
		le_wr32(x + 16, IGVM_PAGE_F_2MB);
		pos = ib_raw(b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
		ib_reloc(b, pos + 12, rel);
	}
}

Test(budget, reused_page_data_is_charged_per_copy)
{
	struct launch_plan p;
	struct ib b;

	/* 3 x 2 MiB of copies from a 2 MiB file: within file + 4 MiB */
	native(&b);
	reused_2m(&b, 3);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), 0, "%s", err);
	cr_assert_eq(plan_data_bytes(&p), 3 * IGVM_PAGE_2M);
	plan_free(&p);
	/* 4 x 2 MiB: past it */
	native(&b);
	reused_2m(&b, 4);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), -E2BIG);
	cr_assert(strstr(err, "file size + 4 MiB"), "%s", err);
	cr_assert_eq(p.nregions, 0);
	/* 1000 copies (2 GiB from 2 MiB): refused before allocating */
	native(&b);
	reused_2m(&b, 1000);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), -E2BIG);
}

Test(budget, zeroed_parameter_areas_are_charged)
{
	struct launch_plan p;
	struct ib b;

	native(&b);
	ib_param_area(&b, 4 * MIB, 0, NULL);
	ib_insert(&b, 0x400000, M_NATIVE, 0);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), 0, "%s", err);
	plan_free(&p);
	native(&b);
	for (unsigned i = 0; i < 4; i++) {
		ib_param_area(&b, 4 * MIB, i, NULL);
		ib_insert(&b, 0x400000 + i * 4 * MIB, M_NATIVE, i);
	}
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), -E2BIG);
	cr_assert(strstr(err, "parameter area"), "%s", err);
}

Test(budget, zero_pages_allocate_nothing)
{
	struct launch_plan p;
	struct ib b;
	uint64_t before = rss_kib();

	/* 16 GiB of 2 MiB zero pages above 4 GiB: one region, no buffer */
	native(&b);
	for (unsigned i = 0; i < 8192; i++)
		ib_page(&b, LAYOUT_4G + i * (uint64_t)IGVM_PAGE_2M, M_NATIVE,
			IGVM_PAGE_F_2MB | IGVM_PAGE_F_UNMEASURED, 0, NULL);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), 0, "%s", err);
	cr_assert_eq(p.nregions, 1);
	cr_assert_null(p.regions[0].data);
	cr_assert_eq(p.regions[0].size, 16ULL << 30);
	cr_assert_eq(p.nowned, 0);
	cr_assert_lt(rss_kib(), before + 4096);
	plan_free(&p);
}

Test(budget, a_data_page_after_a_zero_page_starts_a_region)
{
	struct launch_plan p;
	struct ib b;

	native(&b);
	ib_page(&b, 0x100000, M_NATIVE, 0, 0, page_a);
	ib_page(&b, 0x101000, M_NATIVE, 0, 0, NULL);
	ib_page(&b, 0x102000, M_NATIVE, 0, 0, NULL);
	ib_page(&b, 0x103000, M_NATIVE, 0, 0, page_a);
	cr_assert_eq(plan_igvm(&p, &b, 64 * MIB), 0, "%s", err);
	cr_assert_eq(p.nregions, 2);
	cr_assert_eq(p.regions[0].size, 0x3000);
	cr_assert_eq(p.regions[0].data_len, 0x1000);
	cr_assert_eq(p.regions[1].gpa, 0x103000);
	cr_assert_eq(p.regions[1].data_len, 0x1000);
	cr_assert_eq(plan_data_bytes(&p), 0x2000);
	plan_free(&p);
}

/* ---- the layout: dry run and real, one check used twice ---- */

/* dry accepted <=> real succeeds, with the same error otherwise */
static int both(struct fake_vm *v, struct launch_plan *p)
{
	size_t nowned = p->nowned;
	const uint8_t *d0 = p->nregions ? p->regions[0].data : NULL;
	unsigned live_n = v->gm.n;
	struct guestmem real;
	int dry, r;

	dry = swap_layout_check(&v->swap, p, err, sizeof(err));
	/* the dry run allocates nothing and changes neither plan nor map */
	cr_assert_eq(p->nowned, nowned);
	cr_assert_eq(p->nregions ? p->regions[0].data : NULL, d0);
	cr_assert_eq(v->gm.n, live_n);
	r = real_layout(v, p, &real);
	cr_assert_eq(r, dry, "dry run %d, real layout %d: %s", dry, r, err);
	return dry;
}

Test(budget, layout_refuses_what_the_map_cannot_take)
{
	struct fake_vm v;
	struct launch_plan p;
	struct ib b;

	fake_vm_init(&v, 64 * MIB);
	/* a page run across two memory regions (the BIOS area and RAM) */
	native(&b);
	ib_page(&b, 0xFF000, M_NATIVE, 0, 0, page_a);
	ib_page(&b, 0x100000, M_NATIVE, 0, 0, page_a);
	cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
	cr_assert_eq(both(&v, &p), -ERANGE);
	cr_assert(strstr(err, "spans two memory regions"), "%s", err);
	plan_free(&p);
	/* a run from the end of RAM into the space above it: an overlap */
	native(&b);
	ib_page(&b, v.size - 0x1000, M_NATIVE, 0, 0, page_a);
	ib_page(&b, v.size, M_NATIVE, 0, 0, page_a);
	cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
	cr_assert_eq(both(&v, &p), -ERANGE);
	cr_assert(strstr(err, "overlaps ram"), "%s", err);
	plan_free(&p);
	/* more regions than the table holds: 3 of RAM + 13 fit, 14 do not */
	for (unsigned n = 13; n <= 14; n++) {
		native(&b);
		for (unsigned i = 0; i < n; i++)
			ib_page(&b, 0xFF000000ULL + i * 0x2000, M_NATIVE, 0, 0, page_a);
		cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
		cr_assert_eq(both(&v, &p), n == 13 ? 0 : -E2BIG, "%u regions: %s", n, err);
		plan_free(&p);
	}
	/* outside RAM above 4 GiB */
	native(&b);
	ib_page(&b, LAYOUT_4G, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
	cr_assert_eq(both(&v, &p), -ERANGE);
	plan_free(&p);
	/* over the local APIC page */
	native(&b);
	ib_page(&b, LAYOUT_LAPIC, M_NATIVE, 0, 0, NULL);
	cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
	cr_assert_eq(both(&v, &p), -ERANGE);
	plan_free(&p);
	/* more than the firmware window outside RAM: 16 MiB fit, 18 do not */
	for (unsigned mib = 16; mib <= 18; mib += 2) {
		native(&b);
		for (unsigned i = 0; i < mib / 2; i++)
			ib_page(&b, 0x80000000ULL + i * (uint64_t)IGVM_PAGE_2M, M_NATIVE,
				IGVM_PAGE_F_2MB, 0, NULL);
		cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
		cr_assert_eq(both(&v, &p), mib == 16 ? 0 : -E2BIG, "%u MiB: %s", mib, err);
		plan_free(&p);
	}
	fake_vm_fini(&v);
}

Test(budget, raw_rom_and_host_sized_images_lay_out)
{
	struct fake_vm v;
	struct launch_plan p;
	uint8_t *fw = calloc(1, PLAN_FW_MAX);

	fake_vm_init(&v, 64 * MIB);
	for (size_t len = 0x10000; len <= PLAN_FW_MAX; len *= 16) {
		plan_init(&p, PLAN_PLAIN);
		cr_assert_eq(plan_build_plain(&p, fw, len, 1), 0);
		cr_assert_eq(both(&v, &p), 0, "%zu: %s", len, err);
		plan_free(&p);
	}
	free(fw);
	fake_vm_fini(&v);
}

Test(budget, zero_pages_in_ram_commit_no_memory)
{
	struct fake_vm v;
	struct launch_plan p;
	struct guestmem real;
	struct ib b;
	uint64_t before;

	fake_vm_init(&v, 256 * MIB);
	v.ram[0x300000] = 0x77;                /* a dirty page the image zeroes */
	native(&b);
	ib_page(&b, 0x200000, M_NATIVE, 0, 0, page_a);
	for (uint64_t gpa = 0x400000; gpa < 0x0E000000; gpa += IGVM_PAGE_2M)
		ib_page(&b, gpa, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	ib_page(&b, 0x201000, M_NATIVE, 0, 0, NULL);   /* 0x201000..0x3FFFFF */
	for (uint64_t gpa = 0x202000; gpa < 0x400000; gpa += 0x1000)
		ib_page(&b, gpa, M_NATIVE, 0, 0, NULL);
	ib_page(&b, 0xFFFFF000ULL, M_NATIVE, 0, 0, page_a);
	cr_assert_eq(plan_igvm(&p, &b, v.size), 0, "%s", err);
	cr_assert_eq(both(&v, &p), 0, "%s", err);
	before = rss_kib();
	cr_assert_eq(real_layout(&v, &p, &real), 0, "%s", err);
	/* 220 MiB of zero pages over RAM that reads zero: nothing written */
	cr_assert_lt(rss_kib(), before + 1024, "RSS %llu -> %llu KiB",
		     (unsigned long long)before, (unsigned long long)rss_kib());
	cr_assert_eq(v.ram[0x300000], 0);
	cr_assert_eq(memcmp(v.ram + 0x200000, page_a, sizeof(page_a)), 0);
	cr_assert_eq(memcmp(gm_ptr(&real, 0xFFFFF000ULL, 4096, GM_ROM), page_a, 4096), 0);
	plan_free(&p);
	fake_vm_fini(&v);
}

/* ---- the doorbell: statuses of the validation, the fallback ---- */

static int validate_ret;

static int fake_validate(void *opaque, uint64_t format, const uint8_t *img, size_t len,
			 char *why, size_t whylen)
{
	snprintf(why, whylen, "test");
	return validate_ret;
}

static struct doorbell *db_make(struct fake_vm *v, bool validate)
{
	struct doorbell_config dc = {
		.gm = &v->gm,
		.policy = { .enabled = true, .max_image_size = 16 * MIB, .max_opaque_size = 4096 },
		.raw_rom = true,
		.validate = validate ? fake_validate : NULL,
	};
	struct doorbell *db = doorbell_create(&dc);

	cr_assert_not_null(db);
	return db;
}

static unsigned db_write(struct doorbell *db, uint64_t addr, uint64_t size)
{
	uint8_t *buf = doorbell_buffer(db);

	doorbell_fwcfg_select(db);
	le_wr64(buf + DOORBELL_OFF_CONTROL, DOORBELL_FORMAT_RAW_ROM);
	le_wr64(buf + DOORBELL_OFF_IMAGE_ADDR, addr);
	le_wr64(buf + DOORBELL_OFF_IMAGE_SIZE, size);
	le_wr64(buf + DOORBELL_OFF_OPAQUE_ADDR, 0);
	le_wr64(buf + DOORBELL_OFF_OPAQUE_SIZE, 0);
	doorbell_fwcfg_write(db, 0, DOORBELL_STRUCT_SIZE);
	return le_rd16(buf + DOORBELL_OFF_STATUS);
}

Test(budget, validation_errors_give_their_status)
{
	static const struct { int ret; unsigned status; } t[] = {
		{ 0, DOORBELL_SUCCESS }, { -ERANGE, DOORBELL_BAD_RANGE },
		{ -E2BIG, DOORBELL_TOO_LARGE }, { -ENOMEM, DOORBELL_LOAD_FAIL },
		{ -EINVAL, DOORBELL_MALFORMED }, { -ENOTSUP, DOORBELL_MALFORMED },
	};
	struct fake_vm v;

	fake_vm_init(&v, 64 * MIB);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct doorbell *db = db_make(&v, true);

		validate_ret = t[i].ret;
		cr_assert_eq(db_write(db, 0x200000, 0x10000), t[i].status, "validate %d", t[i].ret);
		doorbell_destroy(db);
	}
	fake_vm_fini(&v);
}

Test(budget, an_image_that_fails_to_build_falls_back_with_load_fail)
{
	struct fake_vm v;
	struct swap_choice ch;
	const struct doorbell_image *img = NULL;
	struct doorbell *db;

	fake_vm_init(&v, 64 * MIB);
	db = db_make(&v, false);
	cr_assert_eq(db_write(db, 0x200000, 0x10000), DOORBELL_SUCCESS);
	cr_assert_eq(doorbell_take_pending(db, &img), DOORBELL_FW_GUEST);
	cr_assert_not_null(img);
	memset(&ch, 0, sizeof(ch));
	ch.fw = img->data;
	ch.len = img->len;
	ch.format = img->format;
	ch.guest = true;
	swap_failed(&v.swap, db, &ch, "build", -ENOMEM, NULL);
	cr_assert_eq(le_rd16(doorbell_buffer(db) + DOORBELL_OFF_STATUS), DOORBELL_LOAD_FAIL);
	/* the next reset builds the host firmware */
	cr_assert_eq(doorbell_take_pending(db, &img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img);
	doorbell_destroy(db);
	fake_vm_fini(&v);
}
