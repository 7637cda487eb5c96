/* vmm/cli/measure.c: `fukivmm measure`, the launch digest / MRTD of the plan
 * a configuration stands for.  Owns argument parsing and output formats only:
 * the plan is built by launch_plan_from_config exactly as `run` builds it, and
 * measured by launch_measure (vmm/launch/launch.h). */
#include "vmm/cli/measure.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cbor.h>

#include "snp/snp.h"   /* vCPU names and signatures, SNP parameters, stage digests */
#include "vmm/api/proto.h"
#include "vmm/base/digest.h"
#include "vmm/base/exitcode.h"
#include "vmm/base/fileio.h"
#include "vmm/base/hex.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/json.h"
#include "vmm/config/config.h"
#include "vmm/launch/launch.h"

/* ---- the report: a CBOR tree, written as CBOR or JSON ---- */

static void map_hexu(cbor_item_t *m, const char *k, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	api_map_put_str(m, k, b);
}

static void map_hexb(cbor_item_t *m, const char *k, const uint8_t *b, size_t n)
{
	char s[2 * 64 + 1];

	hex_encode(s, b, n);
	api_map_put_str(m, k, s);
}

static int cbor_write(FILE *o, cbor_item_t *doc)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n = cbor_serialize_alloc(doc, &buf, &cap);
	int ret = n && fwrite(buf, 1, n, o) == n ? 0 : -EIO;

	free(buf);
	return ret;
}

/* ---- measure ---- */

static const char *snp_type_name(uint8_t t)
{
	static const char *const names[] = { "?", "NORMAL", "VMSA", "ZERO", "UNMEASURED",
					     "SECRETS", "CPUID" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static const char *vmm_name(enum snp_vmm_type t)
{
	return t == SNP_VMM_EC2 ? "ec2" : t == SNP_VMM_GCE ? "gce" : "qemu";
}

static void add_file(cbor_item_t *inputs, const char *key, const char *path)
{
	cbor_item_t *m;
	uint8_t md[DIGEST_SHA384_LEN];
	char h[2 * DIGEST_SHA384_LEN + 1];
	struct stat st;

	if (!path)
		return;
	m = cbor_new_definite_map(3);
	api_map_put_str(m, "path", path);
	if (!stat(path, &st))
		api_map_put_uint(m, "size", (uint64_t)st.st_size);
	if (!digest_file_sha384(path, md, NULL, 0))
		api_map_put_str(m, "sha384", hex_encode(h, md, sizeof(md)));
	api_map_put(inputs, key, m);
}

static const char measure_usage[] =
	"usage: fukivmm measure GUEST.toml [--json|--cbor]\n"
	"       fukivmm measure --platform snp --firmware OVMF.fd --vcpus N\n"
	"                       (--vcpu-type NAME | --vcpu-sig 0xSIG |\n"
	"                        --vcpu-family F --vcpu-model M --vcpu-stepping S)\n"
	"                       [--vmm-type qemu|ec2|gce] [--guest-features 0x1]\n"
	"                       [--kernel K [--initrd I] [--append CMDLINE]]\n"
	"                       [--ovmf-hash HEX] [--json|--cbor]\n"
	"       fukivmm measure --platform tdx --firmware OVMF.fd [--memory 2G] [--vcpus N]\n"
	"                       [--tdx-order single|two-pass] [--json|--cbor]\n";

enum { OPT_PLATFORM = 256, OPT_FIRMWARE, OPT_VCPUS, OPT_VCPU_TYPE, OPT_VCPU_SIG, OPT_VCPU_FAMILY,
       OPT_VCPU_MODEL, OPT_VCPU_STEPPING, OPT_VMM_TYPE, OPT_GUEST_FEATURES, OPT_POLICY, OPT_KERNEL,
       OPT_INITRD, OPT_APPEND, OPT_OVMF_HASH, OPT_MEMORY, OPT_TDX_ORDER, OPT_JSON, OPT_CBOR, OPT_HELP };

static const struct option measure_opts[] = {
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "vcpu-type", required_argument, NULL, OPT_VCPU_TYPE },
	{ "vcpu-sig", required_argument, NULL, OPT_VCPU_SIG },
	{ "vcpu-family", required_argument, NULL, OPT_VCPU_FAMILY },
	{ "vcpu-model", required_argument, NULL, OPT_VCPU_MODEL },
	{ "vcpu-stepping", required_argument, NULL, OPT_VCPU_STEPPING },
	{ "vmm-type", required_argument, NULL, OPT_VMM_TYPE },
	{ "guest-features", required_argument, NULL, OPT_GUEST_FEATURES },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "ovmf-hash", required_argument, NULL, OPT_OVMF_HASH },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "tdx-order", required_argument, NULL, OPT_TDX_ORDER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "cbor", no_argument, NULL, OPT_CBOR },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct measure_args {
	const char *config;
	bool json, cbor;
	bool have_seed;
	uint8_t seed[48];
	int64_t fam, model, step;
	bool have_cc_flags;
};

