/* tests/model/model.c: the platform model backend (see model.h).
 * Owns: a simulated KVM + SEV firmware + TDX module for launch tests: its
 * own memory view, command-order checks and measurement.  Must not call the
 * code under test that computes predictions (snp/digest.c, tdx/mr.c,
 * snp/vmsa.c): the point is an independent second computation. */
#include "tests/model/model.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define PG 4096ULL
#define MAX_VCPUS 512
#define MAX_GMEM 32
#define MAX_SLOTS 32
#define MAX_EXITS 8

/* ---------------- interval sets [start, end) ---------------- */
struct iset {
	uint64_t (*r)[2];
	size_t n, cap;
};

static bool iset_has(const struct iset *s, uint64_t a)
{
	for (size_t i = 0; i < s->n; i++)
		if (a >= s->r[i][0] && a < s->r[i][1])
			return true;
	return false;
}

static void iset_del(struct iset *s, uint64_t a, uint64_t e)
{
	for (size_t i = 0; i < s->n; i++) {
		uint64_t x = s->r[i][0], y = s->r[i][1];

		if (e <= x || a >= y)
			continue;
		if (a > x && e < y) {           /* split */
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 16;
				s->r = realloc(s->r, s->cap * sizeof(*s->r));
			}
			memmove(&s->r[i + 2], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
			s->r[i][1] = a;
			s->r[i + 1][0] = e;
			s->r[i + 1][1] = y;
			s->n++;
			return;
		}
		if (a <= x && e >= y) {         /* covered: drop */
			memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
			s->n--;
			i--;
			continue;
		}
		if (a <= x)
			s->r[i][0] = e;
		else
			s->r[i][1] = a;
	}
}

static void iset_add(struct iset *s, uint64_t a, uint64_t e)
{
	iset_del(s, a, e);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->r = realloc(s->r, s->cap * sizeof(*s->r));
	}
	s->r[s->n][0] = a;
	s->r[s->n][1] = e;
	s->n++;
}

static void iset_free(struct iset *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* ---------------- state ---------------- */
/* The exit queues, handled-counters and g_last_vm may be used from several
 * threads (a VMM's vCPU threads, its reapers, a test driving the guest). */
static pthread_mutex_t g_qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_qcond = PTHREAD_COND_INITIALIZER;
static struct model_opts g_opts;
static bool g_opts_set;
static char g_err[256];
static struct hv_vm *g_last_vm;

static int refuse(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g_err, sizeof(g_err), fmt, ap);
	va_end(ap);
	return code;
}

struct hv {
	struct model_opts o;
};

struct gmem {
	uint64_t size;
	struct iset populated;      /* offsets holding data */
	bool used;
};

struct slot {
	uint64_t gpa, size, uaddr, off;
	int gmem;                   /* -1 without guest_memfd */
	bool used;
};

enum snp_state { SNP_NEW, SNP_INIT, SNP_STARTED, SNP_DONE };
enum tdx_state { TDX_NEW, TDX_INITED, TDX_DONE };

struct hv_vm {
	struct hv *hv;
	enum plan_platform platform;
	unsigned nvcpus_param;
	struct gmem gmem[MAX_GMEM];
	unsigned ngmem;
	struct slot slot[MAX_SLOTS];
	struct iset private_;
	struct iset launched;
	struct hv_vcpu *vcpu[MAX_VCPUS];
	unsigned nvcpus;
	bool irqchip, split_irqchip, apic_bus;
	uint64_t exit_hypercall;
	/* SNP */
	enum snp_state snp;
	uint64_t vmsa_features, policy;
	uint8_t ld[48];
	uint8_t host_data[32];
	uint8_t (*vmsa)[4096];
	unsigned update_calls, cpuid_rejections;
	bool req_certs;
	/* TDX */
	enum tdx_state tdx;
	EVP_MD_CTX *mrtd_ctx;
	uint8_t mrtd[48];
};

struct hv_vcpu {
	struct hv_vm *vm;
	unsigned index;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint16_t fcw, fsw;
	uint32_t mxcsr;
	uint64_t xcr0, dr6, dr7, pat;
	bool cpuid_set, x2apic, tdx_inited;
	uint64_t rcx;
	struct hv_exit q[MAX_EXITS];
	unsigned nq;
	uint64_t ret, out[5];
	uint64_t last_ret, last_out[5];
	bool pending;
	uint64_t pushed, taken, handled;   /* exit sequence numbers (g_qlock) */
	uint8_t boot_out;                  /* the data of the boot_out_port write */
};

void model_opts_default(struct model_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->vm_types = 1ULL << 0 | 1ULL << 4 | 1ULL << 5;
	o->vmsa_features = 1ULL << 5 | 1ULL << 9;     /* DEBUG_SWAP, SECURE_TSC */
}

void model_set_opts(const struct model_opts *o)
{
	g_opts = *o;
	g_opts_set = true;
}

const char *model_last_error(void) { return g_err; }
struct hv_vm *model_last_vm(void)
{
	struct hv_vm *vm;

	pthread_mutex_lock(&g_qlock);
	vm = g_last_vm;
	pthread_mutex_unlock(&g_qlock);
	return vm;
}

/* ---------------- hv_ops ---------------- */
static int m_open(struct hv **out, char *err, size_t errlen)
{
	struct hv *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return -ENOMEM;
	if (!g_opts_set)
		model_opts_default(&g_opts);
	hv->o = g_opts;
	g_err[0] = '\0';
	*out = hv;
	return 0;
}

static void m_close(struct hv *hv) { free(hv); }

static int m_vm_create(struct hv *hv, const struct hv_vm_params *p, struct hv_vm **out)
{
	struct hv_vm *vm;
	unsigned type = p->platform == PLAN_SNP ? 4 : p->platform == PLAN_TDX ? 5 : 0;

	if (!(hv->o.vm_types & (1ULL << type)))
		return refuse(-EINVAL, "KVM_CREATE_VM: type %u unsupported", type);
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->hv = hv;
	vm->platform = p->platform;
	vm->nvcpus_param = p->nvcpus;
	pthread_mutex_lock(&g_qlock);
	g_last_vm = vm;
	pthread_mutex_unlock(&g_qlock);
	*out = vm;
	return 0;
}

static int m_vm_set_memory(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
			   void *host, bool readonly)
{
	if (vm->platform != PLAN_PLAIN && readonly)
		return refuse(-EINVAL, "read-only memslot on a confidential VM");
	return 0;
}

static int m_vm_create_irqchip(struct hv_vm *vm)
{
	if (vm->split_irqchip || vm->irqchip)
		return refuse(-EEXIST, "KVM_CREATE_IRQCHIP: irqchip exists");
	if (vm->nvcpus)
		return refuse(-EINVAL, "KVM_CREATE_IRQCHIP after vCPUs");
	vm->irqchip = true;
	return 0;
}

