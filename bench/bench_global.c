/* A 3-D global array written by one method, timed; or one plane of it read
 * back by a serial reader, timed.
 *   mpiexec -n NP bench_global write METHOD DIR NZ NY NX STEPS [f32|f64]
 *   mpiexec -n 1  bench_global read  METHOD DIR STEP Z [cold|warm]
 *   bench_global methods         (prints the methods built in)
 * write: STEPS steps of a (NZ, NY, NX) array of float32 (f32, default) or
 * float64, split in 3-D blocks over the ranks (MPI_Dims_create; uneven
 * blocks where a dimension does not divide). Each rank fills its block once
 * with a smooth field and adds 1 to it between steps (that time is taken
 * out of the figures), so the value at (s, z, y, x) is f(z, y, x) + s,
 * exactly. METHOD is one of
 *   zarr          simrec_record_global into zarr:DIR/g.zarr?codec=none
 *   zarr+dir      ... zarr+dir:DIR/g.zarr?codec=none
 *   zarr+dir-lz4  ... zarr+dir:DIR/g.zarr?codec=lz4
 *   hdf5          ... hdf5:DIR/g.h5, default writers (one per node)
 *   hdf5-all      ... hdf5:DIR/g.h5, every rank a writer
 *   phdf5         parallel HDF5 by hand: dataset (STEPS, NZ, NY, NX),
 *                 chunk = (1, one rank's block), fill time NEVER,
 *                 collective H5Dwrite of each rank's hyperslab, fsync
 *   adios2        ADIOS2 BP5, default aggregation: a global variable with
 *                 shape/start/count, begin_step/put/end_step, close, fsync
 *                 of every file of DIR/g.bp (built with BENCH_HAVE_ADIOS2)
 * Every method ends with its data durable and the clock runs from a
 * barrier before the open to a barrier after the sync.
 * read: opens the store the write of METHOD left in DIR and reads the
 * plane [STEP, Z, :, :] (simrec_dataset_read; H5Dread of a hyperslab for
 * phdf5; adios2 begin_step to STEP, set_selection, get) in this one
 * process, from the open to the close, and checks every value against the
 * formula. cold (default) first evicts the store's files from the page
 * cache (posix_fadvise DONTNEED: they are clean after the writer's fsync).
 * Each prints one line of key=value fields (see bench/README.md); DIR must
 * exist and be empty for a write. bench/run_global.py runs both. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_NAME "bench_global"
#include "bench_mpi_util.h"

typedef struct gwrite {
	MPI_Comm comm;
	int rank, size, steps, f64, writer; /* writer: a writer rank of the
	                                       method (for the RSS figure) */
	const char *dir, *method;
	size_t shape[3], start[3], count[3], dims[3];
	void *data;    /* this rank's block, C order, count elements */
	size_t n;      /* elements in the block */
	double t_bump; /* seconds spent adding 1 between steps */
	double t_open, t_steps, t_close; /* phases, from rank 0's clock */
} gwrite;

/* A decimal in [lo, 2^31]. */
static size_t parse_size(const char *s, size_t lo, const char *what)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '-' || !*s || *end || v < lo || v > (1ULL << 31))
		bench_fail(what, s);
	return (size_t)v;
}

/* The field at step 0: a smooth function of (z, y, x) on a grid of 1/1024,
 * so that f + s is exact in float32 for the step numbers used here. */
static double field(const size_t *shape, size_t z, size_t y, size_t x)
{
	double a = sin(2 * M_PI * 2 * (double)z / (double)shape[0]);
	double b = cos(2 * M_PI * 3 * (double)y / (double)shape[1]);
	double c = 0.5 * sin(2 * M_PI * 5 * (double)x / (double)shape[2]);
	return round((a * b + c) * 1024) / 1024;
}

