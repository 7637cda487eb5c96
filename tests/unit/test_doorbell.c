/* tests/unit/test_doorbell.c: the firmware-swap doorbell (devices/doorbell.c)
 * against QEMU's vm-launch-update table and every hostile write we know of.
 * Owns only its fixtures: a small guest memory map, a fake clock, an event
 * log and a validate callback.  Touches no other module's state. */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define MiB (1ULL << 20)
#define G4 0x100000000ULL

/* Guest map: low RAM [0, 640K), RAM [1M, 32M) + adjacent RAM [32M, 40M),
 * private RAM [64M, 68M) (no host view), firmware ROM [4G-2M, 4G), high
 * RAM [4G, 4G+8M). */
#define LOW_END   0xA0000ULL
#define MID_GPA   (1 * MiB)
#define MID_END   (32 * MiB)
#define ADJ_END   (40 * MiB)
#define PRIV_GPA  (64 * MiB)
#define ROM_GPA   (G4 - 2 * MiB)
#define HIGH_END  (G4 + 8 * MiB)
#define IMG_GPA   (2 * MiB)      /* where tests put images */
#define OPQ_GPA   (20 * MiB)

static struct guestmem gm;
static uint8_t *low, *mid, *adj, *rom, *high;
static struct doorbell *db;
static uint64_t now_ns;

#define MAX_EV 32
static struct doorbell_event evs[MAX_EV];
static char ev_why[MAX_EV][200];
static int nev;

static uint64_t fake_clock(void *opaque)
{
	return now_ns;
}

static void record_event(void *opaque, const struct doorbell_event *ev)
{
	if (nev < MAX_EV) {
		evs[nev] = *ev;
		snprintf(ev_why[nev], sizeof(ev_why[nev]), "%s", ev->reason);
		evs[nev].reason = ev_why[nev];
		nev++;
	}
}

/* Test validator: IGVM images must start with "IGVM"; raw ROMs must not
 * start with 0xBA. */
static int validate(void *opaque, uint64_t format, const uint8_t *img,
		    size_t len, char *why, size_t whylen)
{
	if (format == DOORBELL_FORMAT_IGVM && (len < 4 || memcmp(img, "IGVM", 4))) {
		snprintf(why, whylen, "no IGVM magic");
		return -EINVAL;
	}
	if (format == DOORBELL_FORMAT_RAW_ROM && img[0] == 0xBA) {
		snprintf(why, whylen, "bad \"ROM\"\n");
		return -EINVAL;
	}
	return 0;
}

static struct doorbell_policy default_policy(void)
{
	return (struct doorbell_policy){
		.enabled = true, .max_image_size = 4 * MiB,
		.max_opaque_size = 64 * 1024, .min_reset_interval_ns = 0,
		.locked = false,
	};
}

static struct doorbell_config base_config(void)
{
	return (struct doorbell_config){
		.gm = &gm, .policy = default_policy(), .raw_rom = true,
		.igvm = true, .fw_gpa = ROM_GPA, .fw_size = 2 * MiB,
		.validate = validate, .event = record_event,
		.clock = fake_clock,
	};
}

static void setup_mem(void)
{
	log_set_level(LOG_ERR);
	gm_init(&gm);
	low = calloc(1, LOW_END);
	mid = calloc(1, MID_END - MID_GPA);
	adj = calloc(1, ADJ_END - MID_END);
	rom = calloc(1, 2 * MiB);
	high = calloc(1, HIGH_END - G4);
	cr_assert(low && mid && adj && rom && high);
	cr_assert_eq(gm_add(&gm, 0, LOW_END, low, GM_RAM, "low"), 0);
	cr_assert_eq(gm_add(&gm, MID_GPA, MID_END - MID_GPA, mid, GM_RAM, "mid"), 0);
	cr_assert_eq(gm_add(&gm, MID_END, ADJ_END - MID_END, adj, GM_RAM, "adj"), 0);
	cr_assert_eq(gm_add(&gm, PRIV_GPA, 4 * MiB, NULL, GM_RAM | GM_PRIVATE, "priv"), 0);
	cr_assert_eq(gm_add(&gm, ROM_GPA, 2 * MiB, rom, GM_ROM, "rom"), 0);
	cr_assert_eq(gm_add(&gm, G4, HIGH_END - G4, high, GM_RAM, "high"), 0);
	now_ns = 0;
	nev = 0;
}

static void setup(void)
{
	struct doorbell_config cfg = base_config();

	setup_mem();
	db = doorbell_create(&cfg);
	cr_assert_not_null(db);
}

static void teardown(void)
{
	doorbell_destroy(db);
	db = NULL;
	free(low);
	free(mid);
	free(adj);
	free(rom);
	free(high);
}

TestSuite(doorbell, .init = setup, .fini = teardown);

/* ---- helpers: what a guest does over fw_cfg DMA ---- */

struct view {
	uint16_t version, status;
	uint64_t caps, control, addr, size, oaddr, osize;
};

/* SELECT then READ of the whole file. */
static struct view db_read(void)
{
	const uint8_t *b;
	struct view v;

	doorbell_fwcfg_select(db);
	b = doorbell_buffer(db);
	v.version = (uint16_t)(b[0] | b[1] << 8);
	v.status = (uint16_t)(b[2] | b[3] << 8);
	v.caps = le_rd64(b + 8);
	v.control = le_rd64(b + 16);
	v.addr = le_rd64(b + 24);
	v.size = le_rd64(b + 32);
	v.oaddr = le_rd64(b + 40);
	v.osize = le_rd64(b + 48);
	return v;
}