static int parse_measure_args(int argc, char **argv, struct vm_config *cfg,
			      struct measure_args *a)
{
	const char *platform = NULL;
	uint64_t v;
	int c;

	a->fam = a->model = a->step = -1;
	cfg->vcpus = 1;
	cfg->memory = 2ULL << 30;
	cfg->cc.guest_features = 0x1;
	cfg->cc.policy = 0x30000;
	cfg->cc.vmm_type = SNP_VMM_QEMU;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", measure_opts, NULL)) != -1) {
		if (c != OPT_JSON && c != OPT_CBOR && c != OPT_HELP && c != 'h')
			a->have_cc_flags = true;
		switch (c) {
		case OPT_PLATFORM: platform = optarg; break;
		case OPT_FIRMWARE: cfg->firmware_path = optarg; break;
		case OPT_VCPUS:
			if (cli_parse_u64(optarg, &v) || v < 1 || v > CFG_MAX_VCPUS)
				return cli_fail("measure", "--vcpus '%s': must be 1..%d", optarg,
						 CFG_MAX_VCPUS);
			cfg->vcpus = (unsigned)v;
			break;
		case OPT_VCPU_TYPE: {
			uint32_t sig;

			if (snp_vcpu_sig_from_name(optarg, &sig)) {
				char list[512] = "";

				for (size_t i = 0; snp_vcpu_name(i); i++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list),
						 "%s%s", i ? ", " : "", snp_vcpu_name(i));
				return cli_fail("measure", "--vcpu-type '%s': unknown (known: %s)",
						 optarg, list);
			}
			cfg->cc.vcpu_type = optarg;
			break;
		}
		case OPT_VCPU_SIG:
			if (cli_parse_u64(optarg, &v) || v > UINT32_MAX)
				return cli_fail("measure", "--vcpu-sig '%s': not a 32-bit number", optarg);
			cfg->cc.vcpu_sig = (uint32_t)v;
			cfg->cc.vcpu_sig_set = true;
			break;
		case OPT_VCPU_FAMILY: case OPT_VCPU_MODEL: case OPT_VCPU_STEPPING:
			if (cli_parse_u64(optarg, &v) || v > 0xff + 0xf)
				return cli_fail("measure", "%s '%s': not a small number",
						 c == OPT_VCPU_FAMILY ? "--vcpu-family" :
						 c == OPT_VCPU_MODEL ? "--vcpu-model" : "--vcpu-stepping",
						 optarg);
			*(c == OPT_VCPU_FAMILY ? &a->fam : c == OPT_VCPU_MODEL ? &a->model : &a->step) =
				(int64_t)v;
			break;
		case OPT_VMM_TYPE:
			if (!strcasecmp(optarg, "qemu"))
				cfg->cc.vmm_type = SNP_VMM_QEMU;
			else if (!strcasecmp(optarg, "ec2"))
				cfg->cc.vmm_type = SNP_VMM_EC2;
			else if (!strcasecmp(optarg, "gce"))
				cfg->cc.vmm_type = SNP_VMM_GCE;
			else
				return cli_fail("measure", "--vmm-type '%s': not qemu, ec2 or gce", optarg);
			break;
		case OPT_GUEST_FEATURES:
			if (cli_parse_u64(optarg, &cfg->cc.guest_features))
				return cli_fail("measure", "--guest-features '%s': not a number", optarg);
			break;
		case OPT_POLICY:
			if (cli_parse_u64(optarg, &cfg->cc.policy))
				return cli_fail("measure", "--policy '%s': not a number", optarg);
			break;
		case OPT_KERNEL: cfg->kernel_path = optarg; break;
		case OPT_INITRD: cfg->initrd_path = optarg; break;
		case OPT_APPEND: cfg->cmdline = optarg; break;
		case OPT_OVMF_HASH:
			if (cli_unhex(optarg, a->seed, 48))
				return cli_fail("measure", "--ovmf-hash: expected 96 hex digits");
			a->have_seed = true;
			break;
		case OPT_MEMORY:
			if (config_parse_size(optarg, &cfg->memory) || cfg->memory < CFG_MIN_MEMORY ||
			    cfg->memory > CFG_MAX_MEMORY || cfg->memory % 4096)
				return cli_fail("measure", "--memory '%s': not a size between 2M and 1T",
						 optarg);
			break;
		case OPT_TDX_ORDER:
			if (!strcmp(optarg, "single"))
				cfg->cc.tdx_two_pass = false;
			else if (!strcmp(optarg, "two-pass"))
				cfg->cc.tdx_two_pass = true;
			else
				return cli_fail("measure", "--tdx-order '%s': not single or two-pass",
						 optarg);
			break;
		case OPT_JSON: a->json = true; break;
		case OPT_CBOR: a->cbor = true; break;
		case OPT_HELP: case 'h':
			fputs(measure_usage, stdout);
			return -1;
		default:
			return cli_fail("measure", "unknown or incomplete option '%s' (see --help)",
					 argv[optind - 1]);
		}
	}
	if (a->json && a->cbor)
		return cli_fail("measure", "--json and --cbor exclude each other");
	if (optind < argc) {
		if (optind + 1 < argc)
			return cli_fail("measure", "one configuration file expected, got '%s' too",
					 argv[optind + 1]);
		if (a->have_cc_flags)
			return cli_fail("measure", "give a configuration file or --platform options, not both");
		a->config = argv[optind];
		return 0;
	}
	if (!platform)
		return cli_fail("measure", "a configuration file or --platform snp|tdx is required");
	if (!strcmp(platform, "snp") || !strcmp(platform, "sev-snp"))
		cfg->cc.type = CC_SNP;
	else if (!strcmp(platform, "tdx"))
		cfg->cc.type = CC_TDX;
	else
		return cli_fail("measure", "--platform '%s': not snp or tdx", platform);
	if (!cfg->firmware_path)
		return cli_fail("measure", "--firmware is required");
	if ((cfg->initrd_path || cfg->cmdline) && !cfg->kernel_path)
		return cli_fail("measure", "--initrd and --append need --kernel");
	if (a->fam >= 0 || a->model >= 0 || a->step >= 0) {
		if (a->fam < 0 || a->model < 0 || a->step < 0 || cfg->cc.vcpu_type ||
		    cfg->cc.vcpu_sig_set)
			return cli_fail("measure",
					 "give --vcpu-type, --vcpu-sig, or all of --vcpu-family/--vcpu-model/--vcpu-stepping");
		cfg->cc.vcpu_sig = snp_vcpu_sig((unsigned)a->fam, (unsigned)a->model,
						(unsigned)a->step);
		cfg->cc.vcpu_sig_set = true;
	} else if (cfg->cc.vcpu_type && cfg->cc.vcpu_sig_set) {
		return cli_fail("measure", "--vcpu-type and --vcpu-sig exclude each other");
	}
	if (a->have_seed && cfg->cc.type != CC_SNP)
		return cli_fail("measure", "--ovmf-hash only applies to --platform snp");
	return 0;
}

