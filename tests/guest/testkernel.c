/* tests/guest/testkernel.c: the C part of testkernel.bin (entry in
 * testkernel-entry.S).  Prints what the boot loader handed over in boot_params --
 * the command line at hdr.cmd_line_ptr, the initrd address/size and a sum of
 * its bytes, the type_of_loader -- and the ACPI tables the firmware
 * installed, on COM1, and exits PASS through the debug-exit port.  Freestanding; owns nothing else. */
#include <stdint.h>

#include "glayout.h"

/* struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE  0x218
#define BP_RAMDISK_SIZE   0x21c
#define BP_CMD_LINE_PTR   0x228

#define COM1 0x3f8

void testkernel_main(const volatile uint8_t *bp);

static inline void tk_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t tk_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void tk_putc(char c)
{
	/* poll LSR.THRE, bounded so a missing UART cannot hang the test */
	for (unsigned i = 0; i < 100000 && !(tk_inb(COM1 + 5) & 0x20); i++)
		;
	tk_outb(COM1, (uint8_t)c);
}

static void tk_puts(const char *s)
{
	while (*s)
		tk_putc(*s++);
}

static void tk_hex(uint32_t v)
{
	for (int i = 28; i >= 0; i -= 4)
		tk_putc("0123456789abcdef"[(v >> i) & 15]);
}

static void tk_dec(uint32_t v)
{
	char b[11];
	int n = 0;

	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		tk_putc(b[--n]);
}

static inline void tk_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* fw_cfg (QEMU docs/specs/fw_cfg.rst): select a key, read a u32 (LE) */
#define FWCFG_SEL  0x510
#define FWCFG_DATA 0x511

static uint32_t tk_fwcfg32(uint16_t key)
{
	uint32_t v = 0;

	tk_outw(FWCFG_SEL, key);
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)tk_inb(FWCFG_DATA) << (8 * i);
	return v;
}

/* sum*31+byte over a whole item, its size read from @size_key */
static uint32_t tk_fwcfg_sum(uint16_t size_key, uint16_t data_key)
{
	uint32_t n = tk_fwcfg32(size_key), sum = 0;

	tk_outw(FWCFG_SEL, data_key);
	for (uint32_t i = 0; i < n && i < 0x1000000; i++)
		sum = sum * 31 + tk_inb(FWCFG_DATA);
	return sum;
}

