/* tests/guest/rt.c: the freestanding runtime of the test guests (see rt.h).
 * Owns: serial output, formatting, fw_cfg access, exits, resets and the RAM
 * boot counters.  Must not use 64-bit division (no libgcc is linked). */
#include "rt.h"

/* ---- libc-like ---- */
/* rep movsl for the bulk: each iteration is one emulated step under KVM's
 * instruction emulator, so dwords cost a quarter of bytes. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n >> 2, bytes = n & 3;

	__asm__ volatile("rep movsl" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (uint8_t)*a - (uint8_t)*b;
}

/* ---- serial ---- */
void gputc(char c)
{
	outb(SERIAL_PORT, (uint8_t)c);
}

void gputs(const char *s)
{
	while (*s)
		gputc(*s++);
}

/* 64-by-10 division from two 32-bit divides (no __udivdi3). */
static uint64_t div10(uint64_t n, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
	uint32_t qhi = hi / 10, r = hi % 10, qlo;

	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(10u));
	*rem = r;
	return ((uint64_t)qhi << 32) | qlo;
}

static void put_field(const char *s, int len, int width, char pad)
{
	for (int i = len; i < width; i++)
		gputc(pad);
	for (int i = 0; i < len; i++)
		gputc(s[i]);
}

static void put_u64(uint64_t v, int base, int upper, int width, char pad, int neg)
{
	char buf[24];
	int i = sizeof(buf);
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		uint32_t r;

		if (base == 16) {
			r = (uint32_t)v & 15;
			v >>= 4;
		} else {
			v = div10(v, &r);
		}
		buf[--i] = digits[r];
	} while (v);
	if (neg)
		buf[--i] = '-';
	put_field(buf + i, (int)sizeof(buf) - i, width, pad);
}

void gvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			gputc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;

		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t v = lng >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
			put_u64(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, 0, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_u64(v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, 0);
			break;
		}
		case 'p':
			gputs("0x");
			put_u64((uint32_t)va_arg(ap, void *), 16, 0, 8, '0', 0);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			put_field(s, (int)strlen(s), width, ' ');
			break;
		}
		case 'c':
			gputc((char)va_arg(ap, int));
			break;
		case '%':
			gputc('%');
			break;
		case '\0':
			return;
		default:
			gputc('%');
			gputc(*fmt);
			break;
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
}