static void add_plan(cbor_item_t *doc, const struct launch_plan *p)
{
	cbor_item_t *plan = cbor_new_definite_map(3);
	cbor_item_t *regs = cbor_new_definite_array(p->nregions);

	for (size_t i = 0; i < p->nregions; i++) {
		const struct plan_region *r = &p->regions[i];
		cbor_item_t *m = cbor_new_definite_map(5);

		api_map_put_str(m, "what", r->what);
		map_hexu(m, "gpa", r->gpa);
		map_hexu(m, "size", r->size);
		if (p->platform == PLAN_SNP) {
			api_map_put_str(m, "type", snp_type_name(r->snp_type));
		} else {
			api_map_put_uint(m, "tdvf_type", r->tdx_type);
			api_map_put_bool(m, "measured", !!(r->flags & PLAN_F_MEASURE));
			api_map_put_bool(m, "page_aug", !!(r->flags & PLAN_F_PAGE_AUG));
		}
		(void)cbor_array_push(regs, cbor_move(m));
	}
	api_map_put_uint(plan, "nregions", p->nregions);
	api_map_put(plan, "regions", regs);
	if (p->platform == PLAN_SNP)
		api_map_put_uint(plan, "vmsas", p->nvcpus);
	api_map_put(doc, "plan", plan);
}

