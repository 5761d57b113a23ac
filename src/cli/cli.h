/* Declarations shared by the files of the simrec command line. */
#ifndef SIMREC_CLI_H
#define SIMREC_CLI_H

#include <stdio.h>

#include "../common/strv.h"
#include "simrec.h"

/* A key, attribute or holder name as printed (show.c): control bytes,
 * invalid UTF-8 and '\\' escaped, so that a name stays on its line and
 * sends nothing to the terminal. Valid until eight calls later. */
const char *sr_cli_name(const char *s);

/* A library error message as printed: the same without escaping '\\'
 * (the library's messages are escaped already; this is the guard). */
const char *sr_cli_msg(const char *s);

/* simrec lock status|break ... (lock.c) */
int sr_cli_lock(int argc, char **argv);

/* What a command returns for wrong arguments: main prints its usage and
 * exits with 2. */
#define SR_CLI_USAGE (-1)

/* The commands, one file each: ARGS after the command's name; 0, 1 (a
 * failure, printed), 3 (verify: a repair failed), 4 (watch: timed out)
 * or SR_CLI_USAGE. */
int sr_cli_ls(int argc, char **argv);
int sr_cli_info(int argc, char **argv);
int sr_cli_cat(int argc, char **argv);
int sr_cli_export(int argc, char **argv);
int sr_cli_verify(int argc, char **argv);
int sr_cli_png(int argc, char **argv);
int sr_cli_watch(int argc, char **argv);

/* print.c */
extern const char *const sr_cli_prog; /* "simrec", before every message */
/* Open uri read-only (a ?mode= or SIMREC_STORE cannot make it a writer);
 * NULL after printing why. */
simrec_t *sr_cli_open_ro(const char *uri);
/* uri with the scheme of what is on disk when it has none (an HDF5
 * signature: hdf5; a directory holding .zgroup: zarr+dir, data.mdb: zarr),
 * written into buf; uri itself otherwise; NULL (a message printed) when
 * its file scheme does not fit what is on disk. */
const char *sr_cli_infer(const char *uri, char *buf, size_t cap);
/* uri with passwords replaced by "***" (four rotating buffers, so one
 * printf may show several). */
const char *sr_cli_shown(const char *uri);
void sr_cli_print_shape(FILE *f, int nd, const size_t *sh);
void sr_cli_print_value(simrec_dtype_t dt, const unsigned char *p);
/* s[0..n) with control bytes, invalid UTF-8 and '\\' escaped. */
void sr_cli_print_escaped(FILE *f, const char *s, size_t n);

/* slice.c: a numpy-like slice "a:b,c,::2" of a dataset of shape (nd, sh)
 * into start st, count ct and step sp per dimension; keep[d] is 0 where a
 * plain index drops the dimension. 0, or -1 if malformed or out of range. */
int sr_cli_parse_slice(const char *s, int nd, const size_t *sh, size_t *st,
                       size_t *ct, size_t *sp, int *keep);
/* The offset, in elements, of the i-th selected element (counts ct, steps
 * sp) in the box read for the selection (extents bx). */
size_t sr_cli_box_offset(int nd, const size_t *ct, const size_t *sp,
                         const size_t *bx, size_t i);

/* blocks.c: the selection (st, ct, sp; nd dimensions, inside the shape)
 * of ds, a fixed-size dtype, read block by block (a box of at most 16 MB
 * each) and given to fn in C order: elements i0..i0+n-1 of the
 * selection (n of them at data, valid during the call). Memory is a
 * block's whatever the selection spans. 0, SIMREC_EINVAL (a dtype of no
 * fixed size), SIMREC_ENOMEM or the failure of a read. */
typedef void (*sr_cli_consume)(void *arg, size_t i0, const void *data,
                               size_t n);
int sr_cli_read_blocks(simrec_dataset_t *ds, int nd, const size_t *st,
                       const size_t *ct, const size_t *sp, sr_cli_consume fn,
                       void *arg);

/* keylist.c: the keys export copies and verify cuts */
typedef struct keylists {
	sr_strv ds, groups;
} keylists;
/* simrec_list callback: datasets into ds, groups into groups (a keylists). */
int sr_cli_collect(const char *key, int is_ds, void *arg);

/* judge.c: what verify and export make of one dataset, one judgement for
 * both. check: the store's check of the chunks inside the shape
 * (SR_CLI_TORN: steps not whole, whole the leading whole records;
 * SR_CLI_BAD: the check failed), why its message; joined: a joined
 * array's rows whose counts do not hold (the message; empty if they hold
 * or key is no joined array). */
enum { SR_CLI_OK = 0, SR_CLI_TORN = 1, SR_CLI_BAD = 2 };
typedef struct sr_cli_verdict {
	int check;
	size_t rows, whole; /* records (1: a 0-d value), whole ones */
	char why[1024], joined[1024];
} sr_cli_verdict;
/* Judge ds (key's, from simrec_get_all): deep decodes every chunk
 * (verify), else presence and headers only (export, whose copy decodes
 * each chunk once). 1 if anything is not whole. */
int sr_cli_judge(simrec_t *rec, const char *key, simrec_dataset_t *ds, int deep,
                 sr_cli_verdict *v);
/* export's message for a key judged not whole, on stderr, one line per
 * finding; SIMREC_EFORMAT. */
int sr_cli_refused(const char *key, const sr_cli_verdict *v);

/* A set value (simrec_set, or another program's array), not records:
 * get() gives the shape get_all() gives. */
int sr_cli_is_value(simrec_t *rec, const char *key, int nd, const size_t *sh);

/* dims.c: the named dimensions of a store's datasets (verify). */
typedef struct sr_cli_dims {
	struct dim_use *v;
	size_t n, cap;
} sr_cli_dims;
/* Note key's axes that carry a name (`_ARRAY_DIMENSIONS`): record says
 * ds holds records, whose axis 0 counts keep (after a planned cut). */
void sr_cli_dims_note(sr_cli_dims *d, simrec_t *rec, const char *key,
                      simrec_dataset_t *ds, int record, size_t keep);
/* Cut key to rows records (verify --repair's plan). */
typedef void (*sr_cli_dims_cut)(const char *key, size_t rows, void *arg);
/* Arrays of one group naming one dimension must agree on its length: a
 * DIMS line per array longer than the shortest, cut() (may be NULL) for
 * each whose records' axis it is. 1 if any disagree. Frees d's notes. */
int sr_cli_dims_agree(sr_cli_dims *d, sr_cli_dims_cut cut, void *arg);

#endif
