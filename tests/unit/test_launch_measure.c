/* tests/unit/test_launch_measure.c: vmm/launch/measure.c, the one measuring
 * function.  The known vectors of test_snp.c and test_tdx.c (virtee/
 * sev-snp-measure, a real EPYC Milan report, td-shim's MRTD of Debian's
 * OVMF, a real TDX event log's TD HOB) are reached through the whole path
 * configuration -> planbuild_from_config -> launch_measure.  Vectors whose
 * firmware or fixture is absent (Debian package ovmf, ../shared/testdata)
 * are skipped with a message. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "loader/ovmf.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "vmm/base/hex.h"
#include "vmm/config/config.h"
#include "vmm/launch/launch.h"

#define OVMF_FD "/usr/share/ovmf/OVMF.fd"
#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE.fd"
#define TESTDATA "../shared/testdata"
#define AMDSEV TESTDATA "/sev-snp-measure/ovmf_AmdSev_suffix.bin"
#define OVMFX64 TESTDATA "/sev-snp-measure/ovmf_OvmfX64_suffix.bin"
#define KERNEL TESTDATA "/synthetic/kernel.bin"
#define INITRD TESTDATA "/synthetic/initrd.bin"

static char err[512];

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

static bool readable(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void cfg_from(const char *doc, struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", ".", false, cfg, err, sizeof(err)), 0,
		     "%s\n%s", err, doc);
}

/* config text -> plan -> measurement, with the firmware read from @fw_path */
static void measure_config(const char *doc, const char *fw_path, const uint8_t *seed,
			   struct launch_measurement *m)
{
	struct vm_config cfg;
	struct launch_plan p;
	size_t len;
	uint8_t *fw = slurp(fw_path, &len);

	cr_assert_not_null(fw, "%s", fw_path);
	cfg_from(doc, &cfg);
	cr_assert_eq(launch_plan_from_config(&p, &cfg, fw, len, NULL, err, sizeof(err)), 0,
		     "%s: %s", fw_path, err);
	cr_assert_eq(launch_measure(&p, seed, m, err, sizeof(err)), 0, "%s", err);
	plan_free(&p);
	config_free(&cfg);
	free(fw);
}

/* ---------------- SEV-SNP ---------------- */

struct snp_vec {
	const char *fw;
	unsigned vcpus;
	const char *confidential;   /* extra [confidential] lines */
	int kernel;                 /* 0 none, 1 kernel, 2 kernel+initrd, 3 empty both */
	const char *cmdline;
	const char *seed;
	const char *expect;
};

/* The sev-snp-measure vectors of test_snp.c (the command behind each is
 * written there), as configurations. */
