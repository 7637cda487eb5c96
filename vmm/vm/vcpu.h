/* vmm/vm/vcpu.h: the vCPU threads.
 * Owns: one thread per vCPU for the VM's life (their PIDs do not change
 * across resets, which CPU pinning relies on), the run/pause handshake with
 * its generation count, the kick signal, and the translation of exits into
 * bus accesses or requests to the sink.  Knows nothing of struct vm: it runs
 * the handles resume gives it and reports through the sink. */
#ifndef FUKI_VCPU_H
#define FUKI_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/bus.h"
#include "vmm/config/config.h"
#include "vmm/hv/hv.h"
#include "vmm/launch/coco.h"

/* Why a vCPU stopped the VM. */
enum vcpu_event {
	VCPU_EV_FAILED,        /* run failed or the guest cannot continue */
	VCPU_EV_TRIPLE_FAULT,  /* also how a confidential guest's triple fault arrives */
	VCPU_EV_RESET,         /* a hypervisor system event asked for a reset */
	VCPU_EV_POWEROFF,      /* a hypervisor system event powered off */
};

/* What a vCPU thread may ask of its owner (called on vCPU threads). */
struct vcpu_sink {
	void (*request)(void *opaque, enum vcpu_event ev);
	/* split irqchip: a LAPIC EOI'd @vector (HV_EXIT_IOAPIC_EOI) */
	void (*ioapic_eoi)(void *opaque, uint8_t vector);
	/* confidential exits (page conversion, TDVMCALL, SNP certificates,
	 * crash reports); NULL, or COCO_EXIT_STOP, when there is no such guest */
	enum coco_exit_action (*exit)(void *opaque, struct hv_vcpu *v, struct hv_exit *ex);
	void *opaque;
};

enum vcpu_pool_state { VCPU_POOL_STOPPED, VCPU_POOL_RUNNING, VCPU_POOL_QUIT };

struct vcpu_pool;

struct vcpu_thread {
	struct vcpu_pool *pool;
	unsigned index;
	pthread_t thread;
	bool started;
	bool in_run;                       /* in its run loop (pool lock) */
	/* returns from the hypervisor to fukivmm since the pool started,
	 * written by this thread only; the union keeps the next vCPU's
	 * counter 64 bytes or more away, off this one's cache line (the pool
	 * lives in a calloc'd struct vm: no alignment beyond malloc's) */
	union {
		_Atomic uint64_t exits;
		char exits_line[64];
	};
};

struct vcpu_pool {
	const struct hv_ops *ops;
	struct bus *pio, *mmio;
	struct vcpu_sink sink;
	unsigned n;
	struct vcpu_thread t[CFG_MAX_VCPUS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vcpu_pool_state state;
	unsigned gen;                      /* bumped at every resume */
	unsigned nstopped;                 /* threads done with the current gen */
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS];   /* the handles of the current gen */
	atomic_bool stop;                  /* leave KVM_RUN now */
};

/* Install the kick signal's handler (once per process).  0 or -errno. */
int vcpu_signals_init(void);

void vcpu_pool_init(struct vcpu_pool *p, unsigned n, const struct hv_ops *ops,
		    struct bus *pio, struct bus *mmio, const struct vcpu_sink *sink);
/* Start the threads (call with every signal blocked; they unblock the
 * kick).  They wait for the first resume.  0 or -errno. */
int vcpu_pool_start(struct vcpu_pool *p);
/* Exits to fukivmm (port I/O, MMIO, ... as vcpu_run_loop sees them) of
 * all vCPUs since vcpu_pool_start; exact while the pool is stopped. */
uint64_t vcpu_pool_exits(struct vcpu_pool *p);
/* Run @vcpu[0..n) (the next generation). */
void vcpu_pool_resume(struct vcpu_pool *p, struct hv_vcpu *const *vcpu);
/* How long a stop waits for a vCPU thread to come back from the kernel
 * after the kick (vm.c exits without it after that). */
#define VCPU_STOP_DEADLINE_NS (5ULL * 1000000000ULL)

/* Stop every thread and wait until they are all out of the run loop; the
 * handles are forgotten (they may be destroyed next).  0; or -ETIMEDOUT
 * when some thread is still in its run loop @timeout_ns after the first
 * kick (*@stuck, if not NULL: the index of one): then nothing is forgotten,
 * the threads still hold the handles and may come back later, so the
 * caller must neither destroy them nor resume; exiting is what is left. */
int vcpu_pool_pause_within(struct vcpu_pool *p, uint64_t timeout_ns, unsigned *stuck);
/* The same without a deadline. */
void vcpu_pool_pause(struct vcpu_pool *p);
/* Ask every vCPU to leave KVM_RUN at its next exit (async-signal-safe). */
void vcpu_pool_request_stop(struct vcpu_pool *p);
/* End and join the threads. */
void vcpu_pool_stop(struct vcpu_pool *p);
void vcpu_pool_fini(struct vcpu_pool *p);

#endif
