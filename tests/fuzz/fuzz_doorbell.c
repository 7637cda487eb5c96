/* tests/fuzz/fuzz_doorbell.c: libFuzzer target for devices/doorbell.c.
 * The input is a config byte, guest memory contents and a sequence of
 * select / whole or partial write / write through fw_cfg DMA (checked on
 * the doorbell's worker, left in flight or waited for) / reset / policy /
 * clock / memory operations.  Checks: no crash, no leak, the shadow struct stays sane,
 * every image handed out matches its digest and stays within policy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#include "fuzz_input.h"

#define LOW_SIZE  0x40000ULL              /* RAM [0, 256K) */
#define MID_GPA   0x100000ULL             /* RAM [1M, 1M+256K) */
#define MID_SIZE  0x40000ULL
#define PRIV_GPA  0x200000ULL             /* private RAM, no host view */
#define ROM_GPA   (0x100000000ULL - 0x10000ULL)
#define ROM_SIZE  0x10000ULL
#define MAX_IMAGE 0x80000ULL
#define DMA_DESC  (LOW_SIZE - 0x100)      /* the guest's DMA descriptor */
#define DMA_BUF   (LOW_SIZE - 0x80)       /* and the struct it writes */

static uint64_t fake_now;

static uint64_t fuzz_clock(void *opaque)
{
	return fake_now;
}

static int fuzz_validate(void *opaque, uint64_t format, const uint8_t *img,
			 size_t len, char *why, size_t whylen)
{
	if (len && img[0] == 0xBA) {
		/* Hostile reason text: long, with quotes and control bytes. */
		memset(why, '"', whylen);
		why[whylen / 2] = '\n';
		return -1;
	}
	return 0;
}

static void fuzz_event(void *opaque, const struct doorbell_event *ev)
{
	char line[512];

	doorbell_event_format(ev, line, sizeof(line));
}

/* An address: either raw from the input or steered into the memory map. */
static uint64_t pick_addr(struct in *in)
{
	uint8_t how = take8(in);
	uint64_t v = take64(in);

	switch (how & 3) {
	case 0: return v;
	case 1: return v % (LOW_SIZE + 0x1000);
	case 2: return MID_GPA + v % (MID_SIZE + 0x1000);
	default: return (how & 4) ? ROM_GPA + v % ROM_SIZE : PRIV_GPA + v % 0x2000;
	}
}

static uint64_t pick_size(struct in *in)
{
	uint8_t how = take8(in);
	uint64_t v = take64(in);

	switch (how & 3) {
	case 0: return v;
	case 1: return (v % 64) * 4096;
	default: return v % (MAX_IMAGE + 0x2000);
	}
}

static uint64_t pick_control(struct in *in)
{
	static const uint64_t bits[] = {
		DOORBELL_CTL_DISABLE, DOORBELL_CTL_HOST_IGVM,
		DOORBELL_FORMAT_IGVM, DOORBELL_FORMAT_RAW_ROM,
	};
	uint8_t how = take8(in);
	uint64_t c = 0;

	if (how & 0x80)
		return take64(in);
	for (unsigned i = 0; i < 4; i++)
		if (how & (1u << i))
			c |= bits[i];
	return c;
}

static void check_image(const struct doorbell_image *img)
{
	uint8_t md[48];

	if (!img)
		return;
	if (img->len == 0 || img->len > MAX_IMAGE ||
	    (img->format != DOORBELL_FORMAT_IGVM &&
	     img->format != DOORBELL_FORMAT_RAW_ROM))
		__builtin_trap();
	if (!EVP_Digest(img->data, img->len, md, NULL, EVP_sha384(), NULL) ||
	    memcmp(md, img->sha384, 48))
		__builtin_trap();
}

