/* tests/unit/test_config_serial.c: the [serial] table of guest.toml
 * (vmm/config/config.c): output and max_size, their errors, and the
 * error paths of config_parse leaving nothing allocated (the sanitized
 * build runs LeakSanitizer over these).  Owns: only these tests. */
#include <criterion/criterion.h>
#include <string.h>

#include "vmm/config/config.h"

static char err[512];

#define FW "[firmware]\npath = \"fw.rom\"\n"

static int parse(const char *doc, struct vm_config *cfg)
{
	return config_parse(doc, strlen(doc), "t.toml", "/cfgdir", false, cfg, err, sizeof(err));
}

static void expect_err(const char *doc, const char *want)
{
	static const struct vm_config zero;
	struct vm_config cfg;

	cr_assert_neq(parse(doc, &cfg), 0, "accepted: %s", doc);
	cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
	cr_assert_null(strchr(err, '\n'), "error has a newline: '%s'", err);
	cr_assert_eq(memcmp(&cfg, &zero, sizeof(cfg)), 0, "a failed parse left fields set");
}

Test(config_serial, max_size_with_a_file)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW "[serial]\noutput = \"file:out.log\"\nmax_size = \"64K\"\n", &cfg), 0,
		     "%s", err);
	cr_assert_eq(cfg.serial, SERIAL_FILE);
	cr_assert_str_eq(cfg.serial_path, "/cfgdir/out.log");
	cr_assert_eq(cfg.serial_max_size, 64 * 1024);
	config_free(&cfg);

	cr_assert_eq(parse(FW "[serial]\nmax_size = 1000\noutput = \"file:/var/o\"\n", &cfg), 0,
		     "%s", err);
	cr_assert_eq(cfg.serial_max_size, 1000, "key order does not matter");
	config_free(&cfg);

	cr_assert_eq(parse(FW "[serial]\noutput = \"file:o\"\nmax_size = \"2MiB\"\n", &cfg), 0,
		     "%s", err);
	cr_assert_eq(cfg.serial_max_size, 2u << 20);
	config_free(&cfg);
}

Test(config_serial, default_is_unlimited)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW "[serial]\noutput = \"file:o\"\n", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.serial_max_size, 0);
	config_free(&cfg);
	cr_assert_eq(parse(FW, &cfg), 0, "%s", err);
	cr_assert_eq(cfg.serial, SERIAL_STDOUT);
	cr_assert_eq(cfg.serial_max_size, 0);
	config_free(&cfg);
}

Test(config_serial, max_size_errors)
{
	expect_err(FW "[serial]\nmax_size = \"1M\"\n",
		   "t.toml:4:12: key 'serial.max_size': only with output = \"file:PATH\"");
	expect_err(FW "[serial]\noutput = \"stdout\"\nmax_size = 10\n",
		   "t.toml:5:12: key 'serial.max_size': only with output = \"file:PATH\"");
	expect_err(FW "[serial]\noutput = \"none\"\nmax_size = 10\n", "only with output");
	expect_err(FW "[serial]\noutput = \"file:o\"\nmax_size = 0\n",
		   "t.toml:5:12: key 'serial.max_size': must be at least 1 byte");
	expect_err(FW "[serial]\noutput = \"file:o\"\nmax_size = -5\n",
		   "key 'serial.max_size': size must not be negative");
	expect_err(FW "[serial]\noutput = \"file:o\"\nmax_size = \"lots\"\n",
		   "key 'serial.max_size': 'lots' is not a size");
	expect_err(FW "[serial]\noutput = \"file:o\"\nmax_size = true\n",
		   "key 'serial.max_size': expected a size");
	expect_err(FW "[serial]\noutput = \"file:o\"\nmax_sise = 5\n",
		   "unknown key 'serial.max_sise'");
	expect_err(FW "[serial]\noutput = \"fil:o\"\n", "key 'serial.output'");
}

/* Every way of failing, after earlier tables allocated strings: the
 * sanitized build's LeakSanitizer reports anything left behind. */
Test(config_serial, failures_free_everything)
{
	static const char *const bad[] = {
		"[vm\n",                                          /* TOML syntax */
		"x = \"\\q\"\n",                                  /* TOML escape */
		"[vm]\nname = \"n\"\n[vm]\n",                     /* TOML redefinition */
		"[nope]\n",                                       /* unknown table */
		"[vm]\nname = \"n\"\n",                           /* no firmware */
		FW "[vm]\nname = \"n\"\nmemory = 3\n",
		FW "[serial]\noutput = \"file:o\"\nmax_size = 0\n",
		FW "[serial]\noutput = \"file:o\"\n[log]\nfile = 3\n",
		FW "[kernel]\npath = \"k\"\ncmdline = \"c\"\ninitrd = 4\n",
		FW "[kernel]\npath = \"k\"\ncmdline = \"c\"\n[smbios]\nproduct = \"p\"\nuuid = \"u\"\n",
		FW "[confidential]\ntype = \"sev-snp\"\nvcpu_type = \"EPYC\"\nid_block = \"b\"\n",
		FW "[api]\nsocket = \"s\"\nallowed_uids = [-1]\n",
		FW "[[disk]]\npath = \"a\"\nbootindex = 1\n[[disk]]\npath = \"b\"\nbootindex = 1\n",
		FW "[uki]\npath = \"u\"\n[[disk]]\nreadonly = true\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_err(bad[i], "t.toml:");
}
