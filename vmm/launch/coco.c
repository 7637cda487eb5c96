/* vmm/launch/coco.c: confidential VM build, run-time exits and teardown (see
 * vmm/launch/coco.h).  Owns the guest_memfd slot table, the firmware's shared
 * mapping, page conversion and the TDX/SNP exits left to the VMM.  Must not
 * touch device models or vCPU threads; the launch order itself is
 * snp/launch.c / tdx/launch.c walking the plan. */
#include "vmm/launch/coco.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "snp/launch.h"
#include "tdx/launch.h"
#include "tdx/qgs.h"
#include "vmm/base/layout.h"
#include "vmm/base/log.h"

#define COCO_MAX_SLOTS (GM_MAX_REGIONS + 1)

struct coco_slot {
	uint64_t gpa, size;
	uint8_t *host;            /* shared side */
	int gmem;
	uint64_t gmem_off;
};

struct coco_vm {
	const struct hv_ops *ops;
	struct hv_vm *vm;
	enum plan_platform platform;
	struct coco_slot slot[COCO_MAX_SLOTS];
	unsigned nslots;
	uint8_t *fw_shared;       /* shared side of the firmware slot */
	uint64_t fw_size;
	struct coco_config cfg;
	pthread_mutex_t lock;
	uint64_t last_fault_gpa, last_fault_flags;
	unsigned fault_repeats;
	unsigned notify_vector, notify_vcpu;
	uint64_t tdx_user_r11, tdx_kernel_r11, tdx_kernel_r12;
};

/* The platform launch sequences, in the order coco_build runs them. */
static const struct coco_platform {
	const char *name;
	int (*start)(struct coco_launch *l);    /* before memory and vCPUs */
	int (*finish)(struct coco_launch *l);   /* after them */
} coco_platforms[] = {
	[PLAN_SNP] = { "SEV-SNP", snp_launch_start, snp_launch_finish },
	[PLAN_TDX] = { "TDX", tdx_launch_init_vm, tdx_launch_finish },
};

/* ---------------- build ---------------- */

static int add_slot(struct coco_vm *cv, uint64_t gpa, uint64_t size, uint8_t *host)
{
	const struct hv_coco_ops *co = cv->ops->coco;
	struct kvm_create_guest_memfd g = { .size = size, .flags = 0 };
	struct kvm_userspace_memory_region2 mr;
	struct kvm_memory_attributes at = { .address = gpa, .size = size,
					    .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE };
	int fd, r;

	if (cv->nslots == COCO_MAX_SLOTS)
		return -ENOSPC;
	fd = co->gmem_create(cv->vm, &g);
	if (fd < 0) {
		log_err("KVM_CREATE_GUEST_MEMFD size 0x%llx: %s", (unsigned long long)size,
			strerror(-fd));
		return fd;
	}
	memset(&mr, 0, sizeof(mr));
	mr.slot = cv->nslots;
	mr.flags = KVM_MEM_GUEST_MEMFD;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	mr.userspace_addr = (uintptr_t)host;
	mr.guest_memfd = (uint32_t)fd;
	mr.guest_memfd_offset = 0;
	r = co->set_memory_region2(cv->vm, &mr);
	if (r < 0) {
		log_err("KVM_SET_USER_MEMORY_REGION2 slot %u gpa 0x%llx size 0x%llx: %s", mr.slot,
			(unsigned long long)gpa, (unsigned long long)size, strerror(-r));
		return r;
	}
	/* everything starts private; the guest shares what it needs */
	r = co->set_memory_attributes(cv->vm, &at);
	if (r < 0) {
		log_err("KVM_SET_MEMORY_ATTRIBUTES private 0x%llx+0x%llx: %s",
			(unsigned long long)gpa, (unsigned long long)size, strerror(-r));
		return r;
	}
	cv->slot[cv->nslots++] = (struct coco_slot){ .gpa = gpa, .size = size, .host = host,
						     .gmem = fd, .gmem_off = 0 };
	return 0;
}

/* RAM regions of @gm that become guest_memfd slots. */
static bool slot_region(const struct gm_region *g)
{
	return (g->flags & GM_RAM) && !(g->flags & GM_ROM) && g->host;
}