/* SELECT then a DMA WRITE of @len bytes at @off taken from a full struct. */
static uint16_t db_write_part(uint64_t ctl, uint64_t addr, uint64_t size,
			      uint64_t oaddr, uint64_t osize, unsigned off,
			      unsigned len)
{
	uint8_t s[DOORBELL_STRUCT_SIZE] = { 0 };

	le_wr64(s + 16, ctl);
	le_wr64(s + 24, addr);
	le_wr64(s + 32, size);
	le_wr64(s + 40, oaddr);
	le_wr64(s + 48, osize);
	doorbell_fwcfg_select(db);
	memcpy(doorbell_buffer(db) + off, s + off, len);
	doorbell_fwcfg_write(db, off, len);
	return db_read().status;
}

static uint16_t db_write(uint64_t ctl, uint64_t addr, uint64_t size)
{
	return db_write_part(ctl, addr, size, 0, 0, 0, DOORBELL_STRUCT_SIZE);
}

/* Put a recognisable raw ROM of @len bytes at guest @gpa. */
static void put_image(uint64_t gpa, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	cr_assert_eq(gm_write(&gm, gpa, buf, len), 0);
	free(buf);
}

static void sha384_of(uint64_t gpa, size_t len, uint8_t out[48])
{
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	cr_assert_eq(gm_read(&gm, gpa, buf, len), 0);
	cr_assert(EVP_Digest(buf, len, out, NULL, EVP_sha384(), NULL));
	free(buf);
}

#define RAW DOORBELL_FORMAT_RAW_ROM
#define IGVM DOORBELL_FORMAT_IGVM
#define HOST DOORBELL_CTL_HOST_IGVM
#define DISABLE DOORBELL_CTL_DISABLE
#define IMG_LEN (64 * 1024)

/* One reset: take the decision and report a successful rebuild. */
static enum doorbell_fw_choice do_reset(const struct doorbell_image **img)
{
	enum doorbell_fw_choice ch = doorbell_take_pending(db, img);

	doorbell_on_rebuilt(db, 0);
	return ch;
}

static uint16_t submit_raw(uint64_t extra_ctl, uint8_t seed)
{
	put_image(IMG_GPA, IMG_LEN, seed);
	return db_write(RAW | extra_ctl, IMG_GPA, IMG_LEN);
}

/* ---- select / capabilities ---- */

Test(doorbell, select_refreshes_header)
{
	struct view v = db_read();

	cr_assert_eq(v.version, 1);
	cr_assert_eq(v.status, DOORBELL_SUCCESS);
	cr_assert_eq(v.caps, RAW | IGVM);
	cr_assert_eq(v.control, 0);
	/* A guest scribbling over version/capabilities is not believed. */
	memset(doorbell_buffer(db), 0xff, DOORBELL_STRUCT_SIZE);
	v = db_read();
	cr_assert_eq(v.version, 1);
	cr_assert_eq(v.caps, RAW | IGVM);
	cr_assert_eq(v.control, 0);
	cr_assert_eq(v.addr, 0);
	cr_assert_eq(v.oaddr, 0);
}

Test(doorbell, caps_follow_config_and_policy)
{
	struct doorbell_config cfg = base_config();
	struct doorbell_policy p = default_policy();

	doorbell_destroy(db);
	cfg.igvm = false;
	db = doorbell_create(&cfg);
	cr_assert_not_null(db);
	cr_assert_eq(db_read().caps, RAW);
	p.enabled = false;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(db_read().caps, 0);
}

Test(doorbell, create_rejects_bad_config)
{
	struct doorbell_config cfg = base_config();

	cfg.validate = NULL;   /* IGVM without a parser */
	cr_assert_null(doorbell_create(&cfg));
	cfg = base_config();
	cfg.policy.max_image_size = DOORBELL_IMAGE_HARD_MAX + 1;
	cr_assert_null(doorbell_create(&cfg));
	cfg = base_config();
	cfg.gm = NULL;
	cr_assert_null(doorbell_create(&cfg));
}

/* ---- QEMU's four CTL_HOST_IGVM / CTL_DISABLE combinations ---- */

Test(doorbell, combo_a_permanent_updatable)
{
	const struct doorbell_image *img;
	uint8_t want[48];
	struct view v;

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	sha384_of(IMG_GPA, IMG_LEN, want);
	v = db_read();
	cr_assert_eq(v.addr, 0, "addresses cleared on success (QEMU)");
	cr_assert_eq(v.size, 0);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_not_null(img);
	cr_assert_eq(img->format, RAW);
	cr_assert_eq(img->len, IMG_LEN);
	cr_assert_arr_eq(img->sha384, want, 48);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_not_null(img, "still the guest image after a plain reset");
	cr_assert_arr_eq(img->sha384, want, 48);
	cr_assert_not(doorbell_is_disabled(db));
	/* Updating again is possible. */
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
}

Test(doorbell, combo_b_permanent_locked)
{
	const struct doorbell_image *img;

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(db_write(DISABLE, 0, 0), DOORBELL_SUCCESS);
	cr_assert(doorbell_is_disabled(db));
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_not_null(img);
	cr_assert(doorbell_is_disabled(db), "disable survives plain resets");
	cr_assert_eq(db_read().control, DISABLE);
	cr_assert_eq(submit_raw(0, 3), DOORBELL_SUCCESS, "ignored, status 0");
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
}

