/* Particles moving through a periodic unit square split in NP vertical
 * slabs: rank r owns the particles with r/NP <= x < (r+1)/NP, so each rank
 * holds a number of particles that changes from step to step (none, too).
 * Every step the ranks record their particles with simrec_record_joined:
 * the step is the ranks' rows in rank order, particles/id (int64) and
 * particles/state (float64 x, y, vx, vy), plus each rank's count with
 * simrec_record_all (particles/count, shape (steps, NP)). Then the
 * particles move and those leaving a slab go to the rank that owns their
 * new place. After the run rank 0 reads steps back through the C reader
 * of a joined step and checks that every particle is there once.
 *
 *   mpirun -n 4 particles [STORE] [STEPS] [N]
 * STORE defaults to "zarr:particles.zarr".
 *
 * Particle i starts at x = frac(i * 0.6180339887498949)^2 (crowded near
 * x = 0, so the counts start uneven), y = frac(i * 0.7548776662466927),
 * with vx = frac(i * 0.5698402909980532) - 0.5, vy = 0.25; a step moves it
 * by DT * v and wraps x and y into [0, 1). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

#define DT 0.05

typedef struct {
	double id, x, y, vx, vy; /* id as a double: exact below 2^53 */
} particle_t;

typedef struct {
	particle_t *p;
	size_t n, cap;
} swarm_t;

static void die(simrec_t *rec, int rc, const char *what)
{
	fprintf(stderr, "particles: %s: %s: %s\n", what, simrec_strerror(rc),
	        simrec_errmsg(rec));
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static int owner(double x, int size)
{
	int r = (int)(x * size);
	return r < size ? r : size - 1;
}

static void push(swarm_t *s, const particle_t *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		particle_t *q = cap < SIZE_MAX / 2 / sizeof *q
		                        ? realloc(s->p, cap * sizeof *q)
		                        : NULL;
		if (!q)
			die(NULL, SIMREC_ENOMEM, "particles");
		s->p = q;
		s->cap = cap;
	}
	s->p[s->n++] = *p;
}

static particle_t start_of(long i)
{
	double x = fmod((double)i * 0.6180339887498949, 1.0);
	particle_t p = {.id = (double)i,
	                .x = x * x,
	                .y = fmod((double)i * 0.7548776662466927, 1.0),
	                .vx = fmod((double)i * 0.5698402909980532, 1.0) - 0.5,
	                .vy = 0.25};
	return p;
}

static double wrap(double x)
{
	if (x >= 1)
		x -= 1;
	if (x < 0)
		x += 1;
	return x;
}

/* Collective: the particles each go to the rank owning their place. */
static void migrate(swarm_t *s, int size)
{
	int *cnt = calloc(4 * (size_t)size, sizeof *cnt);
	int *rcnt = cnt + size, *sdis = rcnt + size, *rdis = sdis + size;
	particle_t *out = malloc((s->n + 1) * sizeof *out);
	if (!cnt || !out)
		die(NULL, SIMREC_ENOMEM, "migrate");
	for (size_t k = 0; k < s->n; k++)
		cnt[owner(s->p[k].x, size)] += (int)sizeof(particle_t);
	for (int r = 1; r < size; r++)
		sdis[r] = sdis[r - 1] + cnt[r - 1];
	/* rows keep their order within each destination */
	int *fill = calloc((size_t)size, sizeof *fill);
	if (!fill)
		die(NULL, SIMREC_ENOMEM, "migrate");
	for (size_t k = 0; k < s->n; k++) {
		int r = owner(s->p[k].x, size);
		memcpy((char *)out + sdis[r] + fill[r], &s->p[k],
		       sizeof(particle_t));
		fill[r] += (int)sizeof(particle_t);
	}
	MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, MPI_COMM_WORLD);
	int total = 0;
	for (int r = 0; r < size; r++) {
		rdis[r] = total;
		total += rcnt[r];
	}
	swarm_t in = {malloc((size_t)total + 1), 0, 0};
	if (!in.p)
		die(NULL, SIMREC_ENOMEM, "migrate");
	MPI_Alltoallv(out, cnt, sdis, MPI_BYTE, in.p, rcnt, rdis, MPI_BYTE,
	              MPI_COMM_WORLD);
	in.n = in.cap = (size_t)total / sizeof(particle_t);
	free(s->p);
	*s = in;
	free(out);
	free(fill);
	free(cnt);
}

