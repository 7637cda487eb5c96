/* vmm/vm/spare.h: a hypervisor VM built ahead, so a reset to the host
 * firmware only switches to it.
 * Owns: the spares' life cycle and their thread.  While the guest runs, a
 * thread builds up to SPARE_DEPTH spares (VM, memory slots before the irqchip,
 * irqchip and PIT, vCPUs) for the host firmware's plan at power-on PAM state.
 * At a reset that boots that firmware the main thread takes the oldest;
 * anything that invalidates them (spare_invalidate: a generation counter) makes it
 * stale, and a stale or unmatched spare is retired.  Every spare built ends
 * in exactly one of two places: installed as the current VM (whose retire
 * the caller owns) or handed to the retire callback (the reaper).
 *
 * The life cycle (spare_init .. spare_fini) is generic: the build and
 * retire callbacks are the caller's, which is how tests/unit/test_spare.c
 * drives it.  spare_vm_init and spare_use are vm.c's side (plain guests
 * only; see docs/performance.md for SEV-SNP and TDX). */
#ifndef FUKI_SPARE_H
#define FUKI_SPARE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/guestmem.h"
#include "vmm/vm/pam.h"
#include "vmm/vm/reaper.h"

/* One spare: rv is first, so the reaper's free(rv) frees the whole entry. */
struct spare_vm {
	struct reaper_vm rv;           /* hypervisor VM, vCPUs and the plan its slots use */
	uint8_t sha384[48];            /* the firmware it was built for */
	unsigned gen;                  /* spare generation at build start */
	struct guestmem gm;            /* the memory map its slots were made from */
	struct pam pam;                /* the BIOS area its PAM slots were made from */
};

/* Build @sv (calloc'ed, rv.heap set): 0, or a negative errno code with
 * nothing left to destroy in @sv. */
typedef int spare_build_fn(void *opaque, struct spare_vm *sv);
/* Take over @sv (built, not used): destroy it, or queue it to be. */
typedef void spare_retire_fn(void *opaque, struct spare_vm *sv);

/* Spares held ready at most.  Two: a reset takes one while the other
 * covers the next reset if the rebuild of the first is slow (a build waits
 * for a grace period now and then, a tick here, longer than a guest's
 * boot). */
#define SPARE_DEPTH 2

struct spare {
	spare_build_fn *build;
	spare_retire_fn *retire;
	void *opaque;
	atomic_bool enabled;           /* spare_request builds (spare_init: true) */
	unsigned depth;                /* 1..SPARE_DEPTH (spare_init: SPARE_DEPTH) */
	pthread_t thread;
	bool running;                  /* the thread was started */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want;                     /* build until depth spares are held */
	bool quit;
	bool building;                 /* a build in flight */
	struct spare_vm *held[SPARE_DEPTH];   /* ready, oldest first */
	unsigned nheld;
	atomic_uint gen;               /* bumped by spare_invalidate */
	/* statistics: built = used + discarded + nheld, once stopped nheld = 0 */
	uint64_t built, used, discarded, failed;
};

void spare_init(struct spare *s, spare_build_fn *build, spare_retire_fn *retire, void *opaque);
/* Start the builder thread (it starts with every signal blocked): 0 or
 * -errno. */
int spare_start(struct spare *s);
/* Ask for spares until depth are held (after a boot or rebuild).  Without
 * a thread, nothing happens. */
void spare_request(struct spare *s);
/* Anything a held or building spare was made from changed: it is stale
 * and will be retired, not used.  Any thread. */
void spare_invalidate(struct spare *s);
/* The oldest held spare if it is current and built for firmware @sha384;
 * the caller then owns it.  Stale spares are retired; a current one for
 * other firmware is kept (NULL).  With none held, a build in flight or
 * requested is waited for: it is nearer its end than a build started now. */
struct spare_vm *spare_take(struct spare *s, const uint8_t sha384[48]);
/* Stop the thread.  @wait: join it (a build in flight completes) and
 * retire the held spares; !@wait (the process is about to leave): only tell
 * the thread to stop, what it holds goes with the process. */
void spare_stop(struct spare *s, bool wait);
void spare_fini(struct spare *s);

/* ---- vm.c's side (vm_internal.h) ---- */
struct vm;
struct swap_choice;
/* Set up vm->spare for @vm: builds only for plain guests whose host
 * firmware plan is made of ROM regions, unless FUKIVMM_NO_SPARE is set. */
void spare_vm_init(struct vm *vm);
/* At a boot: install the held spare as the current VM if it is current and
 * built for @ch's firmware (the host's), with the memory map @ch's boot
 * would make.  true: installed (vm->hvvm, vcpus, plan; @ch's plan is queued
 * to be freed); false: build as usual (any unmatched spare was retired). */
bool spare_use(struct vm *vm, struct swap_choice *ch);

#endif
