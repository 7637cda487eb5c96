/* vmm/cli/uki.c: `fukivmm uki inspect|select|measure|extract`.  Owns argument
 * parsing and output only: UKI parsing and the firmware choice live in
 * loader/, the CHIDs of this VM come from vmm/cli/smbios.c, the plan from
 * launch_plan_from_config exactly as `run` builds it, the measurement from
 * launch_measure. */
#include "vmm/cli/uki.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "loader/chid.h"
#include "loader/plan.h"
#include "loader/smbios.h"
#include "loader/uki.h"
#include "vmm/base/digest.h"
#include "vmm/base/exitcode.h"
#include "vmm/base/fileio.h"
#include "vmm/base/hex.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/json.h"
#include "vmm/cli/smbios.h"
#include "vmm/config/config.h"
#include "vmm/launch/launch.h"

#define UKI_FILE_MAX (4ULL << 30)

static int sha384_hex(const uint8_t *p, size_t n, char out[2 * DIGEST_SHA384_LEN + 1])
{
	uint8_t md[DIGEST_SHA384_LEN];

	if (digest_sha384(p, n, md))
		return -EIO;
	hex_encode(out, md, sizeof(md));
	return 0;
}

static const char uki_usage[] =
	"usage: fukivmm uki inspect UKI [--json]\n"
	"       fukivmm uki select UKI GUEST.toml [--json]\n"
	"       fukivmm uki measure UKI GUEST.toml [--json]\n"
	"       fukivmm uki extract UKI --fwid ID -o FILE\n"
	"  select: the .efifw firmware systemd-stub picks on this VM (CHIDs of the\n"
	"  SMBIOS tables fukivmm presents for GUEST.toml); measure: its launch\n"
	"  measurement under the config's platform.  Exit 1: no firmware matches.\n";

static const char *hwid_type_name(uint32_t t)
{
	return t == UKI_HWID_TYPE_UEFI_FW ? "uefi-fw" : t == UKI_HWID_TYPE_DEVICETREE ? "devicetree" : "?";
}

static void inspect_text(const char *path, const struct uki *u)
{
	char h[97], id[37];

	printf("%s: %zu bytes, %s, machine 0x%04x, %u sections, %u profiles\n", path, u->len,
	       u->opt_magic == UKI_OPT_MAGIC_PE32P ? "PE32+" : "PE32", u->machine, u->nsec,
	       u->nprofiles);
	printf("Sections:\n  %-3s %-8s %10s %10s %10s %10s\n", "#", "name", "offset", "size",
	       "vaddr", "vsize");
	for (unsigned i = 0; i < u->nsec; i++) {
		const struct uki_section *s = &u->sec[i];

		printf("  %-3u ", i);
		cli_quote(stdout, s->name);
		printf("%*s %#10x %#10zx %#10x %#10x\n", (int)(8 - strlen(s->name)), "", s->raw_off,
		       s->size, s->vaddr, s->vsize);
	}
	printf("Firmware (.efifw): %u\n", u->nfw);
	for (unsigned i = 0; i < u->nfw; i++) {
		const struct uki_efifw *f = &u->fw[i];

		printf("  [%u] section %u: ", i, f->section);
		if (!f->valid) {
			printf("INVALID (%s): systemd-stub skips it\n", f->why);
			continue;
		}
		if (sha384_hex(f->payload, f->payload_len, h))
			strcpy(h, "?");
		printf("fwid ");
		cli_quote(stdout, f->fwid);
		printf(" size %u sha384 %s", f->payload_len, h);
		if (f->has_chid) {
			chid_format(&f->chid, id);
			printf(" capsule-chid {%s}", id);
		}
		fputc('\n', stdout);
	}
	if (u->known[UKI_HWIDS] < 0) {
		printf("Hardware IDs (.hwids): none\n");
		return;
	}
	printf("Hardware IDs (.hwids): %u records%s%s%s\n", u->nhw, u->hwids_err ? ", REJECTED by systemd-stub (" : "",
	       u->hwids_err ? u->hwids_why : "", u->hwids_err ? ")" : "");
	for (unsigned i = 0; i < u->nhw; i++) {
		const struct uki_hwid *w = &u->hw[i];

		chid_format(&w->chid, id);
		printf("  [%u] %-10s {%s} name ", i, hwid_type_name(w->type), id);
		cli_quote(stdout, w->name);
		printf(" %s ", w->type == UKI_HWID_TYPE_UEFI_FW ? "fwid" : "compatible");
		cli_quote(stdout, w->str);
		if (w->type == UKI_HWID_TYPE_UEFI_FW) {
			int f = uki_find_fwid(u, w->str);

			if (f >= 0)
				printf(" -> .efifw [%d]", f);
			else
				printf(" -> no .efifw with this fwid");
		}
		fputc('\n', stdout);
	}
}

