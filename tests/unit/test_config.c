/* tests/unit/test_config.c: guest.toml schema validation (vmm/config/config.c):
 * defaults, every key's type and range checks, error locations, size and
 * duration parsing, and firmware file checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/config/config.h"

static char err[512];

static int parse(const char *doc, struct vm_config *cfg)
{
	return config_parse(doc, strlen(doc), "t.toml", "/cfgdir", false, cfg, err, sizeof(err));
}

/* parse must fail with a message containing @want */
static void expect_err(const char *doc, const char *want)
{
	struct vm_config cfg;

	cr_assert_neq(parse(doc, &cfg), 0, "accepted: %s", doc);
	cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
	cr_assert_null(strchr(err, '\n'), "error has a newline: '%s'", err);
}

#define FW "[firmware]\npath = \"fw.rom\"\n"

Test(config, defaults)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW, &cfg), 0, "%s", err);
	cr_assert_str_eq(cfg.name, "fukivmm");
	cr_assert_eq(cfg.memory, 256ULL << 20);
	cr_assert_eq(cfg.vcpus, 1);
	cr_assert_eq(cfg.serial, SERIAL_STDOUT);
	cr_assert(!cfg.debug_exit);
	cr_assert_str_eq(cfg.firmware_path, "/cfgdir/fw.rom");
	cr_assert(cfg.doorbell.enabled);
	cr_assert_eq(cfg.doorbell.max_image_size, 16ULL << 20);
	cr_assert_eq(cfg.doorbell.max_opaque_size, 4096);
	cr_assert_eq(cfg.doorbell.min_reset_interval_ns, 1000000000ULL);
	cr_assert_eq(cfg.cc.type, CC_NONE);
	cr_assert_eq(cfg.cc.guest_features, 1);
	cr_assert_eq(cfg.cc.policy, 0x30000);
	config_free(&cfg);
}

Test(config, full_document)
{
	struct vm_config cfg;
	const char *doc =
		"[vm]\nname = \"demo\"\nmemory = \"2G\"\nvcpus = 4\n"
		"[firmware]\npath = \"/abs/provider.rom\"\n"
		"[serial]\noutput = \"file:serial.log\"\n"
		"[debug_exit]\nport = 0xf4\n"
		"[log]\nfile = \"events.log\"\nreset_rate = 0\n"
		"[doorbell]\nenabled = false\nmax_image_size = \"4M\"\nmax_opaque_size = 8192\n"
		"min_reset_interval = \"250ms\"\n"
		"[confidential]\ntype = \"sev-snp\"\nvcpu_type = \"EPYC-Milan\"\nvmm_type = \"ec2\"\n"
		"guest_features = 0x21\npolicy = \"0x30000\"\n"
		"host_data = \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"\n"
		"[kernel]\npath = \"bzImage\"\ninitrd = \"initrd.img\"\ncmdline = \"console=ttyS0\"\n";

	cr_assert_eq(parse(doc, &cfg), 0, "%s", err);
	cr_assert_str_eq(cfg.name, "demo");
	cr_assert_eq(cfg.memory, 2ULL << 30);
	cr_assert_eq(cfg.vcpus, 4);
	cr_assert_str_eq(cfg.firmware_path, "/abs/provider.rom");
	cr_assert_eq(cfg.serial, SERIAL_FILE);
	cr_assert_str_eq(cfg.serial_path, "/cfgdir/serial.log");
	cr_assert(cfg.debug_exit);
	cr_assert_eq(cfg.debug_exit_port, 0xf4);
	cr_assert_str_eq(cfg.log_path, "/cfgdir/events.log");
	cr_assert_eq(cfg.log_reset_rate, 0);
	cr_assert(!cfg.doorbell.enabled);
	cr_assert_eq(cfg.doorbell.max_image_size, 4ULL << 20);
	cr_assert_eq(cfg.doorbell.max_opaque_size, 8192);
	cr_assert_eq(cfg.doorbell.min_reset_interval_ns, 250000000ULL);
	cr_assert_eq(cfg.cc.type, CC_SNP);
	cr_assert_str_eq(cfg.cc.vcpu_type, "EPYC-Milan");
	cr_assert_eq(cfg.cc.vmm_type, SNP_VMM_EC2);
	cr_assert_eq(cfg.cc.guest_features, 0x21);
	cr_assert_eq(cfg.cc.policy, 0x30000);
	cr_assert_eq(cfg.cc.host_data[0], 0x00);
	cr_assert_eq(cfg.cc.host_data[31], 0x1f);
	cr_assert_str_eq(cfg.kernel_path, "/cfgdir/bzImage");
	cr_assert_str_eq(cfg.initrd_path, "/cfgdir/initrd.img");
	cr_assert_str_eq(cfg.cmdline, "console=ttyS0");
	config_free(&cfg);
}