Test(doorbell, combo_c_one_shot_updatable)
{
	const struct doorbell_image *img;

	cr_assert_eq(submit_raw(HOST, 1), DOORBELL_SUCCESS);
	/* Reading the status back (a select) must not cancel the one-shot. */
	cr_assert_eq(db_read().status, DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_not_null(img);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_HOST);
	cr_assert_null(img);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img);
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
}

Test(doorbell, combo_d_one_shot_locked)
{
	const struct doorbell_image *img;

	cr_assert_eq(submit_raw(HOST, 1), DOORBELL_SUCCESS);
	cr_assert_eq(db_write(DISABLE | HOST, 0, 0), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert(doorbell_is_disabled(db));
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);   /* ignored */
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	cr_assert_eq(do_reset(&img), DOORBELL_FW_HOST);
	cr_assert_null(img);
	cr_assert_not(doorbell_is_disabled(db), "host restore re-enables");
	cr_assert_eq(db_read().control, 0);
	cr_assert_eq(submit_raw(0, 3), DOORBELL_SUCCESS);
	cr_assert(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
}

Test(doorbell, host_restore_request_now)
{
	const struct doorbell_image *img;

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_eq(db_write(HOST, 0, 0), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_HOST);
	cr_assert_null(img);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img);
}

Test(doorbell, latest_request_wins)
{
	const struct doorbell_image *img;

	/* Image then host-restore: the image is dropped. */
	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(db_write(HOST, 0, 0), DOORBELL_SUCCESS);
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img);
	/* Host-restore then image: the image runs. */
	cr_assert_eq(db_write(HOST, 0, 0), DOORBELL_SUCCESS);
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
}

Test(doorbell, disable_write_ignores_image_fields)
{
	cr_assert_eq(submit_raw(DISABLE, 1), DOORBELL_SUCCESS);
	cr_assert(doorbell_is_disabled(db));
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	/* QEMU's disable test: writing 0 does not re-enable. */
	cr_assert_eq(db_write(0, 0, 0), DOORBELL_SUCCESS);
	cr_assert_eq(db_read().control, DISABLE);
}

Test(doorbell, write_after_disable_changes_nothing)
{
	struct doorbell_stats st;
	struct view v;

	cr_assert_eq(db_write(DISABLE, 0, 0), DOORBELL_SUCCESS);
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, OPQ_GPA, 4096, 0, 56),
		     DOORBELL_SUCCESS);
	v = db_read();
	cr_assert_eq(v.control, DISABLE);
	cr_assert_eq(v.addr, IMG_GPA, "receipt: not cleared, nothing installed");
	cr_assert_eq(v.oaddr, 0, "opaque not taken");
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	doorbell_get_stats(db, &st);
	cr_assert_eq(st.accepted, 0);
	cr_assert_eq(st.rejected, 0);
}

/* ---- hostile writes, each with its exact status ---- */

Test(doorbell, zero_addr_or_size_with_format)
{
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write(RAW, 0, IMG_LEN), DOORBELL_LOAD_FAIL);
	cr_assert_eq(db_write(RAW, IMG_GPA, 0), DOORBELL_LOAD_FAIL);
	cr_assert_eq(db_write(IGVM, 0, 0), DOORBELL_LOAD_FAIL);
}

Test(doorbell, range_without_format)
{
	struct view v;

	/* QEMU's check_error(): 0xdeadbeef/50 without a format bit. */
	cr_assert_eq(db_write(0, 0xdeadbeef, 50), DOORBELL_LOAD_FAIL);
	v = db_read();
	cr_assert_eq(v.addr, 0xdeadbeef, "failed write: addresses not cleared");
	cr_assert_eq(v.size, 50);
}

Test(doorbell, over_policy_sizes)
{
	struct doorbell_policy p = default_policy();

	cr_assert_eq(db_write(RAW, IMG_GPA, 4 * MiB + 4096), DOORBELL_TOO_LARGE);
	cr_assert_eq(db_write(IGVM, IMG_GPA, 4 * MiB + 1), DOORBELL_TOO_LARGE);
	/* Raw ROM: the host's limit even when the policy allows more. */
	p.max_image_size = 20 * MiB;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(db_write(RAW, IMG_GPA, DOORBELL_RAW_ROM_MAX + 4096),
		     DOORBELL_TOO_LARGE);
	/* Opaque over its limit. */
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, OPQ_GPA, 64 * 1024 + 1,
				   0, 56), DOORBELL_TOO_LARGE);
	cr_assert_eq(db_write_part(0, 0, 0, OPQ_GPA, 64 * 1024 + 1, 0, 56),
		     DOORBELL_TOO_LARGE);
	/* Huge sizes are refused before any allocation. */
	cr_assert_eq(db_write(IGVM, IMG_GPA, UINT64_MAX), DOORBELL_TOO_LARGE);
}

