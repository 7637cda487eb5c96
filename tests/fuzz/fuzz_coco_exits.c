/* tests/fuzz/fuzz_coco_exits.c: libFuzzer target for the run-time exits of a
 * confidential guest, against the platform model (tests/model/): an SEV-SNP
 * and a TDX VM are launched once on 64 MiB of RAM (the synthetic firmware
 * of tests/unit/test_launch_model.c), then every input is a stream of exits
 * pushed into one of them with model_vcpu_push_exit and served as a vCPU
 * thread would: page conversions (KVM_HC_MAP_GPA_RANGE hypercalls and
 * memory faults) and TDVMCALLs (GetQuote relayed to an in-process QGS,
 * SetupEventNotifyInterrupt, GetTdVmCallInfo, unknown leaves), SNP
 * certificate requests and crash reports through coco_handle_exit; the
 * port I/O and MMIO that KVM turns TDVMCALLs and #VCs into go through the
 * buses (a UART with its output ring, the CMOS; MMIO hits nothing).
 * Input: one byte choosing the VM (bit 0: TDX), then records of an opcode
 * byte and four little-endian u64 (tests/fuzz/fuzz_input.h).  Opcode bits
 * 3-4 steer the GPA: into the first 16 MiB of RAM page-aligned, anywhere
 * in RAM, or raw.
 * Checks: no crash or sanitizer report; what the VMM wrote back for a
 * hypercall is 0 or EINVAL; a GetQuote answer never claims more bytes than
 * the guest's buffer holds. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/cmos.h"
#include "devices/serial.h"
#include "snp/snp.h"
#include "tdx/tdx.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/model/model.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/log.h"
#include "vmm/hv/coco_launch.h"
#include "vmm/hv/kvm_coco_abi.h"
#include "vmm/launch/coco.h"

#define MEM (64ULL << 20)

struct fvm {
	struct hv *hv;
	struct coco_vm *cv;
	struct hv_vm *vm;
	struct hv_vcpu *vcpu[1];
	bool ok;
};

static uint8_t *ram;
static struct guestmem gm;
static struct fvm vms[2];          /* 0: SNP, 1: TDX */
static struct bus pio, mmio;
static struct serial *uart;
static struct cmos *rtc;
static int uart_fd = -1;
static struct coco_config ccfg;
static char qgs_path[108], certs_path[64];

/* ---- a QGS that answers every request with up to 64 bytes of it ---- */
static void *qgs_main(void *arg)
{
	int ls = (int)(intptr_t)arg;

	for (;;) {
		int c = accept(ls, NULL, NULL);
		uint8_t hdr[4], buf[64];
		uint32_t n, k;

		if (c < 0)
			continue;
		if (read(c, hdr, 4) == 4) {
			n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
			k = n < sizeof(buf) ? n : sizeof(buf);
			if (k && read(c, buf, k) <= 0)
				k = 0;
			hdr[0] = hdr[1] = hdr[2] = 0;
			hdr[3] = (uint8_t)k;
			if (write(c, hdr, 4) == 4 && k && write(c, buf, k) < 0)
				k = 0;
		}
		close(c);
	}
	return NULL;
}

static void start_qgs(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	int ls;

	snprintf(qgs_path, sizeof(qgs_path), "/tmp/fuki-fuzz-qgs.%d", (int)getpid());
	unlink(qgs_path);
	strcpy(sa.sun_path, qgs_path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 16) < 0 ||
	    pthread_create(&t, NULL, qgs_main, (void *)(intptr_t)ls)) {
		qgs_path[0] = '\0';
		return;
	}
	pthread_detach(t);
	ccfg.quote_socket = qgs_path;
}

static void write_certs(void)
{
	FILE *f;

	snprintf(certs_path, sizeof(certs_path), "/tmp/fuki-fuzz-certs.%d", (int)getpid());
	f = fopen(certs_path, "wb");
	if (!f)
		return;
	for (int i = 0; i < 5000; i++)
		fputc(i & 0xff, f);   /* two pages */
	fclose(f);
	ccfg.snp_certs = certs_path;
}

/* ---- the two VMs (plans as in tests/unit/test_launch_model.c) ---- */
static uint8_t *synth_fw(size_t len)
{
	uint8_t *fw = malloc(len);

	for (size_t i = 0; fw && i < len; i++)
		fw[i] = (uint8_t)(i * 31 + (i >> 12) * 7);
	return fw;
}

static int snp_plan(struct launch_plan *p)
{
	struct ovmf_info info;
	struct snp_params sp;
	uint8_t *fw = synth_fw(0x40000);
	char err[256];
	int r;

	memset(&info, 0, sizeof(info));
	info.has_footer = info.has_reset_block = info.has_sev_meta = true;
	info.ap_reset_eip = 0x80b004;
	info.sev[0] = (struct ovmf_sev_item){ 0x800000, 0x9000, OVMF_SEV_SEC_MEM };
	info.sev[1] = (struct ovmf_sev_item){ 0x80d000, 0x1000, OVMF_SEV_SECRETS };
	info.sev[2] = (struct ovmf_sev_item){ 0x80e000, 0x1000, OVMF_SEV_CPUID };
	info.nsev = 3;
	snp_params_init(&sp);
	sp.nvcpus = 1;
	sp.vmm_type = SNP_VMM_QEMU;
	if (!fw || snp_vcpu_sig_from_name("EPYC-v4", &sp.vcpu_sig)) {
		free(fw);
		return -1;
	}
	plan_init(p, PLAN_SNP);
	r = snp_build_plan_info(p, fw, 0x40000, &info, &sp, err, sizeof(err));
	free(fw);
	return r;
}