Test(config, tdx_fields)
{
	struct vm_config cfg;
	char doc[1024];

	snprintf(doc, sizeof(doc), FW "[confidential]\ntype = \"tdx\"\nattributes = 0x10000001\n"
		 "xfam = \"0x61ae7\"\nmrtd_order = \"two-pass\"\nmrowner = \"%096d\"\n", 7);
	cr_assert_eq(parse(doc, &cfg), 0, "%s", err);
	cr_assert_eq(cfg.cc.type, CC_TDX);
	cr_assert_eq(cfg.cc.tdx_attributes, 0x10000001);
	cr_assert_eq(cfg.cc.tdx_xfam, 0x61ae7);
	cr_assert(cfg.cc.tdx_two_pass);
	cr_assert_eq(cfg.cc.mrowner[47], 0x07);
	cr_assert_eq(cfg.cc.mrowner[0], 0x00);
	config_free(&cfg);
}

Test(config, vcpu_signature_from_family_model_stepping)
{
	struct vm_config cfg;

	/* Milan: family 0x19, model 1, stepping 1 -> 0x00a00f11 */
	cr_assert_eq(parse(FW "[confidential]\ntype = \"sev-snp\"\nvcpu_family = 25\n"
			   "vcpu_model = 1\nvcpu_stepping = 1\n", &cfg), 0, "%s", err);
	cr_assert(cfg.cc.vcpu_sig_set);
	cr_assert_eq(cfg.cc.vcpu_sig, 0x00a00f11, "sig %#x", cfg.cc.vcpu_sig);
	config_free(&cfg);
	/* Genoa: family 0x19, model 0x11, stepping 0 -> 0x00a10f10 */
	cr_assert_eq(parse(FW "[confidential]\nvcpu_family = 25\nvcpu_model = 17\n"
			   "vcpu_stepping = 0\n", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.cc.vcpu_sig, 0x00a10f10, "sig %#x", cfg.cc.vcpu_sig);
	config_free(&cfg);
	expect_err(FW "[confidential]\nvcpu_family = 25\n", "vcpu_family, vcpu_model and vcpu_stepping");
}

Test(config, error_locations)
{
	expect_err("[vm]\nvcpus = 0\n" FW, "t.toml:2:9: key 'vm.vcpus': 0 is out of range");
	expect_err("[vm]\n  memory = 4097\n" FW, "t.toml:2:12: key 'vm.memory'");
	expect_err("[vm]\nbogus = 1\n" FW, "t.toml:2:1: unknown key 'vm.bogus'");
	expect_err(FW "[net]\nx = 1\n", "unknown table 'net'");
	expect_err("top = 1\n" FW, "t.toml:1:1: unknown key 'top'");
	expect_err(FW "top = 1\n", "unknown key 'firmware.top'");
	expect_err("vm = 3\n" FW, "'vm' must be a table");
}

Test(config, range_and_type_errors)
{
	expect_err("[vm]\nvcpus = 65\n" FW, "out of range (1 to 64)");
	expect_err("[vm]\nvcpus = 1.5\n" FW, "expected integer, found float");
	expect_err("[vm]\nmemory = \"1M\"\n" FW, "too small for the memory layout");
	expect_err("[vm]\nmemory = \"2T\"\n" FW, "more than the maximum");
	expect_err("[vm]\nmemory = -4096\n" FW, "must not be negative");
	expect_err("[vm]\nmemory = true\n" FW, "expected a size");
	expect_err("[vm]\nname = 5\n" FW, "key 'vm.name': expected string, found integer");
	expect_err("[vm]\nname = \"a\\u0000b\"\n" FW, "NUL");
	expect_err("[firmware]\n", "key 'firmware.path' is required");
	expect_err("[vm]\n", "missing table [firmware]");
	expect_err(FW "[firmware.x]\n", "unknown key 'firmware.x'");
	expect_err(FW "[serial]\noutput = \"file:\"\n", "is not \"stdout\"");
	expect_err(FW "[debug_exit]\n", "key 'debug_exit.port' is required");
	expect_err(FW "[debug_exit]\nport = -1\n", "out of range");
	expect_err(FW "[doorbell]\nmax_image_size = \"32M\"\n", "at most 16 MiB");
	expect_err(FW "[doorbell]\nmax_image_size = 5000\n", "multiple of 4 KiB");
	expect_err(FW "[doorbell]\nmax_opaque_size = \"2M\"\n", "at most 1 MiB");
	expect_err(FW "[doorbell]\nmin_reset_interval = \"soon\"\n", "is not a duration");
	expect_err(FW "[doorbell]\nenabled = 1\n", "expected bool");
	expect_err(FW "[confidential]\ntype = \"sev\"\n", "is not \"none\", \"sev-snp\" or \"tdx\"");
	expect_err(FW "[confidential]\nvmm_type = \"azure\"\n", "is not \"qemu\", \"ec2\" or \"gce\"");
	expect_err(FW "[confidential]\npolicy = 0\n", "bit 17");
	expect_err(FW "[confidential]\npolicy = \"0xzz\"\n", "not a 64-bit number");
	expect_err(FW "[confidential]\nhost_data = \"00\"\n", "expected 64 hex digits");
	expect_err(FW "[confidential]\nmrowner = \"g00000000000000000000000000000000000000000000000"
		   "00000000000000000000000000000000000000000000000z\"\n", "not a hex string");
	expect_err(FW "[confidential]\nid_block = \"b\"\n", "id_block and id_auth go together");
	expect_err(FW "[confidential]\nmrtd_order = \"three\"\n", "is not \"single\" or \"two-pass\"");
	expect_err(FW "[kernel]\ncmdline = \"x\"\n", "need key 'kernel.path'");
}

Test(config, sizes_and_durations)
{
	uint64_t v;

	cr_assert_eq(config_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(config_parse_size("4K", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(config_parse_size("256M", &v), 0);
	cr_assert_eq(v, 256ULL << 20);
	cr_assert_eq(config_parse_size("256MiB", &v), 0);
	cr_assert_eq(v, 256ULL << 20);
	cr_assert_eq(config_parse_size("2g", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(config_parse_size("0x1000", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_neq(config_parse_size("", &v), 0);
	cr_assert_neq(config_parse_size("M", &v), 0);
	cr_assert_neq(config_parse_size("-1", &v), 0);
	cr_assert_neq(config_parse_size("1Q", &v), 0);
	cr_assert_neq(config_parse_size("1MX", &v), 0);
	cr_assert_neq(config_parse_size("99999999999999999999", &v), 0);
	cr_assert_neq(config_parse_size("17179869184G", &v), 0);   /* 2^64 overflows */

	cr_assert_eq(config_parse_duration("1s", &v), 0);
	cr_assert_eq(v, 1000000000ULL);
	cr_assert_eq(config_parse_duration("500ms", &v), 0);
	cr_assert_eq(v, 500000000ULL);
	cr_assert_eq(config_parse_duration("7us", &v), 0);
	cr_assert_eq(v, 7000);
	cr_assert_eq(config_parse_duration("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_neq(config_parse_duration("5", &v), 0);
	cr_assert_neq(config_parse_duration("1h", &v), 0);
	cr_assert_neq(config_parse_duration("-1s", &v), 0);
}

/* The parsers stand alone (the CLI uses them): the whole grammar, the
 * error codes, and @out untouched on failure. */
Test(config, size_and_duration_edges)
{
	uint64_t v;

	cr_assert_eq(config_parse_size("1T", &v), 0);
	cr_assert_eq(v, 1ULL << 40);
	cr_assert_eq(config_parse_size("64KB", &v), 0);
	cr_assert_eq(v, 64ULL << 10);
	cr_assert_eq(config_parse_size("3kib", &v), 0);
	cr_assert_eq(v, 3ULL << 10);
	cr_assert_eq(config_parse_size("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(config_parse_size("010", &v), 0);   /* C syntax: octal */
	cr_assert_eq(v, 8);
	cr_assert_eq(config_parse_size("16383P", &v), -EINVAL);
	cr_assert_eq(config_parse_size("+1", &v), -EINVAL);
	cr_assert_eq(config_parse_size(" 1", &v), -EINVAL);
	cr_assert_eq(config_parse_size("1 M", &v), -EINVAL);
	cr_assert_eq(config_parse_size("1Mi", &v), -EINVAL);
	cr_assert_eq(config_parse_size(NULL, &v), -EINVAL);
	cr_assert_eq(config_parse_size("16777216T", &v), -ERANGE);
	cr_assert_eq(config_parse_size("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);

	v = 42;
	cr_assert_neq(config_parse_size("1Q", &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_neq(config_parse_size("17179869184G", &v), 0);
	cr_assert_eq(v, 42);

	cr_assert_eq(config_parse_duration("5ns", &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(config_parse_duration("0ms", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(config_parse_duration("18446744073s", &v), 0);
	cr_assert_eq(v, 18446744073000000000ULL);
	cr_assert_eq(config_parse_duration("18446744074s", &v), -ERANGE);
	cr_assert_eq(config_parse_duration("1S", &v), -EINVAL);
	cr_assert_eq(config_parse_duration("1 s", &v), -EINVAL);
	cr_assert_eq(config_parse_duration("1m", &v), -EINVAL);
	cr_assert_eq(config_parse_duration("0x10s", &v), -EINVAL);
	cr_assert_eq(config_parse_duration("", &v), -EINVAL);
	cr_assert_eq(config_parse_duration(NULL, &v), -EINVAL);

	v = 42;
	cr_assert_neq(config_parse_duration("2", &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_neq(config_parse_duration("99999999999999999999ns", &v), 0);
	cr_assert_eq(v, 42);
}

/* The file checks: missing, not a multiple of 4 KiB, too large, a folder. */
Test(config, firmware_file_checks)
{
	char dir[] = "/tmp/fukivmm-cfg-XXXXXX";
	char path[256], doc[512];
	struct vm_config cfg;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(doc, sizeof(doc), "[firmware]\npath = \"fw.rom\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "No such file or directory"), "%s", err);

	snprintf(path, sizeof(path), "%s/fw.rom", dir);
	f = fopen(path, "w");
	fputs("not a multiple of 4 KiB", f);
	fclose(f);
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a non-zero multiple of 4 KiB"), "%s", err);

	cr_assert_eq(truncate(path, 64 * 1024), 0);
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	config_free(&cfg);

	cr_assert_eq(truncate(path, (16 << 20) + 4096), 0);
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "larger than 16 MiB"), "%s", err);

	snprintf(doc, sizeof(doc), "[firmware]\npath = \".\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	unlink(path);
	rmdir(dir);
}

Test(config, load_from_file)
{
	char dir[] = "/tmp/fukivmm-cfg-XXXXXX";
	char path[256], fw[256];
	struct vm_config cfg;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fw, sizeof(fw), "%s/fw.rom", dir);
	f = fopen(fw, "w");
	fclose(f);
	cr_assert_eq(truncate(fw, 4096), 0);
	snprintf(path, sizeof(path), "%s/guest.toml", dir);
	f = fopen(path, "w");
	fputs("[vm]\nvcpus = 2\n[firmware]\npath = \"fw.rom\"\n", f);
	fclose(f);
	cr_assert_eq(config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.firmware_path, fw);
	cr_assert_str_eq(cfg.dir, dir);
	cr_assert_eq(cfg.vcpus, 2);
	config_free(&cfg);
	cr_assert_neq(config_load("/nonexistent/guest.toml", &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "/nonexistent/guest.toml: No such file"), "%s", err);
	unlink(fw);
	unlink(path);
	rmdir(dir);
}

Test(config, smbios)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW, &cfg), 0, "%s", err);
	cr_assert_str_eq(cfg.smbios.manufacturer, "fukivmm");
	cr_assert_eq(cfg.smbios.chassis_type, 1);
	cr_assert(!cfg.smbios.uuid_set);
	cr_assert_null(cfg.smbios.serial);
	config_free(&cfg);
	cr_assert_eq(parse(FW "[smbios]\nmanufacturer = \"ACME\"\nproduct = \"Cloud VM\"\n"
			   "bios_release = \"2.7\"\nchassis_type = 17\n"
			   "uuid = \"01234567-89ab-cdef-0123-456789abcdef\"\nsku = \"S1\"\n", &cfg), 0,
		     "%s", err);
	cr_assert_str_eq(cfg.smbios.manufacturer, "ACME");
	cr_assert_str_eq(cfg.smbios.product, "Cloud VM");
	cr_assert_str_eq(cfg.smbios.sku, "S1");
	cr_assert_eq(cfg.smbios.bios_major, 2);
	cr_assert_eq(cfg.smbios.bios_minor, 7);
	cr_assert_eq(cfg.smbios.chassis_type, 17);
	cr_assert(cfg.smbios.uuid_set);
	cr_assert_eq(cfg.smbios.uuid[0], 0x01);
	cr_assert_eq(cfg.smbios.uuid[15], 0xef);
	config_free(&cfg);
	expect_err(FW "[smbios]\nbios_release = \"2\"\n", "is not \"MAJOR.MINOR\"");
	expect_err(FW "[smbios]\nuuid = \"0123\"\n", "is not a UUID");
	expect_err(FW "[smbios]\nuuid = \"0123456789abcdef0123456789abcdef\"\n", "is not a UUID");
	expect_err(FW "[smbios]\nchassis_type = 0\n", "out of range");
	expect_err(FW "[smbios]\ncolour = \"red\"\n", "unknown key 'smbios.colour'");
}

Test(config, api)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW "[api]\nsocket = \"vm.sock\"\nallowed_uids = [1000, 1001]\n", &cfg), 0,
		     "%s", err);
	cr_assert_str_eq(cfg.api.socket, "/cfgdir/vm.sock");
	cr_assert_eq(cfg.api.nuids, 2);
	cr_assert_eq(cfg.api.uids[1], 1001);
	config_free(&cfg);
	expect_err(FW "[api]\nallowed_uids = 5\n", "expected array");
	expect_err(FW "[api]\nallowed_uids = [-1]\n", "each entry must be a uid");
	expect_err(FW "[api]\nsocket = \"\"\n", "empty path");
}

Test(config, irqchip_bootindex_boot_rom)
{
	struct vm_config cfg;

	cr_assert_eq(parse(FW, &cfg), 0, "%s", err);
	cr_assert_eq(cfg.irqchip, IRQCHIP_KERNEL);
	cr_assert_null(cfg.boot_rom_path);
	config_free(&cfg);
	cr_assert_eq(parse("[vm]\nirqchip = \"split\"\n" FW, &cfg), 0, "%s", err);
	cr_assert_eq(cfg.irqchip, IRQCHIP_SPLIT);
	config_free(&cfg);
	cr_assert_eq(parse("[vm]\nirqchip = \"kernel\"\n" FW, &cfg), 0, "%s", err);
	cr_assert_eq(cfg.irqchip, IRQCHIP_KERNEL);
	config_free(&cfg);
	expect_err("[vm]\nirqchip = \"userspace\"\n" FW,
		   "t.toml:2:11: key 'vm.irqchip': 'userspace' is not \"kernel\" or \"split\"");

	cr_assert_eq(parse(FW "[[disk]]\npath = \"a.img\"\n[[disk]]\npath = \"b.img\"\nbootindex = 0\n",
			   &cfg), 0, "%s", err);
	cr_assert_eq(cfg.ndisks, 2);
	cr_assert_eq(cfg.disks[0].bootindex, -1);
	cr_assert_eq(cfg.disks[1].bootindex, 0);
	config_free(&cfg);
	expect_err(FW "[[disk]]\npath = \"a.img\"\nbootindex = 3\n[[disk]]\npath = \"b.img\"\nbootindex = 3\n",
		   "t.toml:8:13: key 'disk[1].bootindex': 3 is already disk[0]'s");
	expect_err(FW "[[disk]]\npath = \"a.img\"\nbootindex = -1\n", "out of range (0 to 65535)");

	cr_assert_eq(parse(FW "[kernel]\npath = \"k\"\nboot_rom = \"lb.bin\"\n", &cfg), 0, "%s", err);
	cr_assert_str_eq(cfg.boot_rom_path, "/cfgdir/lb.bin");
	config_free(&cfg);
	cr_assert_eq(parse(FW "[kernel]\npath = \"k\"\nboot_rom = \"\"\n", &cfg), 0, "%s", err);
	cr_assert_null(cfg.boot_rom_path);
	config_free(&cfg);
	expect_err(FW "[kernel]\nboot_rom = \"lb.bin\"\n", "boot_rom need key 'kernel.path'");
}

/* A value with newlines and control characters, quoted in the error, must
 * not break the one-line error (found by tests/fuzz/fuzz_config.c). */
Test(config, error_stays_one_printable_line)
{
	struct vm_config cfg;
	const char *doc = "[vm]\nmemory = \"5n\\n\\n\\u001b[2J12M\"\n[firmware]\npath = \"fw.rom\"\n";

	cr_assert_neq(parse(doc, &cfg), 0);
	cr_assert(strstr(err, "is not a size"), "%s", err);
	for (const char *q = err; *q; q++)
		cr_assert((unsigned char)*q >= 0x20 && *q != 0x7f, "control byte 0x%02x in \"%s\"",
			  (unsigned char)*q, err);
}

Test(config, log_reset_rate)
{
	struct vm_config cfg;

	cr_assert_eq(parse("[firmware]\npath = \"fw.rom\"\n", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.log_reset_rate, CFG_LOG_RESET_RATE_DEFAULT);
	config_free(&cfg);
	cr_assert_eq(parse("[firmware]\npath = \"fw.rom\"\n[log]\nreset_rate = 50\n", &cfg), 0,
		     "%s", err);
	cr_assert_eq(cfg.log_reset_rate, 50);
	config_free(&cfg);
	cr_assert_neq(parse("[firmware]\npath = \"fw.rom\"\n[log]\nreset_rate = -1\n", &cfg), 0);
	cr_assert(strstr(err, "log.reset_rate"), "%s", err);
	cr_assert_neq(parse("[firmware]\npath = \"fw.rom\"\n[log]\nreset_rate = \"1\"\n", &cfg), 0);
}

/* [firmware] code + vars: the flash variable store (devices/pflash.h) */
Test(config, firmware_code_and_vars)
{
	char dir[] = "/tmp/fukivmm-cfg-XXXXXX";
	char code[256], vars[256], doc[512];
	struct vm_config cfg;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(code, sizeof(code), "%s/code.fd", dir);
	snprintf(vars, sizeof(vars), "%s/vars.fd", dir);
	f = fopen(code, "w");
	fclose(f);
	cr_assert_eq(truncate(code, 2 << 20), 0);
	f = fopen(vars, "w");
	fclose(f);
	cr_assert_eq(truncate(vars, 128 << 10), 0);
	snprintf(doc, sizeof(doc), "[firmware]\ncode = \"code.fd\"\nvars = \"vars.fd\"\n");
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(cfg.firmware_path, code);
	cr_assert_str_eq(cfg.firmware_vars_path, vars);
	config_free(&cfg);
	/* code alone is the read-only image, as path */
	snprintf(doc, sizeof(doc), "[firmware]\ncode = \"code.fd\"\n");
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_null(cfg.firmware_vars_path);
	config_free(&cfg);

	snprintf(doc, sizeof(doc), "[firmware]\npath = \"code.fd\"\ncode = \"code.fd\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "t.toml:3:8: key 'firmware.code': give either 'path'"), "%s", err);
	snprintf(doc, sizeof(doc), "[firmware]\npath = \"code.fd\"\nvars = \"vars.fd\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "key 'firmware.vars': goes with 'code'"), "%s", err);
	snprintf(doc, sizeof(doc), "[firmware]\ncode = \"code.fd\"\nvars = \"vars.fd\"\n"
		 "[confidential]\ntype = \"sev-snp\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "t.toml:3:8: key 'firmware.vars': a confidential guest has no flash"),
		  "%s", err);

	cr_assert_eq(truncate(vars, 1000), 0);
	snprintf(doc, sizeof(doc), "[firmware]\ncode = \"code.fd\"\nvars = \"vars.fd\"\n");
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "key 'firmware.vars':") && strstr(err, "multiple of 4 KiB"), "%s", err);
	cr_assert_eq(truncate(vars, 15 << 20), 0);
	cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "code and vars together are larger than 16 MiB"), "%s", err);
	cr_assert_eq(truncate(vars, 128 << 10), 0);
	cr_assert_eq(chmod(vars, 0444), 0);
	if (access(vars, W_OK) < 0) {   /* root writes anyway */
		cr_assert_neq(config_parse(doc, strlen(doc), "t.toml", dir, true, &cfg, err,
					   sizeof(err)), 0);
		cr_assert(strstr(err, "Permission denied"), "%s", err);
	}
	unlink(code);
	unlink(vars);
	rmdir(dir);
}