/* The block [start, start + count) of the field at step 0. */
static void fill_block(gwrite *g)
{
	size_t k = 0, esz = g->f64 ? 8 : 4;
	g->data = malloc(g->n ? g->n * esz : 1);
	if (!g->data)
		bench_fail("out of memory", NULL);
	for (size_t z = 0; z < g->count[0]; z++)
		for (size_t y = 0; y < g->count[1]; y++)
			for (size_t x = 0; x < g->count[2]; x++, k++) {
				double v =
				        field(g->shape, g->start[0] + z,
				              g->start[1] + y, g->start[2] + x);
				if (g->f64)
					((double *)g->data)[k] = v;
				else
					((float *)g->data)[k] = (float)v;
			}
}

/* Between two steps: the block of the next step (every value + 1). */
static void bump(gwrite *g)
{
	double t0 = MPI_Wtime();
	if (g->f64)
		for (size_t k = 0; k < g->n; k++)
			((double *)g->data)[k] += 1;
	else
		for (size_t k = 0; k < g->n; k++)
			((float *)g->data)[k] += 1;
	g->t_bump += MPI_Wtime() - t0;
}

/* 3-D block decomposition: rank -> (start, count), row-major over dims. */
static void decompose(gwrite *g)
{
	int d[3] = {0, 0, 0};
	MPI_Dims_create(g->size, 3, d);
	int c[3] = {g->rank / (d[1] * d[2]), (g->rank / d[2]) % d[1],
	            g->rank % d[2]};
	g->n = 1;
	for (int i = 0; i < 3; i++) {
		size_t lo = g->shape[i] * (size_t)c[i] / (size_t)d[i];
		size_t hi = g->shape[i] * (size_t)(c[i] + 1) / (size_t)d[i];
		g->dims[i] = (size_t)d[i];
		g->start[i] = lo;
		g->count[i] = hi - lo;
		g->n *= hi - lo;
	}
}

#ifdef BENCH_HAVE_RECORD_GLOBAL
static int run_simrec(gwrite *g, int *writer_all)
{
	char uri[4300], path[4200];
	if (!bench_simrec_store(g->method, g->dir, "g", path, uri))
		return 0;
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	if (!strcmp(g->method, "hdf5-all"))
		o.writers = g->size, *writer_all = 1;
	simrec_dtype_t dt = g->f64 ? SIMREC_FLOAT64 : SIMREC_FLOAT32;
	simrec_t *rec;
	double t0 = MPI_Wtime();
	bench_check(NULL, simrec_open_comm(&rec, uri, &o, g->comm), "open");
	double t1 = MPI_Wtime();
	for (int s = 0; s < g->steps; s++) {
		if (s)
			bump(g);
		bench_check(rec,
		            simrec_record_global(rec, "field", dt, 3, g->shape,
		                                 g->start, g->count, g->data),
		            "simrec_record_global");
	}
	double t2 = MPI_Wtime();
	bench_check(NULL, simrec_close(rec), "close");
	if (!g->rank)
		bench_sync_tree(path);
	MPI_Barrier(g->comm);
	g->t_open = t1 - t0, g->t_steps = t2 - t1;
	g->t_close = MPI_Wtime() - t2;
	return 1;
}
#else
static int run_simrec(gwrite *g, int *writer_all)
{
	char uri[4300], path[4200];
	(void)writer_all;
	if (bench_simrec_store(g->method, g->dir, "g", path, uri))
		bench_fail("this simrec has no simrec_record_global",
		           g->method);
	return 0;
}
#endif