Test(doorbell, bad_ranges)
{
	cr_assert_eq(db_write(RAW, UINT64_MAX - 4095, 8192), DOORBELL_BAD_RANGE,
		     "64-bit overflow");
	cr_assert_eq(db_write(IGVM, UINT64_MAX, 1), DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write(RAW, HIGH_END - 4096, 8192), DOORBELL_BAD_RANGE,
		     "past the end of RAM");
	cr_assert_eq(db_write(RAW, HIGH_END, 4096), DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write(RAW, 0xE0000000ULL, 4096), DOORBELL_BAD_RANGE,
		     "MMIO hole");
	cr_assert_eq(db_write(RAW, ROM_GPA, 4096), DOORBELL_BAD_RANGE,
		     "firmware ROM");
	cr_assert_eq(db_write(RAW, LOW_END - 4096, 8192), DOORBELL_BAD_RANGE,
		     "across the VGA hole");
	cr_assert_eq(db_write(RAW, ADJ_END - 4096, 8192), DOORBELL_BAD_RANGE,
		     "across the end of RAM into a hole");
	cr_assert_eq(db_write(RAW, PRIV_GPA, 4096), DOORBELL_BAD_RANGE,
		     "private memory");
	cr_assert_eq(db_write(RAW, G4 - 4096, 8192), DOORBELL_BAD_RANGE,
		     "from the ROM into high RAM");
	/* Adjacent RAM regions are one range. */
	put_image(MID_END - 8192, 16384, 3);
	cr_assert_eq(db_write(RAW, MID_END - 8192, 16384), DOORBELL_SUCCESS);
}

Test(doorbell, firmware_region_in_ram)
{
	/* Confidential layouts keep the firmware in RAM. */
	doorbell_set_fw_region(db, 8 * MiB, 2 * MiB);
	put_image(7 * MiB, 2 * MiB, 1);
	cr_assert_eq(db_write(RAW, 7 * MiB, 2 * MiB), DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write(RAW, 9 * MiB, 4096), DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write(RAW, 10 * MiB - 4096, 4096), DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write(RAW, 6 * MiB, 2 * MiB), DOORBELL_SUCCESS,
		     "touching but not overlapping");
	cr_assert_eq(db_write_part(RAW, 6 * MiB, 2 * MiB, 9 * MiB, 4096, 0, 56),
		     DOORBELL_BAD_RANGE, "opaque over the firmware");
}

Test(doorbell, opaque_range_checked)
{
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, 0xE0000000ULL, 4096, 0, 56),
		     DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, UINT64_MAX, 2, 0, 56),
		     DOORBELL_BAD_RANGE);
	cr_assert_eq(db_write_part(0, 0, 0, PRIV_GPA, 4096, 0, 56),
		     DOORBELL_BAD_RANGE);
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	cr_assert_eq(db_read().osize, 0);
}

Test(doorbell, raw_size_not_page_multiple)
{
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN - 1), DOORBELL_MALFORMED);
	cr_assert_eq(db_write(RAW, IMG_GPA, 100), DOORBELL_MALFORMED);
}

Test(doorbell, validate_rejects_content)
{
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(gm_write(&gm, IMG_GPA, "\xba", 1), 0);
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN), DOORBELL_MALFORMED);
	cr_assert_eq(db_write(IGVM, IMG_GPA, 50), DOORBELL_MALFORMED,
		     "no IGVM magic");
	cr_assert_eq(gm_write(&gm, IMG_GPA, "IGVM", 4), 0);
	cr_assert_eq(db_write(IGVM, IMG_GPA, 50), DOORBELL_SUCCESS,
		     "IGVM sizes need not be page multiples");
}

Test(doorbell, format_bits)
{
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write(RAW | IGVM, IMG_GPA, IMG_LEN), DOORBELL_BAD_FORMAT,
		     "both format bits");
	cr_assert_eq(db_write(1ULL << 40, IMG_GPA, IMG_LEN), DOORBELL_BAD_FORMAT,
		     "unknown format bit alone");
	cr_assert_eq(db_write(RAW | 1ULL << 34, IMG_GPA, IMG_LEN),
		     DOORBELL_BAD_FORMAT);
	cr_assert_eq(db_write(RAW | 1ULL << 5, IMG_GPA, IMG_LEN),
		     DOORBELL_BAD_FORMAT, "unknown control bit");
	cr_assert_eq(db_write(1ULL << 5, 0, 0), DOORBELL_BAD_FORMAT);
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
}

Test(doorbell, igvm_unsupported_is_load_fail)
{
	struct doorbell_config cfg = base_config();

	doorbell_destroy(db);
	cfg.igvm = false;
	db = doorbell_create(&cfg);
	cr_assert_not_null(db);
	cr_assert_eq(db_read().caps & IGVM, 0, "IGVM not advertised");
	cr_assert_eq(gm_write(&gm, IMG_GPA, "IGVM", 4), 0);
	cr_assert_eq(db_write(IGVM, IMG_GPA, 4096), DOORBELL_LOAD_FAIL);
	cr_assert_eq(db_write(IGVM, 0xdeadbeef, 50), DOORBELL_LOAD_FAIL);
}

Test(doorbell, raw_unsupported_is_bad_format)
{
	struct doorbell_config cfg = base_config();

	doorbell_destroy(db);
	cfg.raw_rom = false;
	db = doorbell_create(&cfg);
	cr_assert_not_null(db);
	cr_assert_eq(db_read().caps, IGVM);
	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN), DOORBELL_BAD_FORMAT);
}

Test(doorbell, host_policy_denies)
{
	const struct doorbell_image *img;
	struct doorbell_policy p = default_policy();

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	p.locked = true;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(submit_raw(0, 2), DOORBELL_DENIED);
	/* Going back to the host's own firmware stays possible. */
	cr_assert_eq(db_write(HOST, 0, 0), DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_HOST);
	p.locked = false;
	p.enabled = false;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(submit_raw(0, 3), DOORBELL_DENIED);
	p.enabled = true;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(submit_raw(0, 4), DOORBELL_SUCCESS);
}