static int tdx_plan(struct launch_plan *p)
{
	static const struct ovmf_tdvf_section sec[] = {
		{ .data_offset = 0x10000, .raw_size = 0x30000, .gpa = 0xFFFD0000, .mem_size = 0x30000,
		  .type = OVMF_TDVF_BFV, .attributes = 1 },
		{ .data_offset = 0, .raw_size = 0x10000, .gpa = 0xFFFC0000, .mem_size = 0x10000,
		  .type = OVMF_TDVF_CFV },
		{ .gpa = 0x810000, .mem_size = 0x10000, .type = OVMF_TDVF_TEMP_MEM },
		{ .gpa = 0x809000, .mem_size = 0x2000, .type = OVMF_TDVF_TD_HOB },
		{ .gpa = 0x800000, .mem_size = 0x6000, .type = OVMF_TDVF_TEMP_MEM },
	};
	struct tdx_params tp;
	uint8_t *fw = synth_fw(0x40000);
	char err[256];
	int r;

	if (!fw)
		return -1;
	memset(&tp, 0, sizeof(tp));
	tp.memory = MEM;
	tp.nvcpus = 1;
	tp.attributes = 1ULL << 28;
	tp.xfam = 0x61ae7;
	plan_init(p, PLAN_TDX);
	r = tdx_build_plan_sections(p, fw, 0x40000, sec, 5, &tp, err, sizeof(err));
	free(fw);
	return r;
}

static void launch(struct fvm *f, int (*mk)(struct launch_plan *))
{
	struct model_opts o;
	struct launch_plan p;
	char err[256];
	struct coco_build_args a;

	if (mk(&p))
		return;
	model_opts_default(&o);
	model_set_opts(&o);
	if (model_ops.open(&f->hv, err, sizeof(err)) == 0) {
		a = (struct coco_build_args){ .ops = &model_ops, .hv = f->hv, .plan = &p, .gm = &gm,
					      .nvcpus = 1, .cfg = &ccfg };
		f->ok = coco_build(&a, &f->cv, &f->vm, f->vcpu) == 0;
	}
	plan_free(&p);
}

static void init_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	log_set_level(LOG_ERR);
	ram = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		abort();
	gm_init(&gm);
	if (gm_add(&gm, 0, 0xA0000, ram, GM_RAM, "ram-low") ||
	    gm_add(&gm, 0xC0000, MEM - 0xC0000, ram + 0xC0000, GM_RAM, "ram"))
		abort();
	start_qgs();
	write_certs();
	launch(&vms[0], snp_plan);
	launch(&vms[1], tdx_plan);
	if (!vms[0].ok || !vms[1].ok) {
		fprintf(stderr, "fuzz_coco_exits: model launch failed: %s\n", model_last_error());
		abort();
	}
	bus_init(&pio);
	bus_init(&mmio);
	uart = serial_create(SERIAL_COM1_BASE, NULL, 0, NULL, NULL);
	rtc = cmos_create(MEM, 0, 1);
	uart_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!uart || !rtc || uart_fd < 0 || serial_out_fd(uart, uart_fd, 0, NULL, NULL) ||
	    serial_attach(uart, &pio) || cmos_attach(rtc, &pio))
		abort();
}

/* ---- one exit ---- */
static uint64_t steer_gpa(uint8_t op, uint64_t v)
{
	switch ((op >> 3) & 3) {
	case 0:
		return (v % (16ULL << 20)) & ~0xfffULL;   /* low RAM, page-aligned */
	case 1:
		return v % MEM;
	case 2:
		return v % (MEM * 2);                     /* RAM and beyond */
	default:
		return v;
	}
}

