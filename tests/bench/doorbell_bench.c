/* tests/bench/doorbell_bench.c: how long a doorbell image write holds the
 * writing vCPU (built and run by tests/bench/bench_doorbell.sh, not by the
 * Makefile).  The real devices/doorbell.c and devices/fwcfg.c over a 64 MiB
 * guest memory map: the guest's fw_cfg DMA write of a request for a raw ROM
 * of SIZE bytes, timed from the port write (fwcfg_dma_kick) to its return,
 * which is what the vCPU thread and the port-I/O bus lock pay, and to the
 * end of the transfer (the control word cleared, the status stored).  The
 * peer is the same write checked inline on the caller's thread, as every
 * write was before the worker (doorbell_fwcfg_write called directly).  The
 * validate callback does nothing: a raw ROM's check is the copy and its
 * SHA-384; an IGVM file's parse adds to the transfer, not to the hold.
 * Prints one line per RUN: "worker HOLD_MS END_MS" and "inline HOLD_MS".
 * Usage: doorbell_bench SIZE_MIB RUNS. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define RAM      (64ULL << 20)
#define DESC     0x1000ULL
#define REQ      0x2000ULL
#define IMAGE    (32ULL << 20)

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int no_check(void *o, uint64_t format, const uint8_t *img, size_t len,
		    char *why, size_t whylen)
{
	return 0;
}

static void put_request(uint8_t *ram, uint64_t size)
{
	uint8_t *s = ram + REQ;

	memset(s, 0, DOORBELL_STRUCT_SIZE);
	le_wr64(s + DOORBELL_OFF_CONTROL, DOORBELL_FORMAT_RAW_ROM);
	le_wr64(s + DOORBELL_OFF_IMAGE_ADDR, IMAGE);
	le_wr64(s + DOORBELL_OFF_IMAGE_SIZE, size);
}

static void put_desc(uint8_t *ram)
{
	uint32_t c = htobe32((uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_WRITE);
	uint32_t l = htobe32(DOORBELL_STRUCT_SIZE);
	uint64_t a = htobe64(REQ);

	memcpy(ram + DESC, &c, 4);
	memcpy(ram + DESC + 4, &l, 4);
	memcpy(ram + DESC + 8, &a, 8);
}

int main(int argc, char **argv)
{
	uint64_t size = (argc > 1 ? strtoull(argv[1], NULL, 0) : 16) << 20;
	int runs = argc > 2 ? atoi(argv[2]) : 20;
	uint8_t *ram = calloc(1, RAM);
	struct doorbell_config cfg = {
		.policy = { .enabled = true, .max_image_size = 16 << 20, .max_opaque_size = 4096 },
		.raw_rom = true, .igvm = true, .max_raw_rom_size = 16 << 20,
		.fw_gpa = 0xffe00000ULL, .fw_size = 2 << 20, .validate = no_check,
	};
	struct guestmem gm;
	struct doorbell *db;
	struct fwcfg *fw;

	if (!ram || size > (16ULL << 20) || IMAGE + size > RAM) {
		fprintf(stderr, "doorbell_bench: SIZE_MIB 1..16\n");
		return 2;
	}
	log_set_level(LOG_ERR);
	gm_init(&gm);
	if (gm_add(&gm, 0, RAM, ram, GM_RAM, "ram"))
		return 1;
	for (uint64_t i = 0; i < size; i++)
		ram[IMAGE + i] = (uint8_t)(i * 7 + (i >> 12));
	cfg.gm = &gm;
	db = doorbell_create(&cfg);
	fw = fwcfg_create(&gm);
	if (!db || !fw || doorbell_attach(db, fw))
		return 1;
	for (int r = 0; r < runs; r++) {
		const struct doorbell_image *img;
		double t0, t1, t2;

		/* the worker: the guest's DMA write, then its poll */
		put_request(ram, size);
		put_desc(ram);
		t0 = now_ms();
		fwcfg_dma_kick(fw, DESC);
		t1 = now_ms();
		while (__atomic_load_n((uint32_t *)(ram + DESC), __ATOMIC_ACQUIRE))
			;
		t2 = now_ms();
		printf("worker %.4f %.3f\n", t1 - t0, t2 - t0);
		doorbell_take_pending(db, &img);
		doorbell_on_rebuilt(db, 0);
		if (!img || img->len != size)
			return 1;

		/* inline: the same write, checked on this thread */
		doorbell_fwcfg_select(db);
		put_request(ram, size);
		memcpy(doorbell_buffer(db), ram + REQ, DOORBELL_STRUCT_SIZE);
		t0 = now_ms();
		doorbell_fwcfg_write(db, 0, DOORBELL_STRUCT_SIZE);
		t1 = now_ms();
		printf("inline %.4f\n", t1 - t0);
		doorbell_take_pending(db, &img);
		doorbell_on_rebuilt(db, 0);
		if (!img || img->len != size)
			return 1;
	}
	doorbell_destroy(db);
	fwcfg_destroy(fw);
	free(ram);
	return 0;
}