Test(doorbell, lock_after_accept_drops_at_reset)
{
	const struct doorbell_image *img;
	struct doorbell_policy p = default_policy();

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	p.locked = true;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img);
	cr_assert_eq(db_read().status, DOORBELL_DENIED);
}

Test(doorbell, policy_setter)
{
	struct doorbell_policy p = default_policy(), q;

	p.max_image_size = DOORBELL_IMAGE_HARD_MAX + 1;
	cr_assert_eq(doorbell_set_policy(db, &p), -EINVAL);
	doorbell_get_policy(db, &q);
	cr_assert_eq(q.max_image_size, 4 * MiB, "unchanged after a refusal");
	p = default_policy();
	p.locked = true;
	p.min_reset_interval_ns = 42;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	doorbell_get_policy(db, &q);
	cr_assert(q.locked);
	cr_assert_eq(q.min_reset_interval_ns, 42);
}

Test(doorbell, partial_writes)
{
	struct view v;

	put_image(IMG_GPA, IMG_LEN, 1);
	/* Control alone, at its own offset: not acted on. */
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, 0, 0, 16, 8),
		     DOORBELL_LOAD_FAIL);
	/* Everything but the opaque fields. */
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, 0, 0, 0, 40),
		     DOORBELL_LOAD_FAIL);
	/* Header only: nothing happens beyond the status. */
	cr_assert_eq(db_write_part(DISABLE, 0, 0, 0, 0, 0, 4), DOORBELL_LOAD_FAIL);
	/* A control-only write carrying CTL_DISABLE does not disable. */
	cr_assert_eq(db_write_part(DISABLE, 0, 0, 0, 0, 16, 8), DOORBELL_LOAD_FAIL);
	cr_assert_not(doorbell_is_disabled(db));
	cr_assert_not(doorbell_pending_digest(db, (uint8_t[48]){ 0 }));
	v = db_read();
	cr_assert_eq(v.control, 0);
	cr_assert_eq(v.version, 1);
	/* The whole struct still works. */
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN), DOORBELL_SUCCESS);
}

Test(doorbell, no_toctou_after_accept)
{
	const struct doorbell_image *img;
	uint8_t want[48], got[48], after[48];
	uint8_t *orig = malloc(IMG_LEN);

	cr_assert_not_null(orig);
	put_image(IMG_GPA, IMG_LEN, 9);
	cr_assert_eq(gm_read(&gm, IMG_GPA, orig, IMG_LEN), 0);
	sha384_of(IMG_GPA, IMG_LEN, want);
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN), DOORBELL_SUCCESS);
	/* The guest rewrites the image after the doorbell accepted it. */
	put_image(IMG_GPA, IMG_LEN, 77);
	sha384_of(IMG_GPA, IMG_LEN, after);
	cr_assert(memcmp(want, after, 48) != 0);
	cr_assert(doorbell_pending_digest(db, got));
	cr_assert_arr_eq(got, want, 48);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_arr_eq(img->sha384, want, 48);
	cr_assert_arr_eq(img->data, orig, IMG_LEN, "the copy, not guest memory");
	free(orig);
}

Test(doorbell, replacing_pending_image)
{
	const struct doorbell_image *img;
	uint8_t second[48];

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);
	sha384_of(IMG_GPA, IMG_LEN, second);
	/* A rejected write keeps the accepted one. */
	cr_assert_eq(db_write(RAW, IMG_GPA, 100), DOORBELL_MALFORMED);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_arr_eq(img->sha384, second, 48);
}

Test(doorbell, rate_limit)
{
	struct doorbell_policy p = default_policy();
	const struct doorbell_image *img;

	p.min_reset_interval_ns = 1000000000ULL;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	/* The initial launch does not start the clock: the first swap right
	 * after boot is the normal flow. */
	now_ns = 500000000ULL;
	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	now_ns = 1000000000ULL;
	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	now_ns = 2000000000ULL;
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);  /* rebuilt at 2 s */
	now_ns = 2999999999ULL;
	cr_assert_eq(submit_raw(0, 2), DOORBELL_RATE_LIMITED);
	/* Going back to the host is not a swap of guest bytes: allowed. */
	cr_assert_eq(db_write(HOST, 0, 0), DOORBELL_SUCCESS);
	now_ns = 3000000000ULL;
	cr_assert_eq(submit_raw(0, 2), DOORBELL_SUCCESS);
	/* A clock that goes backwards never opens the gate. */
	now_ns = 4000000000ULL;
	doorbell_on_rebuilt(db, 0);
	now_ns = 1;
	cr_assert_eq(submit_raw(0, 3), DOORBELL_RATE_LIMITED);
}