static const struct snp_vec snp_vecs[] = {
	{ OVMF_FD, 1, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "11570979c77a0adb515761a702527c8b9e11554e730552621d950988613a3a75c6ff1703f540bd22a9beede8fe7a97e3" },
	{ OVMF_FD, 2, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "a5b54e62ae971b58274dd24cc6c47b842662617036e7bd67d7326c07ac6363f35399ef933330a5ea160cead90a00603f" },
	{ OVMF_FD, 4, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f" },
	{ OVMF_FD, 64, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "5639a30a8a52d07ccc971c4debceb92f0976f693a06af17035af8802023588cd7f2e80e96229a6c88a4c89d1f4967351" },
	{ OVMF_FD, 4, "vcpu_type = \"EPYC-Milan\"", 0, NULL, NULL,
	  "e9c10ab98f8086bf4a4993dcdc1f768b1128bcb02301d1791f1d3274329e790db2d12a301d66d99a462a13b5d87e2840" },
	{ OVMF_FD, 4, "vcpu_type = \"EPYC-Genoa\"", 0, NULL, NULL,
	  "a509186122f6e4e095ebab39abf4aea568d9949b9e929d0759f45a3983dfc2df71404de97367aba26c08ddeebc3d7ba0" },
	{ OVMF_FD, 2, "vcpu_type = \"EPYC-Rome\"\nguest_features = 0x21", 0, NULL, NULL,
	  "4cb7fc43f714faa0cdb8b32a49b43f91fe8ee3038e3bc8675095e0cffd2b6a9304258293207a05c8d0cb4f99cdbdd400" },
	{ OVMF_FD, 4, "vmm_type = \"ec2\"", 0, NULL, NULL,
	  "247ad4ffd2aa671f172a61d8fc73337c2b3489dae4e53a8d9dd2d96d3b71b35ab008b3581c496f99810fe72bfd84d5ac" },
	{ OVMF_FD, 1, "vmm_type = \"ec2\"", 0, NULL, NULL,
	  "0aaa035d47b06741a745a62cb88eade395f648a7383d71cc322fab9df33859ca3c188a0578534c01526f1b4c0f0b0eb6" },
	{ OVMF_FD, 4, "vmm_type = \"gce\"", 0, NULL, NULL,
	  "dc9e0c41c8b0ca2000043e749d6fd77737d0ef146b3c9eaaaf693f50dd5ce57fbcb379cb4af9918c94d265a7e0bd8317" },
	{ OVMF_FD, 64, "vmm_type = \"gce\"", 0, NULL, NULL,
	  "ab35dd493e70ba9aec26396a80e8c1ca4c7a116b291c8e98be7f03efb6668fdd530e9e69326f9a5ae6d02e499da41adf" },
	{ OVMF_CODE, 4, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "022a949083cab59e19c5ca3f5f7ddb9c991874f49f76f72ea3f8cee1aa411e70c0a92766729328069f00b3053fc8ea6f" },
	{ OVMF_CODE, 4, "vmm_type = \"ec2\"", 0, NULL, NULL,
	  "49389a8455e93dfa5b5c986ee06e64d1eafa21dcf6ba39b55eb65687c4f5e1e8aa9aa3ef7c16217ffaf47ac6a40b421b" },
	{ OVMF_CODE, 4, "vmm_type = \"gce\"", 0, NULL, NULL,
	  "da88893d22e0c644cdaaa3d62579fdfd7fc52fe5d2f7bd720f2bd358262c672dd0aedbcd0dca672e7df46dac95cf92e2" },
	{ AMDSEV, 2, "vcpu_type = \"EPYC-v4\"", 2, "console=ttyS0 root=/dev/vda", NULL,
	  "13c3824e6d4533e2ceed0b12987c9e9da9d55ec9284c5abc0015ab70a85d447b0898dd83510ec0beafe2b66a2f797ab4" },
	{ AMDSEV, 4, "vcpu_type = \"EPYC-Milan\"", 1, NULL, NULL,
	  "57a40022fbf29053d6006f294957cb903627fe9007d4508d554d0d685f532131278402c93fb201a6ab15391806228331" },
	{ AMDSEV, 4, "vmm_type = \"ec2\"", 2, "quiet", NULL,
	  "1b37c5f400bba225efd730894de4a74f2fcfc201dd15e0f3d8f4c4fd95912a39c5a276f68bd065b1a9c6eb697c986fb1" },
	{ AMDSEV, 4, "vmm_type = \"gce\"", 2, NULL, NULL,
	  "042261b43d7f74c96c9fa0e1687650a77f1f6113b4baca5726df2c46e952e00f490d63429a81418c9f2a602f733b0f52" },
	{ AMDSEV, 1, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d" },
	{ AMDSEV, 3, "vcpu_family = 25\nvcpu_model = 17\nvcpu_stepping = 1", 0, NULL, NULL,
	  "cf5f88879d87f8e587a7b38416cc3b2fdc747d84d71526916996882d6f88c986a7e9754c6edf92834d16e49ea0057b50" },
	{ OVMFX64, 2, "vcpu_type = \"EPYC-v4\"", 0, NULL, NULL,
	  "da0b008078565bd9f0c21a9c6b4e71f514ca0d7b81a7b00ecbe2a73f52c1b051b9db4914cdf84dffcdc63258f9ce46b2" },
	{ AMDSEV, 2, "vcpu_type = \"EPYC-v4\"", 1, NULL,
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  "4c8eb2cd2171f444a055199327d560368dcfcaa959c17ed8ed27093caf7140b583ba471d7b9d55485cc5fb5429600b4d" },
	{ AMDSEV, 1, "vcpu_type = \"EPYC-v4\"\nguest_features = 0x21", 3, "console=ttyS0 loglevel=7", NULL,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
};

static void snp_doc(const struct snp_vec *v, char *doc, size_t n)
{
	int o = snprintf(doc, n, "[vm]\nvcpus = %u\n[firmware]\npath = \"%s\"\n", v->vcpus, v->fw);

	if (v->kernel == 3)
		o += snprintf(doc + o, n - o, "[kernel]\npath = \"/dev/null\"\ninitrd = \"/dev/null\"\n");
	else if (v->kernel)
		o += snprintf(doc + o, n - o, "[kernel]\npath = \"%s\"\n%s", KERNEL,
			      v->kernel == 2 ? "initrd = \"" INITRD "\"\n" : "");
	if (v->kernel && v->cmdline)
		o += snprintf(doc + o, n - o, "cmdline = \"%s\"\n", v->cmdline);
	snprintf(doc + o, n - o, "[confidential]\ntype = \"sev-snp\"\n%s\n", v->confidential);
}

Test(launch_measure, sev_snp_measure_vectors)
{
	unsigned ran = 0, skipped = 0;
	const size_t nvec = sizeof(snp_vecs) / sizeof(snp_vecs[0]);

	for (size_t i = 0; i < nvec; i++) {
		const struct snp_vec *v = &snp_vecs[i];
		struct launch_measurement m;
		uint8_t seed[48];
		char doc[1024], got[97];

		if (!readable(v->fw) || (v->kernel && v->kernel != 3 && !readable(KERNEL)) ||
		    (v->kernel == 2 && !readable(INITRD))) {
			skipped++;
			continue;
		}
		snp_doc(v, doc, sizeof(doc));
		if (v->seed)
			unhex(v->seed, seed, 48);
		measure_config(doc, v->fw, v->seed ? seed : NULL, &m);
		cr_assert(m.has);
		cr_assert_eq(m.platform, PLAN_SNP);
		cr_assert(!m.has_rtmr0_events);
		if (v->seed)
			cr_assert_eq(memcmp(m.snp_firmware, seed, 48), 0);
		hex_encode(got, m.value, 48);
		cr_expect_str_eq(got, v->expect, "vector %zu (%s, %u vCPUs)", i, v->fw, v->vcpus);
		ran++;
	}
	/* a note, not cr_log_warn: Criterion exits 1 after any warning */
	if (skipped)
		fprintf(stderr, "NOTE: launch_measure sev_snp_measure_vectors skipped %u of %zu "
			"vectors: firmware or synthetic kernel absent (make deps installs package "
			"ovmf; ../shared/testdata holds the suffix fixtures)\n", skipped, nvec);
	if (!ran)
		cr_skip_test("no SEV-SNP vector ran: no firmware image available");
}

/* sev-snp-measure --mode snp:ovmf-hash: the firmware stage; seeding with
 * it gives the unseeded final digest. */
Test(launch_measure, snp_firmware_stage_and_seed)
{
	static const char expect[] =
		"ba2c811512ef868474f239a21f7d7057d65a20de87a003c4f116e4fb1573183bfbcd75c3e99b2f558575a5d0094f73c6";
	static const char doc[] = "[vm]\nvcpus = 4\n[firmware]\npath = \"" OVMF_FD "\"\n"
				  "[confidential]\ntype = \"sev-snp\"\nvcpu_type = \"EPYC-v4\"\n";
	struct launch_measurement m, seeded;
	char got[97];

	if (!readable(OVMF_FD))
		cr_skip_test(OVMF_FD " absent (make deps installs package ovmf)");
	measure_config(doc, OVMF_FD, NULL, &m);
	hex_encode(got, m.snp_firmware, 48);
	cr_assert_str_eq(got, expect);
	hex_encode(got, m.value, 48);
	cr_assert_str_eq(got, "32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f");
	cr_assert_gt(m.ns, 0);
	measure_config(doc, OVMF_FD, m.snp_firmware, &seeded);
	cr_assert_eq(memcmp(seeded.value, m.value, 48), 0);
	cr_assert_eq(memcmp(seeded.snp_metadata, m.snp_metadata, 48), 0);
}

/* ---- the real SEV-SNP report (EPYC Milan, dstack fixture): its plan has
 * no firmware bytes (only the ovmf_hash seed), so it is built from the
 * fixture's section list as test_snp.c does, and measured here ---- */

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
	for (p++; *p == ' '; p++)
		;
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

Test(launch_measure, real_milan_report)
{
	size_t jlen, rlen;
	char *doc = (char *)slurp(TESTDATA "/dstack/snp_real_measurement_input.json", &jlen);
	uint8_t *rep = slurp(TESTDATA "/dstack/sev_snp_attestation.bin", &rlen);
	static struct ovmf_info info;
	struct snp_params sp;
	struct launch_plan p;
	struct launch_measurement m;
	char s[1024], cpu[32], *cmd, *e;
	uint8_t seed[48];
	const char *q;

	if (!doc || !rep) {
		free(doc);
		free(rep);
		cr_skip_test(TESTDATA "/dstack absent: real Milan report check skipped");
	}
	doc = realloc(doc, jlen + 1);
	doc[jlen] = '\0';
	cr_assert_geq(rlen, 4 + 0xc0);
	memset(&info, 0, sizeof(info));
	info.has_footer = info.has_sev_meta = info.has_reset_block = info.has_hash_table = true;
	info.ap_reset_eip = (uint32_t)json_num(doc, "sev_es_reset_eip");
	info.hash_table_gpa = (uint32_t)json_num(doc, "sev_hashes_table_gpa");
	info.hash_table_size = 0x400;
	q = json_find(doc, "ovmf_sections");
	cr_assert(q);
	while ((q = strstr(q, "\"gpa\"")) != NULL) {
		struct ovmf_sev_item *it = &info.sev[info.nsev++];

		it->gpa = (uint32_t)json_num(q, "gpa");
		it->size = (uint32_t)json_num(q, "size");
		it->type = (uint32_t)json_num(q, "section_type");
		q++;
	}
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
	for (cmd = s; *cmd == ' '; cmd++)
		;
	for (e = cmd + strlen(cmd); e > cmd && e[-1] == ' '; e--)
		e[-1] = '\0';
	cr_assert_eq(snp_cmdline_sha256(cmd, sp.cmdline_sha256), 0);
	sp.kernel_hashes = true;
	json_string(doc, "ovmf_hash", s, sizeof(s));
	unhex(s, seed, 48);

	cr_assert_eq(snp_build_plan_info(&p, NULL, 0, &info, &sp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(launch_measure(&p, seed, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert(m.has);
	/* MEASUREMENT: report bytes 0x90..0xC0; the report starts at byte 4 */
	cr_assert_eq(memcmp(m.value, rep + 4 + 0x90, 48), 0,
		     "launch_measure differs from the hardware report");
	plan_free(&p);
	free(doc);
	free(rep);
}

/* ---------------- TDX ---------------- */

/* td-shim's MRTD of Debian 12 OVMF.fd, both orders (test_tdx.c says how) */
#define DEBIAN_MRTD_SINGLE \
	"4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"
#define DEBIAN_MRTD_TWO_PASS \
	"acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"

static bool debian_ovmf(void)
{
	size_t len;
	uint8_t *img = slurp(OVMF_FD, &len);

	free(img);
	return img && len == 0x200000;
}

static void sha384(const void *d, size_t n, uint8_t out[48])
{
	unsigned olen;

	cr_assert(EVP_Digest(d, n, out, &olen, EVP_sha384(), NULL));
}

/* The n-th 96-hex-digit value following "digest" in a dstack JSON fixture. */
static bool json_digest(const char *js, int nth, uint8_t out[48])
{
	const char *q = js;

	for (int i = 0; i <= nth; i++) {
		q = strstr(q, "digest");
		if (!q)
			return false;
		q += 6;
	}
	while (*q && !strchr("0123456789abcdef", *q))
		q++;
	unhex(q, out, 48);
	return true;
}

Test(launch_measure, tdx_debian_ovmf_mrtd_and_rtmr0_events)
{
	static const char single[] = "[vm]\nmemory = \"2G\"\nvcpus = 2\n[firmware]\npath = \"" OVMF_FD
				     "\"\n[confidential]\ntype = \"tdx\"\n";
	static const char two[] = "[vm]\nmemory = \"2G\"\n[firmware]\npath = \"" OVMF_FD
				  "\"\n[confidential]\ntype = \"tdx\"\nmrtd_order = \"two-pass\"\n";
	struct launch_measurement m;
	size_t len;
	uint8_t *img, cfv[48];
	char got[97];

	if (!debian_ovmf())
		cr_skip_test(OVMF_FD " absent or not the 2 MiB Debian 12 image (package ovmf)");
	measure_config(single, OVMF_FD, NULL, &m);
	cr_assert(m.has);
	cr_assert_eq(m.platform, PLAN_TDX);
	hex_encode(got, m.value, 48);
	cr_assert_str_eq(got, DEBIAN_MRTD_SINGLE);
	cr_assert(m.has_rtmr0_events);
	/* CFV event: the VARS template, the image's first 128 KiB */
	img = slurp(OVMF_FD, &len);
	sha384(img, 0x20000, cfv);
	cr_assert_eq(memcmp(m.cfv, cfv, 48), 0);
	free(img);
	measure_config(two, OVMF_FD, NULL, &m);
	hex_encode(got, m.value, 48);
	cr_assert_str_eq(got, DEBIAN_MRTD_TWO_PASS);
}

/* dstack's real TDX event log (QEMU, 2 GiB, the Debian TDVF layout): its
 * first RTMR[0] event is the TD HOB the plan for 2 GiB carries. */
Test(launch_measure, tdx_td_hob_matches_real_log)
{
	static const char doc[] = "[vm]\nmemory = \"2G\"\n[firmware]\npath = \"" OVMF_FD
				  "\"\n[confidential]\ntype = \"tdx\"\n";
	struct launch_measurement m;
	uint8_t want[48];
	size_t len;
	char *js;

	if (!debian_ovmf())
		cr_skip_test(OVMF_FD " absent or not the 2 MiB Debian 12 image (package ovmf)");
	js = (char *)slurp(TESTDATA "/dstack/tdx-lite-getquote.json", &len);
	if (!js)
		cr_skip_test(TESTDATA "/dstack/tdx-lite-getquote.json absent: real TD HOB check skipped");
	js = realloc(js, len + 1);
	js[len] = '\0';
	cr_assert(json_digest(js, 0, want));
	measure_config(doc, OVMF_FD, NULL, &m);
	cr_assert(m.has_rtmr0_events);
	cr_assert_eq(memcmp(m.td_hob, want, 48), 0, "TD HOB digest differs from the real log");
	free(js);
}

/* Without fixtures: a synthetic TDVF section list; the TD HOB digest is
 * that of tdx_build_hob's measured prefix, the CFV that of its bytes. */
static const struct ovmf_tdvf_section synth_secs[] = {
	{ .data_offset = 0x3000, .raw_size = 0x3000, .gpa = 0xFFFFD000, .mem_size = 0x3000,
	  .type = OVMF_TDVF_BFV, .attributes = OVMF_TDVF_ATTR_MR_EXTEND },
	{ .data_offset = 0, .raw_size = 0x2000, .gpa = 0xFFFFA000, .mem_size = 0x2000,
	  .type = OVMF_TDVF_CFV },
	{ .gpa = 0x809000, .mem_size = 0x2000, .type = OVMF_TDVF_TD_HOB },
	{ .gpa = 0x800000, .mem_size = 0x6000, .type = OVMF_TDVF_TEMP_MEM },
};
#define NSYNTH (sizeof(synth_secs) / sizeof(synth_secs[0]))

static uint8_t *synth_plan(struct launch_plan *p, uint64_t memory)
{
	struct tdx_params tp = { .memory = memory, .nvcpus = 1 };
	uint8_t *img = malloc(0x6000);

	cr_assert(img);
	for (size_t i = 0; i < 0x6000; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	plan_init(p, PLAN_TDX);
	cr_assert_eq(tdx_build_plan_sections(p, img, 0x6000, synth_secs, NSYNTH, &tp, err,
					     sizeof(err)), 0, "%s", err);
	return img;
}

Test(launch_measure, tdx_rtmr0_events_from_the_plan)
{
	struct launch_plan p;
	struct launch_measurement m;
	uint8_t hob[0x2000], want[48], mrtd[48];
	size_t hlen, mlen;
	uint8_t *img = synth_plan(&p, 1ULL << 30);

	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert(m.has && m.has_rtmr0_events);
	cr_assert_eq(tdx_measure_mrtd(&p, mrtd), 0);
	cr_assert_eq(memcmp(m.value, mrtd, 48), 0);
	cr_assert_eq(tdx_build_hob(1ULL << 30, 0x809000, synth_secs, NSYNTH, hob, sizeof(hob),
				   &hlen, &mlen, err, sizeof(err)), 0, "%s", err);
	cr_assert_lt(mlen, hlen);
	cr_assert_eq(tdx_hob_digest(hob, mlen, want), 0);
	cr_assert_eq(memcmp(m.td_hob, want, 48), 0);
	sha384(img, 0x2000, want);
	cr_assert_eq(memcmp(m.cfv, want, 48), 0);
	/* another memory size changes the HOB, not MRTD */
	plan_free(&p);
	free(img);
	img = synth_plan(&p, 3ULL << 30);
	memcpy(want, m.td_hob, 48);
	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(m.value, mrtd, 48), 0);
	cr_assert_neq(memcmp(m.td_hob, want, 48), 0);
	plan_free(&p);
	free(img);
}

Test(launch_measure, tdx_without_hob_or_cfv_has_no_rtmr0_events)
{
	struct launch_plan p;
	struct launch_measurement m;
	uint8_t *img = synth_plan(&p, 1ULL << 30);

	p.regions[1].tdx_type = OVMF_TDVF_TEMP_MEM;   /* no CFV any more */
	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert(m.has);
	cr_assert(!m.has_rtmr0_events);
	plan_free(&p);
	free(img);
}

Test(launch_measure, tdx_malformed_hob_is_an_error)
{
	struct launch_plan p;
	struct launch_measurement m;
	uint8_t *img = synth_plan(&p, 1ULL << 30);

	for (size_t i = 0; i < p.nregions; i++)
		if (p.regions[i].tdx_type == OVMF_TDVF_TD_HOB)
			p.regions[i].data_len = 16;      /* cut before END_OF_HOB_LIST */
	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "HOB"), "%s", err);
	cr_assert(!m.has);
	plan_free(&p);
	free(img);
}

/* ---------------- plain, errors, names ---------------- */

Test(launch_measure, plain_plan_has_no_measurement)
{
	struct vm_config cfg;
	struct launch_plan p;
	struct launch_measurement m;
	uint8_t *rom = calloc(1, 65536);
	static const uint8_t zero[48];

	cfg_from("[firmware]\npath = \"fw.rom\"\n", &cfg);
	cr_assert_eq(launch_plan_from_config(&p, &cfg, rom, 65536, NULL, err, sizeof(err)), 0,
		     "%s", err);
	memset(&m, 0xaa, sizeof(m));
	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert(!m.has);
	cr_assert(!m.has_rtmr0_events);
	cr_assert_eq(m.platform, PLAN_PLAIN);
	cr_assert_eq(memcmp(m.value, zero, 48), 0);
	/* a seed is for SEV-SNP only */
	cr_assert_eq(launch_measure(&p, zero, &m, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "SEV-SNP"), "%s", err);
	plan_free(&p);
	config_free(&cfg);
	free(rom);
}

Test(launch_measure, snp_plan_without_vmsas_fails_with_a_message)
{
	struct launch_plan p;
	struct launch_measurement m;

	plan_init(&p, PLAN_SNP);
	p.nvcpus = 1;              /* one vCPU but no VMSA page */
	cr_assert_eq(launch_measure(&p, NULL, &m, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "SEV-SNP"), "%s", err);
	cr_assert(!m.has);
	plan_free(&p);
}

Test(launch_measure, platform_names)
{
	cr_assert_str_eq(launch_platform_name(PLAN_SNP), "sev-snp");
	cr_assert_str_eq(launch_platform_name(PLAN_TDX), "tdx");
	cr_assert_str_eq(launch_platform_name(PLAN_PLAIN), "none");
	cr_assert_str_eq(launch_platform_name((enum plan_platform)7), "none");
}
