/* tests/fuzz/fuzz_fwcfg_dma.c: libFuzzer target for the fw_cfg PIO and DMA
 * paths.  Input: u16 LE image length, that many bytes of guest RAM image,
 * then a sequence of operations (see run_ops; op byte % 6 picks one).  Owns: only this harness;
 * it must never crash or leak, whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fwcfg.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"

#define RAM_SIZE 0x3000u      /* RAM at [0, 12 KiB) */
#define ROM_GPA  0x10000u     /* ROM page after a hole */
#define RW_SIZE  64

struct harness {
	struct fwcfg *fw;
	uint8_t rw[RW_SIZE];
	unsigned selects;
};

static void on_select(void *opaque)
{
	struct harness *h = opaque;

	h->selects++;
	h->rw[0] = (uint8_t)h->selects;
}

static void on_write(void *opaque, uint64_t off, uint64_t len)
{
	struct harness *h = opaque;

	/* The engine promises in-bounds callbacks. */
	if (off > RW_SIZE || len > RW_SIZE - off || len == 0)
		abort();
	/* Like a real device model: react by changing another item. */
	fwcfg_set_file(h->fw, "etc/ro", h->rw + off, len);
}

struct input {
	const uint8_t *p;
	size_t n;
};

static int take(struct input *in, void *out, size_t n)
{
	if (in->n < n)
		return -1;
	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return 0;
}

static void run_ops(struct harness *h, struct bus *pio, struct input *in)
{
	uint8_t op, b[8];
	uint16_t key;
	uint64_t addr;

	while (take(in, &op, 1) == 0) {
		switch (op % 6) {
		case 0:             /* select (direct and through the port) */
			if (take(in, &key, 2))
				return;
			if (op & 0x80) {
				b[0] = (uint8_t)key;
				b[1] = (uint8_t)(key >> 8);
				bus_access(pio, FWCFG_PORT_SEL, b, 2, true);
			} else {
				fwcfg_select(h->fw, key);
			}
			break;
		case 1:             /* data reads */
			if (take(in, b, 1))
				return;
			for (unsigned i = 0; i < b[0]; i++)
				bus_access(pio, FWCFG_PORT_DATA, b + 1, 1, false);
			break;
		case 2:             /* DMA kick at a small address */
			if (take(in, &key, 2))
				return;
			fwcfg_dma_kick(h->fw, op & 0x80 ? (uint64_t)key + ROM_GPA - 0x100 : key);
			break;
		case 3:             /* DMA kick at any address */
			if (take(in, &addr, 8))
				return;
			fwcfg_dma_kick(h->fw, addr);
			break;
		case 4: {           /* raw port access: ctl byte, then data */
			unsigned len;
			uint8_t ctl;

			if (take(in, &ctl, 1))
				return;
			len = 1u << ((ctl >> 4) & 3);
			if (take(in, b, len))
				return;
			bus_access(pio, FWCFG_PORT_SEL + ctl % 12, b, len,
				   (ctl & 0x80) != 0);
			break;
		}
		case 5:
			fwcfg_reset(h->fw);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM_SIZE], rom[0x1000];
	struct input in = { data, size };
	struct harness h;
	struct guestmem gm;
	struct bus pio;
	uint16_t img;
	size_t n;

	memset(ram, 0, sizeof(ram));
	memset(rom, 0, sizeof(rom));
	memset(&h, 0, sizeof(h));
	if (take(&in, &img, 2))
		return 0;
	n = img < in.n ? img : in.n;
	if (n > RAM_SIZE)
		n = RAM_SIZE;
	memcpy(ram, in.p, n);
	memcpy(rom, in.p, n < sizeof(rom) ? n : sizeof(rom));
	in.p += n;
	in.n -= n;

	gm_init(&gm);
	if (gm_add(&gm, 0, RAM_SIZE, ram, GM_RAM, "ram") ||
	    gm_add(&gm, ROM_GPA, sizeof(rom), rom, GM_ROM, "rom"))
		abort();
	bus_init(&pio);
	h.fw = fwcfg_create(&gm);
	if (!h.fw || fwcfg_attach(h.fw, &pio))
		abort();
	fwcfg_add_u64(h.fw, FW_CFG_RAM_SIZE, RAM_SIZE);
	fwcfg_add_u16(h.fw, FW_CFG_NB_CPUS, 2);
	fwcfg_add_file(h.fw, "etc/ro", "read-only contents", 18);
	fwcfg_add_file(h.fw, "bootorder", "", 0);
	fwcfg_add_file_cb(h.fw, "etc/rw", h.rw, sizeof(h.rw), true,
			  on_select, on_write, &h);
	fwcfg_add_file_cb(h.fw, "etc/sel", h.rw, 8, false, on_select, NULL, &h);

	run_ops(&h, &pio, &in);

	fwcfg_destroy(h.fw);
	bus_free(&pio);
	return 0;
}