static int m_vm_irq_line(struct hv_vm *vm, unsigned gsi, int level) { return 0; }

static void vcpu_free(struct hv_vcpu *v) { free(v); }

static void m_vm_destroy(struct hv_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < vm->ngmem; i++)
		iset_free(&vm->gmem[i].populated);
	iset_free(&vm->private_);
	iset_free(&vm->launched);
	free(vm->vmsa);
	if (vm->mrtd_ctx)
		EVP_MD_CTX_free(vm->mrtd_ctx);
	pthread_mutex_lock(&g_qlock);
	if (g_last_vm == vm)
		g_last_vm = NULL;
	pthread_mutex_unlock(&g_qlock);
	free(vm);
}

static void seg(struct kvm_segment *s, uint16_t sel, uint64_t base, uint8_t type, uint8_t sflag)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = 0xffff;
	s->type = type;
	s->s = sflag;
	s->present = 1;
}

/* KVM's architectural reset state (x86.c kvm_vcpu_reset, svm.c init_vmcb) */
static void vcpu_reset(struct hv_vcpu *v)
{
	struct kvm_sregs *s = &v->sregs;

	memset(&v->regs, 0, sizeof(v->regs));
	memset(s, 0, sizeof(*s));
	seg(&s->cs, 0xf000, 0xffff0000, 0xb, 1);
	seg(&s->ds, 0, 0, 3, 1);
	seg(&s->es, 0, 0, 3, 1);
	seg(&s->fs, 0, 0, 3, 1);
	seg(&s->gs, 0, 0, 3, 1);
	seg(&s->ss, 0, 0, 3, 1);
	seg(&s->ldt, 0, 0, 2, 0);
	seg(&s->tr, 0, 0, 0xb, 0);
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;
	s->cr0 = 0x60000010;
	s->apic_base = 0xfee00000 | (v->index == 0 ? 0x900 : 0x800);
	v->regs.rip = 0xfff0;
	v->regs.rflags = 2;
	v->regs.rdx = 0x600;
	v->fcw = 0x37f;
	v->mxcsr = 0x1f80;
	v->xcr0 = 1;
	v->dr6 = 0xffff0ff0;
	v->dr7 = 0x400;
	v->pat = 0x0007040600070406ULL;
}

static int m_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out)
{
	struct hv_vcpu *v;

	if (index >= MAX_VCPUS || vm->vcpu[index])
		return refuse(-EINVAL, "KVM_CREATE_VCPU %u: bad or duplicate id", index);
	if (vm->platform == PLAN_SNP) {
		if (vm->snp == SNP_NEW)
			return refuse(-EINVAL, "KVM_CREATE_VCPU before KVM_SEV_INIT2");
		if (vm->snp == SNP_DONE)
			return refuse(-EINVAL, "KVM_CREATE_VCPU after LAUNCH_FINISH");
	}
	if (vm->platform == PLAN_TDX) {
		if (vm->tdx == TDX_NEW)
			return refuse(-EIO, "KVM_CREATE_VCPU before KVM_TDX_INIT_VM");
		if (vm->tdx == TDX_DONE)
			return refuse(-EINVAL, "KVM_CREATE_VCPU after FINALIZE");
		if (!vm->split_irqchip)
			return refuse(-EINVAL, "TDX vCPU without a split irqchip");
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->index = index;
	vcpu_reset(v);
	if (index == 0 && vm->hv->o.boot_out_port) {
		struct hv_exit *ex = &v->q[v->nq++];

		v->boot_out = vm->hv->o.boot_out_byte;
		ex->reason = HV_EXIT_IO;
		ex->io.port = vm->hv->o.boot_out_port;
		ex->io.size = 1;
		ex->io.is_write = true;
		ex->io.count = 1;
		ex->io.data = &v->boot_out;
		v->pushed++;
	}
	vm->vcpu[index] = v;
	if (index + 1 > vm->nvcpus)
		vm->nvcpus = index + 1;
	*out = v;
	return 0;
}

static bool vm_launched(const struct hv_vm *vm)
{
	return vm->platform == PLAN_PLAIN || (vm->platform == PLAN_SNP && vm->snp == SNP_DONE) ||
	       (vm->platform == PLAN_TDX && vm->tdx == TDX_DONE);
}

static int m_vcpu_run(struct hv_vcpu *v, struct hv_exit *ex)
{
	if (!vm_launched(v->vm))
		return refuse(-EINVAL, "KVM_RUN before the launch is finished");
	if (v->pending) {   /* KVM reads back what the VMM wrote */
		v->last_ret = v->ret;
		memcpy(v->last_out, v->out, sizeof(v->out));
		v->pending = false;
	}
	memset(ex, 0, sizeof(*ex));
	pthread_mutex_lock(&g_qlock);
	if (v->handled != v->taken) {
		v->handled = v->taken;          /* the VMM came back: the exit is handled */
		pthread_cond_broadcast(&g_qcond);
	}
	if (!v->nq && v->vm->hv->o.idle_wait_us) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)v->vm->hv->o.idle_wait_us * 1000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&g_qcond, &g_qlock, &ts);
	}
	if (!v->nq) {
		pthread_mutex_unlock(&g_qlock);
		ex->reason = HV_EXIT_INTR;
		return 0;
	}
	*ex = v->q[0];
	memmove(&v->q[0], &v->q[1], (v->nq - 1) * sizeof(v->q[0]));
	v->nq--;
	v->taken++;
	pthread_mutex_unlock(&g_qlock);
	v->ret = 0;
	memset(v->out, 0, sizeof(v->out));
	switch (ex->reason) {
	case HV_EXIT_HYPERCALL:
		ex->hypercall.ret = &v->ret;
		break;
	case HV_EXIT_TDX:
		/* KVM pre-fills ret so that ignoring the exit answers correctly */
		v->ret = FUKI_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
		memcpy(v->out, ex->tdx.in, sizeof(v->out));
		ex->tdx.ret = &v->ret;
		ex->tdx.out = v->out;
		break;
	case HV_EXIT_SNP_REQ_CERTS:
		v->out[0] = ex->snp_req_certs.npages;
		ex->snp_req_certs.ret = &v->ret;
		ex->snp_req_certs.npages_out = &v->out[0];
		break;
	default:
		break;
	}
	v->pending = true;
	return 0;
}

static void m_vcpu_kick(struct hv_vcpu *v)
{
	pthread_mutex_lock(&g_qlock);
	pthread_cond_broadcast(&g_qcond);
	pthread_mutex_unlock(&g_qlock);
}
static void m_vcpu_dump(struct hv_vcpu *v, char *buf, size_t len)
{
	snprintf(buf, len, "model vCPU %u rip=%llx", v->index, (unsigned long long)v->regs.rip);
}