int coco_plan_fits(const struct guestmem *gm, const struct launch_plan *p, char *why,
		   size_t whylen)
{
	uint64_t fw_end = p->fw_gpa + p->fw_size;
	unsigned nslots = p->fw_size ? 1 : 0;

	if (why && whylen)
		why[0] = '\0';
	else
		whylen = 0;
	if (p->fw_size && fw_end < p->fw_gpa) {
		snprintf(why, whylen, "firmware 0x%llx+0x%llx wraps",
			 (unsigned long long)p->fw_gpa, (unsigned long long)p->fw_size);
		return -ERANGE;
	}
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *g = &gm->r[i];

		if (!slot_region(g))
			continue;
		nslots++;
		if (p->fw_size && g->gpa < fw_end && p->fw_gpa < g->gpa + g->size) {
			snprintf(why, whylen, "firmware 0x%llx+0x%llx overlaps RAM region %s",
				 (unsigned long long)p->fw_gpa, (unsigned long long)p->fw_size,
				 g->name ? g->name : "?");
			return -ERANGE;
		}
	}
	if (nslots > COCO_MAX_SLOTS) {
		snprintf(why, whylen, "%u memory slots, at most %u", nslots, COCO_MAX_SLOTS);
		return -E2BIG;
	}
	/* every plan region must lie in one guest_memfd slot: a RAM region
	 * or the firmware */
	for (size_t i = 0; i < p->nregions; i++) {
		const struct plan_region *pr = &p->regions[i];
		uint64_t end = pr->gpa + pr->size;
		bool ok = pr->flags & PLAN_F_PAGE_AUG;

		if (end < pr->gpa) {
			ok = false;
		} else {
			if (p->fw_size && pr->gpa >= p->fw_gpa && end <= fw_end)
				ok = true;
			for (unsigned k = 0; k < gm->n && !ok; k++)
				ok = slot_region(&gm->r[k]) && pr->gpa >= gm->r[k].gpa &&
				     end <= gm->r[k].gpa + gm->r[k].size;
		}
		if (!ok) {
			snprintf(why, whylen, "plan region %s 0x%llx+0x%llx is not in guest RAM or firmware",
				 pr->what, (unsigned long long)pr->gpa, (unsigned long long)pr->size);
			return -ERANGE;
		}
	}
	return 0;
}

static int build_memory(struct coco_vm *cv, const struct guestmem *gm, const struct launch_plan *p)
{
	char why[160];
	int r = coco_plan_fits(gm, p, why, sizeof(why));

	if (r) {
		log_err("coco: %s", why);
		return r;
	}
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *g = &gm->r[i];

		if (!slot_region(g))
			continue;
		/* stale shared contents of a previous VM: the new one starts
		 * all-private, so the shared backing is not needed */
		madvise(g->host, g->size, MADV_DONTNEED);
		r = add_slot(cv, g->gpa, g->size, g->host);
		if (r)
			return r;
	}
	if (p->fw_size) {
		/* firmware: private memory ending at 4 GiB (no read-only slots
		 * on SNP/TDX); its shared side is a private anonymous mapping */
		cv->fw_shared = mmap(NULL, p->fw_size, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (cv->fw_shared == MAP_FAILED) {
			cv->fw_shared = NULL;
			return -ENOMEM;
		}
		cv->fw_size = p->fw_size;
		r = add_slot(cv, p->fw_gpa, p->fw_size, cv->fw_shared);
		if (r)
			return r;
	}
	return 0;
}

void coco_vm_destroy(struct coco_vm *cv)
{
	if (!cv)
		return;
	if (cv->fw_shared)
		munmap(cv->fw_shared, cv->fw_size);
	pthread_mutex_destroy(&cv->lock);
	free(cv);
}

int coco_build(const struct coco_build_args *a, struct coco_vm **cvp, struct hv_vm **vmp,
	       struct hv_vcpu **vcpu)
{
	const struct launch_plan *p = a->plan;
	const struct hv_coco_ops *co = a->ops->coco;
	struct hv_vm_params hp = { .platform = p->platform, .nvcpus = a->nvcpus };
	static const struct coco_config nocfg;
	struct hv_coco_caps caps;
	struct coco_launch l;
	const struct coco_platform *plat;
	struct kvm_cpuid2 *sup = NULL;
	struct coco_vm *cv;
	char err[256] = "";
	unsigned nent = 256;
	int r;

