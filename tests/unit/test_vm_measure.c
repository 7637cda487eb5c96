/* tests/unit/test_vm_measure.c: `run` reports the launch measurement of what
 * it launches.  A real VM (vm_create + vm_run in a thread) on the platform
 * model (tests/model/), which recomputes the SEV-SNP launch digest and the
 * TDX MRTD from the ioctl payloads it receives.  The guest side is driven
 * as a guest would: exits queued on vCPU 0 (fw_cfg DMA port writes for the
 * doorbell, a 0xCF9 write for the reset); the host side through the
 * control-socket ops (status, measure-pending) and the event stream.
 *
 * Every check compares independent values: the booted/rebuilt events, the
 * status op, the model's digest of the VM actually built, and
 * launch_measure over a plan built from the same config and image (what
 * `fukivmm measure` prints).  Tests whose firmware is absent (Debian
 * package ovmf) are skipped with a message. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "loader/bzimage.h"
#include "loader/igvm.h"
#include "snp/snp.h"
#include "tests/model/model.h"
#include "tests/unit/igvm_build.h"
#include "vmm/api/api.h"
#include "vmm/base/events.h"
#include "vmm/base/hex.h"
#include "vmm/base/log.h"
#include "vmm/cli/ctl.h"
#include "vmm/config/config.h"
#include "vmm/launch/launch.h"
#include "vmm/vm/vm_internal.h"

#define OVMF_FD "/usr/share/ovmf/OVMF.fd"
/* edk2 AmdSevX64's last 4 KiB: SEV metadata with SNP_KERNEL_HASHES */
#define AMDSEV "../shared/testdata/sev-snp-measure/ovmf_AmdSev_suffix.bin"
#define MEM "256M"
#define WAIT_MS 20000

/* guest addresses the driver uses (all in shared RAM, far from the plans) */
#define DESC_GPA 0x2000000ULL     /* the fw_cfg DMA descriptor */
#define DB_GPA   0x2001000ULL     /* the 56-byte doorbell struct */
#define DIR_GPA  0x2002000ULL     /* the fw_cfg file directory */
#define IMG_GPA  0x3000000ULL     /* images handed to the doorbell */

static char err[512];
static char tmpdir[64];

/* ---------------- the event stream ---------------- */

