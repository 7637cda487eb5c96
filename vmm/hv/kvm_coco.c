/* vmm/hv/kvm_coco.c: struct hv_coco_ops over Linux KVM (SEV-SNP and TDX).
 * Owns: SNP/TDX VM creation, /dev/sev, guest_memfd fds, REGION2, memory
 * attributes, KVM_MEMORY_ENCRYPT_OP and the translation of the confidential
 * kvm_run exits.  Launch order and policy belong to snp/launch.c,
 * tdx/launch.c and vmm/launch/coco.c; this file only issues what it is asked to. */
#include "vmm/hv/hv_coco.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/hv/kvm_internal.h"
#include "vmm/base/log.h"

struct kvm_coco_vm {
	int sev_fd;
	int *gmem;
	size_t ngmem, cap;
};

static long check_ext(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static int kvm_coco_probe(struct hv *hv, enum plan_platform platform, struct hv_coco_caps *c,
			  char *err, size_t errlen)
{
	unsigned type = platform == PLAN_SNP ? KVM_X86_SNP_VM : KVM_X86_TDX_VM;
	const char *name = platform == PLAN_SNP ? "SNP" : "TDX";
	uint64_t val = 0;
	struct kvm_device_attr attr = { .group = KVM_X86_GRP_SEV,
					.attr = KVM_X86_SEV_VMSA_FEATURES,
					.addr = (uintptr_t)&val };

	memset(c, 0, sizeof(*c));
	if (platform != PLAN_SNP && platform != PLAN_TDX) {
		snprintf(err, errlen, "platform %d is not confidential", platform);
		return -EINVAL;
	}
	c->vm_types = (uint64_t)check_ext(hv->kvm_fd, KVM_CAP_VM_TYPES);
	c->guest_memfd = check_ext(hv->kvm_fd, KVM_CAP_GUEST_MEMFD) > 0;
	c->user_memory2 = check_ext(hv->kvm_fd, KVM_CAP_USER_MEMORY2) > 0;
	c->mem_attributes = (uint64_t)check_ext(hv->kvm_fd, KVM_CAP_MEMORY_ATTRIBUTES);
	c->exit_hypercall = (uint64_t)check_ext(hv->kvm_fd, KVM_CAP_EXIT_HYPERCALL);
	if (platform == PLAN_SNP) {
		if (ioctl(hv->kvm_fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
			c->have_vmsa_features = true;
			c->vmsa_features = val;
		}
		val = 0;
		attr.attr = KVM_X86_SEV_SNP_REQ_CERTS;
		c->snp_req_certs = ioctl(hv->kvm_fd, KVM_GET_DEVICE_ATTR, &attr) == 0 && val;
	}
	if (!(c->vm_types & (1ULL << type))) {
		snprintf(err, errlen, "VM type %u (%s) absent from KVM_CAP_VM_TYPES (0x%llx): %s", type,
			 name, (unsigned long long)c->vm_types,
			 platform == PLAN_SNP ? "needs Linux >= 6.11 on an SEV-SNP host"
					      : "needs Linux >= 6.16 on a TDX host");
		return -ENODEV;
	}
	if (!c->guest_memfd || !c->user_memory2) {
		snprintf(err, errlen, "KVM_CAP_GUEST_MEMFD/KVM_CAP_USER_MEMORY2 absent");
		return -ENODEV;
	}
	if (!(c->mem_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
		snprintf(err, errlen, "KVM_CAP_MEMORY_ATTRIBUTES lacks PRIVATE (0x%llx)",
			 (unsigned long long)c->mem_attributes);
		return -ENODEV;
	}
	if (!(c->exit_hypercall & (1ULL << KVM_HC_MAP_GPA_RANGE))) {
		snprintf(err, errlen, "KVM_CAP_EXIT_HYPERCALL lacks KVM_HC_MAP_GPA_RANGE (0x%llx)",
			 (unsigned long long)c->exit_hypercall);
		return -ENODEV;
	}
	if (platform == PLAN_SNP) {
		if (!c->have_vmsa_features) {
			snprintf(err, errlen, "KVM_X86_SEV_VMSA_FEATURES attribute absent: no KVM_SEV_INIT2");
			return -ENODEV;
		}
		if (access("/dev/sev", R_OK | W_OK) != 0) {
			snprintf(err, errlen, "/dev/sev: %s", strerror(errno));
			return -ENODEV;
		}
	}
	return 0;
}

static int kvm_coco_get_supported_cpuid(struct hv *hv, struct kvm_cpuid2 *c)
{
	const struct kvm_cpuid2 *s = kvm_supported_cpuid(hv);

	if (!s)
		return hv->cpuid_err;
	if (c->nent < s->nent)
		return -E2BIG;
	memcpy(c->entries, s->entries, s->nent * sizeof(c->entries[0]));
	c->nent = s->nent;
	return 0;
}

int kvm_coco_vm_init(struct hv_vm *vm)
{
	unsigned long type = vm->platform == PLAN_SNP ? KVM_X86_SNP_VM : KVM_X86_TDX_VM;
	struct kvm_coco_vm *kc = calloc(1, sizeof(*kc));
	int fd;

	if (!kc)
		return -ENOMEM;
	kc->sev_fd = -1;
	if (vm->platform == PLAN_SNP) {
		kc->sev_fd = open("/dev/sev", O_RDWR | O_CLOEXEC);
		if (kc->sev_fd < 0) {
			int e = errno;

			log_err("open /dev/sev: %s", strerror(e));
			free(kc);
			return -e;
		}
	}
	do
		fd = ioctl(vm->hv->kvm_fd, KVM_CREATE_VM, type);
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	if (fd < 0) {
		int e = errno;

		log_err("KVM_CREATE_VM type %lu: %s", type, strerror(e));
		if (kc->sev_fd >= 0)
			close(kc->sev_fd);
		free(kc);
		return -e;
	}
	vm->fd = fd;
	vm->coco = kc;
	return 0;
}

void kvm_coco_vm_release(struct hv_vm *vm)
{
	struct kvm_coco_vm *kc = vm->coco;

	if (!kc)
		return;
	for (size_t i = 0; i < kc->ngmem; i++)
		close(kc->gmem[i]);
	if (kc->sev_fd >= 0)
		close(kc->sev_fd);
	free(kc->gmem);
	free(kc);
	vm->coco = NULL;
}

static int kvm_coco_vm_check_extension(struct hv_vm *vm, long cap)
{
	return (int)check_ext(vm->fd, cap);
}

static int kvm_coco_vm_enable_cap(struct hv_vm *vm, const struct kvm_enable_cap *cap)
{
	return kvm_ioctl(vm->fd, KVM_ENABLE_CAP, (unsigned long)cap, KVM_RETRY_EINTR);
}

static int kvm_coco_gmem_create(struct hv_vm *vm, const struct kvm_create_guest_memfd *g)
{
	struct kvm_coco_vm *kc = vm->coco;
	int fd;

	if (!kc)
		return -EINVAL;
	if (kc->ngmem == kc->cap) {
		size_t ncap = kc->cap ? kc->cap * 2 : 8;
		int *n = realloc(kc->gmem, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		kc->gmem = n;
		kc->cap = ncap;
	}
	fd = kvm_ioctl(vm->fd, KVM_CREATE_GUEST_MEMFD, (unsigned long)g, KVM_RETRY_EINTR);
	if (fd >= 0)
		kc->gmem[kc->ngmem++] = fd;
	return fd;
}

static int kvm_coco_gmem_punch_hole(struct hv_vm *vm, int gmem, uint64_t off, uint64_t len)
{
	int r;

	do
		r = fallocate(gmem, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int kvm_coco_set_memory_region2(struct hv_vm *vm, const struct kvm_userspace_memory_region2 *r)
{
	return kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, (unsigned long)r,
			 KVM_RETRY_EINTR);
}

static int kvm_coco_set_memory_attributes(struct hv_vm *vm, const struct kvm_memory_attributes *a)
{
	return kvm_ioctl(vm->fd, KVM_SET_MEMORY_ATTRIBUTES, (unsigned long)a, KVM_RETRY_EINTR);
}

static int kvm_coco_sev_cmd(struct hv_vm *vm, struct kvm_sev_cmd *cmd)
{
	struct kvm_coco_vm *kc = vm->coco;

	if (!kc || kc->sev_fd < 0)
		return -EINVAL;
	cmd->sev_fd = (uint32_t)kc->sev_fd;
	return kvm_ioctl(vm->fd, KVM_MEMORY_ENCRYPT_OP, (unsigned long)cmd, KVM_RETRY_EINTR);
}

static int kvm_coco_tdx_vm_cmd(struct hv_vm *vm, struct kvm_tdx_cmd *cmd)
{
	return kvm_ioctl(vm->fd, KVM_MEMORY_ENCRYPT_OP, (unsigned long)cmd, KVM_RETRY_EINTR);
}

static int kvm_coco_tdx_vcpu_cmd(struct hv_vcpu *vcpu, struct kvm_tdx_cmd *cmd)
{
	/* no retry: INIT_MEM_REGION reports progress in *cmd's data */
	return kvm_ioctl(vcpu->fd, KVM_MEMORY_ENCRYPT_OP, (unsigned long)cmd, 0);
}

static int kvm_coco_set_cpuid(struct hv_vcpu *v, const struct kvm_cpuid2 *c)
{
	return kvm_ioctl(v->fd, KVM_SET_CPUID2, (unsigned long)c, KVM_RETRY_EINTR);
}

static int kvm_coco_get_sregs(struct hv_vcpu *v, struct kvm_sregs *s)
{
	return kvm_ioctl(v->fd, KVM_GET_SREGS, (unsigned long)s, KVM_RETRY_EINTR);
}

static int kvm_coco_set_sregs(struct hv_vcpu *v, const struct kvm_sregs *s)
{
	return kvm_ioctl(v->fd, KVM_SET_SREGS, (unsigned long)s, KVM_RETRY_EINTR);
}

static int kvm_coco_set_regs(struct hv_vcpu *v, const struct kvm_regs *r)
{
	return kvm_ioctl(v->fd, KVM_SET_REGS, (unsigned long)r, KVM_RETRY_EINTR);
}

static int kvm_coco_set_fpu(struct hv_vcpu *v, const struct kvm_fpu *f)
{
	return kvm_ioctl(v->fd, KVM_SET_FPU, (unsigned long)f, KVM_RETRY_EINTR);
}

static int kvm_coco_set_msrs(struct hv_vcpu *v, const struct kvm_msrs *m)
{
	return kvm_ioctl(v->fd, KVM_SET_MSRS, (unsigned long)m, KVM_RETRY_EINTR);
}

static int kvm_coco_set_xcrs(struct hv_vcpu *v, const struct kvm_xcrs *x)
{
	return kvm_ioctl(v->fd, KVM_SET_XCRS, (unsigned long)x, KVM_RETRY_EINTR);
}

static int kvm_coco_set_debugregs(struct hv_vcpu *v, const struct kvm_debugregs *d)
{
	return kvm_ioctl(v->fd, KVM_SET_DEBUGREGS, (unsigned long)d, KVM_RETRY_EINTR);
}

bool kvm_coco_translate_exit(struct hv_vcpu *vcpu, int r, int err, struct hv_exit *ex)
{
	struct kvm_run *run = vcpu->run;
	void *u = (char *)run + FUKI_RUN_EXIT_UNION_OFFSET;

	if (vcpu->vm->platform == PLAN_PLAIN)
		return false;
	if (r < 0) {
		/* api.rst 8.44: the exit data is valid only with EFAULT/EHWPOISON */
		if ((err == EFAULT || err == EHWPOISON) && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			const struct fuki_run_memory_fault *mf = u;

			ex->reason = HV_EXIT_MEMORY_FAULT;
			ex->memory_fault.flags = mf->flags;
			ex->memory_fault.gpa = mf->gpa;
			ex->memory_fault.size = mf->size;
			return true;
		}
		return false;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL: {
		struct fuki_run_hypercall *h = u;

		ex->reason = HV_EXIT_HYPERCALL;
		ex->hypercall.nr = h->nr;
		memcpy(ex->hypercall.args, h->args, sizeof(h->args));
		ex->hypercall.ret = (uint64_t *)(void *)&h->ret;
		return true;
	}
	case KVM_EXIT_TDX: {
		struct fuki_run_tdx *t = u;

		ex->reason = HV_EXIT_TDX;
		ex->tdx.nr = t->nr;
		memcpy(ex->tdx.in, t->data, sizeof(t->data));
		ex->tdx.ret = (uint64_t *)(void *)&t->ret;
		ex->tdx.out = (uint64_t *)(void *)t->data;
		return true;
	}
	case KVM_EXIT_SNP_REQ_CERTS: {
		struct fuki_run_snp_req_certs *c = u;

		ex->reason = HV_EXIT_SNP_REQ_CERTS;
		ex->snp_req_certs.gpa = c->gpa;
		ex->snp_req_certs.npages = c->npages;
		ex->snp_req_certs.ret = (uint64_t *)(void *)&c->ret;
		ex->snp_req_certs.npages_out = (uint64_t *)(void *)&c->npages;
		return true;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type != KVM_SYSTEM_EVENT_SEV_TERM &&
		    run->system_event.type != KVM_SYSTEM_EVENT_TDX_FATAL)
			return false;
		ex->reason = HV_EXIT_CRASH;
		ex->system_event.type = run->system_event.type;
		ex->system_event.ndata = run->system_event.ndata > 16 ? 16 : run->system_event.ndata;
		for (unsigned i = 0; i < ex->system_event.ndata; i++)
			ex->system_event.data[i] = run->system_event.data[i];
		return true;
	default:
		return false;
	}
}

const struct hv_coco_ops hv_kvm_coco_ops = {
	.probe = kvm_coco_probe,
	.get_supported_cpuid = kvm_coco_get_supported_cpuid,
	.vm_check_extension = kvm_coco_vm_check_extension,
	.vm_enable_cap = kvm_coco_vm_enable_cap,
	.gmem_create = kvm_coco_gmem_create,
	.gmem_punch_hole = kvm_coco_gmem_punch_hole,
	.set_memory_region2 = kvm_coco_set_memory_region2,
	.set_memory_attributes = kvm_coco_set_memory_attributes,
	.sev_cmd = kvm_coco_sev_cmd,
	.tdx_vm_cmd = kvm_coco_tdx_vm_cmd,
	.tdx_vcpu_cmd = kvm_coco_tdx_vcpu_cmd,
	.vcpu_set_cpuid = kvm_coco_set_cpuid,
	.vcpu_get_sregs = kvm_coco_get_sregs,
	.vcpu_set_sregs = kvm_coco_set_sregs,
	.vcpu_set_regs = kvm_coco_set_regs,
	.vcpu_set_fpu = kvm_coco_set_fpu,
	.vcpu_set_msrs = kvm_coco_set_msrs,
	.vcpu_set_xcrs = kvm_coco_set_xcrs,
	.vcpu_set_debugregs = kvm_coco_set_debugregs,
};
