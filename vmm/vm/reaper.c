/* vmm/vm/reaper.c: the reaper threads (see reaper.h). */
#include "vmm/vm/reaper.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

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

		r->head = rv->next;
		pthread_mutex_unlock(&r->lock);
		reaper_now(r, rv);
		/* give the freed plan and image buffers back to the system: a VM
		 * that rebuilds thousands of times must not creep */
		malloc_trim(0);
		pthread_mutex_lock(&r->lock);
		r->pending--;
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void reaper_init(struct reaper *r, unsigned max_pending, reaper_destroy_fn *destroy)
{
	*r = (struct reaper){ .destroy = destroy, .max_pending = max_pending };
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->done, NULL);
}

int reaper_start(struct reaper *r, unsigned n)
{
	int e = 0;

	for (unsigned i = 0; !e && i < n && r->nthreads < REAPER_THREADS; i++) {
		e = pthread_create(&r->thread[r->nthreads], NULL, reaper_main, r);
		if (!e)
			r->nthreads++;
	}
	return -e;
}

void reaper_retire(struct reaper *r, struct reaper_vm *rv, bool async)
{
	if (!async || !r->nthreads) {
		reaper_now(r, rv);
		return;
	}
	pthread_mutex_lock(&r->lock);
	/* backpressure: never more than max_pending dead VMs in flight */
	while (r->pending >= r->max_pending)
		pthread_cond_wait(&r->done, &r->lock);
	rv->next = r->head;
	r->head = rv;
	r->pending++;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
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
	if (!r->nthreads)
		return;
	pthread_mutex_lock(&r->lock);
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