Test(doorbell, opaque_kept_across_rebuild)
{
	const struct doorbell_image *img;
	uint64_t a, s;
	struct view v;

	put_image(IMG_GPA, IMG_LEN, 1);
	cr_assert_eq(db_write_part(RAW, IMG_GPA, IMG_LEN, OPQ_GPA, 4096, 0, 56),
		     DOORBELL_SUCCESS);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	v = db_read();   /* what the new firmware finds */
	cr_assert_eq(v.oaddr, OPQ_GPA);
	cr_assert_eq(v.osize, 4096);
	cr_assert_eq(v.status, DOORBELL_SUCCESS);
	doorbell_get_opaque(db, &a, &s);
	cr_assert_eq(a, OPQ_GPA);
	cr_assert_eq(s, 4096);
	/* An opaque-only write replaces it; size 0 removes it. */
	cr_assert_eq(db_write_part(0, 0, 0, OPQ_GPA + 4096, 8192, 0, 56),
		     DOORBELL_SUCCESS);
	cr_assert_eq(db_read().oaddr, OPQ_GPA + 4096);
	cr_assert_eq(db_write_part(0, 0, 0, 0x1234, 0, 0, 56), DOORBELL_SUCCESS);
	v = db_read();
	cr_assert_eq(v.oaddr, 0);
	cr_assert_eq(v.osize, 0);
}

Test(doorbell, failed_build_falls_back_to_host)
{
	const struct doorbell_image *img;

	cr_assert_eq(submit_raw(0, 1), DOORBELL_SUCCESS);
	cr_assert_eq(doorbell_take_pending(db, &img), DOORBELL_FW_GUEST);
	doorbell_on_rebuilt(db, -EINVAL);
	cr_assert_eq(db_read().status, DOORBELL_LOAD_FAIL);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_UNCHANGED);
	cr_assert_null(img, "host firmware after the fallback");
}

Test(doorbell, events_and_stats)
{
	const struct doorbell_image *img;
	struct doorbell_stats st;
	uint8_t want[48];
	char line[512];

	cr_assert_eq(submit_raw(HOST, 1), DOORBELL_SUCCESS);
	sha384_of(IMG_GPA, IMG_LEN, want);
	cr_assert_eq(nev, 2);
	cr_assert_eq(evs[0].kind, DOORBELL_EV_REQUESTED);
	cr_assert_eq(evs[0].format, RAW);
	cr_assert_eq(evs[0].size, IMG_LEN);
	cr_assert(evs[0].has_digest);
	cr_assert_arr_eq(evs[0].sha384, want, 48);
	cr_assert_eq(evs[1].kind, DOORBELL_EV_ACCEPTED);
	cr_assert_str_eq(evs[1].reason, "one-shot");

	cr_assert_eq(db_write(RAW, 0xE0000000ULL, 4096), DOORBELL_BAD_RANGE);
	cr_assert_eq(nev, 3);
	cr_assert_eq(evs[2].kind, DOORBELL_EV_REJECTED);
	cr_assert_eq(evs[2].status, DOORBELL_BAD_RANGE);
	cr_assert_not(evs[2].has_digest);
	cr_assert(strstr(evs[2].reason, "not wholly in RAM"), "%s", evs[2].reason);

	/* Rejected by the validator: requested (with digest) + rejected. */
	cr_assert_eq(gm_write(&gm, IMG_GPA, "\xba", 1), 0);
	cr_assert_eq(db_write(RAW, IMG_GPA, IMG_LEN), DOORBELL_MALFORMED);
	cr_assert_eq(nev, 5);
	cr_assert_eq(evs[3].kind, DOORBELL_EV_REQUESTED);
	cr_assert_eq(evs[4].kind, DOORBELL_EV_REJECTED);
	cr_assert(evs[4].has_digest);
	cr_assert(strstr(evs[4].reason, "bad ?ROM??"), "sanitised: %s",
		  evs[4].reason);

	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_eq(evs[nev - 1].kind, DOORBELL_EV_APPLIED);
	cr_assert_arr_eq(evs[nev - 1].sha384, want, 48);
	doorbell_event_format(&evs[1], line, sizeof(line));
	cr_assert(strstr(line, "event=accepted format=raw-rom"), "%s", line);
	cr_assert(strstr(line, "sha384="), "%s", line);

	doorbell_get_stats(db, &st);
	cr_assert_eq(st.accepted, 1);
	cr_assert_eq(st.rejected, 2);
	cr_assert_eq(st.swaps, 1);
	cr_assert_str_eq(doorbell_status_name(DOORBELL_RATE_LIMITED), "RATE_LIMITED");
	cr_assert_str_eq(doorbell_status_name(99), "?");
}

/* ---- through the real fw_cfg DMA engine ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* The descriptor's control word as the guest sees it. */
static uint32_t dma_control(uint64_t desc)
{
	uint32_t c = __atomic_load_n((uint32_t *)(low + desc), __ATOMIC_ACQUIRE);

	return be32toh(c);
}

/* Start one DMA descriptor at guest @desc pointing at a buffer at 0x2000,
 * as a guest does; the device may leave it in progress. */
static void dma_start(struct fwcfg *fw, uint64_t desc, uint32_t ctl, uint32_t len)
{
	uint8_t d[16];

	put_be32(d, ctl);
	put_be32(d + 4, len);
	put_be64(d + 8, 0x2000);
	cr_assert_eq(gm_write(&gm, desc, d, sizeof(d)), 0);
	fwcfg_dma_kick(fw, desc);
}

/* Poll the control word until the transfer ends (fw_cfg.rst: cleared, or
 * only the error bit left), as OVMF and Linux do; fails after 10 s. */
static uint32_t dma_wait(uint64_t desc)
{
	for (int i = 0; i < 10000; i++) {
		uint32_t c = dma_control(desc);

		if (!(c & ~(uint32_t)FW_CFG_DMA_CTL_ERROR))
			return c;
		usleep(1000);
	}
	cr_assert_fail("fw_cfg DMA at 0x%llx never ended", (unsigned long long)desc);
	return 0;
}

