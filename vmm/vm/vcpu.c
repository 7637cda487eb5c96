/* vmm/vm/vcpu.c: vCPU threads: run the vCPU, dispatch its exits to the buses
 * (see vcpu.h).  Must not build or destroy VMs; it only runs the handles it
 * is given. */
#include "vmm/vm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/base/clock.h"
#include "vmm/base/log.h"

#define VCPU_KICK_SIGNAL SIGUSR1

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

/* Lock held. */
static void vcpu_kick_all(struct vcpu_pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		if (p->vcpu[i])
			p->ops->vcpu_kick(p->vcpu[i]);
		if (p->t[i].started)
			pthread_kill(p->t[i].thread, VCPU_KICK_SIGNAL);
	}
}

static void vcpu_fatal(struct vcpu_pool *p, struct hv_vcpu *v, const char *what)
{
	char regs[1024];

	p->ops->vcpu_dump(v, regs, sizeof(regs));
	log_err("%s\n%s", what, regs);
	p->sink.request(p->sink.opaque, VCPU_EV_FAILED);
}

/* Run one vCPU handle until the owner asks it to stop. */
static void vcpu_run_loop(struct vcpu_pool *p, unsigned index, struct hv_vcpu *v)
{
	const struct vcpu_sink *s = &p->sink;
	_Atomic uint64_t *exits = &p->t[index].exits;
	struct hv_exit ex;
	char what[160];

	while (!atomic_load(&p->stop)) {
		int r = p->ops->vcpu_run(v, &ex);

		if (r < 0) {
			snprintf(what, sizeof(what), "vCPU %u: run failed: %s", index, strerror(-r));
			vcpu_fatal(p, v, what);
			return;
		}
		/* one writer: a plain load and store, no locked add */
		atomic_store_explicit(exits, atomic_load_explicit(exits, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		switch (ex.reason) {
		case HV_EXIT_IO:
			for (uint32_t i = 0; i < ex.io.count && !atomic_load(&p->stop); i++)
				bus_access(p->pio, ex.io.port, ex.io.data + (size_t)i * ex.io.size,
					   ex.io.size, ex.io.is_write);
			break;
		case HV_EXIT_MMIO:
			bus_access(p->mmio, ex.mmio.addr, ex.mmio.data, ex.mmio.size,
				   ex.mmio.is_write);
			break;
		case HV_EXIT_INTR:
			break;
		case HV_EXIT_IOAPIC_EOI:
			if (s->ioapic_eoi)
				s->ioapic_eoi(s->opaque, ex.eoi_vector);
			break;
		case HV_EXIT_MEMORY_FAULT:
		case HV_EXIT_HYPERCALL:
		case HV_EXIT_TDX:
		case HV_EXIT_SNP_REQ_CERTS:
			/* page conversions and TDVMCALLs of a confidential guest */
			if (s->exit && s->exit(s->opaque, v, &ex) != COCO_EXIT_STOP)
				break;
			snprintf(what, sizeof(what), "vCPU %u: confidential guest cannot continue (exit %d)",
				 index, (int)ex.reason);
			vcpu_fatal(p, v, what);
			return;
		case HV_EXIT_HLT:
			/* only without an in-kernel irqchip, which fukivmm always has */
			log_warn("vCPU %u: unexpected HLT exit", index);
			break;
		case HV_EXIT_SHUTDOWN:
			/* also how a confidential guest's triple fault arrives: KVM
			 * cannot reset it in place, the rebuild does */
			log_debug("vCPU %u: triple fault: resetting", index);
			s->request(s->opaque, VCPU_EV_TRIPLE_FAULT);
			return;
		case HV_EXIT_RESET:
			s->request(s->opaque, VCPU_EV_RESET);
			return;
		case HV_EXIT_POWEROFF:
			s->request(s->opaque, VCPU_EV_POWEROFF);
			return;
		case HV_EXIT_CRASH:
			if (s->exit)
				s->exit(s->opaque, v, &ex);   /* logs SEV/TDX reasons */
			snprintf(what, sizeof(what), "vCPU %u: guest crash event %u", index,
				 ex.raw_reason);
			vcpu_fatal(p, v, what);
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
			vcpu_fatal(p, v, what);
			return;
		case HV_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "vCPU %u: VM entry failed, reason 0x%llx", index,
				 (unsigned long long)ex.hw_reason);
			vcpu_fatal(p, v, what);
			return;
		case HV_EXIT_UNKNOWN:
		default:
			snprintf(what, sizeof(what), "vCPU %u: unhandled exit %u", index,
				 ex.raw_reason);
			vcpu_fatal(p, v, what);
			return;
		}
	}
}

static void *vcpu_thread_main(void *arg)
{
	struct vcpu_thread *t = arg;
	struct vcpu_pool *p = t->pool;
	unsigned seen = 0;
	sigset_t set;

	/* only the kick signal reaches vCPU threads */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		struct hv_vcpu *v;

		pthread_mutex_lock(&p->lock);
		while (p->state != VCPU_POOL_QUIT && (p->state != VCPU_POOL_RUNNING || p->gen == seen))
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->state == VCPU_POOL_QUIT) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		seen = p->gen;
		v = p->vcpu[t->index];
		t->in_run = true;
		pthread_mutex_unlock(&p->lock);

		if (v)
			vcpu_run_loop(p, t->index, v);

		pthread_mutex_lock(&p->lock);
		t->in_run = false;
		p->nstopped++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
}

