/* vmm/cli/smbios.c: `fukivmm smbios dump|chids`, the SMBIOS tables fukivmm
 * presents for a configuration and the CHIDs systemd-stub computes from
 * them.  Owns argument parsing and output only: tables come from
 * loader/smbios.c, CHIDs from loader/chid.c. */
#include "vmm/cli/smbios.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/exitcode.h"
#include "vmm/base/fileio.h"
#include "vmm/base/log.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/json.h"

#define DMI_FILE_MAX (1ULL << 20)

int smbios_cli_tables(const char *cmd, const struct vm_config *cfg, struct smbios_blob *b)
{
	if (smbios_build(&cfg->smbios, cfg->memory, cfg->vcpus, b))
		return cli_fail(cmd, "%s: cannot build the SMBIOS tables", cfg->path);
	return 0;
}

int chid_view_build(const uint8_t *tab, size_t len, struct chid_view *v)
{
	struct chid_fields fe;
	int r;

	memset(v, 0, sizeof(*v));
	if (smbios_info_parse(tab, len, &v->info))
		log_warn("smbios: the structure table is malformed; using the fields found before the error");
	if (chid_fields_from_smbios(&v->info, false, &v->f) || chid_compute_all(&v->f, &v->set))
		return -EIO;
	if (chid_fields_from_smbios(&v->info, true, &fe))
		return -EIO;
	r = chid_compute(&fe, chid_type_mask(12), &v->t12);
	chid_fields_free(&fe);
	if (r < 0)
		return -EIO;
	v->t12_valid = r == 1;
	return 0;
}

static const char smbios_usage[] =
	"usage: fukivmm smbios dump GUEST.toml [-o DMI] [--anchor FILE]\n"
	"       fukivmm smbios chids (GUEST.toml | --dmi DMI) [--json]\n"
	"  dump writes the structure table (the /sys/firmware/dmi/tables/DMI format)\n"
	"  the guest reads; chids prints the CHIDs systemd-stub computes from it.\n";

static void print_chids(const struct chid_view *v, bool json)
{
	static const struct { enum chid_field f; } order[] = {
		{ CHID_F_BIOS_VENDOR }, { CHID_F_BIOS_VERSION }, { CHID_F_BIOS_MAJOR },
		{ CHID_F_BIOS_MINOR }, { CHID_F_MANUFACTURER }, { CHID_F_FAMILY },
		{ CHID_F_PRODUCT_NAME }, { CHID_F_PRODUCT_SKU }, { CHID_F_BOARD_MANUFACTURER },
		{ CHID_F_BOARD_PRODUCT },
	};
	char desc[256], id[37];
	struct json j;

	json_init(&j, stdout, CLI_JSON_FLAGS);
	if (json) {
		json_map_begin(&j, false);
		json_key(&j, "fields");
		json_map_begin(&j, false);
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			json_key(&j, chid_field_name(order[i].f));
			if (v->f.f[order[i].f])
				json_str(&j, v->f.f[order[i].f]);
			else
				json_null(&j);
		}
		json_map_end(&j);
		json_key(&j, "chids");
		json_array_begin(&j, false);
	} else {
		printf("Computer Information (hashable strings, as systemd-stub trims them)\n");
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			printf("  %s: ", chid_field_name(order[i].f));
			if (v->f.f[order[i].f])
				cli_quote(stdout, v->f.f[order[i].f]);
			else
				fputs("(missing)", stdout);
			fputc('\n', stdout);
		}
		printf("Hardware IDs\n");
	}
	for (unsigned t = 0; t < CHID_TYPES; t++) {
		const struct chid *c = t == 12 ? &v->t12 : &v->set.id[t];
		bool valid = t == 12 ? v->t12_valid : v->set.valid[t];
		const char *note = t == 12 ? "systemd-stub does not compute type 12 (fwupd/Windows value shown)"
				 : t >= CHID_EXTRA_BASE ? "systemd extra: needs an EDID panel id, which a VM has none of"
				 : NULL;

		chid_type_describe(t, desc, sizeof(desc));
		chid_format(c, id);
		if (json) {
			json_map_begin(&j, true);
			json_key(&j, "type");
			json_uint(&j, t);
			json_key(&j, "chid");
			if (valid)
				json_str(&j, id);
			else
				json_null(&j);
			json_key(&j, "fields");
			json_str(&j, desc);
			json_key(&j, "used_by_stub");
			json_bool(&j, t != 12 && valid);
			if (note) {
				json_key(&j, "note");
				json_str(&j, note);
			}
			json_map_end(&j);
		} else {
			printf("  %2u {%s}   <- %s%s%s%s\n", t, valid ? id : "not available", desc,
			       note ? "  [" : "", note ? note : "", note ? "]" : "");
		}
	}
	if (json) {
		json_array_end(&j);
		json_map_end(&j);
		fputc('\n', stdout);
	}
}