static uint32_t rd32(const volatile uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int tk_sum_ok(const volatile uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static int tk_sig(const volatile uint8_t *p, const char *sig)
{
	for (int i = 0; i < 4; i++)
		if (p[i] != (uint8_t)sig[i])
			return 0;
	return 1;
}

/* An ACPI table header at @a: signature and checksum good, sane length. */
static const volatile uint8_t *tk_table(uint32_t a, const char **bad)
{
	const volatile uint8_t *t = (const volatile uint8_t *)(uintptr_t)a;
	uint32_t len;

	if (!a || a >= 0xfec00000u) {
		*bad = "table address";
		return 0;
	}
	len = rd32(t + 4);
	if (len < 36 || len > 0x100000 || !tk_sum_ok(t, len)) {
		*bad = "table checksum";
		return 0;
	}
	return t;
}

/* What the firmware installed from fw_cfg's ACPI linker/loader: find the
 * RSDP in the BIOS area, check every checksum, count the MADT's enabled
 * LAPICs and read the FADT's PM1a event block and SCI, then print one line
 * (or "testkernel: acpi bad <what>"). */
static void tk_acpi(void)
{
	const volatile uint8_t *rsdp = 0, *sdt, *t;
	const char *bad = 0;
	uint32_t cpus = 0, pm1a = 0, sci = 0, n, entsz;
	int dsdt_ok = 0;

	for (uint32_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16) {
		const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)a;

		if (tk_sig(p, "RSD ") && tk_sig(p + 4, "PTR ") && tk_sum_ok(p, 20))
			rsdp = p;
	}
	if (!rsdp) {
		tk_puts("testkernel: acpi bad no RSDP\n");
		return;
	}
	if (rsdp[15] >= 2 && rd32(rsdp + 28) == 0 && tk_sum_ok(rsdp, rd32(rsdp + 20))) {
		sdt = tk_table(rd32(rsdp + 24), &bad);          /* XSDT (below 4 GiB) */
		entsz = 8;
	} else {
		sdt = tk_table(rd32(rsdp + 16), &bad);          /* RSDT */
		entsz = 4;
	}
	if (!sdt) {
		tk_puts("testkernel: acpi bad ");
		tk_puts(bad);
		tk_puts("\n");
		return;
	}
	tk_puts("testkernel: acpi rsdp rev ");
	tk_dec(rsdp[15]);
	tk_puts(entsz == 8 ? " xsdt" : " rsdt");
	n = (rd32(sdt + 4) - 36) / entsz;
	for (uint32_t i = 0; i < n; i++) {
		t = tk_table(rd32(sdt + 36 + i * entsz), &bad);
		if (!t)
			break;
		tk_putc(' ');
		for (int k = 0; k < 4; k++)
			tk_putc((char)t[k]);
		if (tk_sig(t, "APIC")) {
			uint32_t len = rd32(t + 4);

			for (uint32_t o = 44; o + 2 <= len && t[o + 1] >= 2; o += t[o + 1])
				if (t[o] == 0 && (rd32(t + o + 4) & 1))
					cpus++;
		} else if (tk_sig(t, "FACP")) {
			pm1a = rd32(t + 56);
			sci = t[46] | t[47] << 8;
			dsdt_ok = tk_table(rd32(t + 40), &bad) && tk_sig((const volatile uint8_t *)
				  (uintptr_t)rd32(t + 40), "DSDT");
		}
	}
	if (bad) {
		tk_puts(" bad ");
		tk_puts(bad);
		tk_puts("\n");
		return;
	}
	tk_puts(dsdt_ok ? " DSDT; checksums ok; cpus " : " no DSDT; cpus ");
	tk_dec(cpus);
	tk_puts(" pm1a 0x");
	tk_hex(pm1a);
	tk_puts(" sci ");
	tk_dec(sci);
	tk_puts("\n");
}

void testkernel_main(const volatile uint8_t *bp)
{
	uint32_t cmd = rd32(bp + BP_CMD_LINE_PTR);
	uint32_t image = rd32(bp + BP_RAMDISK_IMAGE);
	uint32_t size = rd32(bp + BP_RAMDISK_SIZE);
	uint32_t sum = 0;

	tk_puts("testkernel: cmdline \"");
	if (cmd) {
		const volatile char *s = (const volatile char *)(uintptr_t)cmd;

		for (unsigned i = 0; i < 4096 && s[i]; i++)
			tk_putc(s[i]);
	}
	tk_puts("\"\n");
	tk_puts("testkernel: initrd ");
	tk_dec(size);
	tk_puts(" bytes at 0x");
	tk_hex(image);
	tk_puts("\n");
	if (size && size < 0x1000000) {
		const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)image;

		for (uint32_t i = 0; i < size; i++)
			sum = sum * 31 + p[i];
	}
	tk_puts("testkernel: initrd sum 0x");
	tk_hex(sum);
	tk_puts(", loader 0x");
	tk_hex(bp[BP_TYPE_OF_LOADER]);
	tk_puts("\n");
	/* what the VMM put in fw_cfg, for comparing VMMs (signature "QEMU") */
	if (tk_fwcfg32(0x00) == 0x554d4551) {
		tk_puts("testkernel: fw_cfg kernel 0x");
		tk_hex(tk_fwcfg32(0x07));          /* FW_CFG_KERNEL_ADDR */
		tk_puts(" setup 0x");
		tk_hex(tk_fwcfg32(0x16));          /* FW_CFG_SETUP_ADDR */
		tk_puts(" cmdline 0x");
		tk_hex(tk_fwcfg32(0x13));          /* FW_CFG_CMDLINE_ADDR */
		tk_puts(" initrd 0x");
		tk_hex(tk_fwcfg32(0x0a));          /* FW_CFG_INITRD_ADDR */
		tk_puts("\n");
		tk_puts("testkernel: fw_cfg sums setup 0x");
		tk_hex(tk_fwcfg_sum(0x17, 0x18));
		tk_puts(" kernel 0x");
		tk_hex(tk_fwcfg_sum(0x08, 0x11));
		tk_puts(" cmdline 0x");
		tk_hex(tk_fwcfg_sum(0x14, 0x15));
		tk_puts(" initrd 0x");
		tk_hex(tk_fwcfg_sum(0x0b, 0x12));
		tk_puts("\n");
	}
	tk_acpi();
	tk_outb(DEBUG_EXIT_PORT, GUEST_PASS_CODE);
	for (;;)
		__asm__ volatile("hlt");
}
