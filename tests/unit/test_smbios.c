/* tests/unit/test_smbios.c: the SMBIOS tables fukivmm presents
 * (loader/smbios.c): structure types and order, string sets, the SMBIOS 3.0
 * anchor and its checksum, memory devices and mapped ranges from
 * vmm/base/layout.h, determinism, and the bounds-checked reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/smbios.h"
#include "vmm/config/config.h"
#include "vmm/base/layout.h"
#include "vmm/base/le.h"

static struct vm_config load(const char *extra)
{
	struct vm_config cfg;
	char doc[2048], err[512];

	snprintf(doc, sizeof(doc), "[firmware]\npath = \"fw.rom\"\n%s", extra);
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", "/d", false, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	return cfg;
}

/* Collect the structures of a table; returns their count. */
static unsigned walk(const struct smbios_blob *b, struct smbios_struct *out, unsigned max)
{
	size_t off = 0;
	unsigned n = 0;
	int r;

	while ((r = smbios_struct_at(b->tables, b->tables_len, off, &out[n])) == 1) {
		off += out[n].total;
		cr_assert_lt(++n, max);
	}
	cr_assert_eq(r, 0, "malformed table at %zu", off);
	cr_assert_eq(out[n].type, SMBIOS_TYPE_END);
	cr_assert_eq(off + out[n].total, b->tables_len, "bytes after the end structure");
	return n + 1;
}

Test(smbios, types_order_and_anchor)
{
	struct vm_config cfg = load("[vm]\nmemory = \"5G\"\nvcpus = 4\n");
	struct smbios_blob b;
	struct smbios_struct s[32];
	static const uint8_t want[] = { 0, 1, 2, 3, 4, 16, 17, 19, 19, 127 };
	unsigned n;

	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	n = walk(&b, s, 32);
	cr_assert_eq(n, sizeof(want));
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(s[i].type, want[i], "structure %u is type %u", i, s[i].type);
	cr_assert_eq(b.nstructs, n);
	/* handles unique */
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			cr_assert_neq(s[i].handle, s[j].handle);

	cr_assert_eq(memcmp(b.anchor, "_SM3_", 5), 0);
	cr_assert_eq(b.anchor[6], 24);
	cr_assert_eq(b.anchor[7], 3);
	cr_assert_eq(b.anchor[8], 0);
	cr_assert_eq(smbios_sum8(b.anchor, 24), 0, "anchor checksum");
	cr_assert_eq(le_rd32(b.anchor + 0x0C), b.tables_len);
	cr_assert_eq(le_rd64(b.anchor + 0x10), 0, "table address is the firmware's to fill");

	/* type 4: one socket with every vCPU as a core */
	cr_assert_eq(s[4].data[0x23], 4);
	cr_assert_eq(s[4].data[0x25], 4);
	cr_assert_eq(s[4].data[0x2A] | s[4].data[0x2B] << 8, 4);
	/* type 17: 5 GiB in one device, extended size in MiB */
	cr_assert_eq(s[6].data[0x0C] | s[6].data[0x0D] << 8, 5120);
	/* type 19: [0, 2G) and [4G, 4G + 3G) in KiB, ends inclusive */
	cr_assert_eq(le_rd32(s[7].data + 4), 0);
	cr_assert_eq(le_rd32(s[7].data + 8), (layout_below_4g(cfg.memory) >> 10) - 1);
	cr_assert_eq(le_rd32(s[8].data + 4), LAYOUT_4G >> 10);
	cr_assert_eq(le_rd32(s[8].data + 8), ((LAYOUT_4G + layout_above_4g(cfg.memory)) >> 10) - 1);
	cr_assert_eq(layout_below_4g(cfg.memory) + layout_above_4g(cfg.memory), 5ULL << 30);
	smbios_blob_free(&b);
	config_free(&cfg);
}

Test(smbios, small_memory_and_dimm_split)
{
	struct vm_config cfg = load("");
	struct smbios_blob b;
	struct smbios_struct s[32];
	unsigned n, t17 = 0, t19 = 0;
	uint64_t sum = 0;

	cr_assert_eq(smbios_build(&cfg.smbios, 64ULL << 20, 1, &b), 0);
	n = walk(&b, s, 32);
	for (unsigned i = 0; i < n; i++)
		t19 += s[i].type == 19;
	cr_assert_eq(t19, 1, "no range above 4 GiB for 64 MiB");
	smbios_blob_free(&b);

	cr_assert_eq(smbios_build(&cfg.smbios, 40ULL << 30, 2, &b), 0);
	n = walk(&b, s, 32);
	for (unsigned i = 0; i < n; i++) {
		if (s[i].type == 16)
			cr_assert_eq(s[i].data[0x0D], 3, "three devices in the array");
		if (s[i].type != 17)
			continue;
		t17++;
		sum += (uint64_t)(s[i].data[0x0C] | s[i].data[0x0D] << 8) << 20;
		cr_assert_str_eq(smbios_struct_string(&s[i], s[i].data[0x10]),
				 t17 == 1 ? "DIMM 0" : t17 == 2 ? "DIMM 1" : "DIMM 2");
	}
	cr_assert_eq(t17, 3);
	cr_assert_eq(sum, 40ULL << 30);
	smbios_blob_free(&b);
	config_free(&cfg);
}

