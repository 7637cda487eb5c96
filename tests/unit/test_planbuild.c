/* tests/unit/test_planbuild.c: vmm/launch/planbuild.c, the one function `run`, the
 * doorbell and `measure` use to turn a config and an image into a launch
 * plan: raw ROMs, IGVM files (detected by their magic), per platform. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "igvm_build.h"
#include "loader/igvm.h"
#include "snp/snp.h"
#include "vmm/config/config.h"
#include "vmm/launch/planbuild.h"

#define M_NATIVE 1u
#define M_SNP 2u

static char err[512];

static void cfg_from(const char *doc, struct vm_config *cfg)
{
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", "/d", false, cfg, err, sizeof(err)), 0,
		     "%s", err);
}

static uint8_t page_a[4096], page_b[4096];

/* A native IGVM: a page holding a reset vector at the top of 4 GiB and a
 * page of data in RAM at 1 MiB. */
static uint8_t *native_igvm(size_t *len)
{
	struct ib b;
	uint8_t *f;

	memset(page_a, 0xF4, sizeof(page_a));   /* hlt */
	memset(page_b, 0x5A, sizeof(page_b));
	ib_init(&b, 1);
	ib_platform(&b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
	ib_page(&b, 0xFFFFF000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_a);
	ib_page(&b, 0x100000, M_NATIVE, 0, IGVM_PAGE_NORMAL, page_b);
	f = ib_finish(&b, len);
	ib_free(&b);
	return f;
}

Test(planbuild, raw_rom_plain)
{
	struct vm_config cfg;
	struct launch_plan p;
	uint8_t *rom = calloc(1, 65536);

	cfg_from("[firmware]\npath = \"fw.rom\"\n", &cfg);
	cr_assert(!planbuild_is_igvm(rom, 65536));
	cr_assert_eq(planbuild_from_config(&p, &cfg, rom, 65536, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.platform, PLAN_PLAIN);
	cr_assert_eq(p.nregions, 2);
	cr_assert_eq(p.regions[0].gpa, 0x100000000ULL - 65536);
	cr_assert(p.regions[0].flags & PLAN_F_READONLY);
	cr_assert_eq(p.regions[1].gpa, 0x100000 - 65536);   /* the BIOS alias */
	cr_assert(p.regions[1].flags & PLAN_F_ALIAS);
	plan_free(&p);
	/* not whole pages: refused with a message */
	cr_assert_neq(planbuild_from_config(&p, &cfg, rom, 1000, NULL, err, sizeof(err)), 0);
	cr_assert(strstr(err, "multiple of 4 KiB"), "%s", err);
	plan_free(&p);
	free(rom);
	config_free(&cfg);
}

/* plan_borrow: the plan points at the caller's bytes (measure's file
 * mapping) instead of copying them; outside the range, or after it ends,
 * the firmware is copied as before */
Test(planbuild, borrowed_firmware_is_not_copied)
{
	struct vm_config cfg;
	struct launch_plan p;
	uint8_t *rom = aligned_alloc(4096, 65536), *other = aligned_alloc(4096, 65536);

	memset(rom, 0x11, 65536);
	memset(other, 0x22, 65536);
	cfg_from("[firmware]\npath = \"fw.rom\"\n", &cfg);
	plan_borrow(rom, 65536);
	cr_assert_eq(planbuild_from_config(&p, &cfg, rom, 65536, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.fw, rom, "borrowed: the plan's firmware is the caller's bytes");
	cr_assert_eq(p.regions[0].data, rom);
	plan_free(&p);
	cr_assert_eq(rom[0], 0x11, "plan_free left the borrowed bytes alone");
	/* bytes outside the borrowed range are copied */
	cr_assert_eq(planbuild_from_config(&p, &cfg, other, 65536, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_neq(p.fw, other);
	cr_assert_eq(p.fw[0], 0x22);
	plan_free(&p);
	plan_borrow(NULL, 0);
	cr_assert_eq(planbuild_from_config(&p, &cfg, rom, 65536, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_neq(p.fw, rom, "the borrow ended: copied again");
	cr_assert_eq(memcmp(p.fw, rom, 65536), 0);
	plan_free(&p);
	free(rom);
	free(other);
	config_free(&cfg);
}

Test(planbuild, igvm_native_detected_by_magic)
{
	struct vm_config cfg;
	struct launch_plan p;
	size_t len;
	uint8_t *f = native_igvm(&len);
	bool top = false, low = false;

	cfg_from("[firmware]\npath = \"fw.igvm\"\n", &cfg);
	cr_assert(planbuild_is_igvm(f, len));
	cr_assert_eq(planbuild_from_config(&p, &cfg, f, len, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.platform, PLAN_PLAIN);
	for (size_t i = 0; i < p.nregions; i++) {
		const struct plan_region *r = &p.regions[i];

		if (r->gpa == 0xFFFFF000 && r->data && r->data[0] == 0xF4)
			top = true;
		if (r->gpa == 0x100000 && r->data && r->data[100] == 0x5A)
			low = true;
	}
	cr_assert(top && low, "IGVM pages missing from the plan");
	plan_free(&p);
	free(f);
	config_free(&cfg);
}

Test(planbuild, igvm_truncated_is_an_error)
{
	struct vm_config cfg;
	struct launch_plan p;
	size_t len;
	uint8_t *f = native_igvm(&len);

	cfg_from("[firmware]\npath = \"fw.igvm\"\n", &cfg);
	cr_assert_neq(planbuild_from_config(&p, &cfg, f, len / 2, NULL, err, sizeof(err)), 0);
	cr_assert(err[0], "no message");
	plan_free(&p);
	free(f);
	config_free(&cfg);
}

/* An SNP IGVM: the file's policy is used, host data comes from the config,
 * and the plan measures (the digest the launcher will reproduce). */
Test(planbuild, igvm_snp_policy_and_host_data)
{
	struct vm_config cfg;
	struct launch_plan p;
	struct snp_digest_stages st;
	struct ib b;
	size_t len;
	uint8_t *f;

	memset(page_a, 0x90, sizeof(page_a));
	ib_init(&b, 1);
	ib_platform(&b, M_SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_policy(&b, 0x30000 | (1ULL << 19), M_SNP);   /* + DEBUG */
	ib_page(&b, 0xFFFFF000, M_SNP, 0, IGVM_PAGE_NORMAL, page_a);
	f = ib_finish(&b, &len);
	ib_free(&b);
	cfg_from("[firmware]\npath = \"fw.igvm\"\n[confidential]\ntype = \"sev-snp\"\n"
		 "vcpu_type = \"EPYC-v4\"\n"
		 "host_data = \"ab00000000000000000000000000000000000000000000000000000000000000\"\n",
		 &cfg);
	cr_assert_eq(planbuild_from_config(&p, &cfg, f, len, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.platform, PLAN_SNP);
	cr_assert_eq(p.snp.policy, 0x30000 | (1ULL << 19));
	cr_assert_eq(p.snp.host_data[0], 0xab);
	cr_assert_not_null(p.vmsa, "one VMSA per vCPU expected");
	cr_assert_eq(snp_measure_plan(&p, &st), 0);
	plan_free(&p);
	free(f);
	config_free(&cfg);
}
