/* tests/unit/test_base.c: the shared helpers of vmm/base: little-endian
 * loads and stores, hex, err_set, whole-buffer and file digests, UEFI GUID
 * bytes.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/digest.h"
#include "vmm/base/err.h"
#include "vmm/base/guid.h"
#include "vmm/base/hex.h"
#include "vmm/base/le.h"
#include "vmm/base/thread.h"

Test(base, le_loads_and_stores)
{
	uint8_t b[9];

	memset(b, 0xee, sizeof(b));
	le_wr64(b, 0x0807060504030201ULL);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(b[i], i + 1);
	cr_assert_eq(b[8], 0xee);
	cr_assert_eq(le_rd16(b), 0x0201);
	cr_assert_eq(le_rd32(b + 1), 0x05040302u);
	cr_assert_eq(le_rd64(b), 0x0807060504030201ULL);

	le_wr16(b, 0xbeef);
	cr_assert_eq(b[0], 0xef);
	cr_assert_eq(b[1], 0xbe);
	cr_assert_eq(b[2], 3);
	le_wr32(b + 4, 0xcafef00du);
	cr_assert_eq(le_rd32(b + 4), 0xcafef00du);
	cr_assert_eq(b[4], 0x0d);
	cr_assert_eq(b[7], 0xca);

	/* register-sized: only @n bytes move */
	memset(b, 0xee, sizeof(b));
	le_wrn(b, 0x112233445566ULL, 3);
	cr_assert_eq(b[0], 0x66);
	cr_assert_eq(b[2], 0x44);
	cr_assert_eq(b[3], 0xee);
	cr_assert_eq(le_rdn(b, 3), 0x445566);
	cr_assert_eq(le_rdn(b, 1), 0x66);
	cr_assert_eq(le_rdn(b, 0), 0);
	le_wrn(b, 0x8877665544332211ULL, 8);
	cr_assert_eq(le_rdn(b, 8), 0x8877665544332211ULL);
	cr_assert_eq(le_rdn(b, 4), le_rd32(b));
	cr_assert_eq(b[8], 0xee);
}

Test(base, hex_encode)
{
	static const uint8_t in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[2 * sizeof(in) + 1];

	memset(out, 'x', sizeof(out));
	cr_assert_eq(hex_encode(out, in, sizeof(in)), out);
	cr_assert_str_eq(out, "000fa5ff");
	cr_assert_str_eq(hex_encode(out, in, 0), "");
}

Test(base, err_set)
{
	char err[16];

	cr_assert_eq(err_set(err, sizeof(err), -ENOENT, "no %s", "file"), -ENOENT);
	cr_assert_str_eq(err, "no file");
	/* truncated to the buffer, always NUL-terminated */
	cr_assert_eq(err_set(err, sizeof(err), -EINVAL, "%s", "a much longer message"), -EINVAL);
	cr_assert_str_eq(err, "a much longer m");
	/* no buffer: only the code */
	cr_assert_eq(err_set(NULL, 0, -EIO, "ignored %d", 1), -EIO);
	strcpy(err, "kept");
	cr_assert_eq(err_set(err, 0, 7, "ignored"), 7);
	cr_assert_str_eq(err, "kept");
}

/* FIPS 180-2 "abc" vectors */
static const char abc256[] =
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char abc384[] =
	"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	"8086072ba1e7cc2358baeca134c825a7";
static const char empty256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Test(base, digest_buffers)
{
	uint8_t md[DIGEST_SHA384_LEN];
	char hx[2 * DIGEST_SHA384_LEN + 1];

	cr_assert_eq(digest_sha256("abc", 3, md), 0);
	cr_assert_str_eq(hex_encode(hx, md, DIGEST_SHA256_LEN), abc256);
	cr_assert_eq(digest_sha384("abc", 3, md), 0);
	cr_assert_str_eq(hex_encode(hx, md, DIGEST_SHA384_LEN), abc384);
	cr_assert_eq(digest_sha256("", 0, md), 0);
	cr_assert_str_eq(hex_encode(hx, md, DIGEST_SHA256_LEN), empty256);
}