#ifdef BENCH_HAVE_HDF5
static void run_phdf5(gwrite *g)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/g.h5", g->dir);
	hid_t ht = g->f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
	double t0 = MPI_Wtime();
	hsize_t dims[4] = {(hsize_t)g->steps, g->shape[0], g->shape[1],
	                   g->shape[2]};
	/* one chunk per rank block (the largest block where uneven) */
	hsize_t chunk[4] = {1, 1, 1, 1};
	for (int i = 0; i < 3; i++)
		chunk[i + 1] = (g->shape[i] + g->dims[i] - 1) / g->dims[i];
	hsize_t cnt[4] = {1, g->count[0], g->count[1], g->count[2]};
	bench_h5 h;
	bench_h5_start(&h, path, g->comm, "field", ht, 4, dims, chunk, cnt);
	double t1 = MPI_Wtime();
	for (int s = 0; s < g->steps; s++) {
		if (s)
			bump(g);
		hsize_t st[4] = {(hsize_t)s, g->start[0], g->start[1],
		                 g->start[2]};
		H5Sselect_hyperslab(h.space, H5S_SELECT_SET, st, NULL, cnt,
		                    NULL);
		if (!g->n)
			H5Sselect_none(h.space), H5Sselect_none(h.mem);
		if (H5Dwrite(h.d, ht, h.mem, h.space, h.dxpl, g->data) < 0)
			bench_fail("H5Dwrite", path);
	}
	double t2 = MPI_Wtime();
	bench_h5_finish(&h, path, g->comm);
	g->t_open = t1 - t0, g->t_steps = t2 - t1;
	g->t_close = MPI_Wtime() - t2;
}
#endif

#ifdef BENCH_HAVE_ADIOS2
static void run_adios2(gwrite *g)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/g.bp", g->dir);
	bench_bp b;
	double t0 = MPI_Wtime();
	bench_bp_open(&b, g->comm, path, "field",
	              g->f64 ? adios2_type_double : adios2_type_float, 3,
	              g->shape, g->start, g->count, 0);
	double t1 = MPI_Wtime();
	for (int s = 0; s < g->steps; s++) {
		if (s)
			bump(g);
		bench_bp_step(&b, g->n ? g->data : NULL);
	}
	double t2 = MPI_Wtime();
	bench_bp_close(&b, g->comm, g->rank, path);
	g->t_open = t1 - t0, g->t_steps = t2 - t1;
	g->t_close = MPI_Wtime() - t2;
	adios2_finalize(b.ad);
}
#endif

/* Runs g->method; returns 1 if every rank is a writer of it, 0 if the
 * writers are one rank per node (simrec's default aggregation, ADIOS2's
 * default TwoLevelShm aggregation). */
static int run_method(gwrite *g)
{
	int all = 0;
	if (run_simrec(g, &all))
		return all;
#ifdef BENCH_HAVE_HDF5
	if (!strcmp(g->method, "phdf5")) {
		run_phdf5(g);
		return 1;
	}
#endif
#ifdef BENCH_HAVE_ADIOS2
	if (!strcmp(g->method, "adios2")) {
		run_adios2(g);
		return 0;
	}
#endif
	bench_fail("unknown method (or not built in)", g->method);
	return 0;
}

/* 1 on the ranks with node-local rank 0. */
static int node_leader(MPI_Comm comm)
{
	MPI_Comm node;
	int r;
	MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
	                    &node);
	MPI_Comm_rank(node, &r);
	MPI_Comm_free(&node);
	return r == 0;
}

static void report_write(gwrite *g, double wall, long rss0)
{
	/* peak RSS: max over the method's writer ranks, and over all ranks */
	long mine[3] = {g->writer ? bench_max_rss_kib() : 0,
	                bench_max_rss_kib(), g->writer ? rss0 : 0},
	     mx[3];
	int nw = 0;
	MPI_Reduce(mine, mx, 3, MPI_LONG, MPI_MAX, 0, g->comm);
	MPI_Reduce(&g->writer, &nw, 1, MPI_INT, MPI_SUM, 0, g->comm);
	if (g->rank)
		return;
	double step = (double)g->shape[0] * (double)g->shape[1] *
	              (double)g->shape[2] * (g->f64 ? 8 : 4);
	double bytes = step * g->steps, io = wall - g->t_bump;
	printf("method=%s op=write np=%d nz=%zu ny=%zu nx=%zu steps=%d "
	       "dtype=%s decomp=%zux%zux%zu bytes=%.0f seconds=%.4f "
	       "bump_s=%.4f MBps=%.1f open_s=%.4f steps_s=%.4f close_s=%.4f "
	       "writers=%d step_bytes=%.0f own_step_bytes=%.0f "
	       "rss_writer_kib=%ld rss_max_kib=%ld rss0_writer_kib=%ld\n",
	       g->method, g->size, g->shape[0], g->shape[1], g->shape[2],
	       g->steps, g->f64 ? "f64" : "f32", g->dims[0], g->dims[1],
	       g->dims[2], bytes, io, g->t_bump, bytes / 1e6 / io, g->t_open,
	       g->t_steps, g->t_close, nw, step, step / nw, mx[0], mx[1],
	       mx[2]);
}

