/* A bounded pool of threads for one call: the parallel part of a read. */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

typedef struct pool_run {
	void (*fn)(void *arg, size_t i, int worker);
	void *arg;
	size_t n;
	atomic_size_t next;
} pool_run;

typedef struct pool_arg {
	pool_run *r;
	int worker;
} pool_arg;

/* Items are taken in order, one at a time: the first items (the first
 * chunks in the file) are the first worked on. */
static void *pool_main(void *p)
{
	pool_arg *a = p;
	size_t i;
	while ((i = atomic_fetch_add(&a->r->next, 1)) < a->r->n)
		a->r->fn(a->r->arg, i, a->worker);
	return NULL;
}

int sr_parallel(int nthreads, size_t n,
                void (*fn)(void *arg, size_t i, int worker), void *arg)
{
	if (nthreads > SR_POOL_MAX)
		nthreads = SR_POOL_MAX;
	if ((size_t)nthreads > n)
		nthreads = (int)n;
	if (nthreads < 1)
		nthreads = 1;
	pool_run r = {.fn = fn, .arg = arg, .n = n};
	atomic_init(&r.next, 0);
	pthread_t t[SR_POOL_MAX];
	pool_arg a[SR_POOL_MAX];
	int w = 1;
	for (; w < nthreads; w++) {
		a[w] = (pool_arg){&r, w};
		/* a thread that cannot start leaves its share to the others */
		if (pthread_create(&t[w], NULL, pool_main, &a[w]))
			break;
	}
	a[0] = (pool_arg){&r, 0};
	pool_main(&a[0]);
	for (int i = 1; i < w; i++)
		pthread_join(t[i], NULL);
	return w;
}