static void serve(struct fvm *f, struct hv_exit *tmpl)
{
	struct hv_vcpu *v = f->vcpu[0];
	struct hv_exit ex;

	model_vcpu_push_exit(v, tmpl);
	if (model_ops.vcpu_run(v, &ex))
		return;
	switch (ex.reason) {
	case HV_EXIT_IO:
		for (uint32_t i = 0; i < ex.io.count; i++)
			bus_access(&pio, ex.io.port, ex.io.data + (size_t)i * ex.io.size, ex.io.size,
				   ex.io.is_write);
		break;
	case HV_EXIT_MMIO:
		bus_access(&mmio, ex.mmio.addr, ex.mmio.data, ex.mmio.size, ex.mmio.is_write);
		break;
	default:
		coco_handle_exit(f->cv, v, &ex);
		break;
	}
	model_ops.vcpu_run(v, &ex);   /* the model reads back what was written */
	if (tmpl->reason == HV_EXIT_HYPERCALL) {
		uint64_t r = model_vcpu_last_ret(v);

		if (r != 0 && r != EINVAL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	static uint8_t iobuf[64];
	struct fvm *f;
	unsigned steps = 0;

	init_once();
	f = &vms[take8(&in) & 1];
	while (in.n && steps++ < 256) {
		uint8_t op = take8(&in);
		uint64_t a = take64(&in), b = take64(&in), c = take64(&in), d = take64(&in);
		struct hv_exit ex;

		memset(&ex, 0, sizeof(ex));
		switch (op % 7) {
		case 0:   /* MAP_GPA_RANGE (or another hypercall) */
			ex.reason = HV_EXIT_HYPERCALL;
			ex.hypercall.nr = (op & 0x80) ? a : KVM_HC_MAP_GPA_RANGE;
			ex.hypercall.args[0] = steer_gpa(op, b);
			ex.hypercall.args[1] = (op & 0x40) ? c : c % 64;
			ex.hypercall.args[2] = d;
			break;
		case 1:   /* implicit conversion */
			ex.reason = HV_EXIT_MEMORY_FAULT;
			ex.memory_fault.flags = a & KVM_MEMORY_EXIT_FLAG_PRIVATE;
			ex.memory_fault.gpa = steer_gpa(op, b);
			ex.memory_fault.size = (op & 0x40) ? c : (c % 16 + 1) * 0x1000;
			break;
		case 2: { /* TDVMCALL */
			static const uint64_t leaf[] = {
				FUKI_TDVMCALL_GET_QUOTE, FUKI_TDVMCALL_SETUP_EVENT_NOTIFY,
				FUKI_TDVMCALL_GET_TD_VM_CALL_INFO, FUKI_TDVMCALL_MAP_GPA,
				FUKI_TDVMCALL_REPORT_FATAL_ERROR,
			};
			uint64_t gpa = steer_gpa(op, b);

			ex.reason = HV_EXIT_TDX;
			ex.tdx.nr = (op & 0x80) ? a : leaf[a % 5];
			if ((op & 0x40) && gpa < MEM - 24 && gpa >= 0x100000) {
				/* a GetQuote header with a chosen in_len in the shared side */
				uint32_t in_len = (uint32_t)d;

				memcpy(ram + gpa + 16, &in_len, 4);
			}
			ex.tdx.in[0] = gpa | ((op & 0x20) ? 1ULL << 47 : 0);
			ex.tdx.in[1] = (op & 0x40) ? (c % 4 + 1) * 0x1000 : c;
			ex.tdx.in[2] = d;
			break;
		}
		case 3:   /* SNP certificate request */
			ex.reason = HV_EXIT_SNP_REQ_CERTS;
			ex.snp_req_certs.gpa = steer_gpa(op, b);
			ex.snp_req_certs.npages = (op & 0x40) ? c : c % 4;
			break;
		case 4:   /* port I/O, as KVM hands over an emulated IN/OUT (TDVMCALL or #VC) */
			ex.reason = HV_EXIT_IO;
			ex.io.port = (uint16_t)((op & 0x40) ? a : 0x3f8 + a % 8 + ((a >> 8) & 1) * (0x70 - 0x3f8));
			ex.io.size = 1u << (b % 3);
			ex.io.count = (uint32_t)(1 + c % (sizeof(iobuf) / ex.io.size));
			ex.io.is_write = d & 1;
			memcpy(iobuf, &d, 8);
			memcpy(iobuf + 8, &a, 8);
			ex.io.data = iobuf;
			break;
		case 5:   /* MMIO: nothing is mapped there in this harness */
			ex.reason = HV_EXIT_MMIO;
			ex.mmio.addr = a;
			ex.mmio.size = 1u << (b % 4);
			ex.mmio.is_write = c & 1;
			memcpy(iobuf, &d, 8);
			ex.mmio.data = iobuf;
			break;
		default:  /* a crash report */
			ex.reason = HV_EXIT_CRASH;
			ex.system_event.type = (a & 1) ? KVM_SYSTEM_EVENT_SEV_TERM : KVM_SYSTEM_EVENT_TDX_FATAL;
			ex.system_event.ndata = (uint32_t)(b % 17);
			for (unsigned i = 0; i < 16; i++)
				ex.system_event.data[i] = c ^ (d * i);
			break;
		}
		serve(f, &ex);
		if (ex.reason == HV_EXIT_TDX && ex.tdx.nr == FUKI_TDVMCALL_GET_QUOTE) {
			uint64_t gpa = ex.tdx.in[0] & ~(1ULL << 47), sz = ex.tdx.in[1];
			uint32_t out_len;

			/* only an accepted request writes the header back */
			if (model_vcpu_last_ret(f->vcpu[0]) == FUKI_TDVMCALL_STATUS_SUCCESS &&
			    gpa < MEM && sz >= 24 && sz <= MEM - gpa && gpa >= 0x100000) {
				memcpy(&out_len, ram + gpa + 20, 4);
				if (out_len > sz - 24)
					abort();
			}
		}
		if (uart_fd >= 0)
			serial_drain(uart, uart_fd);
	}
	return 0;
}