/* One whole DMA transfer at guest 0x1000: the control word it ends with. */
static uint32_t dma(struct fwcfg *fw, uint32_t ctl, uint32_t len)
{
	dma_start(fw, 0x1000, ctl, len);
	return dma_wait(0x1000);
}

Test(doorbell, through_fwcfg_dma)
{
	struct fwcfg *fw = fwcfg_create(&gm);
	uint8_t s[DOORBELL_STRUCT_SIZE] = { 0 }, dir[4 + 64];
	const struct doorbell_image *img;
	uint16_t key = 0;
	uint32_t n;

	cr_assert_not_null(fw);
	cr_assert_eq(doorbell_attach(db, fw), 0);
	/* Find the file's key in the directory, as a guest does. */
	fwcfg_select(fw, FW_CFG_FILE_DIR);
	for (size_t i = 0; i < sizeof(dir); i++)
		dir[i] = fwcfg_read_data(fw);
	n = (uint32_t)dir[0] << 24 | dir[1] << 16 | dir[2] << 8 | dir[3];
	cr_assert_eq(n, 1);
	cr_assert_str_eq((const char *)dir + 4 + 8, DOORBELL_FILE);
	cr_assert_eq((uint32_t)dir[4] << 24 | dir[5] << 16 | dir[6] << 8 | dir[7],
		     DOORBELL_STRUCT_SIZE);
	key = (uint16_t)(dir[8] << 8 | dir[9]);

	put_image(IMG_GPA, IMG_LEN, 5);
	le_wr64(s + 16, RAW);
	le_wr64(s + 24, IMG_GPA);
	le_wr64(s + 32, IMG_LEN);
	cr_assert_eq(gm_write(&gm, 0x2000, s, sizeof(s)), 0);
	cr_assert_eq(dma(fw, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT |
			 FW_CFG_DMA_CTL_WRITE, sizeof(s)), 0);
	/* Read it back. */
	cr_assert_eq(dma(fw, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT |
			 FW_CFG_DMA_CTL_READ, sizeof(s)), 0);
	cr_assert_eq(gm_read(&gm, 0x2000, s, sizeof(s)), 0);
	cr_assert_eq(s[0], 1);
	cr_assert_eq(s[2] | s[3] << 8, DOORBELL_SUCCESS);
	cr_assert_eq(le_rd64(s + 8), RAW | IGVM);
	cr_assert_eq(le_rd64(s + 24), 0);
	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_eq(img->len, IMG_LEN);
	fwcfg_destroy(fw);
}

/* ---- the check off the vCPU thread ---- */

/* A validator that records its thread and waits at a gate the test opens. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_reached;
static pthread_t validate_thread;

static int gated_validate(void *opaque, uint64_t format, const uint8_t *img,
			  size_t len, char *why, size_t whylen)
{
	pthread_mutex_lock(&gate_mu);
	validate_thread = pthread_self();
	gate_reached = true;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return validate(opaque, format, img, len, why, whylen);
}

static void gate_set(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	if (!open)
		gate_reached = false;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void gate_wait_reached(void)
{
	pthread_mutex_lock(&gate_mu);
	while (!gate_reached)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

/* A doorbell with the gated validator, on a fw_cfg; its key in *@key. */
static struct fwcfg *gated_doorbell(uint16_t *key)
{
	struct doorbell_config cfg = base_config();
	struct fwcfg *fw = fwcfg_create(&gm);
	uint8_t dir[4 + 64];

	doorbell_destroy(db);
	cfg.validate = gated_validate;
	db = doorbell_create(&cfg);
	cr_assert(db && fw);
	cr_assert_eq(doorbell_attach(db, fw), 0);
	fwcfg_select(fw, FW_CFG_FILE_DIR);
	for (size_t i = 0; i < sizeof(dir); i++)
		dir[i] = fwcfg_read_data(fw);
	*key = (uint16_t)(dir[8] << 8 | dir[9]);
	gate_set(false);
	return fw;
}

/* The guest's request at 0x2000, for a DMA write. */
static void put_request(uint64_t ctl, uint64_t addr, uint64_t size)
{
	uint8_t s[DOORBELL_STRUCT_SIZE] = { 0 };

	le_wr64(s + 16, ctl);
	le_wr64(s + 24, addr);
	le_wr64(s + 32, size);
	cr_assert_eq(gm_write(&gm, 0x2000, s, sizeof(s)), 0);
}