	if (p->platform != PLAN_SNP && p->platform != PLAN_TDX) {
		log_err("coco: plan platform %d is not confidential", p->platform);
		return -EINVAL;
	}
	plat = &coco_platforms[p->platform];
	if (!co) {
		log_err("coco: backend '%s' has no confidential-VM support", a->ops->name);
		return -EOPNOTSUPP;
	}
	if (p->platform == PLAN_SNP && p->nvcpus != a->nvcpus) {
		log_err("coco: plan has %u VMSAs for %u vCPUs", p->nvcpus, a->nvcpus);
		return -EINVAL;
	}
	r = co->probe(a->hv, p->platform, &caps, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		return r;
	}
	for (;;) {
		sup = calloc(1, sizeof(*sup) + nent * sizeof(sup->entries[0]));
		if (!sup)
			return -ENOMEM;
		sup->nent = nent;
		r = co->get_supported_cpuid(a->hv, sup);
		if (r != -E2BIG || nent >= 4096)
			break;
		free(sup);
		nent *= 2;
	}
	if (r) {
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
		free(sup);
		return r;
	}
	cv = calloc(1, sizeof(*cv));
	if (!cv) {
		free(sup);
		return -ENOMEM;
	}
	pthread_mutex_init(&cv->lock, NULL);
	cv->ops = a->ops;
	cv->platform = p->platform;
	cv->cfg = a->cfg ? *a->cfg : nocfg;
	for (unsigned i = 0; i < a->nvcpus; i++)
		vcpu[i] = NULL;

	r = a->ops->vm_create(a->hv, &hp, &cv->vm);
	if (r)
		goto fail;
	memset(&l, 0, sizeof(l));
	l.ops = a->ops;
	l.vm = cv->vm;
	l.vcpu = vcpu;
	l.nvcpus = a->nvcpus;
	l.plan = p;
	l.caps = &caps;
	l.cfg = &cv->cfg;
	l.supported = sup;

	r = plat->start(&l);
	if (r)
		goto fail;
	r = build_memory(cv, a->gm, p);
	if (r)
		goto fail;
	if (p->platform == PLAN_SNP) {
		/* in-kernel LAPICs (AP reset-hold and IPIs need them) with the
		 * PIC/IOAPIC/PIT in KVM, or only the LAPICs (split); TDX got its
		 * split irqchip in init_vm */
		if (a->split_irqchip && !a->ops->vm_create_split_irqchip)
			r = -EOPNOTSUPP;
		else if (a->split_irqchip)
			r = a->ops->vm_create_split_irqchip(cv->vm, LAYOUT_IOAPIC_PINS);
		else
			r = a->ops->vm_create_irqchip(cv->vm);
		if (r)
			goto fail;
	}
	for (unsigned i = 0; i < a->nvcpus; i++) {
		r = a->ops->vcpu_create(cv->vm, i, &vcpu[i]);
		if (r)
			goto fail;
	}
	r = plat->finish(&l);
	if (r)
		goto fail;
	cv->tdx_user_r11 = l.tdx_user_r11;
	cv->tdx_kernel_r11 = l.tdx_kernel_r11;
	cv->tdx_kernel_r12 = l.tdx_kernel_r12;
	free(sup);
	*cvp = cv;
	*vmp = cv->vm;
	log_info("%s guest launched: %zu plan regions, %u vCPUs", plat->name, p->nregions,
		 a->nvcpus);
	return 0;
fail:
	for (unsigned i = 0; i < a->nvcpus; i++) {
		if (vcpu[i])
			a->ops->vcpu_destroy(vcpu[i]);
		vcpu[i] = NULL;
	}
	if (cv->vm)
		a->ops->vm_destroy(cv->vm);
	coco_vm_destroy(cv);
	free(sup);
	return r < 0 ? r : -EIO;
}

/* ---------------- conversion ---------------- */