Test(base, digest_files)
{
	char path[] = "/tmp/fuki-test-base-XXXXXX";
	uint8_t md[DIGEST_SHA384_LEN], want[DIGEST_SHA384_LEN];
	char err[160];
	size_t len = 200000;   /* several read blocks */
	uint8_t *buf = malloc(len);
	int fd = mkstemp(path);

	cr_assert_not_null(buf);
	cr_assert_geq(fd, 0);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 9));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);

	cr_assert_eq(digest_file_sha256(path, md, err, sizeof(err)), 0);
	cr_assert_eq(digest_sha256(buf, len, want), 0);
	cr_assert_arr_eq(md, want, DIGEST_SHA256_LEN);
	cr_assert_eq(digest_file_sha384(path, md, err, sizeof(err)), 0);
	cr_assert_eq(digest_sha384(buf, len, want), 0);
	cr_assert_arr_eq(md, want, DIGEST_SHA384_LEN);
	unlink(path);
	free(buf);

	cr_assert_eq(digest_file_sha256(path, md, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "cannot open '/tmp/fuki-test-base-"), "%s", err);
	cr_assert(strstr(err, strerror(ENOENT)), "%s", err);
	cr_assert_eq(digest_file_sha384("/", md, err, sizeof(err)), -EISDIR);
	cr_assert_str_eq(err, "cannot read '/': Is a directory");
}

Test(base, uefi_guid_bytes)
{
	/* 96b582de-1fb2-45f7-baea-a366c55a082d, the OVMF footer table, as the
	 * image stores it */
	static const uint8_t want[GUID_LEN] = {
		0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
		0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
	static const uint8_t got[GUID_LEN] =
		UEFI_GUID(0x96b582de, 0x1fb2, 0x45f7, 0xbaea, 0xa366c55a082d);
	static const uint8_t zero_tail[GUID_LEN] = UEFI_GUID(0x12d8ff70, 0x7f4c, 0x7d4c, 0, 0);
	static const uint8_t zero_tail_want[GUID_LEN] = { 0x70, 0xff, 0xd8, 0x12, 0x4c, 0x7f, 0x4c, 0x7d };

	cr_assert_arr_eq(got, want, GUID_LEN);
	cr_assert_arr_eq(zero_tail, zero_tail_want, GUID_LEN);
}

/* What a helper started by thread_start_beside sees. */
struct beside {
	sigset_t mask;
	cpu_set_t cpus;
	bool ran;
};

static void *beside_main(void *arg)
{
	struct beside *b = arg;

	pthread_sigmask(SIG_BLOCK, NULL, &b->mask);
	sched_getaffinity(0, sizeof(b->cpus), &b->cpus);
	b->ran = true;
	return NULL;
}

Test(base, thread_start_beside_blocks_signals_and_leaves_the_callers_cpu)
{
	struct beside b = { .ran = false };
	cpu_set_t mine, left;
	pthread_t t;

	cr_assert_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
	cr_assert_eq(thread_start_beside(&t, beside_main, &b), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(b.ran);
	cr_assert(sigismember(&b.mask, SIGINT) && sigismember(&b.mask, SIGTERM) &&
		  sigismember(&b.mask, SIGUSR1), "a helper takes no signal meant for the process");
	if (CPU_COUNT(&mine) < 2) {
		cr_log_warn("one CPU allowed: the helper's affinity is not narrowed");
		return;
	}
	/* every CPU the caller may use but one: the one it ran on at the start */
	CPU_XOR(&left, &mine, &b.cpus);
	cr_assert_eq(CPU_COUNT(&b.cpus), CPU_COUNT(&mine) - 1);
	cr_assert_eq(CPU_COUNT(&left), 1);
	CPU_AND(&left, &left, &mine);
	cr_assert_eq(CPU_COUNT(&left), 1, "the CPU left out is one of the caller's");
}

static void *helper_work(void *arg)
{
	atomic_int *n = arg;

	atomic_fetch_add(n, 1);
	return NULL;
}

struct joiner {
	struct helper *h;
	atomic_int *n;
	int seen;
};

static void *join_and_look(void *arg)
{
	struct joiner *j = arg;

	helper_join(j->h);
	j->seen = atomic_load(j->n);
	return NULL;
}

/* Several threads join the same helper: each sees its work done, and the
 * work ran once. */
Test(base, helper_is_joined_once_from_any_thread)
{
	struct helper h;
	atomic_int n = 0;
	struct joiner j[4];
	pthread_t t[4];

	helper_start(&h, helper_work, &n);
	for (unsigned i = 0; i < 4; i++) {
		j[i] = (struct joiner){ .h = &h, .n = &n, .seen = -1 };
		cr_assert_eq(pthread_create(&t[i], NULL, join_and_look, &j[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(j[i].seen, 1, "joiner %u saw the work %s", i, j[i].seen ? "twice" : "not done");
	}
	helper_join(&h);                  /* once more: nothing left to wait for */
	helper_fini(&h);
	cr_assert_eq(atomic_load(&n), 1);
}