Test(doorbell, image_checked_off_the_writing_thread)
{
	uint16_t key;
	struct fwcfg *fw = gated_doorbell(&key);
	uint32_t wr = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
	struct doorbell_stats st;
	uint8_t id[4];

	put_image(IMG_GPA, 64 * 1024, 9);
	put_request(RAW, IMG_GPA, 64 * 1024);
	dma_start(fw, 0x1000, wr, DOORBELL_STRUCT_SIZE);
	/* The kick returned with the check still running elsewhere: the
	 * transfer is in progress, and the rest of fw_cfg keeps working. */
	gate_wait_reached();
	cr_assert(!pthread_equal(validate_thread, pthread_self()));
	cr_assert_eq(dma_control(0x1000), wr, "control 0x%x while checking", dma_control(0x1000));
	fwcfg_select(fw, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		id[i] = fwcfg_read_data(fw);
	cr_assert_eq(memcmp(id, "QEMU", 4), 0);
	cr_assert_eq(db_read().status, DOORBELL_SUCCESS);   /* no answer yet */
	cr_assert_eq(doorbell_pending_digest(db, (uint8_t[48]){ 0 }), false);
	/* A second write meanwhile (another vCPU) ends at once with the
	 * error bit and changes nothing. */
	put_request(RAW, IMG_GPA, 4096);
	dma_start(fw, 0x1100, wr, DOORBELL_STRUCT_SIZE);
	cr_assert_eq(dma_wait(0x1100), FW_CFG_DMA_CTL_ERROR);
	cr_assert_eq(dma_control(0x1000), wr);
	gate_set(true);
	cr_assert_eq(dma_wait(0x1000), 0);
	cr_assert_eq(db_read().status, DOORBELL_SUCCESS);
	doorbell_get_stats(db, &st);
	cr_assert_eq(st.accepted, 1);
	cr_assert_eq(st.rejected, 1);
	/* the first request's image, not the second's */
	const struct doorbell_image *img;

	cr_assert_eq(do_reset(&img), DOORBELL_FW_GUEST);
	cr_assert_eq(img->len, 64 * 1024);
	fwcfg_destroy(fw);
}

Test(doorbell, rejection_from_the_worker)
{
	uint16_t key;
	struct fwcfg *fw = gated_doorbell(&key);
	uint32_t wr = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;

	gate_set(true);
	put_image(IMG_GPA, 8192, 0);
	put_request(IGVM, IMG_GPA, 8192);   /* no IGVM magic */
	cr_assert_eq(dma(fw, wr, DOORBELL_STRUCT_SIZE), 0);
	/* the transfer ended after the status was stored */
	cr_assert_eq(db_read().status, DOORBELL_MALFORMED);
	cr_assert_eq(nev, 2);
	cr_assert_eq(evs[0].kind, DOORBELL_EV_REQUESTED);
	cr_assert_eq(evs[1].kind, DOORBELL_EV_REJECTED);
	cr_assert(evs[1].has_digest);
	cr_assert(strstr(evs[1].reason, "no IGVM magic"));
	fwcfg_destroy(fw);
}

struct reset_arg {
	enum doorbell_fw_choice ch;
	_Atomic bool done;
};

static void *reset_thread(void *p)
{
	struct reset_arg *a = p;
	const struct doorbell_image *img;

	a->ch = doorbell_take_pending(db, &img);
	a->done = true;
	return NULL;
}

Test(doorbell, reset_waits_for_the_check_in_flight)
{
	uint16_t key;
	struct fwcfg *fw = gated_doorbell(&key);
	uint32_t wr = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
	struct reset_arg a = { .done = false };
	pthread_t t;

	put_image(IMG_GPA, 4096, 3);
	put_request(RAW, IMG_GPA, 4096);
	dma_start(fw, 0x1000, wr, DOORBELL_STRUCT_SIZE);
	gate_wait_reached();
	cr_assert_eq(pthread_create(&t, NULL, reset_thread, &a), 0);
	usleep(50 * 1000);
	cr_assert(!a.done, "the reset did not wait for the image being checked");
	gate_set(true);
	pthread_join(t, NULL);
	/* the reset came after the transfer ended, and took the image */
	cr_assert_eq(dma_control(0x1000), 0);
	cr_assert_eq(a.ch, DOORBELL_FW_GUEST);
	doorbell_on_rebuilt(db, 0);
	fwcfg_destroy(fw);
}

Test(doorbell, policy_change_during_the_check)
{
	uint16_t key;
	struct fwcfg *fw = gated_doorbell(&key);
	uint32_t wr = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
	struct doorbell_policy p = default_policy();

	put_image(IMG_GPA, 4096, 3);
	put_request(RAW, IMG_GPA, 4096);
	dma_start(fw, 0x1000, wr, DOORBELL_STRUCT_SIZE);
	gate_wait_reached();
	p.locked = true;
	cr_assert_eq(doorbell_set_policy(db, &p), 0);
	gate_set(true);
	cr_assert_eq(dma_wait(0x1000), 0);
	cr_assert_eq(db_read().status, DOORBELL_DENIED);
	cr_assert_eq(doorbell_pending_digest(db, (uint8_t[48]){ 0 }), false);
	fwcfg_destroy(fw);
}

/* ---- the policy setter against concurrent writes ---- */

static void *toggle_lock(void *arg)
{
	struct doorbell_policy p = default_policy();

	for (int i = 0; i < 2000; i++) {
		p.locked = i & 1;
		doorbell_set_policy(db, &p);
	}
	return NULL;
}

Test(doorbell, policy_setter_concurrent)
{
	pthread_t t;
	struct doorbell_stats st;
	int ok = 0, denied = 0;

	put_image(IMG_GPA, 4096, 1);
	cr_assert_eq(pthread_create(&t, NULL, toggle_lock, NULL), 0);
	for (int i = 0; i < 300; i++) {
		uint16_t s = db_write(RAW, IMG_GPA, 4096);

		cr_assert(s == DOORBELL_SUCCESS || s == DOORBELL_DENIED, "%u", s);
		ok += s == DOORBELL_SUCCESS;
		denied += s == DOORBELL_DENIED;
	}
	pthread_join(t, NULL);
	doorbell_get_stats(db, &st);
	cr_assert_eq(st.accepted, (uint64_t)ok);
	cr_assert_eq(st.rejected, (uint64_t)denied);
}
