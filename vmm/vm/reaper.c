/* vmm/vm/reaper.c: the reaper threads (see reaper.h). */
#include "vmm/vm/reaper.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "vmm/base/log.h"
#include "vmm/base/thread.h"

void reaper_destroy_vm(struct reaper_vm *rv)
{
	for (unsigned i = 0; i < rv->nvcpus; i++)
		if (rv->vcpu[i])
			rv->ops->vcpu_destroy(rv->vcpu[i]);
	if (rv->hvvm)
		rv->ops->vm_destroy(rv->hvvm);
	coco_vm_destroy(rv->coco);   /* after the VM: it closed the guest_memfds */
	plan_free(&rv->plan);
}

static void reaper_now(struct reaper *r, struct reaper_vm *rv)
{
	r->destroy(rv);
	if (rv->heap)
		free(rv);
}

static pthread_mutex_t trim_lock = PTHREAD_MUTEX_INITIALIZER;

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->head && !r->quit)
			pthread_cond_wait(&r->work, &r->lock);
		if (!r->head && r->quit)
			break;
		struct reaper_vm *rv = r->head;

		size_t bytes = rv->bytes;

		r->head = rv->next;
		pthread_mutex_unlock(&r->lock);
		reaper_now(r, rv);
		/* give the freed plan and image buffers back to the system: a VM
		 * that rebuilds thousands of times must not creep.  One trim at a
		 * time: they would only contend for the arena locks, and where
		 * nothing used glibc's allocator before (under ASan) the first
		 * trim initialises it, which two threads must not do at once. */
		pthread_mutex_lock(&trim_lock);
		malloc_trim(0);
		pthread_mutex_unlock(&trim_lock);
		pthread_mutex_lock(&r->lock);
		r->pending--;
		r->pending_bytes -= bytes;
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void reaper_init(struct reaper *r, unsigned max_pending, reaper_destroy_fn *destroy)
{
	*r = (struct reaper){ .destroy = destroy, .max_pending = max_pending,
			      .max_bytes = REAPER_MAX_PLAN_BYTES };
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->done, NULL);
}

int reaper_start(struct reaper *r, unsigned n)
{
	int e = 0;

	for (unsigned i = 0; !e && i < n && r->nthreads < REAPER_THREADS; i++) {
		e = thread_start_blocked(&r->thread[r->nthreads], NULL, reaper_main, r);
		if (!e)
			r->nthreads++;
	}
	return -e;
}

void reaper_start_deferred(struct reaper *r, unsigned n)
{
	r->deferred = n;
}

/* The deferred start, by whichever retire comes first (the main loop or
 * the spare's thread), with the lock held. */
static void reaper_start_deferred_locked(struct reaper *r)
{
	unsigned n = r->quit ? 0 : r->deferred;

	r->deferred = 0;
	if (n && reaper_start(r, n))
		log_warn("reaper: %u of %u threads started (the rest of the retired VMs "
			 "are destroyed on the retiring thread)", r->nthreads, n);
}

void reaper_retire(struct reaper *r, struct reaper_vm *rv, bool async)
{
	if (async) {
		rv->bytes = plan_owned_bytes(&rv->plan);
		pthread_mutex_lock(&r->lock);
		reaper_start_deferred_locked(r);
		if (r->nthreads) {
			/* backpressure: never more than max_pending dead VMs, nor
			 * more than max_bytes of their plans, in flight */
			while (r->pending >= r->max_pending ||
			       (r->pending && r->pending_bytes + rv->bytes > r->max_bytes))
				pthread_cond_wait(&r->done, &r->lock);
			rv->next = r->head;
			r->head = rv;
			r->pending++;
			r->pending_bytes += rv->bytes;
			pthread_cond_signal(&r->work);
			pthread_mutex_unlock(&r->lock);
			return;
		}
		pthread_mutex_unlock(&r->lock);
	}
	reaper_now(r, rv);
}

void reaper_drain(struct reaper *r)
{
	pthread_mutex_lock(&r->lock);
	while (r->nthreads && r->pending)
		pthread_cond_wait(&r->done, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

void reaper_stop(struct reaper *r)
{
	pthread_mutex_lock(&r->lock);
	r->deferred = 0;      /* and no thread starts after this */
	if (!r->nthreads) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	r->quit = true;
	pthread_cond_broadcast(&r->work);
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; i < r->nthreads; i++)
		pthread_join(r->thread[i], NULL);
	r->nthreads = 0;
}

void reaper_fini(struct reaper *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->done);
}
