/* A growing list of strings, each a malloc'd copy the list owns: the keys
 * a listing collects before it sorts them, the paths a sync visits. */
#ifndef SIMREC_STRV_H
#define SIMREC_STRV_H

#include <stddef.h>

/* Zero-initialised ({0}) is the empty list. */
typedef struct sr_strv {
	char **v;
	size_t n, cap;
} sr_strv;

/* Append a copy of the first n bytes of s (fewer if s ends before);
 * SIMREC_ENOMEM (list unchanged) if out of memory. */
int sr_strv_push(sr_strv *l, const char *s, size_t n);
/* Append a copy of s. */
int sr_strv_add(sr_strv *l, const char *s);
/* Append s itself (malloc'd), which the list owns from then on; on
 * SIMREC_ENOMEM the caller keeps it. */
int sr_strv_take(sr_strv *l, char *s);
/* Sort in strcmp order. */
void sr_strv_sort(sr_strv *l);
/* Is s in l, sorted (sr_strv_sort)? A binary search. */
int sr_strv_find(const sr_strv *l, const char *s);
/* Sort, and drop (free) every string equal to the one before it. */
void sr_strv_uniq(sr_strv *l);
/* Free the strings, keeping the array for reuse (n = 0). */
void sr_strv_clear(sr_strv *l);
/* Free the strings and the array: the empty list again. */
void sr_strv_free(sr_strv *l);

#endif