int smbios_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "dmi", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *anchor = NULL, *dmi = NULL, *sub;
	bool json = false;
	struct vm_config cfg;
	struct smbios_blob b;
	struct file_map m = { NULL, 0 };
	struct chid_view v;
	char err[512];
	int c, rc = FUKI_EXIT_USAGE;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(smbios_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? FUKI_EXIT_USAGE : FUKI_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "dump") && strcmp(sub, "chids"))
		return cli_fail("smbios", "unknown subcommand '%s' (expected dump or chids)", sub);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'a': anchor = optarg; break;
		case 'd': dmi = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(smbios_usage, stdout); return FUKI_EXIT_OK;
		default:
			return cli_fail("smbios", "unknown or incomplete option '%s' (see --help)",
					 argv[optind - 1]);
		}
	}
	if (!strcmp(sub, "dump")) {
		if (dmi || json || optind + 1 != argc)
			return cli_fail("smbios dump", "expected one GUEST.toml [-o DMI] [--anchor FILE]");
	} else if ((dmi ? 0 : 1) != argc - optind || out || anchor) {
		return cli_fail("smbios chids", "expected GUEST.toml or --dmi FILE [--json]");
	}

	memset(&b, 0, sizeof(b));
	memset(&cfg, 0, sizeof(cfg));
	if (dmi) {
		if (file_map(dmi, DMI_FILE_MAX, &m, err, sizeof(err)))
			return cli_fail("smbios chids", "%s", err);
	} else {
		if (cli_config_load_unchecked(argv[optind], &cfg, err, sizeof(err)))
			return cli_fail(sub[0] == 'd' ? "smbios dump" : "smbios chids", "%s", err);
		if ((rc = smbios_cli_tables("smbios", &cfg, &b)))
			goto out;
		rc = FUKI_EXIT_USAGE;
	}
	if (!strcmp(sub, "dump")) {
		if (isatty(STDOUT_FILENO) && !out) {
			rc = cli_fail("smbios dump", "refusing to write binary tables to a terminal (use -o or a redirection)");
			goto out;
		}
		if (out ? file_write(out, b.tables, b.tables_len)
			: (fwrite(b.tables, 1, b.tables_len, stdout) != b.tables_len || fflush(stdout))) {
			rc = cli_fail("smbios dump", "cannot write the table to %s", out ? out : "stdout");
			goto out;
		}
		if (anchor && file_write(anchor, b.anchor, sizeof(b.anchor))) {
			rc = cli_fail("smbios dump", "cannot write '%s'", anchor);
			goto out;
		}
		rc = FUKI_EXIT_OK;
		goto out;
	}
	if (chid_view_build(dmi ? m.buf : b.tables, dmi ? m.len : b.tables_len, &v)) {
		rc = cli_fail("smbios chids", "CHID computation failed");
		goto out;
	}
	print_chids(&v, json);
	chid_fields_free(&v.f);
	rc = fflush(stdout) ? cli_fail("smbios chids", "cannot write the output") : FUKI_EXIT_OK;
out:
	file_unmap(&m);
	smbios_blob_free(&b);
	config_free(&cfg);
	return rc;
}