Test(smbios, strings_round_trip)
{
	struct vm_config cfg = load("[smbios]\nmanufacturer = \"Acme\"\nproduct = \"Box\"\n"
				    "sku = \"S-1\"\nfamily = \"Fam\"\nbios_release = \"10.3\"\n"
				    "board_product = \"Board\"\nserial = \"\"\nchassis_type = 17\n"
				    "uuid = \"00112233-4455-6677-8899-aabbccddeeff\"\n");
	struct smbios_blob b;
	struct smbios_info in;
	struct smbios_struct s[32];
	static const uint8_t uuid_wire[16] = { 0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
					       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	cr_assert_eq(smbios_info_parse(b.tables, b.tables_len, &in), 0);
	cr_assert_str_eq(in.manufacturer, "Acme");
	cr_assert_str_eq(in.product, "Box");
	cr_assert_str_eq(in.sku, "S-1");
	cr_assert_str_eq(in.family, "Fam");
	cr_assert_str_eq(in.bios_vendor, "fukivmm");
	cr_assert_str_eq(in.bios_version, "1.0");
	cr_assert_str_eq(in.board_manufacturer, "fukivmm");
	cr_assert_str_eq(in.board_product, "Board");
	cr_assert(in.bios_release_valid);
	cr_assert_eq(in.bios_major, 10);
	cr_assert_eq(in.bios_minor, 3);
	cr_assert(in.have_chassis);
	cr_assert_eq(in.chassis_type, 17);

	walk(&b, s, 32);
	cr_assert_eq(s[1].data[0x07], 0, "empty serial is string 0");
	cr_assert_eq(memcmp(s[1].data + 8, uuid_wire, 16), 0, "UUID wire order (DSP0134 7.2.1)");
	cr_assert_null(smbios_struct_string(&s[1], 0));
	cr_assert_null(smbios_struct_string(&s[1], 9));
	smbios_blob_free(&b);
	config_free(&cfg);
}

Test(smbios, absent_sku_and_defaults)
{
	struct vm_config cfg = load("");
	struct smbios_blob b;
	struct smbios_info in;

	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	cr_assert_eq(smbios_info_parse(b.tables, b.tables_len, &in), 0);
	cr_assert_null(in.sku, "default config has no SKU");
	cr_assert_str_eq(in.product, "fukivmm virtual machine");
	cr_assert_eq(in.bios_major, 0);
	cr_assert_eq(in.bios_minor, 1);
	smbios_blob_free(&b);
	config_free(&cfg);
}

Test(smbios, deterministic)
{
	struct vm_config cfg = load("[vm]\nvcpus = 3\n");
	struct smbios_blob a, b;

	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &a), 0);
	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	cr_assert_eq(a.tables_len, b.tables_len);
	cr_assert_eq(memcmp(a.tables, b.tables, a.tables_len), 0);
	cr_assert_eq(memcmp(a.anchor, b.anchor, sizeof(a.anchor)), 0);
	smbios_blob_free(&a);
	smbios_blob_free(&b);
	cr_assert_eq(smbios_build(&cfg.smbios, 0, 1, &a), -EINVAL);
	cr_assert_eq(smbios_build(&cfg.smbios, 1ULL << 30, 0, &a), -EINVAL);
	config_free(&cfg);
}

Test(smbios, reader_on_truncated_and_corrupt_tables)
{
	struct vm_config cfg = load("");
	struct smbios_blob b;
	struct smbios_info in;
	uint8_t *copy;

	cr_assert_eq(smbios_build(&cfg.smbios, cfg.memory, cfg.vcpus, &b), 0);
	/* every prefix: either parses or reports malformed, inside the buffer */
	for (size_t n = 0; n < b.tables_len; n++) {
		copy = malloc(n ? n : 1);
		memcpy(copy, b.tables, n);
		(void)smbios_info_parse(copy, n, &in);
		if (in.manufacturer)
			cr_assert_lt((size_t)((const uint8_t *)in.manufacturer - copy), n);
		free(copy);
	}
	/* a truncated type 0 string set is malformed */
	cr_assert_eq(smbios_info_parse(b.tables, 0x1A + 3, &in), -EINVAL);
	/* length < 4 is malformed */
	copy = malloc(b.tables_len);
	memcpy(copy, b.tables, b.tables_len);
	copy[1] = 2;
	cr_assert_eq(smbios_info_parse(copy, b.tables_len, &in), -EINVAL);
	/* a too-short type 1 counts as absent (systemd-stub min size 0x1B) */
	memcpy(copy, b.tables, b.tables_len);
	{
		struct smbios_struct s0;

		cr_assert_eq(smbios_struct_at(copy, b.tables_len, 0, &s0), 1);
		copy[s0.total + 1] = 0x10;   /* type 1 length */
		(void)smbios_info_parse(copy, b.tables_len, &in);
		cr_assert_null(in.manufacturer);
	}
	free(copy);
	smbios_blob_free(&b);
	config_free(&cfg);
}
