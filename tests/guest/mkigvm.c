/* tests/guest/mkigvm.c: a host tool that writes the IGVM images
 * igvm-hostile.rom hands over (build/guest/igvm/NAME.igvm) with
 * tests/unit/igvm_build.h, and prints "#define IGVM_LEN_NAME bytes" lines
 * (build/guest/igvm/sizes.h).  Each file is written without its trailing
 * zero bytes (the guest leaves those to zero RAM); the define gives the
 * full size.  Usage: mkigvm OUTDIR TENANT_ROM.
 * mkigvm --firmware ROM OUT.igvm writes one native IGVM file, whole, with
 * every page of ROM (a multiple of 4 KiB, at most 16 MiB) at the top of
 * 4 GiB, where a raw ROM would sit (test_uefi_swap.sh hands OVMF.fd over
 * this way).  Test code only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/igvm_build.h"

#define M_NATIVE 1u
#define MIB (1ULL << 20)
#define P2M IGVM_PAGE_2M

static const char *outdir;

static void native(struct ib *b)
{
	ib_init(b, 1);
	ib_platform(b, M_NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0);
}

static void emit(struct ib *b, const char *name, const char *macro)
{
	char path[512];
	size_t len, keep;
	uint8_t *f = ib_finish(b, &len);
	FILE *o;

	ib_free(b);
	for (keep = len; keep && !f[keep - 1]; keep--)
		;
	snprintf(path, sizeof(path), "%s/%s.igvm", outdir, name);
	o = fopen(path, "wb");
	if (!o || fwrite(f, 1, keep, o) != keep || fclose(o)) {
		perror(path);
		exit(1);
	}
	printf("#define IGVM_LEN_%s %zuu\n", macro, len);
	free(f);
}

/* PAGE_DATA at @gpa (2 MiB page) whose data is the file data at @rel */
static void page_at(struct ib *b, uint64_t gpa, uint32_t rel)
{
	uint8_t x[IGVM_SZ_PAGE_DATA] = { 0 };
	size_t pos;

	le_wr64(x, gpa);
	le_wr32(x + 8, M_NATIVE);
	le_wr32(x + 16, IGVM_PAGE_F_2MB);
	pos = ib_raw(b, IGVM_VHT_PAGE_DATA, x, sizeof(x));
	ib_reloc(b, pos + 12, rel);
}

/* --firmware ROM OUT: the ROM's pages ending at 4 GiB, the file whole */
static int firmware_igvm(const char *rom, const char *out)
{
	static uint8_t fw[16 << 20];
	FILE *f = fopen(rom, "rb");
	size_t n = f ? fread(fw, 1, sizeof(fw), f) : 0, len;
	uint8_t *img;
	struct ib b;

	if (!f || ferror(f) || !feof(f) || !n || n % 4096) {
		fprintf(stderr, "mkigvm: %s: not a ROM of 4 KiB pages up to 16 MiB\n", rom);
		return 1;
	}
	fclose(f);
	native(&b);
	for (size_t off = 0; off < n; off += 4096)
		ib_page(&b, 0x100000000ULL - n + off, M_NATIVE, 0, 0, fw + off);
	img = ib_finish(&b, &len);
	ib_free(&b);
	f = fopen(out, "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
		perror(out);
		return 1;
	}
	free(img);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t page[4096], zero2m[P2M], tenant[64 << 10];
	struct ib b;
	FILE *t;
	uint32_t rel;

	if (argc == 4 && !strcmp(argv[1], "--firmware"))
		return firmware_igvm(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: mkigvm OUTDIR TENANT_ROM | mkigvm --firmware ROM OUT.igvm\n");
		return 2;
	}
	outdir = argv[1];
	t = fopen(argv[2], "rb");
	if (!t || fread(tenant, 1, sizeof(tenant), t) != sizeof(tenant)) {
		perror(argv[2]);
		return 1;
	}
	fclose(t);
	memset(page, 0xC3, sizeof(page));

	/* 4 GiB of unmeasured 2 MiB zero pages above a 64 MiB guest's RAM */
	native(&b);
	for (unsigned i = 0; i < 2048; i++)
		ib_page(&b, (4ULL << 30) + i * (uint64_t)P2M, M_NATIVE,
			IGVM_PAGE_F_2MB | IGVM_PAGE_F_UNMEASURED, 0, NULL);
	emit(&b, "huge-above", "HUGE_ABOVE");
	/* 2 GiB of 2 MiB zero pages below 4 GiB, outside RAM */
	native(&b);
	for (unsigned i = 0; i < 1024; i++)
		ib_page(&b, 0x10000000ULL + i * (uint64_t)P2M, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	emit(&b, "huge-below", "HUGE_BELOW");
	/* 2 GiB of 2 MiB data pages that all point at the same 2 MiB */
	native(&b);
	rel = ib_data(&b, zero2m, sizeof(zero2m));
	for (unsigned i = 0; i < 1024; i++)
		page_at(&b, 0x10000000ULL + i * (uint64_t)P2M, rel);
	emit(&b, "reuse", "REUSE");
	/* 64 MiB of zeroed parameter areas, inserted above RAM */
	native(&b);
	for (unsigned i = 0; i < 4; i++)
		ib_param_area(&b, 16 * MIB, i, NULL);
	for (unsigned i = 0; i < 4; i++)
		ib_insert(&b, 0x10000000ULL + i * 16 * MIB, M_NATIVE, i);
	emit(&b, "params", "PARAMS");
	/* a page run across two memory regions: the BIOS area and RAM */
	native(&b);
	ib_page(&b, 0xFF000, M_NATIVE, 0, 0, page);
	ib_page(&b, 0x100000, M_NATIVE, 0, 0, page);
	emit(&b, "across", "ACROSS");
	/* more regions than the memory map holds */
	native(&b);
	for (unsigned i = 0; i < 14; i++)
		ib_page(&b, 0xFF000000ULL + i * 0x2000, M_NATIVE, 0, 0, page);
	emit(&b, "toomany", "TOOMANY");
	/* a run from the end of a 64 MiB guest's RAM into the space above */
	native(&b);
	ib_page(&b, (64ULL << 20) - 0x1000, M_NATIVE, 0, 0, page);
	ib_page(&b, 64ULL << 20, M_NATIVE, 0, 0, page);
	emit(&b, "overlap", "OVERLAP");
	/* accepted: the tenant (tenant-wait.rom) at the top of 4 GiB, and 58 MiB of 2 MiB zero
	 * pages over the guest's RAM */
	native(&b);
	for (unsigned i = 0; i < 16; i++)
		ib_page(&b, 0xFFFF0000ULL + i * 4096ULL, M_NATIVE, 0, 0, tenant + i * 4096);
	for (uint64_t gpa = 4 * MIB; gpa < 62 * MIB; gpa += P2M)
		ib_page(&b, gpa, M_NATIVE, IGVM_PAGE_F_2MB, 0, NULL);
	emit(&b, "boot", "BOOT");
	return 0;
}
