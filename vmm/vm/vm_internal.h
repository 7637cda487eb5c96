/* vmm/vm/vm_internal.h: struct vm and what the files of vmm/vm/ share about
 * it.  Only vmm/vm/ includes this; everyone else sees vm.h. */
#ifndef FUKI_VM_INTERNAL_H
#define FUKI_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "loader/plan.h"
#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/irq.h"
#include "vmm/base/layout.h"
#include "vmm/base/ratelimit.h"
#include "vmm/config/config.h"
#include "vmm/hv/hv.h"
#include "vmm/launch/coco.h"
#include "vmm/vm/board.h"
#include "vmm/vm/irqroute.h"
#include "vmm/vm/reaper.h"
#include "vmm/vm/spare.h"
#include "vmm/vm/swap.h"
#include "vmm/vm/vcpu.h"
#include "vmm/vm/vm.h"

/* The VM's one state (what the control socket reports); the main thread
 * moves it: starting -> running <-> resetting, and from any to stopped.  The
 * vCPU threads' run/pause handshake is the pool's own (vcpu.c). */
enum vm_state { VM_STATE_STARTING, VM_STATE_RUNNING, VM_STATE_RESETTING, VM_STATE_STOPPED };

/* Requests to the main loop, posted from any thread (a mailbox, not a
 * state: the loop takes them all at once). */
enum vm_pending {
	VM_PENDING_RESET = 1u << 0,
	VM_PENDING_EXIT = 1u << 1,
};

/* Why a reset was requested (the status argument of vm_post for RESET). */
/* A guest can reset as fast as a rebuild goes (hundreds a second): the
 * log gets the lines of 20 resets back to back, then of [log] reset_rate
 * a second (default 1, 0: no limit); the rest go to control-socket
 * subscribers only (vm_rebuild). */
#define VM_RESET_LOG_BURST 20

enum vm_reset_reason {
	VM_RESET_GUEST = 0,          /* a device: 0xCF9, i8042 */
	VM_RESET_TRIPLE_FAULT = 1,
	VM_RESET_HYPERVISOR = 2,     /* a hypervisor system event */
	VM_RESET_HOST = 3,           /* the host asked (control socket) */
};

struct console;

struct vm {
	const struct vm_config *cfg;
	const struct hv_ops *ops;
	struct hv *hv;

	/* guest RAM: one mapping for the VM's life */
	uint8_t *ram;
	uint64_t ram_size, below_4g, above_4g;
	struct guestmem gm;

	struct bus pio, mmio;
	struct irq_chip irq;
	struct vm_req_sink req;
	struct board *dev;             /* the devices, for the VM's life */

	struct swap swap;              /* the firmware of every build */
	struct launch_plan plan;       /* the current VM's */

	/* the current hypervisor VM */
	struct irqroute irqr;          /* interrupts to the current VM */
	bool split_irqchip;            /* IOAPIC in devices/ioapic.c, LAPICs in KVM */
	struct hv_vm *hvvm;
	struct coco_vm *coco;          /* SEV-SNP / TDX state of hvvm, else NULL */
	struct coco_config coco_cfg;
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS];
	unsigned nvcpus;

	struct vcpu_pool vcpus;        /* the vCPU threads, for the VM's life */
	uint64_t exits_at_build;       /* vcpu_pool_exits() when this build began */

	/* requests from devices and vCPUs to the main loop */
	int req_fd;                    /* eventfd */
	atomic_uint pending;           /* enum vm_pending bits */
	atomic_int exit_status;
	_Atomic uint64_t exit_req_ns;  /* clock_now_ns() of the first exit request, 0: none */
	atomic_int reset_reason;       /* enum vm_reset_reason */
	struct ratelimit reset_log_rl; /* the log lines of resets (vm_rebuild) */

	struct reaper reaper;          /* old VMs are destroyed off the critical path */
	struct spare spare;            /* the next VM, built ahead (spare.c) */
	bool clean_exit;               /* vm_set_clean_exit: wait for every teardown */

	/* the control socket (NULL without [api] socket / --api-socket) */
	struct api_server *api;
	atomic_int state;              /* enum vm_state */
	uint8_t cur_fw_sha384[48];     /* firmware of the current build */
	struct launch_measurement cur_m;   /* the current build's (SEV-SNP / TDX) */
	pthread_mutex_t info_lock;     /* guards cur_fw_sha384 and cur_m */

	struct console *con;           /* the terminal to restore on a forced exit */

	/* statistics */
	_Atomic uint64_t resets;
	uint64_t last_build_ns;
	uint64_t start_ns;
};

/* "starting", "running", "resetting" or "stopped". */
const char *vm_state_name(enum vm_state s);

/* The control socket's callbacks (control.c; opaque: the struct vm). */
struct api_ops;
extern const struct api_ops vm_api_ops;

/* Post a request to the main loop (async-signal-safe, thread-safe). */
void vm_post(struct vm *vm, enum vm_pending what, int status);

#endif