static int cmd_write(int argc, char **argv)
{
	gwrite g = {.comm = MPI_COMM_WORLD};
	MPI_Comm_rank(g.comm, &g.rank);
	MPI_Comm_size(g.comm, &g.size);
	if (argc < 8)
		bench_fail("usage",
		           "bench_global write METHOD DIR NZ NY NX STEPS "
		           "[f32|f64]");
	g.method = argv[2];
	g.dir = argv[3];
	for (int i = 0; i < 3; i++)
		g.shape[i] = parse_size(argv[4 + i], 1, "NZ, NY, NX");
	if ((double)g.shape[0] * (double)g.shape[1] * (double)g.shape[2] >
	    (double)(1ULL << 36))
		bench_fail("NZ x NY x NX must be at most 2^36", argv[4]);
	g.steps = (int)parse_size(argv[7], 1, "STEPS");
	if (g.steps > 4096)
		bench_fail("STEPS must be at most 4096", argv[7]);
	g.f64 = argc > 8 && !strcmp(argv[8], "f64");
	if (argc > 8 && !g.f64 && strcmp(argv[8], "f32"))
		bench_fail("dtype must be f32 or f64", argv[8]);
	decompose(&g);
	fill_block(&g);
	int leader = node_leader(g.comm);
	long rss0 = bench_max_rss_kib();

	MPI_Barrier(g.comm);
	double t0 = MPI_Wtime();
	int all = run_method(&g);
	double wall = MPI_Wtime() - t0;
	g.writer = all || leader;
	report_write(&g, wall, rss0);
	free(g.data);
	return 0;
}

/* ---- read -------------------------------------------------------------- */

typedef struct gread {
	const char *dir, *method;
	size_t step, z, shape[3]; /* shape: the spatial shape found */
	size_t chunks[4];         /* the dataset's chunk shape, 0 if none */
	int f64;
	void *buf;             /* the plane, shape[1] x shape[2] */
	double t_ready, t_got; /* clock before and after the data read */
} gread;

static void *plane_buf(gread *r)
{
	size_t n = r->shape[1] * r->shape[2];
	r->buf = malloc(n * (r->f64 ? 8 : 4));
	if (!r->buf)
		bench_fail("out of memory", NULL);
	r->t_ready = bench_now(); /* what follows reads the data */
	return r->buf;
}

static void read_simrec(gread *r, const char *scheme, const char *file)
{
	char uri[4200];
	snprintf(uri, sizeof uri, "%s%s/%s", scheme, r->dir, file);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	simrec_dataset_t *ds;
	bench_check(NULL, simrec_open(&rec, uri, &o), "open");
	bench_check(rec, simrec_get_all(rec, "field", &ds), "simrec_get_all");
	size_t sh[4] = {0, 0, 0, 0};
	if (simrec_dataset_ndim(ds) != 4)
		bench_fail("not a (steps, nz, ny, nx) dataset", uri);
	simrec_dataset_shape(ds, sh);
	if (r->step >= sh[0] || r->z >= sh[1])
		bench_fail("STEP or Z outside the dataset", uri);
	r->f64 = simrec_dataset_dtype(ds) == SIMREC_FLOAT64;
	memcpy(r->shape, sh + 1, sizeof r->shape);
	if (simrec_dataset_chunks(ds, r->chunks))
		memset(r->chunks, 0, sizeof r->chunks);
	size_t st[4] = {r->step, r->z, 0, 0}, cn[4] = {1, 1, sh[2], sh[3]};
	bench_check(rec,
	            simrec_dataset_read(ds, st, cn, plane_buf(r),
	                                sh[2] * sh[3] * (r->f64 ? 8 : 4)),
	            "simrec_dataset_read");
	r->t_got = bench_now();
	simrec_dataset_close(ds);
	bench_check(NULL, simrec_close(rec), "close");
}