/* ---- exits ---- */
void debug_exit(uint8_t code)
{
	outb(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_pass(void)
{
	gputs("guest: PASS\n");
	debug_exit(GUEST_PASS_CODE);
}

void guest_fail(const char *fmt, ...)
{
	va_list ap;

	gputs("FAIL: ");
	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
	gputc('\n');
	debug_exit(GUEST_FAIL_CODE);
}

void rt_main_returned(void)
{
	guest_fail("guest_main returned");
}

/* ---- resets ---- */
const char *reset_method_name(uint32_t m)
{
	switch (m) {
	case RESET_CF9:
		return "cf9";
	case RESET_KBD:
		return "kbd";
	case RESET_TRIPLE:
		return "triple";
	default:
		return "none";
	}
}

/* A reset request is synchronous for a VMM that handles the port exit; under
 * TCG it lands within a few instructions.  200k iterations is ~1 s at 1M
 * emulated instructions/s. */
static void NORETURN reset_wait(const char *how)
{
	for (volatile uint32_t i = 0; i < 200000; i++)
		cpu_pause();
	guest_fail("reset by %s did not happen", how);
}

void reset_cf9(void)
{
	outb(0xcf9, 0x06);
	reset_wait("port 0xcf9");
}

void reset_kbd(void)
{
	outb(0x64, 0xfe);
	reset_wait("port 0x64");
}

void reset_triple(void)
{
	rt_triple_fault();
}

void reset_by(uint32_t method)
{
	switch (method) {
	case RESET_CF9:
		reset_cf9();
	case RESET_KBD:
		reset_kbd();
	default:
		reset_triple();
	}
}

/* ---- fw_cfg ---- */
void gfw_select(uint16_t key)
{
	outw(FWCFG_PORT_SEL, key);
}

void gfw_pio_read(void *buf, uint32_t len)
{
	uint8_t *p = buf;

	for (uint32_t i = 0; i < len; i++)
		p[i] = inb(FWCFG_PORT_DATA);
}

static uint64_t gfw_read_le(uint16_t key, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	gfw_select(key);
	gfw_pio_read(b, len);
	for (int i = (int)len - 1; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

uint16_t gfw_read_u16(uint16_t key)
{
	return (uint16_t)gfw_read_le(key, 2);
}

uint32_t gfw_read_u32(uint16_t key)
{
	return (uint32_t)gfw_read_le(key, 4);
}

uint64_t gfw_read_u64(uint16_t key)
{
	return gfw_read_le(key, 8);
}

int gfw_has_dma(void)
{
	return (gfw_read_u32(FW_CFG_ID) & FW_CFG_VERSION_DMA) != 0;
}

struct gfw_dma_access {    /* FWCfgDmaAccess, all fields big-endian */
	uint32_t control;
	uint32_t length;
	uint64_t address;
} __attribute__((packed));

static volatile struct gfw_dma_access dma_desc __attribute__((aligned(16)));

int gfw_dma(uint32_t control, void *buf, uint32_t len)
{
	dma_desc.control = bswap32(control);
	dma_desc.length = bswap32(len);
	dma_desc.address = bswap64((uint32_t)buf);
	outl(FWCFG_PORT_DMA, 0);                               /* high half (BE) */
	outl(FWCFG_PORT_DMA + 4, bswap32((uint32_t)&dma_desc)); /* low half: go */
	for (uint32_t i = 0; i < (1u << 30); i++) {   /* the host may check an image meanwhile */
		uint32_t c = bswap32(dma_desc.control);

		if ((c & ~(uint32_t)FW_CFG_DMA_CTL_ERROR) == 0)
			return (c & FW_CFG_DMA_CTL_ERROR) ? -1 : 0;
		cpu_pause();
	}
	return -2;
}

int gfw_dma_read(uint16_t key, void *buf, uint32_t len)
{
	return gfw_dma(((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
		       buf, len);
}

int gfw_dma_write(uint16_t key, const void *buf, uint32_t len)
{
	return gfw_dma(((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
		       (void *)buf, len);
}

#define GFW_DIR_MAX 128
struct gfw_dir_raw {
	uint32_t count;                   /* BE */
	struct {
		uint32_t size;            /* BE */
		uint16_t select;          /* BE */
		uint16_t reserved;
		char name[FW_CFG_MAX_FILE_PATH];
	} f[GFW_DIR_MAX];
} __attribute__((packed));
static struct gfw_dir_raw dir_raw;

int gfw_list_files(struct gfw_file *out, int max, uint32_t *total)
{
	uint32_t n;

	if (gfw_has_dma()) {
		if (gfw_dma_read(FW_CFG_FILE_DIR, &dir_raw, sizeof(dir_raw)) != 0)
			return -1;
		n = bswap32(dir_raw.count);
	} else {
		gfw_select(FW_CFG_FILE_DIR);
		gfw_pio_read(&dir_raw.count, 4);
		n = bswap32(dir_raw.count);
		gfw_pio_read(dir_raw.f, (n < GFW_DIR_MAX ? n : GFW_DIR_MAX) * sizeof(dir_raw.f[0]));
	}
	if (total)
		*total = n;
	if (n > GFW_DIR_MAX)
		n = GFW_DIR_MAX;
	if ((int)n > max)
		n = (uint32_t)max;
	for (uint32_t i = 0; i < n; i++) {
		out[i].size = bswap32(dir_raw.f[i].size);
		out[i].select = (uint16_t)(bswap32(dir_raw.f[i].select) >> 16);
		memcpy(out[i].name, dir_raw.f[i].name, FW_CFG_MAX_FILE_PATH);
		out[i].name[FW_CFG_MAX_FILE_PATH - 1] = '\0';
	}
	return (int)n;
}

static struct gfw_file files[GFW_DIR_MAX];

int gfw_find_file(const char *name, uint16_t *key, uint32_t *size)
{
	int n = gfw_list_files(files, GFW_DIR_MAX, NULL);

	for (int i = 0; i < n; i++) {
		if (strcmp(files[i].name, name) == 0) {
			*key = files[i].select;
			*size = files[i].size;
			return 0;
		}
	}
	return -1;
}

int gfw_write_file(const char *name, const void *buf, uint32_t len)
{
	uint16_t key;
	uint32_t size;

	if (gfw_find_file(name, &key, &size) != 0)
		return -1;
	return gfw_dma_write(key, buf, len) == 0 ? 0 : -2;
}

/* ---- boot counters ---- */
struct bootrec {
	uint32_t magic;
	uint32_t count;
	uint32_t count_inv;
	uint32_t method;
	uint32_t check;
	uint32_t pad[3];
};

static const uint32_t bootrec_magic[2] = { 0x544f4f42 /* "BOOT" */, 0x544e4554 /* "TENT" */ };
static const uint32_t bootrec_addr[2][2] = {
	{ BOOTREC_MAIN_A, BOOTREC_MAIN_B },
	{ BOOTREC_TENANT_A, BOOTREC_TENANT_B },
};

static uint32_t bootrec_sum(const volatile struct bootrec *r)
{
	uint32_t h = 0x811c9dc5;

	h = (h ^ r->magic) * 0x01000193;
	h = (h ^ r->count) * 0x01000193;
	h = (h ^ r->count_inv) * 0x01000193;
	h = (h ^ r->method) * 0x01000193;
	return h;
}

static volatile struct bootrec *bootrec_at(enum bootrec_id id, int copy)
{
	return (volatile struct bootrec *)bootrec_addr[id][copy];
}

static int bootrec_valid(enum bootrec_id id, const volatile struct bootrec *r)
{
	return r->magic == bootrec_magic[id] && r->count_inv == ~r->count &&
	       r->check == bootrec_sum(r);
}

static int bootrec_zero(const volatile struct bootrec *r)
{
	const volatile uint32_t *w = (const volatile uint32_t *)r;

	for (int i = 0; i < 8; i++)
		if (w[i])
			return 0;
	return 1;
}

/* Returns the count (0 = never booted) and the stored method; FAILs on any
 * inconsistency between the two copies. */
static uint32_t bootrec_load(enum bootrec_id id, uint32_t *method)
{
	volatile struct bootrec *a = bootrec_at(id, 0), *b = bootrec_at(id, 1);
	int va = bootrec_valid(id, a), vb = bootrec_valid(id, b);

	*method = RESET_METHODS;
	if (!va && !vb && bootrec_zero(a) && bootrec_zero(b))
		return 0;
	if (!va || !vb)
		guest_fail("boot counter %d: copy A at 0x%x %s, copy B at 0x%x %s (RAM lost or corrupted)",
			   id, bootrec_addr[id][0], va ? "valid" : "invalid",
			   bootrec_addr[id][1], vb ? "valid" : "invalid");
	if (a->count != b->count || a->method != b->method)
		guest_fail("boot counter %d: copies disagree (%u vs %u)", id, a->count, b->count);
	*method = a->method;
	return a->count;
}

static void bootrec_store(enum bootrec_id id, uint32_t count, uint32_t method)
{
	for (int c = 0; c < 2; c++) {
		volatile struct bootrec *r = bootrec_at(id, c);

		r->magic = bootrec_magic[id];
		r->count = count;
		r->count_inv = ~count;
		r->method = method;
		r->pad[0] = r->pad[1] = r->pad[2] = 0;
		r->check = bootrec_sum(r);
	}
}

uint32_t bootrec_advance(enum bootrec_id id, uint32_t *prev_method)
{
	uint32_t method, n = bootrec_load(id, &method) + 1;

	if (prev_method)
		*prev_method = method;
	bootrec_store(id, n, RESET_METHODS);
	return n;
}

void bootrec_set_method(enum bootrec_id id, uint32_t method)
{
	uint32_t m, n = bootrec_load(id, &m);

	bootrec_store(id, n, method);
}

uint32_t bootrec_peek(enum bootrec_id id)
{
	uint32_t m;

	return bootrec_load(id, &m);
}

/* ---- interrupts ---- */

void rt_idt_set(unsigned vec, const void *handler)
{
	uint32_t a = (uint32_t)(uintptr_t)handler;
	volatile uint32_t *g = (volatile uint32_t *)(IDT_ADDR + 8 * (vec & 0xff));

	g[0] = (SEL_CODE32 << 16) | (a & 0xffff);
	g[1] = (a & 0xffff0000u) | 0x8e00;   /* present, DPL 0, 32-bit interrupt gate */
}

void rt_idt_load(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = {
		256 * 8 - 1, IDT_ADDR
	};

	__asm__ volatile("lidt %0" : : "m"(idtr));
}