static void inspect_json(const char *path, const struct uki *u)
{
	char h[97], id[37];
	struct json j;

	json_init(&j, stdout, CLI_JSON_FLAGS);
	json_map_begin(&j, false);
	json_key(&j, "file");
	json_str(&j, path);
	json_key(&j, "size");
	json_uint(&j, u->len);
	json_key(&j, "format");
	json_str(&j, u->opt_magic == UKI_OPT_MAGIC_PE32P ? "PE32+" : "PE32");
	json_key(&j, "machine");
	json_uint(&j, u->machine);
	json_key(&j, "profiles");
	json_uint(&j, u->nprofiles);
	json_key(&j, "sections");
	json_array_begin(&j, false);
	for (unsigned i = 0; i < u->nsec; i++) {
		const struct uki_section *s = &u->sec[i];

		json_map_begin(&j, true);
		json_key(&j, "name");
		json_str(&j, s->name);
		json_key(&j, "offset");
		json_uint(&j, s->raw_off);
		json_key(&j, "size");
		json_uint(&j, s->size);
		json_key(&j, "vaddr");
		json_uint(&j, s->vaddr);
		json_key(&j, "vsize");
		json_uint(&j, s->vsize);
		json_map_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "efifw");
	json_array_begin(&j, false);
	for (unsigned i = 0; i < u->nfw; i++) {
		const struct uki_efifw *f = &u->fw[i];

		json_map_begin(&j, true);
		json_key(&j, "section");
		json_uint(&j, f->section);
		json_key(&j, "valid");
		json_bool(&j, f->valid);
		if (!f->valid) {
			json_key(&j, "error");
			json_str(&j, f->why);
		} else {
			if (sha384_hex(f->payload, f->payload_len, h))
				strcpy(h, "");
			json_key(&j, "fwid");
			json_str(&j, f->fwid);
			json_key(&j, "size");
			json_uint(&j, f->payload_len);
			json_key(&j, "sha384");
			json_str(&j, h);
			json_key(&j, "header_len");
			json_uint(&j, f->header_len);
			if (f->has_chid) {
				chid_format(&f->chid, id);
				json_key(&j, "capsule_chid");
				json_str(&j, id);
			}
		}
		json_map_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "hwids");
	if (u->known[UKI_HWIDS] < 0) {
		json_null(&j);
	} else {
		json_map_begin(&j, true);
		json_key(&j, "valid");
		json_bool(&j, !u->hwids_err);
		if (u->hwids_err) {
			json_key(&j, "error");
			json_str(&j, u->hwids_why);
		}
		json_key(&j, "records");
		json_array_begin(&j, false);
		for (unsigned i = 0; i < u->nhw; i++) {
			const struct uki_hwid *w = &u->hw[i];

			chid_format(&w->chid, id);
			json_map_begin(&j, true);
			json_key(&j, "type");
			json_str(&j, hwid_type_name(w->type));
			json_key(&j, "chid");
			json_str(&j, id);
			json_key(&j, "name");
			json_str(&j, w->name);
			json_key(&j, w->type == UKI_HWID_TYPE_UEFI_FW ? "fwid" : "compatible");
			json_str(&j, w->str);
			json_map_end(&j);
		}
		json_array_end(&j);
		json_map_end(&j);
	}
	json_map_end(&j);
	fputc('\n', stdout);
}

struct uki_args {
	const char *sub, *uki, *config, *fwid, *out;
	bool json;
};

