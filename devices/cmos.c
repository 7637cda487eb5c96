/* devices/cmos.c: MC146818A RTC/NVRAM (Motorola MC146818A data sheet;
 * memory-size bytes as QEMU hw/i386/pc.c pc_cmos_init and
 * x86_rtc_set_cpus_count write them).
 * Owns: the register file and the guest clock offset.  Must not change the
 * host clock or touch KVM. */
#include "devices/cmos.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/base/bus.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* Clock and control registers (MC146818A). */
#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MONTH   0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32   /* IBM PC convention (ACPI FADT CENTURY) */

#define A_UIP       0x80
#define B_SET       0x80
#define B_PIE       0x40
#define B_AIE       0x20
#define B_UIE       0x10
#define B_SQWE      0x08
#define B_DM_BIN    0x04
#define B_24H       0x02
#define D_VRT       0x80

/* The update cycle takes 244 us before each second boundary is visible;
 * UIP is set for that window (MC146818A, "Update cycle"). */
#define UIP_WINDOW_NS 244000LL

struct cmos {
	uint8_t ram[CMOS_SIZE];
	uint8_t index;
	int64_t offset_s;          /* guest time - host time, seconds */
	cmos_clock_fn now;
	void *now_opaque;
};

static int64_t clock_realtime(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t host_ns(const struct cmos *c)
{
	return c->now(c->now_opaque);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_bin(const struct cmos *c) { return c->ram[REG_B] & B_DM_BIN; }

static uint8_t to_reg(const struct cmos *c, int v)
{
	if (v < 0)
		v = 0;
	if (is_bin(c))
		return (uint8_t)v;
	v %= 100;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(const struct cmos *c, uint8_t v)
{
	if (is_bin(c))
		return v;
	return ((v >> 4) & 0x0f) * 10 + (v & 0x0f);
}

/* Write the guest's current time into the clock registers. */
static void cmos_latch(struct cmos *c)
{
	time_t t = (time_t)(floor_div(host_ns(c), 1000000000LL) + c->offset_s);
	struct tm tm;
	int hour;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	c->ram[REG_SEC] = to_reg(c, tm.tm_sec);
	c->ram[REG_MIN] = to_reg(c, tm.tm_min);
	if (c->ram[REG_B] & B_24H) {
		c->ram[REG_HOUR] = to_reg(c, tm.tm_hour);
	} else {
		hour = tm.tm_hour % 12;
		c->ram[REG_HOUR] = (uint8_t)(to_reg(c, hour ? hour : 12) |
					     (tm.tm_hour >= 12 ? 0x80 : 0));
	}
	c->ram[REG_WDAY] = to_reg(c, tm.tm_wday + 1);
	c->ram[REG_MDAY] = to_reg(c, tm.tm_mday);
	c->ram[REG_MONTH] = to_reg(c, tm.tm_mon + 1);
	c->ram[REG_YEAR] = to_reg(c, (tm.tm_year + 1900) % 100);
	c->ram[REG_CENTURY] = to_reg(c, (tm.tm_year + 1900) / 100);
}

/* Take the clock registers as the guest's new time. */
static void cmos_commit(struct cmos *c)
{
	struct tm tm;
	uint8_t h = c->ram[REG_HOUR];
	int hour;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = from_reg(c, c->ram[REG_SEC]);
	tm.tm_min = from_reg(c, c->ram[REG_MIN]);
	if (c->ram[REG_B] & B_24H) {
		hour = from_reg(c, h);
	} else {
		hour = from_reg(c, h & 0x7f) % 12;
		if (h & 0x80)
			hour += 12;
	}
	tm.tm_hour = hour;
	tm.tm_mday = from_reg(c, c->ram[REG_MDAY]);
	tm.tm_mon = from_reg(c, c->ram[REG_MONTH]) - 1;
	tm.tm_year = from_reg(c, c->ram[REG_CENTURY]) * 100 +
		     from_reg(c, c->ram[REG_YEAR]) - 1900;
	/* timegm normalises out-of-range fields; garbage gives a strange but
	 * harmless date. */
	t = timegm(&tm);
	c->offset_s = (int64_t)t - floor_div(host_ns(c), 1000000000LL);
}

static bool is_clock_reg(uint8_t idx)
{
	return idx <= REG_YEAR || idx == REG_CENTURY;
}

static uint8_t cmos_read_reg(struct cmos *c, uint8_t idx)
{
	int64_t ns;

	switch (idx) {
	case REG_A:
		ns = host_ns(c) % 1000000000LL;
		if (ns < 0)
			ns += 1000000000LL;
		return (uint8_t)((c->ram[REG_A] & ~A_UIP) |
				 (!(c->ram[REG_B] & B_SET) &&
				  ns >= 1000000000LL - UIP_WINDOW_NS ? A_UIP : 0));
	case REG_C:
		return 0;
	case REG_D:
		return D_VRT;
	default:
		if (is_clock_reg(idx) && idx != 1 && idx != 3 && idx != 5 &&
		    !(c->ram[REG_B] & B_SET))
			cmos_latch(c);
		return c->ram[idx];
	}
}

static void cmos_write_reg(struct cmos *c, uint8_t idx, uint8_t v)
{
	uint8_t old;

	switch (idx) {
	case REG_A:
		c->ram[REG_A] = v & ~A_UIP;
		return;
	case REG_B:
		old = c->ram[REG_B];
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;
		if (!(old & B_SET) && (v & B_SET)) {
			cmos_latch(c);       /* freeze the time for setting */
			c->ram[REG_B] = v;
		} else if ((old & B_SET) && !(v & B_SET)) {
			c->ram[REG_B] = v;
			cmos_commit(c);      /* the guest's new time runs */
		} else {
			c->ram[REG_B] = v;
		}
		return;
	case REG_C:
	case REG_D:
		return;   /* read-only */
	default:
		if (is_clock_reg(idx) && idx != 1 && idx != 3 && idx != 5 &&
		    !(c->ram[REG_B] & B_SET)) {
			cmos_latch(c);
			c->ram[idx] = v;
			cmos_commit(c);
			return;
		}
		c->ram[idx] = v;
	}
}

static void cmos_io(void *opaque, uint64_t offset, uint8_t *data,
		    unsigned len, bool is_write)
{
	struct cmos *c = opaque;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (offset == 0) {
		/* Index port; bit 7 is the NMI mask, ignored.  Write-only. */
		if (is_write)
			c->index = data[0] & 0x7f;
		else
			data[0] = 0xff;
		return;
	}
	if (is_write)
		cmos_write_reg(c, c->index, data[0]);
	else
		data[0] = cmos_read_reg(c, c->index);
}

struct cmos *cmos_create(uint64_t ram_below_4g, uint64_t ram_above_4g,
			 unsigned ncpus)
{
	const uint64_t KiB = 1024, MiB = 1024 * 1024;
	struct cmos *c = calloc(1, sizeof(*c));
	uint64_t v;

	if (!c) {
		log_err("cmos: out of memory");
		return NULL;
	}
	c->now = clock_realtime;
	c->ram[REG_A] = 0x26;            /* 32.768 kHz divider, 1024 Hz rate */
	c->ram[REG_B] = B_24H;           /* BCD, 24-hour */
	/* pc_cmos_init: base memory in KiB (at most 640). */
	v = ram_below_4g / KiB;
	le_wr16(&c->ram[0x15], v < 640 ? v : 640);
	/* Extended memory above 1 MiB, KiB, capped at 0xffff. */
	v = ram_below_4g > MiB ? (ram_below_4g - MiB) / KiB : 0;
	if (v > 0xffff)
		v = 0xffff;
	le_wr16(&c->ram[0x17], v);
	le_wr16(&c->ram[0x30], v);
	/* Memory between 16 MiB and 4 GiB in 64 KiB units, capped. */
	v = ram_below_4g > 16 * MiB ? (ram_below_4g - 16 * MiB) / (64 * KiB) : 0;
	if (v > 0xffff)
		v = 0xffff;
	le_wr16(&c->ram[0x34], v);
	/* Memory above 4 GiB in 64 KiB units, three bytes. */
	v = ram_above_4g / (64 * KiB);
	le_wrn(&c->ram[0x5b], v, 3);
	/* x86_rtc_set_cpus_count: CPUs - 1, or 0 when it does not fit. */
	c->ram[0x5f] = (uint8_t)(ncpus == 0 || ncpus > 0xff ? 0 : ncpus - 1);
	cmos_latch(c);
	return c;
}

int cmos_attach(struct cmos *c, struct bus *pio)
{
	return bus_register(pio, CMOS_INDEX_PORT, 2, cmos_io, c, "cmos");
}

void cmos_reset(struct cmos *c)
{
	c->ram[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	c->ram[REG_C] = 0;
	c->index = 0;
}

void cmos_destroy(struct cmos *c)
{
	free(c);
}

void cmos_set_clock(struct cmos *c, cmos_clock_fn now, void *opaque)
{
	c->now = now ? now : clock_realtime;
	c->now_opaque = opaque;
}
