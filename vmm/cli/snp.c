/* vmm/cli/snp.c: `fukivmm snp id-block`, an SEV-SNP ID block and its
 * authentication structure for a launch measurement.  Owns argument parsing
 * and output only: the blocks are built and signed by snp/idblock.c. */
#include "vmm/cli/snp.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "snp/snp.h"
#include "vmm/base/exitcode.h"
#include "vmm/base/fileio.h"
#include "vmm/base/hex.h"
#include "vmm/cli/cli.h"

static const char idblock_usage[] =
	"usage: fukivmm snp id-block --key ID.pem [--author-key AUTHOR.pem]\n"
	"                            --measurement HEX [--policy 0x30000]\n"
	"                            [--family-id HEX32] [--image-id HEX32]\n"
	"                            [--guest-svn N] [--version 1]\n"
	"                            (-o DIR | --out-block FILE --out-auth FILE)\n";

int snp_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "author-key", required_argument, NULL, 'a' },
		{ "measurement", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "family-id", required_argument, NULL, 'f' },
		{ "image-id", required_argument, NULL, 'i' },
		{ "guest-svn", required_argument, NULL, 's' },
		{ "version", required_argument, NULL, 'v' },
		{ "out-block", required_argument, NULL, 'B' },
		{ "out-auth", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *akey = NULL, *dir = NULL, *ob = NULL, *oa = NULL;
	struct snp_id_params ip;
	bool have_ld = false;
	uint8_t block[SNP_ID_BLOCK_SIZE], idd[48], ad[48];
	static uint8_t auth[SNP_ID_AUTH_SIZE];
	char err[320], path_b[4096], path_a[4096], h[97];
	EVP_PKEY *k = NULL, *ak = NULL;
	uint64_t v;
	int c, rc = FUKI_EXIT_USAGE;

	if (argc < 2 || strcmp(argv[1], "id-block") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(idblock_usage, stdout);
			return FUKI_EXIT_OK;
		}
		return cli_fail("snp", "unknown subcommand '%s' (expected id-block)",
				 argc >= 2 ? argv[1] : "");
	}
	memset(&ip, 0, sizeof(ip));
	ip.version = 1;
	ip.policy = 0x30000;
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'a': akey = optarg; break;
		case 'o': dir = optarg; break;
		case 'B': ob = optarg; break;
		case 'A': oa = optarg; break;
		case 'm':
			if (cli_unhex(optarg, ip.ld, 48))
				return cli_fail("snp id-block", "--measurement: expected 96 hex digits");
			have_ld = true;
			break;
		case 'f': case 'i':
			if (cli_unhex(optarg, c == 'f' ? ip.family_id : ip.image_id, 16))
				return cli_fail("snp id-block", "--%s: expected 32 hex digits",
						 c == 'f' ? "family-id" : "image-id");
			break;
		case 'p':
			if (cli_parse_u64(optarg, &ip.policy))
				return cli_fail("snp id-block", "--policy '%s': not a number", optarg);
			break;
		case 's': case 'v':
			if (cli_parse_u64(optarg, &v) || v > UINT32_MAX)
				return cli_fail("snp id-block", "--%s '%s': not a 32-bit number",
						 c == 's' ? "guest-svn" : "version", optarg);
			*(c == 's' ? &ip.guest_svn : &ip.version) = (uint32_t)v;
			break;
		case 'h':
			fputs(idblock_usage, stdout);
			return FUKI_EXIT_OK;
		default:
			return cli_fail("snp id-block", "unknown or incomplete option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("snp id-block", "unexpected argument '%s'", argv[optind]);
	if (!key || !have_ld)
		return cli_fail("snp id-block", "--key and --measurement are required");
	if (!dir == !(ob || oa) || (!dir && !(ob && oa)))
		return cli_fail("snp id-block", "give -o DIR, or both --out-block and --out-auth");
	if (dir) {
		snprintf(path_b, sizeof(path_b), "%s/id_block.bin", dir);
		snprintf(path_a, sizeof(path_a), "%s/id_auth.bin", dir);
		ob = path_b;
		oa = path_a;
	}
	k = snp_key_load(key, err, sizeof(err));
	if (!k) {
		rc = cli_fail("snp id-block", "%s", err);
		goto out;
	}
	if (akey && !(ak = snp_key_load(akey, err, sizeof(err)))) {
		rc = cli_fail("snp id-block", "%s", err);
		goto out;
	}
	if (snp_id_block_build(&ip, k, ak, block, auth, idd, ad, err, sizeof(err))) {
		rc = cli_fail("snp id-block", "%s", err);
		goto out;
	}
	if (file_write(ob, block, sizeof(block)) || file_write(oa, auth, sizeof(auth))) {
		rc = cli_fail("snp id-block", "cannot write '%s' / '%s': %s", ob, oa,
			       strerror(errno));
		goto out;
	}
	hex_encode(h, idd, 48);
	printf("id_key_digest: %s\n", h);
	if (ak) {
		hex_encode(h, ad, 48);
		printf("author_key_digest: %s\n", h);
	}
	rc = FUKI_EXIT_OK;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_free(ak);
	return rc;
}