/* Collective: this step's particles, as joined rows and a count. */
static void record_step(simrec_t *rec, const swarm_t *s)
{
	int64_t *id = malloc((s->n + 1) * sizeof *id);
	double *st = malloc((s->n + 1) * 4 * sizeof *st);
	if (!id || !st)
		die(rec, SIMREC_ENOMEM, "record");
	for (size_t k = 0; k < s->n; k++) {
		id[k] = (int64_t)s->p[k].id;
		memcpy(st + 4 * k, &s->p[k].x, 4 * sizeof *st);
	}
	const size_t ids[1] = {s->n}, states[2] = {s->n, 4};
	int64_t n = (int64_t)s->n;
	int rc;
	if ((rc = simrec_record_joined(rec, "particles/id", SIMREC_INT64, 1,
	                               ids, id)) ||
	    (rc = simrec_record_joined(rec, "particles/state", SIMREC_FLOAT64,
	                               2, states, st)) ||
	    (rc = simrec_record_all(rec, "particles/count", SIMREC_INT64, 0,
	                            NULL, &n)))
		die(rec, rc, "record particles");
	free(id);
	free(st);
}

static void move(swarm_t *s)
{
	for (size_t k = 0; k < s->n; k++) {
		particle_t *p = &s->p[k];
		p->x = wrap(p->x + DT * p->vx);
		p->y = wrap(p->y + DT * p->vy);
	}
}

/* Step `step` of particles/id read back through the C reader of a joined
 * step: n ids, each of 0..n-1 once. */
static int check_step(simrec_t *rec, long step, long n)
{
	size_t row0, rows;
	int rc = simrec_joined_step(rec, "particles/id", (size_t)step, &row0,
	                            &rows);
	if (!rc && rows != (size_t)n)
		rc = SIMREC_ESHAPE;
	int64_t *id = rc ? NULL : malloc(rows * sizeof *id + 1);
	char *seen = id ? calloc(rows + 1, 1) : NULL;
	if (!rc && !seen)
		rc = SIMREC_ENOMEM;
	if (!rc)
		rc = simrec_joined_read(rec, "particles/id", (size_t)step, id,
		                        rows * sizeof *id, NULL);
	for (size_t k = 0; !rc && k < rows; k++)
		if (id[k] < 0 || id[k] >= n || seen[id[k]]++)
			rc = SIMREC_EFORMAT;
	printf("  step %ld: %zu particles%s\n", step, rows,
	       rc ? "" : ", each once");
	free(id);
	free(seen);
	return rc;
}

static int summarize(const char *uri, long steps, long n)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		fprintf(stderr, "particles: cannot reopen %s: %s: %s\n", uri,
		        simrec_strerror(rc), simrec_errmsg(NULL));
		return 1;
	}
	printf("read back %s: %ld steps of %ld particles\n", uri, steps + 1, n);
	if ((rc = check_step(rec, 0, n)) || (rc = check_step(rec, steps, n)))
		fprintf(stderr, "particles: %s: %s\n", simrec_strerror(rc),
		        simrec_errmsg(rec));
	simrec_close(rec);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	const char *uri = argc > 1 ? argv[1] : "zarr:particles.zarr";
	long steps = argc > 2 ? atol(argv[2]) : 40;
	long n = argc > 3 ? atol(argv[3]) : 1000;
	if (steps < 0 || n < 0 || n > 1L << 24) {
		if (rank == 0)
			fprintf(stderr, "particles: STEPS >= 0, 0 <= N <= "
			                "2^24\n");
		MPI_Finalize();
		return 2;
	}
	swarm_t s = {0};
	for (long i = 0; i < n; i++) {
		particle_t p = start_of(i);
		if (owner(p.x, size) == rank)
			push(&s, &p);
	}
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc)
		die(NULL, rc, "open");
	if (rank == 0 &&
	    ((rc = simrec_attr_set_int(rec, "particles", "n", n)) ||
	     (rc = simrec_attr_set_double(rec, "particles", "dt", DT))))
		die(rec, rc, "attributes of particles");
	for (long step = 0; step <= steps; step++) {
		record_step(rec, &s);
		if (step == steps)
			break;
		move(&s);
		migrate(&s, size);
	}
	if ((rc = simrec_close(rec)))
		die(NULL, rc, "close");
	free(s.p);
	int status = 0;
	if (rank == 0 && strncmp(uri, "memory:", 7))
		status = summarize(uri, steps, n);
	MPI_Finalize();
	return status;
}
