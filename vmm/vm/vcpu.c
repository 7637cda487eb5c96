/* vmm/vm/vcpu.c: vCPU threads: run the vCPU, dispatch its exits to the buses.
 * Owns: the per-thread run loop, the kick signal, and the translation of
 * exits into device accesses or lifecycle requests.  Must not build or
 * destroy VMs (that is vmm/vm/vm.c); it only runs the handle it is given. */
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/base/log.h"
#include "vmm/vm/vm_internal.h"

#define VCPU_KICK_SIGNAL SIGUSR1

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;   /* only interrupts KVM_RUN */
}

int vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;   /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

void vcpu_kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpu[i])
			vm->ops->vcpu_kick(vm->vcpu[i]);
		if (vm->thread_started[i])
			pthread_kill(vm->thread[i], VCPU_KICK_SIGNAL);
	}
}

static void vcpu_fatal(struct vm *vm, struct hv_vcpu *v, const char *what)
{
	char regs[1024];

	vm->ops->vcpu_dump(v, regs, sizeof(regs));
	log_err("%s\n%s", what, regs);
	vm_post(vm, VM_PENDING_EXIT, VM_EXIT_FAILURE);
}

/* Run one vCPU handle until the lifecycle asks it to stop. */
static void vcpu_run_loop(struct vm *vm, unsigned index, struct hv_vcpu *v)
{
	struct hv_exit ex;
	char what[160];

	while (!atomic_load(&vm->stop)) {
		int r = vm->ops->vcpu_run(v, &ex);

		if (r < 0) {
			snprintf(what, sizeof(what), "vCPU %u: run failed: %s", index, strerror(-r));
			vcpu_fatal(vm, v, what);
			return;
		}
		switch (ex.reason) {
		case HV_EXIT_IO:
			for (uint32_t i = 0; i < ex.io.count && !atomic_load(&vm->stop); i++)
				bus_access(&vm->pio, ex.io.port, ex.io.data + (size_t)i * ex.io.size,
					   ex.io.size, ex.io.is_write);
			break;
		case HV_EXIT_MMIO:
			bus_access(&vm->mmio, ex.mmio.addr, ex.mmio.data, ex.mmio.size,
				   ex.mmio.is_write);
			break;
		case HV_EXIT_INTR:
			break;
		case HV_EXIT_IOAPIC_EOI:
			vm_ioapic_eoi(vm, ex.eoi_vector);
			break;
		case HV_EXIT_MEMORY_FAULT:
		case HV_EXIT_HYPERCALL:
		case HV_EXIT_TDX:
		case HV_EXIT_SNP_REQ_CERTS:
			/* page conversions and TDVMCALLs of a confidential guest */
			if (vm->coco && coco_handle_exit(vm->coco, v, &ex) != COCO_EXIT_STOP)
				break;
			snprintf(what, sizeof(what), "vCPU %u: confidential guest cannot continue (exit %d)",
				 index, (int)ex.reason);
			vcpu_fatal(vm, v, what);
			return;
		case HV_EXIT_HLT:
			/* only without an in-kernel irqchip, which fukivmm always has */
			log_warn("vCPU %u: unexpected HLT exit", index);
			break;
		case HV_EXIT_SHUTDOWN:
			/* also how a confidential guest's triple fault arrives: KVM
			 * cannot reset it in place, the rebuild does */
			log_debug("vCPU %u: triple fault: resetting", index);
			vm_post(vm, VM_PENDING_RESET, VM_RESET_TRIPLE_FAULT);
			return;
		case HV_EXIT_RESET:
			vm_post(vm, VM_PENDING_RESET, VM_RESET_HYPERVISOR);
			return;
		case HV_EXIT_POWEROFF:
			vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
			return;
		case HV_EXIT_CRASH:
			if (vm->coco)
				coco_handle_exit(vm->coco, v, &ex);   /* logs SEV/TDX reasons */
			snprintf(what, sizeof(what), "vCPU %u: guest crash event %u", index,
				 ex.raw_reason);
			vcpu_fatal(vm, v, what);
			return;
		case HV_EXIT_INTERNAL:
			snprintf(what, sizeof(what),
				 "vCPU %u: hypervisor internal error, suberror %u%s (data %llx %llx %llx %llx)",
				 index, ex.internal.suberror,
				 ex.internal.suberror == 1 ? " (instruction emulation failed)" : "",
				 (unsigned long long)ex.internal.data[0],
				 (unsigned long long)ex.internal.data[1],
				 (unsigned long long)ex.internal.data[2],
				 (unsigned long long)ex.internal.data[3]);
			vcpu_fatal(vm, v, what);
			return;
		case HV_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "vCPU %u: VM entry failed, reason 0x%llx", index,
				 (unsigned long long)ex.hw_reason);
			vcpu_fatal(vm, v, what);
			return;
		case HV_EXIT_UNKNOWN:
		default:
			snprintf(what, sizeof(what), "vCPU %u: unhandled exit %u", index,
				 ex.raw_reason);
			vcpu_fatal(vm, v, what);
			return;
		}
	}
}

void *vcpu_thread_main(void *arg)
{
	struct vcpu_arg a = *(struct vcpu_arg *)arg;
	struct vm *vm = a.vm;
	unsigned seen = 0;
	sigset_t set;

	/* only the kick signal reaches vCPU threads */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	free(arg);

	for (;;) {
		struct hv_vcpu *v;

		pthread_mutex_lock(&vm->lock);
		while (vm->state != VM_QUIT && (vm->state != VM_RUNNING || vm->gen == seen))
			pthread_cond_wait(&vm->cond, &vm->lock);
		if (vm->state == VM_QUIT) {
			pthread_mutex_unlock(&vm->lock);
			return NULL;
		}
		seen = vm->gen;
		v = vm->vcpu[a.index];
		pthread_mutex_unlock(&vm->lock);

		if (v)
			vcpu_run_loop(vm, a.index, v);

		pthread_mutex_lock(&vm->lock);
		vm->nstopped++;
		pthread_cond_broadcast(&vm->cond);
		pthread_mutex_unlock(&vm->lock);
	}
}