static void m_vcpu_destroy(struct hv_vcpu *v)
{
	if (!v)
		return;
	if (v->vm->vcpu[v->index] == v)
		v->vm->vcpu[v->index] = NULL;
	vcpu_free(v);
}

const struct hv_ops model_ops;

/* ---------------- memory ---------------- */
static const struct slot *slot_of(const struct hv_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		const struct slot *s = &vm->slot[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

static int m_probe(struct hv *hv, enum plan_platform platform, struct hv_coco_caps *c,
		   char *err, size_t errlen)
{
	unsigned type = platform == PLAN_SNP ? 4 : 5;

	memset(c, 0, sizeof(*c));
	c->vm_types = hv->o.vm_types;
	c->guest_memfd = c->user_memory2 = !hv->o.no_guest_memfd;
	c->mem_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	c->exit_hypercall = 1ULL << KVM_HC_MAP_GPA_RANGE;
	c->have_vmsa_features = true;
	c->vmsa_features = hv->o.vmsa_features;
	c->snp_req_certs = true;
	if (!(c->vm_types & (1ULL << type))) {
		snprintf(err, errlen, "VM type %u (%s) absent from KVM_CAP_VM_TYPES (0x%llx)", type,
			 platform == PLAN_SNP ? "SNP" : "TDX", (unsigned long long)c->vm_types);
		return -ENODEV;
	}
	if (!c->guest_memfd) {
		snprintf(err, errlen, "KVM_CAP_GUEST_MEMFD/KVM_CAP_USER_MEMORY2 absent");
		return -ENODEV;
	}
	return 0;
}

/* A small synthetic KVM_GET_SUPPORTED_CPUID */
static const struct kvm_cpuid_entry2 sup_cpuid[] = {
	{ .function = 0, .eax = 0xd, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
	{ .function = 1, .eax = 0x00a00f11, .ebx = 0x00000800, .ecx = 0xf6f83203 | 1u << 24,
	  .edx = 0x178bfbff },
	{ .function = 7, .index = 0, .flags = 1, .ebx = 0x219c07ab | 2, .ecx = 0x0040069c,
	  .edx = 0xac000010 },
	{ .function = 0xd, .index = 0, .flags = 1, .eax = 0x7, .ebx = 0x340, .ecx = 0x340 },
	{ .function = 0xd, .index = 1, .flags = 1, .eax = 0xf, .ebx = 0x340 },
	{ .function = 0xd, .index = 2, .flags = 1, .eax = 0x100, .ebx = 0x240 },
	{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b, .ecx = 0x564b4d56,
	  .edx = 0x4d },
	{ .function = 0x40000001, .eax = 0x01007afb },
	{ .function = 0x80000000, .eax = 0x80000021, .ebx = 0x68747541 },
	{ .function = 0x80000001, .eax = 0x00a00f11, .ecx = 0x75c237ff, .edx = 0x2fd3fbff },
	{ .function = 0x80000008, .eax = 0x3030, .ebx = 0x0300d205 | 1u << 25 },
	{ .function = 0x8000001f, .eax = 0x0001789f, .ebx = 0x00000073, .ecx = 0x1fd },
};
#define NSUP (sizeof(sup_cpuid) / sizeof(sup_cpuid[0]))

static int m_get_supported_cpuid(struct hv *hv, struct kvm_cpuid2 *c)
{
	if (c->nent < NSUP)
		return -E2BIG;
	memcpy(c->entries, sup_cpuid, sizeof(sup_cpuid));
	c->nent = NSUP;
	return 0;
}

static int m_vm_check_extension(struct hv_vm *vm, long cap)
{
	if (cap == KVM_CAP_MEMORY_ATTRIBUTES)
		return vm->platform == PLAN_PLAIN ? 0 : (int)KVM_MEMORY_ATTRIBUTE_PRIVATE;
	return 0;
}

static int m_vm_enable_cap(struct hv_vm *vm, const struct kvm_enable_cap *c)
{
	switch (c->cap) {
	case KVM_CAP_EXIT_HYPERCALL:
		if (c->args[0] & ~(1ULL << KVM_HC_MAP_GPA_RANGE))
			return refuse(-EINVAL, "EXIT_HYPERCALL mask 0x%llx",
				      (unsigned long long)c->args[0]);
		vm->exit_hypercall = c->args[0];
		return 0;
	case KVM_CAP_SPLIT_IRQCHIP:
		if (vm->nvcpus)
			return refuse(-EINVAL, "SPLIT_IRQCHIP after vCPUs");
		if (vm->irqchip || vm->split_irqchip)
			return refuse(-EEXIST, "SPLIT_IRQCHIP: irqchip exists");
		vm->split_irqchip = true;
		return 0;
	case KVM_CAP_X86_APIC_BUS_CYCLES_NS:
		if (!vm->split_irqchip && !vm->irqchip)
			return refuse(-EINVAL, "APIC_BUS_CYCLES_NS without an in-kernel LAPIC");
		if (vm->nvcpus)
			return refuse(-EINVAL, "APIC_BUS_CYCLES_NS after vCPUs");
		vm->apic_bus = true;
		return 0;
	default:
		return refuse(-EINVAL, "KVM_ENABLE_CAP %u unknown to the model", c->cap);
	}
}

static int m_gmem_create(struct hv_vm *vm, const struct kvm_create_guest_memfd *g)
{
	if (vm->platform == PLAN_PLAIN)
		return refuse(-EINVAL, "guest_memfd on a default VM");
	if (!g->size || (g->size & (PG - 1)) || g->flags)
		return refuse(-EINVAL, "KVM_CREATE_GUEST_MEMFD size 0x%llx flags 0x%llx",
			      (unsigned long long)g->size, (unsigned long long)g->flags);
	for (int i = 0; i < 6; i++)
		if (g->reserved[i])
			return refuse(-EINVAL, "KVM_CREATE_GUEST_MEMFD reserved set");
	if (vm->ngmem == MAX_GMEM)
		return -EMFILE;
	vm->gmem[vm->ngmem].size = g->size;
	vm->gmem[vm->ngmem].used = true;
	return (int)vm->ngmem++ + 100;   /* handles look like fds */
}

static struct gmem *gmem_get(struct hv_vm *vm, int h)
{
	if (h < 100 || (unsigned)(h - 100) >= vm->ngmem)
		return NULL;
	return &vm->gmem[h - 100];
}

static int m_gmem_punch_hole(struct hv_vm *vm, int h, uint64_t off, uint64_t len)
{
	struct gmem *g = gmem_get(vm, h);

	if (!g)
		return -EBADF;
	if (((off | len) & (PG - 1)) || off + len > g->size || off + len < off)
		return refuse(-EINVAL, "punch hole 0x%llx+0x%llx", (unsigned long long)off,
			      (unsigned long long)len);
	iset_del(&g->populated, off, off + len);
	return 0;
}

static int m_set_memory_region2(struct hv_vm *vm, const struct kvm_userspace_memory_region2 *r)
{
	struct slot *s;

	if (r->slot >= MAX_SLOTS)
		return refuse(-EINVAL, "slot %u", r->slot);
	s = &vm->slot[r->slot];
	if (r->flags & ~(uint32_t)KVM_MEM_GUEST_MEMFD)
		return refuse(-EINVAL, "REGION2 slot %u flags 0x%x (read-only/dirty log refused)",
			      r->slot, r->flags);
	if (((r->guest_phys_addr | r->memory_size | r->userspace_addr | r->guest_memfd_offset) &
	     (PG - 1)))
		return refuse(-EINVAL, "REGION2 slot %u unaligned", r->slot);
	if (!r->memory_size) {
		s->used = false;
		return 0;
	}
	if (s->used)
		return refuse(-EINVAL, "REGION2 slot %u is immutable", r->slot);
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		const struct slot *o = &vm->slot[i];

		if (o->used && r->guest_phys_addr < o->gpa + o->size &&
		    o->gpa < r->guest_phys_addr + r->memory_size)
			return refuse(-EEXIST, "REGION2 slot %u overlaps slot %u", r->slot, i);
	}
	if (r->flags & KVM_MEM_GUEST_MEMFD) {
		struct gmem *g = gmem_get(vm, (int)r->guest_memfd);

		if (!g || r->guest_memfd_offset + r->memory_size > g->size)
			return refuse(-EINVAL, "REGION2 slot %u: bad guest_memfd range", r->slot);
	}
	*s = (struct slot){ .gpa = r->guest_phys_addr, .size = r->memory_size,
			    .uaddr = r->userspace_addr, .off = r->guest_memfd_offset,
			    .gmem = (r->flags & KVM_MEM_GUEST_MEMFD) ? (int)r->guest_memfd : -1,
			    .used = true };
	return 0;
}

static int m_set_memory_attributes(struct hv_vm *vm, const struct kvm_memory_attributes *a)
{
	if (vm->platform == PLAN_PLAIN)
		return refuse(-EINVAL, "memory attributes on a default VM");
	if (!a->size || ((a->address | a->size) & (PG - 1)) || a->flags ||
	    (a->attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE) || a->address + a->size < a->address)
		return refuse(-EINVAL, "SET_MEMORY_ATTRIBUTES 0x%llx+0x%llx attr 0x%llx",
			      (unsigned long long)a->address, (unsigned long long)a->size,
			      (unsigned long long)a->attributes);
	if (a->attributes)
		iset_add(&vm->private_, a->address, a->address + a->size);
	else
		iset_del(&vm->private_, a->address, a->address + a->size);
	return 0;
}

/* A page the firmware / TDX module may take: private, in a guest_memfd
 * slot, not launched before.  Populates the guest_memfd page. */
static int take_page(struct hv_vm *vm, uint64_t gpa, const char *who)
{
	const struct slot *s = slot_of(vm, gpa);
	struct gmem *g;
	uint64_t off;

	if (!s || s->gmem < 0)
		return refuse(-EINVAL, "%s: gpa 0x%llx not in a guest_memfd slot", who,
			      (unsigned long long)gpa);
	if (!iset_has(&vm->private_, gpa))
		return refuse(-EINVAL, "%s: gpa 0x%llx is not private", who, (unsigned long long)gpa);
	if (iset_has(&vm->launched, gpa))
		return refuse(-EIO, "%s: gpa 0x%llx launched twice", who, (unsigned long long)gpa);
	g = gmem_get(vm, s->gmem);
	off = s->off + (gpa - s->gpa);
	iset_add(&g->populated, off, off + PG);
	iset_add(&vm->launched, gpa, gpa + PG);
	return 0;
}

/* ---------------- SNP firmware ---------------- */
static void sha384(const void *d, size_t n, uint8_t out[48])
{
	EVP_Digest(d, n, out, NULL, EVP_sha384(), NULL);
}

/* PAGE_INFO fold (SNP firmware ABI #56860, SNP_LAUNCH_UPDATE) */
static void snp_fold(struct hv_vm *vm, const uint8_t *page, uint8_t type, uint64_t gpa)
{
	uint8_t pi[0x70];

	memset(pi, 0, sizeof(pi));
	memcpy(pi, vm->ld, 48);
	if (page)
		sha384(page, PG, pi + 0x30);
	pi[0x60] = 0x70;
	pi[0x62] = type;
	for (int i = 0; i < 8; i++)
		pi[0x68 + i] = (uint8_t)(gpa >> (8 * i));
	sha384(pi, sizeof(pi), vm->ld);
}

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The firmware's CPUID check: at most 64 entries; with cpuid_reject_leaf
 * set, that leaf may not advertise any EDX bit: the page is corrected and
 * rejected with INVALID_PARAM. */
static int snp_check_cpuid(struct hv_vm *vm, uint8_t *page, uint32_t *fw_err)
{
	uint32_t n = le32(page);
	bool bad = false;

	if (n > 64) {
		*fw_err = FUKI_SEV_RET_INVALID_PARAM;
		return refuse(-EIO, "CPUID page with %u entries", n);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = page + 16 + i * 48;

		if (vm->hv->o.cpuid_reject_leaf && le32(e) == vm->hv->o.cpuid_reject_leaf &&
		    le32(e + 36)) {
			memset(e + 36, 0, 4);
			bad = true;
		}
	}
	if (bad) {
		vm->cpuid_rejections++;
		*fw_err = FUKI_SEV_RET_INVALID_PARAM;
		return refuse(-EIO, "CPUID page rejected (leaf 0x%x EDX)", vm->hv->o.cpuid_reject_leaf);
	}
	return 0;
}

static int snp_update(struct hv_vm *vm, struct kvm_sev_snp_launch_update *u, uint32_t *fw_err)
{
	unsigned done = 0, max = vm->hv->o.update_chunk;
	int r;

	if (vm->snp != SNP_STARTED)
		return refuse(-EINVAL, "LAUNCH_UPDATE outside LAUNCH_START..FINISH");
	if (vm->hv->o.eagain_every && ++vm->update_calls % vm->hv->o.eagain_every == 0)
		return -EAGAIN;
	if (!u->len || (u->len & (PG - 1)) || u->flags || u->pad0 || u->pad1)
		return refuse(-EINVAL, "LAUNCH_UPDATE len 0x%llx flags 0x%x",
			      (unsigned long long)u->len, u->flags);
	switch (u->type) {
	case FUKI_SNP_PAGE_NORMAL: case FUKI_SNP_PAGE_ZERO: case FUKI_SNP_PAGE_UNMEASURED:
	case FUKI_SNP_PAGE_SECRETS: case FUKI_SNP_PAGE_CPUID:
		break;
	default:
		return refuse(-EINVAL, "LAUNCH_UPDATE page type %u", u->type);
	}
	if (u->type != FUKI_SNP_PAGE_ZERO && (!u->uaddr || (u->uaddr & (PG - 1))))
		return refuse(-EINVAL, "LAUNCH_UPDATE source 0x%llx", (unsigned long long)u->uaddr);
	while (u->len && (!max || done < max)) {
		uint64_t gpa = u->gfn_start << 12;
		uint8_t *src = (uint8_t *)(uintptr_t)u->uaddr;

		if (u->type == FUKI_SNP_PAGE_CPUID && (r = snp_check_cpuid(vm, src, fw_err)))
			return r;
		if ((r = take_page(vm, gpa, "LAUNCH_UPDATE")))
			return r;
		snp_fold(vm, u->type == FUKI_SNP_PAGE_NORMAL ? src : NULL, u->type, gpa);
		u->gfn_start++;
		u->uaddr += PG;
		u->len -= PG;
		done++;
	}
	return 0;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void vmcb_seg(uint8_t *p, const struct kvm_segment *s)
{
	uint16_t a = (s->type & 0xf) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
		     ((s->present & 1) && !s->unusable) << 7 | (s->avl & 1) << 8 |
		     (s->l & 1) << 9 | (s->db & 1) << 10 | (s->g & 1) << 11;

	put16(p, s->selector);
	put16(p + 2, a);
	put32(p + 4, s->limit);
	put64(p + 8, s->base);
}

/* The VMSA KVM encrypts at LAUNCH_FINISH (svm.c save area as the setters
 * leave it, sev.c sev_es_sync_vmsa), layout APM vol. 2 Table B-4. */
static void build_vmsa(const struct hv_vm *vm, const struct hv_vcpu *v, uint8_t *p)
{
	const struct kvm_sregs *s = &v->sregs;
	const struct kvm_regs *r = &v->regs;
	const uint64_t gprs[][2] = {
		{ 0x1d8, r->rsp }, { 0x1f8, r->rax }, { 0x308, r->rcx }, { 0x310, r->rdx },
		{ 0x318, r->rbx }, { 0x328, r->rbp }, { 0x330, r->rsi }, { 0x338, r->rdi },
		{ 0x340, r->r8 }, { 0x348, r->r9 }, { 0x350, r->r10 }, { 0x358, r->r11 },
		{ 0x360, r->r12 }, { 0x368, r->r13 }, { 0x370, r->r14 }, { 0x378, r->r15 },
	};

	memset(p, 0, 4096);
	vmcb_seg(p + 0x00, &s->es);
	vmcb_seg(p + 0x10, &s->cs);
	vmcb_seg(p + 0x20, &s->ss);
	vmcb_seg(p + 0x30, &s->ds);
	vmcb_seg(p + 0x40, &s->fs);
	vmcb_seg(p + 0x50, &s->gs);
	put32(p + 0x64, s->gdt.limit);
	put64(p + 0x68, s->gdt.base);
	vmcb_seg(p + 0x70, &s->ldt);
	put32(p + 0x84, s->idt.limit);
	put64(p + 0x88, s->idt.base);
	vmcb_seg(p + 0x90, &s->tr);
	p[0xcb] = s->ss.dpl & 3;
	put64(p + 0xd0, s->efer | (1ULL << 12));                 /* EFER.SVME */
	put64(p + 0x148, s->cr4 | (1ULL << 6));                  /* host CR4.MCE */
	put64(p + 0x150, s->cr3);
	put64(p + 0x158, s->cr0 & ~(0x60000000ULL));             /* CD_NW_CLEARED quirk */
	put64(p + 0x160, v->dr7);
	put64(p + 0x168, v->dr6);
	put64(p + 0x170, r->rflags);
	put64(p + 0x178, r->rip);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		put64(p + gprs[i][0], gprs[i][1]);
	put64(p + 0x268, v->pat);
	put64(p + 0x3b0, vm->vmsa_features | FUKI_SEV_FEAT_SNP_ACTIVE);
	put64(p + 0x3e8, v->xcr0);
	put32(p + 0x408, v->mxcsr);
	put16(p + 0x40e, v->fsw);
	put16(p + 0x410, v->fcw);
}

static int snp_finish(struct hv_vm *vm, const struct kvm_sev_snp_launch_finish *f)
{
	if (vm->snp != SNP_STARTED)
		return refuse(-EINVAL, "LAUNCH_FINISH without LAUNCH_START or twice");
	if (f->flags)
		return refuse(-EINVAL, "LAUNCH_FINISH flags 0x%x", f->flags);
	if (!vm->nvcpus)
		return refuse(-EINVAL, "LAUNCH_FINISH without vCPUs");
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!vm->vcpu[i])
			return refuse(-EINVAL, "LAUNCH_FINISH: vCPU %u missing", i);
	vm->vmsa = calloc(vm->nvcpus, 4096);
	if (!vm->vmsa)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		build_vmsa(vm, vm->vcpu[i], vm->vmsa[i]);
		snp_fold(vm, vm->vmsa[i], FUKI_SNP_PAGE_VMSA, 0x0000FFFFFFFFF000ULL);
	}
	if (f->id_block_en) {
		/* ID_BLOCK: LD[48] @0, FAMILY_ID @48, IMAGE_ID @64, VERSION @80,
		 * GUEST_SVN @84, POLICY @88 (FW ABI #56860 SNP_LAUNCH_FINISH) */
		const uint8_t *ib = (const uint8_t *)(uintptr_t)f->id_block_uaddr;
		uint64_t pol;

		if (!ib || !f->id_auth_uaddr) {
			free(vm->vmsa);
			vm->vmsa = NULL;
			return refuse(-EINVAL, "LAUNCH_FINISH: ID block enabled without buffers");
		}
		memcpy(&pol, ib + 88, 8);
		if (memcmp(ib, vm->ld, 48) || pol != vm->policy) {
			free(vm->vmsa);
			vm->vmsa = NULL;
			memset(vm->ld, 0, 48);   /* the launch is lost */
			vm->snp = SNP_DONE + 1;
			return refuse(-EIO, "LAUNCH_FINISH: ID block %s does not match",
				      pol != vm->policy ? "policy" : "measurement");
		}
	}
	memcpy(vm->host_data, f->host_data, 32);
	vm->snp = SNP_DONE;
	return 0;
}

#define SNP_POLICY_KNOWN 0x3ffffffULL   /* bits 0-25 (include/linux/psp-sev.h) */

static int m_sev_cmd(struct hv_vm *vm, struct kvm_sev_cmd *cmd)
{
	void *data = (void *)(uintptr_t)cmd->data;

	cmd->error = 0;
	if (vm->platform != PLAN_SNP)
		return refuse(-ENOTTY, "SEV command on a non-SNP VM");
	if (vm->snp == SNP_DONE || vm->snp > SNP_DONE)
		return refuse(-EINVAL, "SEV command %u after LAUNCH_FINISH", cmd->id);
	switch (cmd->id) {
	case FUKI_SEV_INIT2: {
		const struct kvm_sev_init *in = data;

		if (vm->snp != SNP_NEW)
			return refuse(-EINVAL, "KVM_SEV_INIT2 twice");
		if (vm->nvcpus)
			return refuse(-EINVAL, "KVM_SEV_INIT2 after vCPUs");
		if (in->flags || (in->ghcb_version != 0 && in->ghcb_version != 2) ||
		    (in->vmsa_features & ~vm->hv->o.vmsa_features))
			return refuse(-EINVAL, "KVM_SEV_INIT2 features 0x%llx flags 0x%x ghcb %u",
				      (unsigned long long)in->vmsa_features, in->flags,
				      in->ghcb_version);
		vm->vmsa_features = in->vmsa_features;
		vm->snp = SNP_INIT;
		return 0;
	}
	case FUKI_SEV_SNP_ENABLE_REQ_CERTS:
		if (vm->snp == SNP_NEW || vm->nvcpus)
			return refuse(-EINVAL, "ENABLE_REQ_CERTS order");
		vm->req_certs = true;
		return 0;
	case FUKI_SEV_SNP_LAUNCH_START: {
		const struct kvm_sev_snp_launch_start *s = data;

		if (vm->snp != SNP_INIT)
			return refuse(-EINVAL, "LAUNCH_START %s", vm->snp == SNP_NEW ?
				      "before KVM_SEV_INIT2" : "twice");
		if (!(s->policy & FUKI_SNP_POLICY_RSVD_MBO) || (s->policy & ~SNP_POLICY_KNOWN) ||
		    s->flags)
			return refuse(-EINVAL, "LAUNCH_START policy 0x%llx (bit 17 must be set)",
				      (unsigned long long)s->policy);
		vm->policy = s->policy;
		vm->snp = SNP_STARTED;
		return 0;
	}
	case FUKI_SEV_SNP_LAUNCH_UPDATE:
		return snp_update(vm, data, &cmd->error);
	case FUKI_SEV_SNP_LAUNCH_FINISH:
		return snp_finish(vm, data);
	default:
		return refuse(-EINVAL, "SEV command %u", cmd->id);
	}
}

/* ---------------- TDX module ---------------- */
#define TDX_ATTRS (1ULL << 0 | 1ULL << 28 | 1ULL << 30 | 1ULL << 63)
#define TDX_XFAM 0xfffffULL
static const struct kvm_cpuid_entry2 tdx_conf[] = {
	{ .function = 1, .eax = 0xffffffff, .ebx = 0xffffffff, .ecx = 0xfff9fdff, .edx = 0xffffffff },
	{ .function = 7, .index = 0, .flags = 1, .eax = 0xffffffff, .ebx = 0xffffffff,
	  .ecx = 0xffffffff, .edx = 0xffffffff },
	{ .function = 0xd, .index = 0, .flags = 1, .eax = 0xffffffff, .ebx = 0xffffffff,
	  .ecx = 0xffffffff, .edx = 0xffffffff },
	{ .function = 0x80000008, .eax = 0xffffffff, .ebx = 0xffffffff, .ecx = 0xffffffff,
	  .edx = 0xffffffff },
};
#define NCONF (sizeof(tdx_conf) / sizeof(tdx_conf[0]))

static void mrtd_block(struct hv_vm *vm, const char *op, uint64_t gpa)
{
	uint8_t b[128];

	memset(b, 0, sizeof(b));
	memcpy(b, op, strlen(op));
	put64(b + 16, gpa);
	EVP_DigestUpdate(vm->mrtd_ctx, b, sizeof(b));
}

static void mrtd_extend_page(struct hv_vm *vm, uint64_t gpa, const uint8_t *src)
{
	for (unsigned c = 0; c < 16; c++) {
		mrtd_block(vm, "MR.EXTEND", gpa + c * 256);
		EVP_DigestUpdate(vm->mrtd_ctx, src + c * 256, 256);
	}
}

static int m_tdx_vm_cmd(struct hv_vm *vm, struct kvm_tdx_cmd *cmd)
{
	if (vm->platform != PLAN_TDX)
		return refuse(-ENOTTY, "TDX command on a non-TDX VM");
	if (cmd->hw_error)
		return refuse(-EINVAL, "TDX command with hw_error set on input");
	switch (cmd->id) {
	case FUKI_TDX_CAPABILITIES: {
		struct kvm_tdx_capabilities *c = (void *)(uintptr_t)cmd->data;

		if (c->cpuid.nent < NCONF)
			return -E2BIG;
		c->supported_attrs = TDX_ATTRS;
		c->supported_xfam = TDX_XFAM;
		c->user_tdvmcallinfo_1_r11 = 1ULL << 1;
		c->kernel_tdvmcallinfo_1_r11 = 0;
		memcpy(c->cpuid.entries, tdx_conf, sizeof(tdx_conf));
		c->cpuid.nent = NCONF;
		return 0;
	}
	case FUKI_TDX_INIT_VM: {
		const struct kvm_tdx_init_vm *in = (void *)(uintptr_t)cmd->data;
		bool gpaw = false;

		if (vm->tdx != TDX_NEW)
			return refuse(-EINVAL, "KVM_TDX_INIT_VM twice");
		if (vm->nvcpus)
			return refuse(-EBUSY, "KVM_TDX_INIT_VM after vCPUs");
		if ((in->attributes & ~TDX_ATTRS) || (in->xfam & ~TDX_XFAM))
			return refuse(-EINVAL, "INIT_VM attributes 0x%llx xfam 0x%llx",
				      (unsigned long long)in->attributes,
				      (unsigned long long)in->xfam);
		for (int i = 0; i < 12; i++)
			if (in->reserved[i])
				return refuse(-EINVAL, "INIT_VM reserved set");
		if (in->cpuid.nent > 256)
			return refuse(-E2BIG, "INIT_VM cpuid nent %u", in->cpuid.nent);
		for (unsigned i = 0; i < in->cpuid.nent; i++) {
			const struct kvm_cpuid_entry2 *e = &in->cpuid.entries[i];
			const struct kvm_cpuid_entry2 *c = NULL;

			for (unsigned j = 0; j < NCONF && !c; j++)
				if (tdx_conf[j].function == e->function &&
				    (!(tdx_conf[j].flags & 1) || tdx_conf[j].index == e->index))
					c = &tdx_conf[j];
			if (!c || (e->eax & ~c->eax) || (e->ebx & ~c->ebx) || (e->ecx & ~c->ecx) ||
			    (e->edx & ~c->edx))
				return refuse(-EINVAL, "INIT_VM CPUID 0x%x.%u not configurable",
					      e->function, e->index);
			if (e->function == 0x80000008) {
				unsigned w = (e->eax >> 16) & 0xff;

				if (w != 48 && w != 52)
					return refuse(-EINVAL, "INIT_VM GPAW %u", w);
				gpaw = true;
			}
		}
		if (!gpaw)
			return refuse(-EINVAL, "INIT_VM without CPUID 0x80000008");
		vm->mrtd_ctx = EVP_MD_CTX_new();
		if (!vm->mrtd_ctx || !EVP_DigestInit_ex(vm->mrtd_ctx, EVP_sha384(), NULL))
			return -ENOMEM;
		vm->tdx = TDX_INITED;
		return 0;
	}
	case FUKI_TDX_FINALIZE_VM:
		if (vm->tdx != TDX_INITED)
			return refuse(-EINVAL, "FINALIZE %s", vm->tdx == TDX_NEW ? "before INIT_VM" : "twice");
		if (!vm->nvcpus)
			return refuse(-EINVAL, "FINALIZE without vCPUs");
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (!vm->vcpu[i] || !vm->vcpu[i]->tdx_inited)
				return refuse(-EINVAL, "FINALIZE: vCPU %u not initialised", i);
		EVP_DigestFinal_ex(vm->mrtd_ctx, vm->mrtd, NULL);
		vm->tdx = TDX_DONE;
		return 0;
	default:
		return refuse(-EINVAL, "TDX VM command %u", cmd->id);
	}
}

static int tdx_mem_region(struct hv_vcpu *v, struct kvm_tdx_cmd *cmd)
{
	struct hv_vm *vm = v->vm;
	struct kvm_tdx_init_mem_region *m = (void *)(uintptr_t)cmd->data;
	bool measure = cmd->flags & KVM_TDX_MEASURE_MEMORY_REGION;
	bool two = vm->hv->o.tdx_two_pass;
	unsigned max = two ? 0 : vm->hv->o.tdx_chunk, done = 0;
	uint64_t gpa0 = m->gpa, n0 = m->nr_pages;
	const uint8_t *src0 = (const uint8_t *)(uintptr_t)m->source_addr;
	int r;

	if (!v->tdx_inited)
		return refuse(-EINVAL, "INIT_MEM_REGION on a vCPU without INIT_VCPU");
	if (cmd->flags & ~KVM_TDX_MEASURE_MEMORY_REGION)
		return refuse(-EINVAL, "INIT_MEM_REGION flags 0x%x", cmd->flags);
	if (!m->nr_pages || ((m->gpa | m->source_addr) & (PG - 1)) || (m->gpa & (1ULL << 47)))
		return refuse(-EINVAL, "INIT_MEM_REGION gpa 0x%llx pages %llu",
			      (unsigned long long)m->gpa, (unsigned long long)m->nr_pages);
	/* validate the whole range first (the model refuses atomically) */
	for (uint64_t i = 0; i < m->nr_pages; i++) {
		uint64_t gpa = m->gpa + i * PG;
		const struct slot *s = slot_of(vm, gpa);

		if (!s || s->gmem < 0 || !iset_has(&vm->private_, gpa))
			return refuse(-EINVAL, "INIT_MEM_REGION gpa 0x%llx not private guest_memfd",
				      (unsigned long long)gpa);
	}
	while (m->nr_pages && (!max || done < max)) {
		const uint8_t *src = (const uint8_t *)(uintptr_t)m->source_addr;

		if ((r = take_page(vm, m->gpa, "INIT_MEM_REGION")))
			return r;
		mrtd_block(vm, "MEM.PAGE.ADD", m->gpa);
		if (measure && !two)
			mrtd_extend_page(vm, m->gpa, src);
		m->gpa += PG;
		m->source_addr += PG;
		m->nr_pages--;
		done++;
	}
	if (measure && two)
		for (uint64_t i = 0; i < n0; i++)
			mrtd_extend_page(vm, gpa0 + i * PG, src0 + i * PG);
	return m->nr_pages ? -EINTR : 0;     /* "a signal arrived": progress kept */
}

static int m_tdx_vcpu_cmd(struct hv_vcpu *v, struct kvm_tdx_cmd *cmd)
{
	struct hv_vm *vm = v->vm;

	if (vm->platform != PLAN_TDX)
		return refuse(-ENOTTY, "TDX command on a non-TDX vCPU");
	if (cmd->hw_error)
		return refuse(-EINVAL, "TDX command with hw_error set on input");
	if (vm->tdx != TDX_INITED)
		return refuse(-EINVAL, "TDX vCPU command %u %s", cmd->id,
			      vm->tdx == TDX_NEW ? "before INIT_VM" : "after FINALIZE");
	switch (cmd->id) {
	case FUKI_TDX_INIT_VCPU:
		if (v->tdx_inited)
			return refuse(-EINVAL, "INIT_VCPU %u twice", v->index);
		if (!v->cpuid_set || !v->x2apic)
			return refuse(-EINVAL, "INIT_VCPU %u: guest CPUID lacks x2APIC (KVM_SET_CPUID2 first)",
				      v->index);
		v->rcx = cmd->data;
		v->tdx_inited = true;
		return 0;
	case FUKI_TDX_INIT_MEM_REGION:
		return tdx_mem_region(v, cmd);
	default:
		return refuse(-EINVAL, "TDX vCPU command %u", cmd->id);
	}
}

/* ---------------- vCPU state ---------------- */
static int state_ok(struct hv_vcpu *v, const char *what)
{
	if (v->vm->platform == PLAN_SNP && v->vm->snp >= SNP_DONE)
		return refuse(-EINVAL, "%s after LAUNCH_FINISH (state protected)", what);
	if (v->vm->platform == PLAN_TDX)
		return refuse(-EINVAL, "%s on a TDX vCPU (state protected)", what);
	return 0;
}

static int m_set_cpuid(struct hv_vcpu *v, const struct kvm_cpuid2 *c)
{
	if (c->nent > 256)
		return -E2BIG;
	if (v->vm->platform == PLAN_TDX && v->tdx_inited)
		return refuse(-EINVAL, "SET_CPUID2 after INIT_VCPU");
	v->cpuid_set = true;
	v->x2apic = false;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			v->x2apic = (c->entries[i].ecx >> 21) & 1;
	return 0;
}

static int m_get_sregs(struct hv_vcpu *v, struct kvm_sregs *s)
{
	int r = state_ok(v, "GET_SREGS");

	if (!r)
		*s = v->sregs;
	return r;
}

static int m_set_sregs(struct hv_vcpu *v, const struct kvm_sregs *s)
{
	int r = state_ok(v, "SET_SREGS");

	if (!r) {
		if (s->efer & (1ULL << 12))
			return refuse(-EINVAL, "SET_SREGS: EFER.SVME without SVM in guest CPUID");
		v->sregs = *s;
	}
	return r;
}

static int m_set_regs(struct hv_vcpu *v, const struct kvm_regs *rg)
{
	int r = state_ok(v, "SET_REGS");

	if (!r)
		v->regs = *rg;
	return r;
}

static int m_set_fpu(struct hv_vcpu *v, const struct kvm_fpu *f)
{
	int r = state_ok(v, "SET_FPU");

	if (!r) {
		v->fcw = f->fcw;
		v->fsw = f->fsw;
		v->mxcsr = f->mxcsr;
	}
	return r;
}

static int m_set_msrs(struct hv_vcpu *v, const struct kvm_msrs *m)
{
	int r = state_ok(v, "SET_MSRS");

	if (r)
		return r;
	for (unsigned i = 0; i < m->nmsrs; i++) {
		if (m->entries[i].index != 0x277)
			return (int)i;     /* KVM stops at the first MSR it refuses */
		v->pat = m->entries[i].data;
	}
	return (int)m->nmsrs;
}

static int m_set_xcrs(struct hv_vcpu *v, const struct kvm_xcrs *x)
{
	int r = state_ok(v, "SET_XCRS");

	if (r)
		return r;
	for (unsigned i = 0; i < x->nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (x->xcrs[i].xcr != 0 || !(x->xcrs[i].value & 1))
			return refuse(-EINVAL, "SET_XCRS xcr%u = 0x%llx", x->xcrs[i].xcr,
				      (unsigned long long)x->xcrs[i].value);
		v->xcr0 = x->xcrs[i].value;
	}
	return 0;
}

static int m_set_debugregs(struct hv_vcpu *v, const struct kvm_debugregs *d)
{
	int r = state_ok(v, "SET_DEBUGREGS");

	if (!r) {
		v->dr6 = d->dr6;
		v->dr7 = d->dr7;
	}
	return r;
}

static const struct hv_coco_ops model_coco_ops = {
	.probe = m_probe,
	.get_supported_cpuid = m_get_supported_cpuid,
	.vm_check_extension = m_vm_check_extension,
	.vm_enable_cap = m_vm_enable_cap,
	.gmem_create = m_gmem_create,
	.gmem_punch_hole = m_gmem_punch_hole,
	.set_memory_region2 = m_set_memory_region2,
	.set_memory_attributes = m_set_memory_attributes,
	.sev_cmd = m_sev_cmd,
	.tdx_vm_cmd = m_tdx_vm_cmd,
	.tdx_vcpu_cmd = m_tdx_vcpu_cmd,
	.vcpu_set_cpuid = m_set_cpuid,
	.vcpu_get_sregs = m_get_sregs,
	.vcpu_set_sregs = m_set_sregs,
	.vcpu_set_regs = m_set_regs,
	.vcpu_set_fpu = m_set_fpu,
	.vcpu_set_msrs = m_set_msrs,
	.vcpu_set_xcrs = m_set_xcrs,
	.vcpu_set_debugregs = m_set_debugregs,
};

const struct hv_ops model_ops = {
	.name = "model",
	.coco = &model_coco_ops,
	.open = m_open,
	.close = m_close,
	.vm_create = m_vm_create,
	.vm_set_memory = m_vm_set_memory,
	.vm_create_irqchip = m_vm_create_irqchip,
	.vm_irq_line = m_vm_irq_line,
	.vm_destroy = m_vm_destroy,
	.vcpu_create = m_vcpu_create,
	.vcpu_run = m_vcpu_run,
	.vcpu_kick = m_vcpu_kick,
	.vcpu_dump = m_vcpu_dump,
	.vcpu_destroy = m_vcpu_destroy,
};

/* ---------------- accessors ---------------- */
bool model_vm_launched(struct hv_vm *vm) { return vm_launched(vm); }

int model_vm_snp_digest(struct hv_vm *vm, uint8_t out[48])
{
	if (vm->platform != PLAN_SNP || vm->snp != SNP_DONE)
		return -EINVAL;
	memcpy(out, vm->ld, 48);
	return 0;
}

int model_vm_tdx_mrtd(struct hv_vm *vm, uint8_t out[48])
{
	if (vm->platform != PLAN_TDX || vm->tdx != TDX_DONE)
		return -EINVAL;
	memcpy(out, vm->mrtd, 48);
	return 0;
}

const uint8_t *model_vm_vmsa(struct hv_vm *vm, unsigned i)
{
	return vm->vmsa && i < vm->nvcpus ? vm->vmsa[i] : NULL;
}

const uint8_t *model_vm_host_data(struct hv_vm *vm) { return vm->host_data; }
uint64_t model_vm_policy(struct hv_vm *vm) { return vm->policy; }
uint64_t model_vm_vmsa_features(struct hv_vm *vm) { return vm->vmsa_features; }
uint64_t model_vm_exit_hypercall(struct hv_vm *vm) { return vm->exit_hypercall; }
unsigned model_vm_cpuid_rejections(struct hv_vm *vm) { return vm->cpuid_rejections; }
unsigned model_vm_gmem_count(struct hv_vm *vm) { return vm->ngmem; }
bool model_vm_split_irqchip(struct hv_vm *vm) { return vm->split_irqchip; }
bool model_vm_is_private(struct hv_vm *vm, uint64_t gpa) { return iset_has(&vm->private_, gpa); }
bool model_vm_page_launched(struct hv_vm *vm, uint64_t gpa) { return iset_has(&vm->launched, gpa); }

bool model_vm_gmem_populated(struct hv_vm *vm, uint64_t gpa)
{
	const struct slot *s = slot_of(vm, gpa);
	struct gmem *g;

	if (!s || s->gmem < 0 || !(g = gmem_get(vm, s->gmem)))
		return false;
	return iset_has(&g->populated, s->off + (gpa - s->gpa));
}

uint64_t model_vcpu_tdx_rcx(struct hv_vcpu *v) { return v->rcx; }

uint64_t model_vcpu_push_exit(struct hv_vcpu *v, const struct hv_exit *ex)
{
	uint64_t seq = 0;

	pthread_mutex_lock(&g_qlock);
	if (v->nq < MAX_EXITS) {
		v->q[v->nq++] = *ex;
		seq = ++v->pushed;
		pthread_cond_broadcast(&g_qcond);
	}
	pthread_mutex_unlock(&g_qlock);
	return seq;
}

int model_vcpu_wait_handled(struct hv_vcpu *v, uint64_t seq, unsigned timeout_ms)
{
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&g_qlock);
	while (v->handled < seq && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&g_qcond, &g_qlock, &ts);
	r = v->handled >= seq ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&g_qlock);
	return r;
}

uint64_t model_vcpu_last_ret(struct hv_vcpu *v) { return v->last_ret; }
const uint64_t *model_vcpu_last_out(struct hv_vcpu *v) { return v->last_out; }
