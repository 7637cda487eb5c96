/* devices/cmos.h: MC146818 RTC and CMOS NVRAM at ports 0x70/0x71.
 * Owns: the 128 NVRAM bytes, the guest clock (host UTC plus an offset the
 * guest sets) and the memory-size bytes firmware reads.  No IRQ 8: periodic,
 * alarm and update interrupts are not modelled (register C reads 0). */
#ifndef FUKI_CMOS_H
#define FUKI_CMOS_H

#include <stdint.h>

struct bus;

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT  0x71
#define CMOS_SIZE       128

struct cmos;

/* Memory bytes as QEMU pc_cmos_init fills them from RAM below and above
 * 4 GiB; 0x5f = @ncpus - 1 (0 when ncpus > 255).  NULL on allocation
 * failure. */
struct cmos *cmos_create(uint64_t ram_below_4g, uint64_t ram_above_4g,
			 unsigned ncpus);
int cmos_attach(struct cmos *c, struct bus *pio);
/* System reset: interrupt enables in register B and the flags in register
 * C cleared (the NVRAM and the clock are battery-backed and kept). */
void cmos_reset(struct cmos *c);
void cmos_destroy(struct cmos *c);

/* Clock source, nanoseconds since the Unix epoch (UTC).  Default:
 * CLOCK_REALTIME.  For tests. */
typedef int64_t (*cmos_clock_fn)(void *opaque);
void cmos_set_clock(struct cmos *c, cmos_clock_fn now, void *opaque);

#endif