#ifdef BENCH_HAVE_HDF5
static void read_h5(gread *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/g.h5", r->dir);
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t d = f < 0 ? -1 : H5Dopen2(f, "field", H5P_DEFAULT);
	if (d < 0)
		bench_fail("H5Dopen2", path);
	hid_t space = H5Dget_space(d), t = H5Dget_type(d);
	hsize_t dims[4];
	if (H5Sget_simple_extent_ndims(space) != 4)
		bench_fail("not a (steps, nz, ny, nx) dataset", path);
	H5Sget_simple_extent_dims(space, dims, NULL);
	if (r->step >= dims[0] || r->z >= dims[1])
		bench_fail("STEP or Z outside the dataset", path);
	r->f64 = H5Tget_size(t) == 8;
	hsize_t ch[4] = {0, 0, 0, 0};
	hid_t dcpl = H5Dget_create_plist(d);
	if (H5Pget_layout(dcpl) == H5D_CHUNKED)
		H5Pget_chunk(dcpl, 4, ch);
	H5Pclose(dcpl);
	for (int i = 0; i < 4; i++)
		r->chunks[i] = ch[i];
	for (int i = 0; i < 3; i++)
		r->shape[i] = dims[i + 1];
	hsize_t st[4] = {r->step, r->z, 0, 0}, cn[4] = {1, 1, dims[2], dims[3]};
	H5Sselect_hyperslab(space, H5S_SELECT_SET, st, NULL, cn, NULL);
	hid_t mem = H5Screate_simple(4, cn, NULL);
	if (H5Dread(d, r->f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, mem,
	            space, H5P_DEFAULT, plane_buf(r)) < 0)
		bench_fail("H5Dread", path);
	r->t_got = bench_now();
	H5Sclose(mem);
	H5Tclose(t);
	H5Sclose(space);
	H5Dclose(d);
	H5Fclose(f);
}
#endif

#ifdef BENCH_HAVE_ADIOS2
static void read_adios2(gread *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/g.bp", r->dir);
	adios2_adios *ad = adios2_init_serial();
	adios2_io *io = ad ? adios2_declare_io(ad, "read") : NULL;
	if (!io || adios2_set_engine(io, "BP5"))
		bench_fail("adios2_declare_io", path);
	adios2_engine *e = adios2_open(io, path, adios2_mode_read);
	if (!e)
		bench_fail("adios2_open", path);
	for (size_t s = 0;; s++) {
		adios2_step_status st;
		if (adios2_begin_step(e, adios2_step_mode_read, -1, &st) ||
		    st != adios2_step_status_ok)
			bench_fail("STEP outside the dataset", path);
		if (s < r->step) {
			adios2_end_step(e);
			continue;
		}
		adios2_variable *v = adios2_inquire_variable(io, "field");
		size_t nd = 0;
		adios2_type ty;
		if (!v || adios2_variable_ndims(&nd, v) || nd != 3 ||
		    adios2_variable_shape(r->shape, v) ||
		    adios2_variable_type(&ty, v) || r->z >= r->shape[0])
			bench_fail("not a (nz, ny, nx) variable, or Z outside",
			           path);
		r->f64 = ty == adios2_type_double;
		size_t st3[3] = {r->z, 0, 0},
		       cn[3] = {1, r->shape[1], r->shape[2]};
		if (adios2_set_selection(v, 3, st3, cn) ||
		    adios2_get(e, v, plane_buf(r), adios2_mode_sync) ||
		    adios2_end_step(e))
			bench_fail("adios2_get", path);
		r->t_got = bench_now();
		break;
	}
	adios2_close(e);
	adios2_finalize(ad);
}
#endif