static void check_shadow(struct doorbell *db)
{
	const uint8_t *b = doorbell_buffer(db);
	uint64_t ctl = 0;

	doorbell_fwcfg_select(db);
	for (int i = 7; i >= 0; i--)
		ctl = ctl << 8 | b[16 + i];
	if (b[0] != DOORBELL_VERSION || b[1] != 0 || b[3] != 0 || b[2] > 8 ||
	    (ctl & ~DOORBELL_CTL_DISABLE))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t low[LOW_SIZE], mid[MID_SIZE], rom[ROM_SIZE];
	struct in in = { data, size };
	struct doorbell_config cfg = { 0 };
	struct guestmem gm;
	struct doorbell *db;
	struct fwcfg *fw;
	uint8_t flags;
	size_t n;

	log_set_level(LOG_ERR);
	gm_init(&gm);
	memset(low, 0, sizeof(low));
	memset(mid, 0, sizeof(mid));
	if (gm_add(&gm, 0, LOW_SIZE, low, GM_RAM, "low") ||
	    gm_add(&gm, MID_GPA, MID_SIZE, mid, GM_RAM, "mid") ||
	    gm_add(&gm, PRIV_GPA, 0x2000, NULL, GM_RAM | GM_PRIVATE, "priv") ||
	    gm_add(&gm, ROM_GPA, ROM_SIZE, rom, GM_ROM, "rom"))
		__builtin_trap();

	flags = take8(&in);
	cfg.gm = &gm;
	cfg.raw_rom = flags & 1;
	cfg.igvm = flags & 2;
	cfg.policy.enabled = !(flags & 4);
	cfg.policy.locked = flags & 8;
	cfg.policy.max_image_size = (uint64_t)take8(&in) << 12;
	cfg.policy.max_opaque_size = (uint64_t)take8(&in) << 8;
	cfg.policy.min_reset_interval_ns = take8(&in);
	cfg.max_raw_rom_size = (flags & 16) ? 0x20000 : 0;
	cfg.fw_gpa = ROM_GPA;
	cfg.fw_size = ROM_SIZE;
	cfg.validate = fuzz_validate;
	cfg.event = fuzz_event;
	cfg.clock = fuzz_clock;
	fake_now = 0;
	db = doorbell_create(&cfg);
	fw = fwcfg_create(&gm);
	if (!db || !fw || doorbell_attach(db, fw))
		__builtin_trap();

	/* Seed guest memory from the input. */
	n = take8(&in) * 64;
	for (size_t i = 0; i < n && in.n; i++) {
		low[(i * 61) % LOW_SIZE] = take8(&in);
		mid[(i * 97) % MID_SIZE] = take8(&in);
	}

	for (unsigned step = 0; step < 64 && in.n; step++) {
		uint8_t op = take8(&in);
		uint8_t *b = doorbell_buffer(db);

		switch (op % 8) {
		case 0:
			doorbell_fwcfg_select(db);
			break;
		case 1: {   /* whole-struct write, after a select */
			doorbell_fwcfg_select(db);
			le_wr64(b + 16, pick_control(&in));
			le_wr64(b + 24, pick_addr(&in));
			le_wr64(b + 32, pick_size(&in));
			le_wr64(b + 40, pick_addr(&in));
			le_wr64(b + 48, pick_size(&in));
			if (op & 8)
				b[take8(&in) % DOORBELL_STRUCT_SIZE] = take8(&in);
			doorbell_fwcfg_write(db, 0, DOORBELL_STRUCT_SIZE);
			break;
		}
		case 2: {   /* arbitrary partial write */
			uint8_t off = take8(&in) % DOORBELL_STRUCT_SIZE;
			uint8_t len = take8(&in) % (DOORBELL_STRUCT_SIZE - off + 1);

			for (unsigned i = 0; i < len; i++)
				b[off + i] = take8(&in);
			doorbell_fwcfg_write(db, off, len);
			break;
		}
		case 3: {   /* guest reset */
			const struct doorbell_image *img = NULL;
			enum doorbell_fw_choice ch = doorbell_take_pending(db, &img);

			if (ch == DOORBELL_FW_GUEST && !img)
				__builtin_trap();
			if (ch == DOORBELL_FW_HOST && img)
				__builtin_trap();
			check_image(img);
			doorbell_on_rebuilt(db, (take8(&in) & 7) == 7 ? -22 : 0);
			break;
		}
		case 4: {   /* host policy change */
			struct doorbell_policy p;
			uint8_t f = take8(&in);

			doorbell_get_policy(db, &p);
			p.enabled = !(f & 1);
			p.locked = f & 2;
			p.max_image_size = (uint64_t)take8(&in) << 12;
			p.max_opaque_size = (uint64_t)take8(&in) << 8;
			p.min_reset_interval_ns = take8(&in);
			if (doorbell_set_policy(db, &p))
				__builtin_trap();
			break;
		}
		case 5:
			if (!(op & 8)) {
				fake_now += take8(&in);
				break;
			}
			{   /* a whole-struct write through fw_cfg DMA */
				uint8_t req[DOORBELL_STRUCT_SIZE] = { 0 }, d[16];
				uint32_t c = (uint32_t)FW_CFG_FILE_FIRST << 16 |
					     FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;

				le_wr64(req + 16, pick_control(&in));
				le_wr64(req + 24, pick_addr(&in));
				le_wr64(req + 32, pick_size(&in));
				le_wr64(req + 40, pick_addr(&in));
				le_wr64(req + 48, pick_size(&in));
				for (int i = 0; i < 4; i++) {
					d[i] = (uint8_t)(c >> (24 - 8 * i));
					d[4 + i] = (uint8_t)(DOORBELL_STRUCT_SIZE >> (24 - 8 * i));
				}
				for (int i = 0; i < 8; i++)
					d[8 + i] = (uint8_t)(DMA_BUF >> (56 - 8 * i));
				if (gm_write(&gm, DMA_BUF, req, sizeof(req)) ||
				    gm_write(&gm, DMA_DESC, d, sizeof(d)))
					__builtin_trap();
				fwcfg_dma_kick(fw, DMA_DESC);
				if (op & 16)
					doorbell_quiesce(db);
			}
			break;
		case 6: {   /* the guest rewrites memory (images already taken
			       must not change) */
			uint64_t a = pick_addr(&in);
			uint8_t v = take8(&in), l = take8(&in);
			uint8_t tmp[256];

			memset(tmp, v, sizeof(tmp));
			(void)gm_write(&gm, a, tmp, l);
			break;
		}
		default:
			doorbell_set_fw_region(db, pick_addr(&in), pick_size(&in));
			break;
		}
		check_shadow(db);
	}
	doorbell_destroy(db);   /* joins the worker: a check in flight ends */
	fwcfg_destroy(fw);
	return 0;
}
