/* vmm/vm/reaper.h: retired hypervisor VMs, destroyed off the critical path.
 * Owns: the reaper threads, the queue of retired VMs and its bound (a
 * retire waits while that many are still being destroyed, so a reset storm
 * cannot pile up dead VMs: each holds kernel memory until its descriptors
 * are closed), and the destroy sequence of one retired VM. */
#ifndef FUKI_REAPER_H
#define FUKI_REAPER_H

#include <pthread.h>
#include <stdbool.h>

#include "loader/plan.h"
#include "vmm/config/config.h"
#include "vmm/hv/hv.h"
#include "vmm/launch/coco.h"

/* Retired VMs in flight before a retire waits.  A dead VM holds kernel
 * memory (its irqchip, PIT, vCPUs and the page tables of the guest memory
 * it touched) and its plan's buffers until it is destroyed; destroying one
 * takes 15-40 ms of grace-period waits, while a reset takes 2-5 ms, so a
 * bound much below their ratio makes every reset of a storm wait. */
#define REAPER_MAX_PENDING 32
/* ...and the plans those VMs hold, at most (plan_owned_bytes): a storm of
 * guest images of the largest size waits sooner (docs/doorbell.md §9).
 * A single plan larger than this is still taken when nothing is pending. */
#define REAPER_MAX_PLAN_BYTES (128ULL << 20)
/* Closing a VM with an in-kernel irqchip is mostly waiting for RCU grace
 * periods: several reapers overlap those waits.  At the 23.5 ms a close
 * takes here (bench_floor), four could destroy at most about 170 VMs a
 * second, fewer than a reset storm retires (a reset every 2 ms: the bound
 * above was reached, rebuilt retire_ms p99 6-11 ms); with eight, retire_ms
 * p99 was 0.2-0.3 ms, and sixteen gained nothing more (docs/performance.md). */
#define REAPER_THREADS 8

/* A hypervisor VM whose teardown was deferred, with the plan whose buffers
 * its memslots pointed at. */
struct reaper_vm {
	struct reaper_vm *next;
	bool heap;                       /* malloc'ed: the reaper frees it */
	const struct hv_ops *ops;
	struct hv_vm *hvvm;
	struct coco_vm *coco;
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS];
	unsigned nvcpus;
	struct launch_plan plan;
	size_t bytes;                    /* the plan's, set by reaper_retire */
};

typedef void reaper_destroy_fn(struct reaper_vm *rv);

struct reaper {
	reaper_destroy_fn *destroy;
	unsigned max_pending;
	size_t max_bytes;                /* REAPER_MAX_PLAN_BYTES unless changed */
	pthread_t thread[REAPER_THREADS];
	unsigned nthreads;               /* running */
	unsigned deferred;               /* to start at the first async retire */
	pthread_mutex_t lock;
	pthread_cond_t work;             /* a job, or quit */
	pthread_cond_t done;             /* a job finished */
	struct reaper_vm *head;
	unsigned pending;                /* queued or being destroyed */
	size_t pending_bytes;            /* their plans */
	bool quit;
};

/* vCPUs, then the VM, then the confidential state (after the VM: it closed
 * the guest_memfds), then the plan. */
void reaper_destroy_vm(struct reaper_vm *rv);

/* @destroy: reaper_destroy_vm (tests pass their own). */
void reaper_init(struct reaper *r, unsigned max_pending, reaper_destroy_fn *destroy);
/* Start up to @n threads (every signal blocked in them): 0 or -errno;
 * the threads that did start keep running. */
int reaper_start(struct reaper *r, unsigned n);
/* Start @n threads at the first asynchronous retire instead of now: a VM
 * that never resets creates none (they are on its start-up path). */
void reaper_start_deferred(struct reaper *r, unsigned n);
/* Hand @rv over: destroyed at once when !@async or no thread runs (after
 * the deferred start, if one is pending), else queued, after waiting while
 * max_pending are in flight or their plans and @rv's exceed max_bytes. */
void reaper_retire(struct reaper *r, struct reaper_vm *rv, bool async);
/* Wait until every retired VM is destroyed. */
void reaper_drain(struct reaper *r);
/* Finish the queue and join the threads. */
void reaper_stop(struct reaper *r);
void reaper_fini(struct reaper *r);

#endif