#define MAX_EV 64
struct rec {
	char name[32];
	char firmware[8];
	bool has_m, has_ms, has_hob, has_cfv;
	uint8_t m[48], sha[48], hob[48], cfv[48], expected[48];
	int64_t byte;      /* first-output's, -1 elsewhere */
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static struct rec recs[MAX_EV];
static unsigned nrec;
static bool vm_done;   /* vm_run returned (ev_lock) */

static void on_event(void *opaque, const struct event *ev)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.byte = -1;
	snprintf(r.name, sizeof(r.name), "%s", ev->name);
	for (unsigned i = 0; i < ev->n; i++) {
		const struct event_field *f = &ev->f[i];

		if (f->type == EV_U64 && !strcmp(f->key, "byte"))
			r.byte = (int64_t)f->v.u;
		if (f->type == EV_STR && !strcmp(f->key, "firmware"))
			snprintf(r.firmware, sizeof(r.firmware), "%s", f->v.s);
		if (f->type == EV_F64 && !strcmp(f->key, "measure_ms"))
			r.has_ms = f->v.f >= 0;
		if (f->type != EV_BYTES || f->v.bytes.n != 48)
			continue;
		if (!strcmp(f->key, "measurement")) {
			r.has_m = true;
			memcpy(r.m, f->v.bytes.p, 48);
		} else if (!strcmp(f->key, "expected")) {
			memcpy(r.expected, f->v.bytes.p, 48);
		} else if (!strcmp(f->key, "sha384")) {
			memcpy(r.sha, f->v.bytes.p, 48);
		} else if (!strcmp(f->key, "rtmr0_td_hob")) {
			r.has_hob = true;
			memcpy(r.hob, f->v.bytes.p, 48);
		} else if (!strcmp(f->key, "rtmr0_cfv")) {
			r.has_cfv = true;
			memcpy(r.cfv, f->v.bytes.p, 48);
		}
	}
	pthread_mutex_lock(&ev_lock);
	if (nrec < MAX_EV)
		recs[nrec++] = r;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

static unsigned count_events(const char *name)
{
	unsigned n = 0;

	pthread_mutex_lock(&ev_lock);
	for (unsigned i = 0; i < nrec; i++)
		n += !strcmp(recs[i].name, name);
	pthread_mutex_unlock(&ev_lock);
	return n;
}

/* The @nth (from 1) event called @name, waiting for it. */
static struct rec wait_event(const char *name, unsigned nth)
{
	struct timespec ts;
	struct rec out;
	bool found = false;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&ev_lock);
	for (;;) {
		unsigned k = 0;

		for (unsigned i = 0; i < nrec && !found; i++)
			if (!strcmp(recs[i].name, name) && ++k == nth) {
				out = recs[i];
				found = true;
			}
		if (found || vm_done || pthread_cond_timedwait(&ev_cond, &ev_lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&ev_lock);
	cr_assert(found, "no event %s #%u within %d ms%s", name, nth, WAIT_MS,
		  vm_done ? " (vm_run returned)" : "");
	return out;
}

/* ---------------- files ---------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n > 0 ? (size_t)n : 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static const char *put_file(const char *name, const void *d, size_t n)
{
	static char paths[8][128];
	static unsigned next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f, "%s", p);
	cr_assert_eq(fwrite(d, 1, n, f), n);
	fclose(f);
	return p;
}

static void need_ovmf(void)
{
	if (access(OVMF_FD, R_OK))
		cr_skip_test(OVMF_FD " absent (make deps installs package ovmf)");
}

/* A minimal bzImage (boot protocol 2.15, 64-bit, EFI handover) for
 * measured direct boot: only its bytes are hashed. */
static const char *make_kernel(void)
{
	static uint8_t img[0x5000];

	memset(img, 0x4b, sizeof(img));
	memset(img, 0, 0x400);
	img[0] = 'M';
	img[1] = 'Z';
	img[0x3c] = 0x80;
	memcpy(img + 0x80, "PE\0\0", 4);
	img[BZ_SETUP_SECTS] = 27;
	img[BZ_BOOT_FLAG] = 0x55;
	img[BZ_BOOT_FLAG + 1] = 0xAA;
	memcpy(img + BZ_HEADER_MAGIC, "HdrS", 4);
	img[BZ_VERSION] = 0x0f;
	img[BZ_VERSION + 1] = 0x02;
	img[BZ_LOADFLAGS] = BZ_LF_LOADED_HIGH;
	memcpy(img + BZ_INITRD_ADDR_MAX, (uint32_t[]){ 0x7fffffff }, 4);
	memcpy(img + BZ_KERNEL_ALIGNMENT, (uint32_t[]){ 0x200000 }, 4);
	img[BZ_RELOCATABLE] = 1;
	memcpy(img + BZ_XLOADFLAGS, (uint16_t[]){ BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G |
						  BZ_XLF_EFI_HANDOVER_64 }, 2);
	memcpy(img + BZ_CMDLINE_SIZE, (uint32_t[]){ 2047 }, 4);
	memcpy(img + BZ_PREF_ADDRESS, (uint32_t[]){ 0x1000000 }, 4);
	memcpy(img + BZ_INIT_SIZE, (uint32_t[]){ 0x2000000 }, 4);
	memcpy(img + BZ_HANDOVER_OFFSET, (uint32_t[]){ 0x190 }, 4);
	return put_file("kernel.bin", img, sizeof(img));
}

/* A small SEV-SNP IGVM file: a few measured pages, secrets and CPUID pages,
 * the BSP's VMSA; @salt changes its content (and so its measurement). */
static uint8_t *make_snp_igvm(uint8_t salt, size_t *len)
{
	uint8_t page[4096], vmsa[4096];
	struct ib b;
	uint8_t *f;

	memset(page, 0xA5 ^ salt, sizeof(page));
	snp_vmsa_build(vmsa, SNP_BSP_EIP, 0x800f12, 0x1, SNP_VMM_QEMU);
	ib_init(&b, 1);
	ib_platform(&b, 0x2, 0, IGVM_PLATFORM_SEV_SNP, 1, 0);
	ib_policy(&b, 0x30000, 0x2);
	ib_page(&b, 0x800000, 0x2, 0, IGVM_PAGE_NORMAL, page);
	ib_page(&b, 0x801000, 0x2, 0, IGVM_PAGE_NORMAL, NULL);
	ib_page(&b, 0x802000, 0x2, 0, IGVM_PAGE_SECRETS, NULL);
	ib_page(&b, 0x803000, 0x2, 0, IGVM_PAGE_CPUID_DATA, NULL);
	ib_vp_context(&b, PLAN_VMSA_GPA, 0x2, 0, vmsa);
	f = ib_finish(&b, len);
	ib_free(&b);
	return f;
}

/* ---------------- one VM ---------------- */

struct tvm {
	struct vm_config cfg;
	struct vm *vm;
	pthread_t th;
	int status;
	bool two_pass;
};

static void *vm_thread(void *arg)
{
	struct tvm *t = arg;

	t->status = vm_run(t->vm);
	pthread_mutex_lock(&ev_lock);
	vm_done = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
	return NULL;
}

static void setup(void)
{
	log_set_level(LOG_ERR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fuki-vmm-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* FUKI_TEST_EVENT_LOG=PATH keeps the event log (e.g. to read measure_ms) */
	cr_assert_eq(events_open(getenv("FUKI_TEST_EVENT_LOG") ? getenv("FUKI_TEST_EVENT_LOG") :
				 "/dev/null"), 0);
	cr_assert_geq(events_subscribe(on_event, NULL), 0);
	nrec = 0;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

TestSuite(vm_measure, .init = setup, .fini = teardown);

/* vm_create + vm_run in a thread for @doc; returns once the VM booted. */
static void tvm_start(struct tvm *t, const char *doc)
{
	struct model_opts o;

	memset(t, 0, sizeof(*t));
	vm_done = false;
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", tmpdir, true, &t->cfg, err,
				  sizeof(err)), 0, "%s\n%s", err, doc);
	model_opts_default(&o);
	o.idle_wait_us = 2000;
	o.tdx_two_pass = t->cfg.cc.tdx_two_pass;
	model_set_opts(&o);
	t->vm = vm_create(&t->cfg, &model_ops, err, sizeof(err));
	cr_assert_not_null(t->vm, "vm_create: %s", err);
	cr_assert_eq(pthread_create(&t->th, NULL, vm_thread, t), 0);
	wait_event("booted", 1);
}

static void tvm_stop(struct tvm *t)
{
	cr_assert_eq(vm_api_ops.shutdown(t->vm), 0);
	pthread_join(t->th, NULL);
	cr_assert_eq(t->status, 0, "vm_run returned %d", t->status);
	vm_destroy(t->vm);
	config_free(&t->cfg);
}

/* What `fukivmm measure` prints for this VM's config and firmware @fw. */
static void predict(const struct tvm *t, const uint8_t *fw, size_t len,
		    struct launch_measurement *m)
{
	struct planbuild_kernel_hashes kh;
	struct launch_plan p;

	if (t->cfg.kernel_path)
		cr_assert_eq(planbuild_kernel_hashes(&t->cfg, &kh, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(launch_plan_from_config(&p, &t->cfg, fw, len, t->cfg.kernel_path ? &kh : NULL,
					     err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(launch_measure(&p, NULL, m, err, sizeof(err)), 0, "%s", err);
	cr_assert(m->has);
	plan_free(&p);
}

static void predict_host(const struct tvm *t, struct launch_measurement *m)
{
	size_t len;
	uint8_t *fw = slurp(t->cfg.firmware_path, &len);

	cr_assert_not_null(fw);
	predict(t, fw, len, m);
	free(fw);
}

/* The measurement the model computed for the hypervisor VM now running. */
static void model_value(const struct tvm *t, uint8_t out[48])
{
	struct hv_vm *hv = t->vm->hvvm;

	cr_assert_not_null(hv);
	cr_assert_eq(model_last_vm(), hv, "the model's last VM is not the one running");
	if (t->cfg.cc.type == CC_SNP)
		cr_assert_eq(model_vm_snp_digest(hv, out), 0);
	else
		cr_assert_eq(model_vm_tdx_mrtd(hv, out), 0);
}

static void status_value(const struct tvm *t, uint8_t out[48])
{
	struct api_status st;

	cr_assert_eq(vm_api_ops.status(t->vm, &st), 0);
	cr_assert(st.has_measurement, "status has no measurement");
	memcpy(out, st.measurement, 48);
}

/* The booted event @nth, status, the model and @want agree. */
static void check_running(const struct tvm *t, unsigned nth, const uint8_t want[48])
{
	struct rec b = wait_event("booted", nth);
	uint8_t mv[48], sv[48];

	cr_assert(b.has_m, "booted #%u has no measurement", nth);
	cr_assert(b.has_ms, "booted #%u has no measure_ms", nth);
	model_value(t, mv);
	status_value(t, sv);
	cr_assert_eq(memcmp(b.m, mv, 48), 0, "booted #%u != the model's", nth);
	cr_assert_eq(memcmp(sv, mv, 48), 0, "status != the model's");
	cr_assert_eq(memcmp(want, mv, 48), 0, "prediction != the model's");
}

/* ...and the host firmware's SHA-384 (hashed on a thread of swap_open
 * while the first VM was built) in the booted event, in status and in the
 * swap, against a hash of the file made here. */
static void check_first_boot(const struct tvm *t)
{
	struct launch_measurement m;
	struct api_status st;
	uint8_t want[48];
	size_t len;
	uint8_t *fw = slurp(t->cfg.firmware_path, &len);

	predict_host(t, &m);
	check_running(t, 1, m.value);
	cr_assert_not_null(fw);
	cr_assert(EVP_Digest(fw, len, want, NULL, EVP_sha384(), NULL));
	free(fw);
	cr_assert_eq(memcmp(wait_event("booted", 1).sha, want, 48), 0, "booted: firmware sha384");
	cr_assert_eq(vm_api_ops.status(t->vm, &st), 0);
	cr_assert_eq(memcmp(st.fw_sha384, want, 48), 0, "status: firmware sha384");
	cr_assert_eq(memcmp(swap_host_sha384(&t->vm->swap), want, 48), 0);
}

/* ---------------- driving the guest ---------------- */

static uint8_t *gpa(const struct tvm *t, uint64_t a)
{
	return t->vm->ram + a;    /* below 4 GiB, above 1 MiB */
}

/* One port write of vCPU 0, handled before this returns. */
static void guest_out(const struct tvm *t, uint16_t port, uint32_t v, uint8_t size)
{
	static uint8_t data[4];
	struct hv_exit ex = { .reason = HV_EXIT_IO };
	uint64_t seq;

	memcpy(data, &v, 4);
	ex.io.port = port;
	ex.io.size = size;
	ex.io.is_write = true;
	ex.io.count = 1;
	ex.io.data = data;
	seq = model_vcpu_push_exit(t->vm->vcpu[0], &ex);
	cr_assert_neq(seq, 0);
	cr_assert_eq(model_vcpu_wait_handled(t->vm->vcpu[0], seq, WAIT_MS), 0);
}

static void put_be32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static void put_be64(uint8_t *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }

/* One fw_cfg DMA transfer, as the guest starts it: the descriptor's
 * address, high then low half, big-endian, to port 0x514. */
static void guest_dma(const struct tvm *t, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *d = gpa(t, DESC_GPA);
	uint32_t c;

	put_be32(d, control);
	put_be32(d + 4, len);
	put_be64(d + 8, addr);
	guest_out(t, FWCFG_PORT_DMA, htobe32((uint32_t)(DESC_GPA >> 32)), 4);
	guest_out(t, FWCFG_PORT_DMA + 4, htobe32((uint32_t)DESC_GPA), 4);
	/* the guest polls until the device ends the transfer (fw_cfg.rst):
	 * a doorbell image is checked on the doorbell's own thread */
	for (int i = 0; i < WAIT_MS; i++) {
		c = be32toh(__atomic_load_n((uint32_t *)d, __ATOMIC_ACQUIRE));
		if (!(c & ~(uint32_t)FW_CFG_DMA_CTL_ERROR))
			break;
		usleep(1000);
	}
	cr_assert_eq(c, 0, "fw_cfg DMA control 0x%x after the transfer", c);
}

/* The doorbell's fw_cfg key, from the file directory. */
static uint16_t guest_doorbell_key(const struct tvm *t)
{
	uint8_t *dir = gpa(t, DIR_GPA);
	uint32_t n;

	guest_dma(t, (FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
		  4096, DIR_GPA);
	memcpy(&n, dir, 4);
	n = be32toh(n);
	for (uint32_t i = 0; i < n && 4 + (i + 1) * 64 <= 4096; i++) {
		const uint8_t *e = dir + 4 + i * 64;

		if (!strcmp((const char *)e + 8, DOORBELL_FILE))
			return (uint16_t)(e[4] << 8 | e[5]);
	}
	cr_assert_fail("no %s in the fw_cfg directory", DOORBELL_FILE);
	return 0;
}

/* The guest rings: the image at IMG_GPA; returns the doorbell's status. */
static unsigned guest_ring(const struct tvm *t, uint64_t control, const uint8_t *img, size_t len)
{
	uint16_t key = guest_doorbell_key(t);
	uint8_t *s = gpa(t, DB_GPA);
	uint16_t st;

	memcpy(gpa(t, IMG_GPA), img, len);
	memset(s, 0, DOORBELL_STRUCT_SIZE);
	s[DOORBELL_OFF_VERSION] = DOORBELL_VERSION;
	memcpy(s + DOORBELL_OFF_CONTROL, &control, 8);
	memcpy(s + DOORBELL_OFF_IMAGE_ADDR, (uint64_t[]){ IMG_GPA }, 8);
	memcpy(s + DOORBELL_OFF_IMAGE_SIZE, (uint64_t[]){ len }, 8);
	guest_dma(t, ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
		  DOORBELL_STRUCT_SIZE, DB_GPA);
	memset(s, 0xee, DOORBELL_STRUCT_SIZE);
	guest_dma(t, ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
		  DOORBELL_STRUCT_SIZE, DB_GPA);
	memcpy(&st, s + DOORBELL_OFF_STATUS, 2);
	return st;
}

/* The guest resets the machine (0xCF9 <- 0x06) and the VM is rebuilt. */
static void guest_reset(const struct tvm *t, unsigned nth_boot)
{
	static uint8_t data[1] = { 0x06 };
	struct hv_exit ex = { .reason = HV_EXIT_IO };

	ex.io.port = 0xcf9;
	ex.io.size = 1;
	ex.io.is_write = true;
	ex.io.count = 1;
	ex.io.data = data;
	cr_assert_neq(model_vcpu_push_exit(t->vm->vcpu[0], &ex), 0);
	wait_event("booted", nth_boot);
}

static bool pending(const struct tvm *t, struct api_pending *p)
{
	int r = vm_api_ops.pending(t->vm, p);

	cr_assert(r == 0 || r == -ENOENT, "pending op: %d", r);
	return r == 0;
}

/* ---------------- documents ---------------- */

static const char *snp_doc(unsigned vcpus, const char *vmm, const char *fw, const char *extra)
{
	static char doc[2048];

	snprintf(doc, sizeof(doc),
		 "[vm]\nvcpus = %u\nmemory = \"" MEM "\"\n[firmware]\npath = \"%s\"\n"
		 "[serial]\noutput = \"none\"\n[doorbell]\nmin_reset_interval = \"0\"\n"
		 "%s\n[confidential]\ntype = \"sev-snp\"\nvcpu_type = \"EPYC-v4\"\n"
		 "vmm_type = \"%s\"\n",
		 vcpus, fw, extra ? extra : "", vmm);
	return doc;
}

static const char *tdx_doc(unsigned vcpus, bool two_pass)
{
	static char doc[1024];

	snprintf(doc, sizeof(doc),
		 "[vm]\nvcpus = %u\nmemory = \"" MEM "\"\n[firmware]\npath = \"" OVMF_FD "\"\n"
		 "[serial]\noutput = \"none\"\n[doorbell]\nmin_reset_interval = \"0\"\n"
		 "[confidential]\ntype = \"tdx\"\nmrtd_order = \"%s\"\n",
		 vcpus, two_pass ? "two-pass" : "single");
	return doc;
}

/* ---------------- first boot ---------------- */

Test(vm_measure, snp_vmm_types_and_vcpus)
{
	static const char *const vmms[] = { "qemu", "ec2", "gce" };

	need_ovmf();
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned n = 1; n <= 4; n *= 4) {
			struct tvm t;

			nrec = 0;
			tvm_start(&t, snp_doc(n, vmms[k], OVMF_FD, NULL));
			check_first_boot(&t);
			tvm_stop(&t);
		}
	}
}

Test(vm_measure, snp_kernel_hashes)
{
	static const uint8_t initrd[] = "fukivmm-initrd\n";
	char extra[512];
	struct tvm t;

	char fw[256];

	if (!realpath(AMDSEV, fw))
		cr_skip_test(AMDSEV " absent: no firmware with an SNP_KERNEL_HASHES section");
	snprintf(extra, sizeof(extra), "[kernel]\npath = \"%s\"\ninitrd = \"%s\"\n"
		 "cmdline = \"console=ttyS0\"\nboot_rom = \"\"\n",
		 make_kernel(), put_file("initrd.bin", initrd, sizeof(initrd)));
	tvm_start(&t, snp_doc(2, "qemu", fw, extra));
	cr_assert(t.vm->swap.khash_ok);
	check_first_boot(&t);
	tvm_stop(&t);
}

Test(vm_measure, snp_id_block)
{
	struct launch_measurement m;
	uint8_t blk[96], auth[4096];
	uint64_t pol = 0x30000;
	char extra[512];
	struct tvm t;

	need_ovmf();
	/* the ID block names the digest the launch must have: the model's
	 * LAUNCH_FINISH refuses any other */
	tvm_start(&t, snp_doc(2, "qemu", OVMF_FD, NULL));
	predict_host(&t, &m);
	tvm_stop(&t);
	memset(blk, 0, sizeof(blk));
	memcpy(blk, m.value, 48);
	memcpy(blk + 88, &pol, 8);
	memset(auth, 0, sizeof(auth));
	auth[0] = 1;
	/* the [confidential] table is the last one in the document */
	nrec = 0;
	{
		static char doc[4096];
		const char *bp = put_file("id_block.bin", blk, sizeof(blk));
		const char *ap = put_file("id_auth.bin", auth, sizeof(auth));

		snprintf(extra, sizeof(extra), "id_block = \"%s\"\nid_auth = \"%s\"\n", bp, ap);
		snprintf(doc, sizeof(doc), "%s", snp_doc(2, "qemu", OVMF_FD, NULL));
		strncat(doc, extra, sizeof(doc) - strlen(doc) - 1);
		tvm_start(&t, doc);
	}
	check_first_boot(&t);
	cr_assert_eq(memcmp(wait_event("booted", 1).m, m.value, 48), 0);
	tvm_stop(&t);
}

Test(vm_measure, snp_igvm_firmware)
{
	size_t len;
	uint8_t *f = make_snp_igvm(0, &len);
	struct tvm t;

	tvm_start(&t, snp_doc(2, "qemu", put_file("fw.igvm", f, len), NULL));
	check_first_boot(&t);
	tvm_stop(&t);
	free(f);
}

Test(vm_measure, tdx_single_and_two_pass)
{
	need_ovmf();
	for (int two = 0; two <= 1; two++) {
		struct launch_measurement m;
		struct rec b;
		struct tvm t;

		nrec = 0;
		tvm_start(&t, tdx_doc(2, two));
		cr_assert_eq(t.cfg.cc.tdx_two_pass, (bool)two);
		check_first_boot(&t);
		/* the RTMR[0] event digests fukivmm determines */
		predict_host(&t, &m);
		b = wait_event("booted", 1);
		cr_assert(m.has_rtmr0_events);
		cr_assert(b.has_hob && b.has_cfv);
		cr_assert_eq(memcmp(b.hob, m.td_hob, 48), 0);
		cr_assert_eq(memcmp(b.cfv, m.cfv, 48), 0);
		tvm_stop(&t);
	}
}

/* ---------------- the doorbell ---------------- */

/* Ring with @img, check what the host learns, reset, check the rebuild. */
static void swap_and_check(struct tvm *t, uint64_t format, const uint8_t *img, size_t len,
			   unsigned nth_boot)
{
	struct launch_measurement want;
	struct api_pending p;
	struct rec acc, reb;
	unsigned nacc = count_events("swap-accepted");

	predict(t, img, len, &want);
	cr_assert_eq(guest_ring(t, format, img, len), DOORBELL_SUCCESS);
	acc = wait_event("swap-accepted", nacc + 1);
	cr_assert(acc.has_m, "swap-accepted has no measurement");
	cr_assert_eq(memcmp(acc.m, want.value, 48), 0, "swap-accepted != fukivmm measure");
	cr_assert(pending(t, &p));
	cr_assert_str_eq(p.firmware, "guest");
	cr_assert(p.has_measurement);
	cr_assert_eq(memcmp(p.measurement, want.value, 48), 0, "measure-pending != fukivmm measure");
	cr_assert_eq(memcmp(p.sha384, acc.sha, 48), 0);

	guest_reset(t, nth_boot);
	reb = wait_event("rebuilt", nth_boot - 1);
	cr_assert_str_eq(reb.firmware, "guest");
	cr_assert(reb.has_m);
	cr_assert_eq(memcmp(reb.m, want.value, 48), 0, "rebuilt != measure-pending");
	check_running(t, nth_boot, want.value);
}

Test(vm_measure, snp_doorbell_igvm_then_raw_rom)
{
	size_t glen, hlen;
	uint8_t *g = make_snp_igvm(1, &glen), *h;
	struct api_pending p;
	struct tvm t;

	need_ovmf();
	h = slurp(OVMF_FD, &hlen);
	tvm_start(&t, snp_doc(4, "qemu", OVMF_FD, NULL));
	check_first_boot(&t);
	cr_assert_not(pending(&t, &p));
	/* a rejected image: nothing pending, nothing measured */
	cr_assert_eq(guest_ring(&t, DOORBELL_FORMAT_IGVM, (const uint8_t *)"not an IGVM file", 16),
		     DOORBELL_MALFORMED);
	cr_assert_eq(count_events("swap-rejected"), 1);
	cr_assert_not(pending(&t, &p));
	/* a guest IGVM image, permanent */
	swap_and_check(&t, DOORBELL_FORMAT_IGVM, g, glen, 2);
	cr_assert_not(pending(&t, &p));
	/* a reset without a swap keeps the image and its measurement */
	guest_reset(&t, 3);
	check_running(&t, 3, wait_event("booted", 2).m);
	/* then a raw ROM (Debian's OVMF with one byte of its code changed) */
	h[hlen / 2] ^= 0x5a;
	swap_and_check(&t, DOORBELL_FORMAT_RAW_ROM, h, hlen, 4);
	/* a rejected image after an accepted one keeps the pending one's */
	{
		struct launch_measurement want;

		predict(&t, g, glen, &want);
		cr_assert_eq(guest_ring(&t, DOORBELL_FORMAT_IGVM, g, glen), DOORBELL_SUCCESS);
		cr_assert_eq(guest_ring(&t, DOORBELL_FORMAT_RAW_ROM, g, 4096), DOORBELL_MALFORMED);
		cr_assert(pending(&t, &p));
		cr_assert(p.has_measurement);
		cr_assert_eq(memcmp(p.measurement, want.value, 48), 0);
		/* a host lock would drop it at the reset: nothing is pending then */
		struct doorbell_policy pol;

		cr_assert_eq(vm_api_ops.policy_get(t.vm, &pol), 0);
		pol.locked = true;
		cr_assert_eq(vm_api_ops.policy_set(t.vm, &pol), 0);
		cr_assert_not(pending(&t, &p));
		pol.locked = false;
		cr_assert_eq(vm_api_ops.policy_set(t.vm, &pol), 0);
		cr_assert(pending(&t, &p));
	}
	cr_assert_eq(count_events("measurement-mismatch"), 0);
	tvm_stop(&t);
	free(g);
	free(h);
}

Test(vm_measure, snp_one_shot_returns_to_the_host)
{
	size_t glen;
	uint8_t *g = make_snp_igvm(2, &glen);
	struct launch_measurement host;
	struct api_pending p;
	struct rec reb;
	struct tvm t;

	need_ovmf();
	tvm_start(&t, snp_doc(1, "ec2", OVMF_FD, NULL));
	check_first_boot(&t);
	predict_host(&t, &host);
	swap_and_check(&t, DOORBELL_FORMAT_IGVM | DOORBELL_CTL_HOST_IGVM, g, glen, 2);
	/* the guest image runs once: the next reset goes back to the host's */
	cr_assert(pending(&t, &p));
	cr_assert_str_eq(p.firmware, "host");
	cr_assert(p.has_measurement);
	cr_assert_eq(memcmp(p.measurement, host.value, 48), 0);
	cr_assert_eq(memcmp(p.sha384, swap_host_sha384(&t.vm->swap), 48), 0);
	guest_reset(&t, 3);
	reb = wait_event("rebuilt", 2);
	cr_assert_str_eq(reb.firmware, "host");
	cr_assert_eq(memcmp(reb.m, host.value, 48), 0);
	check_running(&t, 3, host.value);
	cr_assert_not(pending(&t, &p));
	cr_assert_eq(count_events("measurement-mismatch"), 0);
	tvm_stop(&t);
	free(g);
}

Test(vm_measure, tdx_doorbell_raw_rom)
{
	size_t len;
	uint8_t *img;
	struct api_pending p;
	struct tvm t;

	need_ovmf();
	img = slurp(OVMF_FD, &len);
	for (int two = 0; two <= 1; two++) {
		nrec = 0;
		tvm_start(&t, tdx_doc(1, two));
		check_first_boot(&t);
		img[len / 2] ^= 0x33;
		swap_and_check(&t, DOORBELL_FORMAT_RAW_ROM, img, len, 2);
		cr_assert(wait_event("booted", 2).has_hob);
		cr_assert_not(pending(&t, &p));
		cr_assert_eq(count_events("measurement-mismatch"), 0);
		tvm_stop(&t);
	}
	free(img);
}

/* The launched plan must measure to what was expected at the validation: if
 * the build gives anything else it is reported, and status tells what was
 * launched.  Provoked here by changing the guest features (VMSA content)
 * between the doorbell's validation and the reset. */
Test(vm_measure, snp_mismatch_is_reported)
{
	struct launch_measurement want;
	struct rec acc, mm;
	uint8_t mv[48], sv[48];
	size_t len;
	uint8_t *img;
	struct tvm t;

	need_ovmf();
	img = slurp(OVMF_FD, &len);
	img[len / 2] ^= 0x77;
	tvm_start(&t, snp_doc(2, "qemu", OVMF_FD, NULL));
	check_first_boot(&t);
	predict(&t, img, len, &want);
	cr_assert_eq(guest_ring(&t, DOORBELL_FORMAT_RAW_ROM, img, len), DOORBELL_SUCCESS);
	acc = wait_event("swap-accepted", 1);
	cr_assert_eq(memcmp(acc.m, want.value, 48), 0);
	t.cfg.cc.guest_features = 0x21;   /* DEBUG_SWAP: another VMSA */
	guest_reset(&t, 2);
	mm = wait_event("measurement-mismatch", 1);
	cr_assert_eq(memcmp(mm.expected, want.value, 48), 0);
	model_value(&t, mv);
	status_value(&t, sv);
	cr_assert_eq(memcmp(mm.m, mv, 48), 0, "the mismatch event's measurement is not the model's");
	cr_assert_eq(memcmp(sv, mv, 48), 0, "status does not report what was launched");
	cr_assert_neq(memcmp(mv, want.value, 48), 0);
	tvm_stop(&t);
	free(img);
}

/* `fukivmm ctl SOCK status` and `measure-pending` print the digests as hex,
 * over the VM's real control socket. */
static void ctl_capture(const char *sock, const char *cmd, char *out, size_t n)
{
	char path[128];
	FILE *f;
	size_t got;
	int saved, fd;

	snprintf(path, sizeof(path), "%s/ctl.out", tmpdir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	int rc = ctl_main(3, (char *[]){ "ctl", (char *)sock, (char *)cmd, NULL });
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	cr_assert_eq(rc, 0, "ctl %s: %d", cmd, rc);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
}

Test(vm_measure, ctl_prints_the_hex_digests)
{
	size_t hlen, glen;
	uint8_t *h = make_snp_igvm(3, &hlen), *g = make_snp_igvm(4, &glen);
	struct launch_measurement want;
	char doc[2048], extra[256], sock[128], out[4096], hex[97], key[128];
	uint8_t mv[48];
	struct tvm t;

	snprintf(sock, sizeof(sock), "%s/vm.sock", tmpdir);
	snprintf(extra, sizeof(extra), "[api]\nsocket = \"%s\"\n", sock);
	snprintf(doc, sizeof(doc), "%s", snp_doc(2, "gce", put_file("fw.igvm", h, hlen), extra));
	tvm_start(&t, doc);
	model_value(&t, mv);
	ctl_capture(sock, "status", out, sizeof(out));
	snprintf(key, sizeof(key), "\"measurement\":\"%s\"", hex_encode(hex, mv, 48));
	cr_assert(strstr(out, key), "status: %s", out);
	ctl_capture(sock, "measure-pending", out, sizeof(out));
	cr_assert_str_eq(out, "{\"pending\":false}\n");
	predict(&t, g, glen, &want);
	cr_assert_eq(guest_ring(&t, DOORBELL_FORMAT_IGVM, g, glen), DOORBELL_SUCCESS);
	wait_event("swap-accepted", 1);
	ctl_capture(sock, "measure-pending", out, sizeof(out));
	snprintf(key, sizeof(key), "\"measurement\":\"%s\"", hex_encode(hex, want.value, 48));
	cr_assert(strstr(out, "\"pending\":true,\"firmware\":\"guest\",\"sha384\":\""), "%s", out);
	cr_assert(strstr(out, key), "measure-pending: %s", out);
	tvm_stop(&t);
	free(h);
	free(g);
}

/* ---------------- the order of a build's events ---------------- */

/* The index in the event stream of the @nth (from 1) event @name, -1 if
 * there is none (yet). */
static int event_index(const char *name, unsigned nth)
{
	int at = -1;
	unsigned k = 0;

	pthread_mutex_lock(&ev_lock);
	for (unsigned i = 0; i < nrec && at < 0; i++)
		if (!strcmp(recs[i].name, name) && ++k == nth)
			at = (int)i;
	pthread_mutex_unlock(&ev_lock);
	return at;
}

/* The vCPUs of a build run before its events are written (vm.c, vm_boot),
 * and a guest that prints at once writes its first byte while they are:
 * the first-output event still comes after the build's rebuilt and booted,
 * with the byte the guest wrote.  The model's vCPU 0 writes 'Q' to the
 * UART as its first exit, in every build (the spares' too). */
Test(vm_measure, first_output_after_the_builds_events)
{
	struct model_opts o;
	struct tvm t;
	char doc[512];
	uint8_t rom[65536];

	memset(rom, 0xf4, sizeof(rom));
	snprintf(doc, sizeof(doc),
		 "[vm]\nmemory = \"64M\"\n[firmware]\npath = \"%s\"\n"
		 "[serial]\noutput = \"none\"\n[log]\nreset_rate = 0\n",
		 put_file("hlt.rom", rom, sizeof(rom)));
	memset(&t, 0, sizeof(t));
	vm_done = false;
	cr_assert_eq(config_parse(doc, strlen(doc), "t.toml", tmpdir, true, &t.cfg, err,
				  sizeof(err)), 0, "%s\n%s", err, doc);
	model_opts_default(&o);
	o.idle_wait_us = 2000;
	o.boot_out_port = 0x3f8;
	o.boot_out_byte = 'Q';
	model_set_opts(&o);
	t.vm = vm_create(&t.cfg, &model_ops, err, sizeof(err));
	cr_assert_not_null(t.vm, "vm_create: %s", err);
	cr_assert_eq(pthread_create(&t.th, NULL, vm_thread, &t), 0);
	for (unsigned build = 1; build <= 6; build++) {
		int ib, ifo;

		if (build > 1)
			guest_reset(&t, build);
		cr_assert_eq(wait_event("first-output", build).byte, 'Q', "build %u", build);
		ib = event_index("booted", build);
		ifo = event_index("first-output", build);
		cr_assert(ib >= 0 && ib < ifo, "build %u: booted #%d, first-output #%d", build, ib, ifo);
		if (build > 1) {
			int ir = event_index("rebuilt", build - 1);

			cr_assert(ir >= 0 && ir < ib, "build %u: rebuilt #%d, booted #%d", build, ir, ib);
		}
		/* one first-output per build, no more */
		cr_assert_eq(event_index("first-output", build + 1), -1, "build %u", build);
	}
	tvm_stop(&t);
}