static int parse_uki_args(int argc, char **argv, struct uki_args *a)
{
	static const struct option opts[] = {
		{ "fwid", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, want;

	memset(a, 0, sizeof(*a));
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(uki_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? FUKI_EXIT_USAGE : -1;
	}
	a->sub = argv[1];
	if (strcmp(a->sub, "inspect") && strcmp(a->sub, "select") && strcmp(a->sub, "measure") &&
	    strcmp(a->sub, "extract"))
		return cli_fail("uki", "unknown subcommand '%s' (expected inspect, select, measure or extract)",
				 a->sub);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->fwid = optarg; break;
		case 'o': a->out = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(uki_usage, stdout); return -1;
		default:
			return cli_fail("uki", "unknown or incomplete option '%s' (see --help)",
					 argv[optind - 1]);
		}
	}
	want = !strcmp(a->sub, "select") || !strcmp(a->sub, "measure") ? 2 : 1;
	if (argc - optind != want)
		return cli_fail("uki", "%s expects %s (see --help)", a->sub,
				 want == 2 ? "UKI GUEST.toml" : "one UKI");
	a->uki = argv[optind];
	a->config = want == 2 ? argv[optind + 1] : NULL;
	if (!strcmp(a->sub, "extract")) {
		if (!a->fwid || !a->out || a->json)
			return cli_fail("uki extract", "--fwid ID and -o FILE are required");
	} else if (a->fwid || a->out) {
		return cli_fail("uki", "--fwid and -o only apply to extract");
	}
	return 0;
}

/* The firmware this VM makes the stub pick.  0 chosen, FUKI_EXIT_NOMATCH, or
 * FUKI_EXIT_USAGE (message printed). */
static int choose(const struct uki_args *a, const struct uki *u, const struct vm_config *cfg,
		  struct chid_view *v, struct uki_choice *ch)
{
	struct smbios_blob b;
	int r;

	if (smbios_cli_tables("uki", cfg, &b))
		return FUKI_EXIT_USAGE;
	r = chid_view_build(b.tables, b.tables_len, v);
	smbios_blob_free(&b);
	if (r)
		return cli_fail("uki", "CHID computation failed");
	if (u->known[UKI_HWIDS] < 0)
		return cli_fail("uki %s", "%s: no .hwids section: systemd-stub cannot pick a firmware",
				 a->uki);
	r = uki_select(u, &v->set, ch);
	if (r < 0)
		return cli_fail("uki", "%s: .hwids rejected as systemd-stub would (%s)", a->uki,
				 u->hwids_why ? u->hwids_why : "invalid");
	if (r == 0) {
		if (ch->hwid < 0)
			fprintf(stderr, "fukivmm uki %s: no uefi-fw record of %s matches the CHIDs of %s "
				"(see `fukivmm smbios chids %s`)\n", a->sub, a->uki, a->config, a->config);
		else
			fprintf(stderr, "fukivmm uki %s: .hwids record %d (CHID type %u) names fwid \"%s\", "
				"but no valid .efifw section carries it\n", a->sub, ch->hwid, ch->chid_type,
				u->hw[ch->hwid].str ? u->hw[ch->hwid].str : "");
		return FUKI_EXIT_NOMATCH;
	}
	return 0;
}

static int run_measure(const struct uki_args *a, const struct uki *u, const struct vm_config *cfg,
		       const struct uki_efifw *f, struct launch_measurement *m)
{
	struct launch_plan p;
	char err[320];
	int ret;

	if (cfg->cc.type == CC_NONE)
		return cli_fail("uki measure", "%s: [confidential] type is none: a plain guest has no launch measurement",
				 cfg->path);
	plan_init(&p, PLAN_PLAIN);
	ret = launch_plan_from_config(&p, cfg, f->payload, f->payload_len, NULL, err, sizeof(err));
	if (ret) {
		plan_free(&p);
		return cli_fail("uki measure", "firmware \"%s\": %s", f->fwid, err);
	}
	ret = launch_measure(&p, NULL, m, err, sizeof(err));
	plan_free(&p);
	if (ret)
		return cli_fail("uki measure", "measurement failed (%s)", strerror(-ret));
	return 0;
}