void vcpu_pool_init(struct vcpu_pool *p, unsigned n, const struct hv_ops *ops,
		    struct bus *pio, struct bus *mmio, const struct vcpu_sink *sink)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->pio = pio;
	p->mmio = mmio;
	p->sink = *sink;
	p->n = n < CFG_MAX_VCPUS ? n : CFG_MAX_VCPUS;
	p->state = VCPU_POOL_STOPPED;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

int vcpu_pool_start(struct vcpu_pool *p)
{
	int r = 0;

	for (unsigned i = 0; i < p->n && !r; i++) {
		struct vcpu_thread *t = &p->t[i];

		t->pool = p;
		t->index = i;
		r = -pthread_create(&t->thread, NULL, vcpu_thread_main, t);
		if (!r)
			t->started = true;
	}
	return r;
}

uint64_t vcpu_pool_exits(struct vcpu_pool *p)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < p->n; i++)
		n += atomic_load_explicit(&p->t[i].exits, memory_order_relaxed);
	return n;
}

void vcpu_pool_resume(struct vcpu_pool *p, struct hv_vcpu *const *vcpu)
{
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		p->vcpu[i] = vcpu[i];
	atomic_store(&p->stop, false);
	p->nstopped = 0;
	p->gen++;
	p->state = VCPU_POOL_RUNNING;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int vcpu_pool_pause_within(struct vcpu_pool *p, uint64_t timeout_ns, unsigned *stuck)
{
	uint64_t start = clock_now_ns();

	atomic_store(&p->stop, true);
	pthread_mutex_lock(&p->lock);
	vcpu_kick_all(p);
	while (p->state == VCPU_POOL_RUNNING && p->nstopped < p->n) {
		struct timespec ts;

		if (clock_now_ns() - start >= timeout_ns) {
			unsigned i = 0;

			/* the first thread still in its run loop */
			while (i + 1 < p->n && !p->t[i].in_run)
				i++;
			if (stuck)
				*stuck = i;
			pthread_mutex_unlock(&p->lock);
			return -ETIMEDOUT;
		}
		/* re-kick periodically: a kick can race with a thread entering KVM_RUN */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) == ETIMEDOUT)
			vcpu_kick_all(p);
	}
	if (p->state != VCPU_POOL_QUIT)
		p->state = VCPU_POOL_STOPPED;
	for (unsigned i = 0; i < p->n; i++)
		p->vcpu[i] = NULL;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void vcpu_pool_pause(struct vcpu_pool *p)
{
	vcpu_pool_pause_within(p, UINT64_MAX, NULL);
}

void vcpu_pool_request_stop(struct vcpu_pool *p)
{
	atomic_store(&p->stop, true);
}

void vcpu_pool_stop(struct vcpu_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->state = VCPU_POOL_QUIT;
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->cond);
	vcpu_kick_all(p);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		if (p->t[i].started) {
			pthread_join(p->t[i].thread, NULL);
			p->t[i].started = false;
		}
}

void vcpu_pool_fini(struct vcpu_pool *p)
{
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
}