static int run_measure(struct vm_config *cfg, const struct measure_args *a)
{
	struct file_map fwm = { NULL, 0 };
	struct launch_plan p;
	struct snp_params sp;
	struct planbuild_kernel_hashes kh, *khp = NULL;
	struct launch_measurement lm;
	char err[320], hx[2 * LAUNCH_MEASUREMENT_LEN + 1];
	int ret, rc = FUKI_EXIT_USAGE;
	cbor_item_t *doc = NULL;

	plan_init(&p, PLAN_PLAIN);
	if (cfg->cc.type == CC_NONE)
		return cli_fail("measure", "%s: [confidential] type is none: a plain guest has no launch measurement",
				 cfg->path ? cfg->path : "configuration");
	if (!cfg->firmware_path)
		return cli_fail("measure", "no firmware given");
	if (file_map(cfg->firmware_path, CFG_FW_MAX, &fwm, err, sizeof(err)))
		return cli_fail("measure", "firmware: %s", err);
	/* the kernel and initrd are read and hashed once, for the plan and
	 * for the report */
	if (cfg->kernel_path && cfg->cc.type == CC_SNP) {
		if (planbuild_kernel_hashes(cfg, &kh, err, sizeof(err))) {
			rc = cli_fail("measure", "%s", err);
			goto out;
		}
		khp = &kh;
	}
	/* the mapped file outlives the plan: measured in place, not copied */
	plan_borrow(fwm.buf, fwm.len);
	ret = launch_plan_from_config(&p, cfg, fwm.buf, fwm.len, khp, err, sizeof(err));
	plan_borrow(NULL, 0);
	if (ret) {
		rc = cli_fail("measure", "%s", err);
		goto out;
	}
	ret = launch_measure(&p, a->have_seed ? a->seed : NULL, &lm, err, sizeof(err));
	if (ret) {
		rc = cli_fail("measure", "measurement failed (%s)", strerror(-ret));
		goto out;
	}
	hex_encode(hx, lm.value, sizeof(lm.value));
	if (!a->json && !a->cbor) {
		printf("%s\n", hx);
		rc = FUKI_EXIT_OK;
		goto out;
	}

	doc = cbor_new_definite_map(7);
	cbor_item_t *inputs = cbor_new_definite_map(5);
	cbor_item_t *params = cbor_new_definite_map(12);
	cbor_item_t *dig = cbor_new_definite_map(3);

	api_map_put_str(doc, "platform", launch_platform_name(p.platform));
	api_map_put_str(doc, "measurement", hx);
	if (cfg->path)
		api_map_put_str(inputs, "config", cfg->path);
	add_file(inputs, "firmware", cfg->firmware_path);
	add_file(inputs, "kernel", cfg->kernel_path);
	add_file(inputs, "initrd", cfg->initrd_path);
	if (cfg->kernel_path)
		api_map_put_str(inputs, "cmdline", cfg->cmdline ? cfg->cmdline : "");
	api_map_put(doc, "inputs", inputs);
	api_map_put_uint(params, "vcpus", cfg->vcpus);
	if (cfg->cc.type == CC_SNP) {
		if (planbuild_snp_params(cfg, khp, &sp, err, sizeof(err))) {
			cbor_decref(&params);
			cbor_decref(&dig);
			rc = cli_fail("measure", "%s", err);
			goto out;
		}
		if (cfg->cc.vcpu_type)
			api_map_put_str(params, "vcpu_type", cfg->cc.vcpu_type);
		map_hexu(params, "vcpu_sig", sp.vcpu_sig);
		api_map_put_str(params, "vmm_type", vmm_name(sp.vmm_type));
		map_hexu(params, "guest_features", sp.sev_features);
		map_hexu(params, "policy", sp.policy);
		map_hexu(params, "ap_reset_eip", p.snp.ap_reset_eip);
		api_map_put_bool(params, "kernel_hashes", sp.kernel_hashes);
		if (sp.kernel_hashes) {
			map_hexb(params, "kernel_sha256", sp.kernel_sha256, 32);
			map_hexb(params, "initrd_sha256", sp.initrd_sha256, 32);
			map_hexb(params, "cmdline_sha256", sp.cmdline_sha256, 32);
		}
		api_map_put_bool(params, "ovmf_hash_seeded", a->have_seed);
		map_hexb(dig, "firmware", lm.snp_firmware, 48);
		map_hexb(dig, "metadata", lm.snp_metadata, 48);
		map_hexb(dig, "final", lm.value, 48);
	} else {
		api_map_put_uint(params, "memory", cfg->memory);
		api_map_put_str(params, "mrtd_order", cfg->cc.tdx_two_pass ? "two-pass" : "single");
		map_hexb(dig, "mrtd", lm.value, 48);
	}
	api_map_put(doc, "parameters", params);
	api_map_put(doc, "digests", dig);
	add_plan(doc, &p);
	if (a->cbor) {
		rc = cbor_write(stdout, doc) ? cli_fail("measure", "cannot write CBOR") : FUKI_EXIT_OK;
	} else {
		json_print_cbor(stdout, doc, JSON_PRETTY);
		fputc('\n', stdout);
		rc = FUKI_EXIT_OK;
	}
out:
	if (doc)
		cbor_decref(&doc);
	plan_free(&p);
	file_unmap(&fwm);
	if (fflush(stdout) && rc == 0)
		rc = cli_fail("measure", "cannot write the output");
	return rc;
}

int measure_main(int argc, char **argv)
{
	struct vm_config cfg;
	struct measure_args a;
	char err[512];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&a, 0, sizeof(a));
	rc = parse_measure_args(argc, argv, &cfg, &a);
	if (rc)
		return rc < 0 ? FUKI_EXIT_OK : rc;
	if (!a.config)
		return run_measure(&cfg, &a);

	memset(&cfg, 0, sizeof(cfg));
	if (config_load(a.config, &cfg, err, sizeof(err)))
		return cli_fail("measure", "%s", err);
	rc = run_measure(&cfg, &a);
	config_free(&cfg);
	return rc;
}