int coco_convert(struct coco_vm *cv, uint64_t gpa, uint64_t size, bool to_private)
{
	const struct hv_coco_ops *co = cv->ops->coco;
	uint64_t end = gpa + size;
	uint64_t covered = 0;

	if (!size || ((gpa | size) & (GM_PAGE_SIZE - 1)) || end < gpa) {
		log_warn("coco: bad conversion range 0x%llx+0x%llx", (unsigned long long)gpa,
			 (unsigned long long)size);
		return -EINVAL;
	}
	for (unsigned s = 0; s < cv->nslots; s++) {
		struct coco_slot *sl = &cv->slot[s];
		uint64_t a = gpa > sl->gpa ? gpa : sl->gpa;
		uint64_t e = end < sl->gpa + sl->size ? end : sl->gpa + sl->size;
		struct kvm_memory_attributes at;
		int r;

		if (a >= e)
			continue;
		at = (struct kvm_memory_attributes){ .address = a, .size = e - a,
			.attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0 };
		r = co->set_memory_attributes(cv->vm, &at);
		if (r < 0) {
			log_warn("coco: KVM_SET_MEMORY_ATTRIBUTES 0x%llx+0x%llx -> %s: %s",
				 (unsigned long long)a, (unsigned long long)(e - a),
				 to_private ? "private" : "shared", strerror(-r));
			return -EINVAL;
		}
		/* free the side that is no longer used */
		if (to_private)
			madvise(sl->host + (a - sl->gpa), e - a, MADV_DONTNEED);
		else if ((r = co->gmem_punch_hole(cv->vm, sl->gmem, sl->gmem_off + (a - sl->gpa),
						  e - a)) < 0)
			log_warn("coco: guest_memfd punch hole 0x%llx+0x%llx: %s",
				 (unsigned long long)a, (unsigned long long)(e - a), strerror(-r));
		covered += e - a;
	}
	/* not RAM: converting to shared succeeds without doing anything (OVMF
	 * shares the PCI hole and the IOAPIC page); to private fails */
	if (covered != size && to_private) {
		log_warn("coco: private conversion of non-RAM 0x%llx+0x%llx refused",
			 (unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

/* Host pointer to the shared side of [gpa, gpa+len) inside one slot. */
static uint8_t *shared_ptr(struct coco_vm *cv, uint64_t gpa, uint64_t len)
{
	for (unsigned s = 0; s < cv->nslots; s++) {
		struct coco_slot *sl = &cv->slot[s];

		if (gpa >= sl->gpa && len <= sl->size && gpa - sl->gpa <= sl->size - len)
			return sl->host + (gpa - sl->gpa);
	}
	return NULL;
}

/* ---------------- TDX exits ---------------- */

/* The TD's shared bit: tdx/launch.c sets a 48-bit GPA width, so bit 47. */
#define TDX_SHARED_BIT (1ULL << 47)

/* GetQuote (GHCI 1.5, TDG.VP.VMCALL<GetQuote>): the buffer must be shared,
 * so the guest names it with the shared bit set.  Linux 6.16's KVM refuses
 * a private GPA itself and hands userspace the GPA with the shared bit
 * already cleared; another kernel may pass it as the guest wrote it.  Both
 * forms name the same page here: the bit is cleared, and the buffer is
 * only ever looked up in the shared (host) side of a RAM slot, never in
 * guest_memfd.  A GPA beyond the GPA width, or one outside RAM, has no
 * slot and is refused with INVALID_OPERAND.  If the page is private at the
 * time, the guest reads back its private page and sees no answer: the
 * host touched only its own shared copy (which costs host memory as any
 * device DMA into a private page does; docs/devices.md). */
static void tdx_get_quote(struct coco_vm *cv, struct hv_exit *ex)
{
	uint64_t gpa = ex->tdx.in[0] & ~TDX_SHARED_BIT, size = ex->tdx.in[1];
	uint8_t *buf;
	uint64_t status;
	uint32_t in_len, out_len = 0;

	if (!size || ((gpa | size) & (GM_PAGE_SIZE - 1))) {
		*ex->tdx.ret = FUKI_TDVMCALL_STATUS_ALIGN_ERROR;
		return;
	}
	buf = shared_ptr(cv, gpa, size);
	if (!buf || size < 24) {
		*ex->tdx.ret = FUKI_TDVMCALL_STATUS_INVALID_OPERAND;
		return;
	}
	/* header: u64 version, u64 status, u32 in_len, u32 out_len */
	memcpy(&in_len, buf + 16, 4);
	if (!cv->cfg.quote_socket) {
		status = FUKI_TDX_QUOTE_STATUS_QGS_UNAVAILABLE;
	} else if (in_len > size - 24) {
		status = FUKI_TDX_QUOTE_STATUS_ERROR;
	} else {
		static const uint64_t st[] = {
			[QGS_OK] = FUKI_TDX_QUOTE_STATUS_SUCCESS,
			[QGS_UNAVAILABLE] = FUKI_TDX_QUOTE_STATUS_QGS_UNAVAILABLE,
			[QGS_FAILED] = FUKI_TDX_QUOTE_STATUS_ERROR,
		};

		status = st[qgs_relay(cv->cfg.quote_socket, buf + 24, in_len,
				      (uint32_t)(size - 24 > UINT32_MAX ? UINT32_MAX : size - 24),
				      &out_len)];
	}
	memcpy(buf + 20, &out_len, 4);
	memcpy(buf + 8, &status, 8);
	*ex->tdx.ret = FUKI_TDVMCALL_STATUS_SUCCESS;
}

static void tdx_exit(struct coco_vm *cv, struct hv_vcpu *vcpu, struct hv_exit *ex)
{
	switch (ex->tdx.nr) {
	case FUKI_TDVMCALL_GET_QUOTE:
		tdx_get_quote(cv, ex);
		break;
	case FUKI_TDVMCALL_SETUP_EVENT_NOTIFY:
		pthread_mutex_lock(&cv->lock);
		cv->notify_vector = (unsigned)ex->tdx.in[0];
		pthread_mutex_unlock(&cv->lock);
		log_debug("tdx: event-notify vector %u", cv->notify_vector);
		*ex->tdx.ret = FUKI_TDVMCALL_STATUS_SUCCESS;
		break;
	case FUKI_TDVMCALL_GET_TD_VM_CALL_INFO:
		if (ex->tdx.in[0] != 1) {
			*ex->tdx.ret = FUKI_TDVMCALL_STATUS_INVALID_OPERAND;
			break;
		}
		/* we implement SetupEventNotifyInterrupt (R11 bit 1) and GetQuote
		 * (handled by KVM's kernel mask); r13 = r14 = 0 */
		ex->tdx.out[1] = (cv->tdx_user_r11 & (1ULL << 1)) | cv->tdx_kernel_r11;
		ex->tdx.out[2] = cv->tdx_kernel_r12;
		ex->tdx.out[3] = 0;
		ex->tdx.out[4] = 0;
		*ex->tdx.ret = FUKI_TDVMCALL_STATUS_SUCCESS;
		break;
	default:
		log_debug("tdx: TDVMCALL 0x%llx unsupported", (unsigned long long)ex->tdx.nr);
		*ex->tdx.ret = FUKI_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
		break;
	}
}

/* ---------------- SNP certificate requests ---------------- */

/* The file is read on every request, not once: a host can rotate its
 * certificates (new VCEK/VLEK chain) under a running guest, and requests
 * are rare (attestation), so the read costs nothing that matters. */
static void snp_certs(struct coco_vm *cv, struct hv_exit *ex)
{
	uint64_t gpa = ex->snp_req_certs.gpa, npages = ex->snp_req_certs.npages;
	uint8_t *dst;
	FILE *f;
	long len;
	uint64_t need;

	if (!cv->cfg.snp_certs || !(f = fopen(cv->cfg.snp_certs, "rb"))) {
		log_warn("snp: certificate request but no certificate file");
		*ex->snp_req_certs.ret = EIO;
		return;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		*ex->snp_req_certs.ret = EIO;
		return;
	}
	need = ((uint64_t)len + GM_PAGE_SIZE - 1) / GM_PAGE_SIZE;
	if (need == 0)
		need = 1;
	if (npages < need) {
		fclose(f);
		*ex->snp_req_certs.npages_out = need;
		*ex->snp_req_certs.ret = ENOSPC;
		return;
	}
	dst = shared_ptr(cv, gpa, need * GM_PAGE_SIZE);
	if (!dst || fread(dst, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		*ex->snp_req_certs.ret = EIO;
		return;
	}
	memset(dst + len, 0, need * GM_PAGE_SIZE - (uint64_t)len);
	fclose(f);
	*ex->snp_req_certs.ret = 0;
}

/* ---------------- dispatch ---------------- */

enum coco_exit_action coco_handle_exit(struct coco_vm *cv, struct hv_vcpu *vcpu,
				       struct hv_exit *ex)
{
	if (!cv)
		return COCO_EXIT_NOT_MINE;
	switch (ex->reason) {
	case HV_EXIT_HYPERCALL: {
		uint64_t npages = ex->hypercall.args[1];

		if (ex->hypercall.nr != KVM_HC_MAP_GPA_RANGE || npages > (1ULL << 40)) {
			*ex->hypercall.ret = EINVAL;
			return COCO_EXIT_HANDLED;
		}
		*ex->hypercall.ret = coco_convert(cv, ex->hypercall.args[0], npages * GM_PAGE_SIZE,
						  ex->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED)
				     ? EINVAL : 0;
		return COCO_EXIT_HANDLED;
	}
	case HV_EXIT_MEMORY_FAULT: {
		bool priv = ex->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE;
		unsigned repeats;

		pthread_mutex_lock(&cv->lock);
		if (cv->last_fault_gpa == ex->memory_fault.gpa &&
		    cv->last_fault_flags == ex->memory_fault.flags)
			repeats = ++cv->fault_repeats;
		else
			repeats = cv->fault_repeats = 0;
		cv->last_fault_gpa = ex->memory_fault.gpa;
		cv->last_fault_flags = ex->memory_fault.flags;
		pthread_mutex_unlock(&cv->lock);
		if (repeats > 64) {
			log_err("coco: memory fault at 0x%llx (%s) repeats after conversion",
				(unsigned long long)ex->memory_fault.gpa, priv ? "private" : "shared");
			return COCO_EXIT_STOP;
		}
		if (coco_convert(cv, ex->memory_fault.gpa, ex->memory_fault.size, priv)) {
			log_err("coco: memory fault at 0x%llx+0x%llx (%s) cannot be served",
				(unsigned long long)ex->memory_fault.gpa,
				(unsigned long long)ex->memory_fault.size, priv ? "private" : "shared");
			return COCO_EXIT_STOP;
		}
		return COCO_EXIT_HANDLED;
	}
	case HV_EXIT_TDX:
		tdx_exit(cv, vcpu, ex);
		return COCO_EXIT_HANDLED;
	case HV_EXIT_SNP_REQ_CERTS:
		snp_certs(cv, ex);
		return COCO_EXIT_HANDLED;
	case HV_EXIT_CRASH:
		if (ex->system_event.type == KVM_SYSTEM_EVENT_SEV_TERM) {
			uint64_t v = ex->system_event.ndata ? ex->system_event.data[0] : 0;

			/* GHCB MSR protocol: 0x100 | set << 12 | code << 16 */
			if ((v & 0xfff) == 0x100)
				log_err("SEV-SNP guest requested termination: reason set %u code %u",
					(unsigned)((v >> 12) & 0xf), (unsigned)((v >> 16) & 0xff));
			else
				log_err("SEV-SNP guest requested termination (GHCB 0x%llx)",
					(unsigned long long)v);
		} else if (ex->system_event.type == KVM_SYSTEM_EVENT_TDX_FATAL) {
			/* data[] = GPRs in encoding order: RCX 1, R12 12, R13 13 */
			uint64_t code = ex->system_event.ndata > 12 ? ex->system_event.data[12] : 0;
			uint64_t gpa = ex->system_event.ndata > 13 ? ex->system_event.data[13] : 0;

			if (code >> 63)
				log_err("TDX guest reported a fatal error: code 0x%llx, data at GPA 0x%llx",
					(unsigned long long)code, (unsigned long long)gpa);
			else
				log_err("TDX guest reported a fatal error: code 0x%llx",
					(unsigned long long)code);
		}
		return COCO_EXIT_NOT_MINE;
	default:
		return COCO_EXIT_NOT_MINE;
	}
}

unsigned coco_tdx_notify_vector(const struct coco_vm *cv)
{
	return cv ? cv->notify_vector : 0;
}