int uki_cli_main(int argc, char **argv)
{
	struct uki_args a;
	struct file_map m = { NULL, 0 };
	struct uki u;
	struct vm_config cfg;
	struct chid_view v;
	struct uki_choice ch;
	char err[512], h[97], id[37], desc[256];
	struct launch_measurement lm;
	struct json j;
	int rc;

	rc = parse_uki_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? FUKI_EXIT_OK : rc;
	memset(&u, 0, sizeof(u));
	memset(&cfg, 0, sizeof(cfg));
	memset(&v, 0, sizeof(v));
	if (file_map(a.uki, UKI_FILE_MAX, &m, err, sizeof(err)))
		return cli_fail("uki", "%s", err);
	if (uki_parse(m.buf, m.len, &u, err, sizeof(err))) {
		rc = cli_fail("uki", "%s: %s", a.uki, err);
		goto out;
	}
	if (!strcmp(a.sub, "inspect")) {
		if (a.json)
			inspect_json(a.uki, &u);
		else
			inspect_text(a.uki, &u);
		rc = FUKI_EXIT_OK;
		goto out;
	}
	if (!strcmp(a.sub, "extract")) {
		int i = uki_find_fwid(&u, a.fwid);

		if (i < 0) {
			fprintf(stderr, "fukivmm uki extract: %s has no valid .efifw with fwid \"%s\"\n",
				a.uki, a.fwid);
			rc = FUKI_EXIT_NOMATCH;
			goto out;
		}
		if (file_write(a.out, u.fw[i].payload, u.fw[i].payload_len)) {
			rc = cli_fail("uki extract", "cannot write '%s': %s", a.out, strerror(errno));
			goto out;
		}
		rc = FUKI_EXIT_OK;
		goto out;
	}
	if (cli_config_load_unchecked(a.config, &cfg, err, sizeof(err))) {
		rc = cli_fail("uki", "%s", err);
		goto out;
	}
	rc = choose(&a, &u, &cfg, &v, &ch);
	if (rc)
		goto out;
	const struct uki_efifw *f = &u.fw[ch.efifw];
	const struct uki_hwid *w = &u.hw[ch.hwid];

	chid_format(&v.set.id[ch.chid_type], id);
	chid_type_describe(ch.chid_type, desc, sizeof(desc));
	if (sha384_hex(f->payload, f->payload_len, h)) {
		rc = cli_fail("uki", "SHA-384 failed");
		goto out;
	}
	if (!strcmp(a.sub, "measure")) {
		rc = run_measure(&a, &u, &cfg, f, &lm);
		if (rc)
			goto out;
		char mh[2 * LAUNCH_MEASUREMENT_LEN + 1];   /* h keeps the firmware's SHA-384 */

		hex_encode(mh, lm.value, sizeof(lm.value));
		if (!a.json) {
			printf("%s\n", mh);
			goto out;
		}
		json_init(&j, stdout, CLI_JSON_FLAGS);
		json_map_begin(&j, false);
		json_key(&j, "platform");
		json_str(&j, launch_platform_name(lm.platform));
		json_key(&j, "measurement");
		json_str(&j, mh);
		json_key(&j, "fwid");
		json_str(&j, f->fwid);
		json_key(&j, "firmware_sha384");
		json_str(&j, h);
		json_key(&j, "firmware_size");
		json_uint(&j, f->payload_len);
		json_key(&j, "chid_type");
		json_uint(&j, ch.chid_type);
		json_key(&j, "chid");
		json_str(&j, id);
		json_map_end(&j);
		fputc('\n', stdout);
		goto out;
	}
	/* select */
	if (a.json) {
		json_init(&j, stdout, CLI_JSON_FLAGS);
		json_map_begin(&j, false);
		json_key(&j, "fwid");
		json_str(&j, f->fwid);
		json_key(&j, "efifw");
		json_int(&j, ch.efifw);
		json_key(&j, "section");
		json_uint(&j, f->section);
		json_key(&j, "size");
		json_uint(&j, f->payload_len);
		json_key(&j, "sha384");
		json_str(&j, h);
		json_key(&j, "chid_type");
		json_uint(&j, ch.chid_type);
		json_key(&j, "chid");
		json_str(&j, id);
		json_key(&j, "chid_fields");
		json_str(&j, desc);
		json_key(&j, "hwids_record");
		json_int(&j, ch.hwid);
		json_key(&j, "name");
		json_str(&j, w->name);
		json_map_end(&j);
		fputc('\n', stdout);
	} else {
		printf("firmware: ");
		cli_quote(stdout, f->fwid);
		printf(" (.efifw [%d], section %u, %u bytes, sha384 %s)\n", ch.efifw, f->section,
		       f->payload_len, h);
		printf("because:  CHID type %u {%s} <- %s\n          matches .hwids record %d (name ",
		       ch.chid_type, id, desc, ch.hwid);
		cli_quote(stdout, w->name);
		printf(")\n");
	}
out:
	if (rc == 0 && fflush(stdout))
		rc = cli_fail("uki", "cannot write the output");
	chid_fields_free(&v.f);
	config_free(&cfg);
	uki_free(&u);
	file_unmap(&m);
	return rc;
}