/* Every value of the plane against the formula; returns mismatches. */
static size_t verify_plane(const gread *r)
{
	size_t bad = 0, k = 0;
	for (size_t y = 0; y < r->shape[1]; y++)
		for (size_t x = 0; x < r->shape[2]; x++, k++) {
			double v =
			        field(r->shape, r->z, y, x) + (double)r->step;
			double got = r->f64 ? ((double *)r->buf)[k]
			                    : ((float *)r->buf)[k];
			bad += r->f64 ? got != v : (float)got != (float)v;
		}
	return bad;
}

static void read_method(gread *r)
{
	if (!strcmp(r->method, "zarr"))
		read_simrec(r, "zarr:", "g.zarr");
	else if (!strncmp(r->method, "zarr+dir", 8))
		read_simrec(r, "zarr+dir:", "g.zarr");
	else if (!strcmp(r->method, "hdf5") || !strcmp(r->method, "hdf5-all"))
		read_simrec(r, "hdf5:", "g.h5");
#ifdef BENCH_HAVE_HDF5
	else if (!strcmp(r->method, "phdf5"))
		read_h5(r);
#endif
#ifdef BENCH_HAVE_ADIOS2
	else if (!strcmp(r->method, "adios2"))
		read_adios2(r);
#endif
	else
		bench_fail("unknown method (or not built in)", r->method);
}

static int cmd_read(int argc, char **argv)
{
	if (argc < 6)
		bench_fail("usage",
		           "bench_global read METHOD DIR STEP Z [cold|warm]");
	gread r = {.method = argv[2], .dir = argv[3]};
	r.step = parse_size(argv[4], 0, "STEP");
	r.z = parse_size(argv[5], 0, "Z");
	int cold = argc <= 6 || strcmp(argv[6], "warm");
	if (cold)
		bench_evict_tree(r.dir);
	double t0 = bench_now();
	read_method(&r);
	double t = bench_now() - t0;
	size_t bad = verify_plane(&r);
	if (bad) {
		char msg[128];
		snprintf(msg, sizeof msg, "%zu of %zu values differ", bad,
		         r.shape[1] * r.shape[2]);
		bench_fail("plane read back wrong", msg);
	}
	double bytes = (double)(r.shape[1] * r.shape[2] * (r.f64 ? 8 : 4));
	printf("method=%s op=read step=%zu z=%zu cache=%s plane_bytes=%.0f "
	       "seconds=%.5f MBps=%.1f open_s=%.5f get_s=%.5f close_s=%.5f "
	       "chunks=%zux%zux%zux%zu\n",
	       r.method, r.step, r.z, cold ? "cold" : "warm", bytes, t,
	       bytes / 1e6 / t, r.t_ready - t0, r.t_got - r.t_ready,
	       t0 + t - r.t_got, r.chunks[0], r.chunks[1], r.chunks[2],
	       r.chunks[3]);
	free(r.buf);
	return 0;
}

/* The methods this binary was built with, one line. */
static int cmd_methods(void)
{
	printf("methods=");
#ifdef BENCH_HAVE_RECORD_GLOBAL
	printf("zarr,zarr+dir,zarr+dir-lz4,hdf5,hdf5-all,");
#endif
#ifdef BENCH_HAVE_HDF5
	printf("phdf5,");
#endif
#ifdef BENCH_HAVE_ADIOS2
	printf("adios2,");
#endif
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rc = 2;
	if (argc > 1 && !strcmp(argv[1], "methods"))
		rc = cmd_methods();
	else if (argc > 1 && !strcmp(argv[1], "write"))
		rc = cmd_write(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "read"))
		rc = cmd_read(argc, argv);
	else
		fprintf(stderr, "usage: bench_global write|read ... (see the "
		                "comment at the top of bench_global.c)\n");
	MPI_Finalize();
	return rc;
}
