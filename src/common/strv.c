/* A growing list of owned strings. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "strv.h"

int sr_strv_take(sr_strv *l, char *s)
{
	if (SR_GROW_N(l->v, l->cap, l->n + 1))
		return SIMREC_ENOMEM;
	l->v[l->n++] = s;
	return 0;
}

int sr_strv_push(sr_strv *l, const char *s, size_t n)
{
	char *c = strndup(s, n);
	if (!c || sr_strv_take(l, c)) {
		free(c);
		return SIMREC_ENOMEM;
	}
	return 0;
}

int sr_strv_add(sr_strv *l, const char *s)
{
	return sr_strv_push(l, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sr_strv_sort(sr_strv *l)
{
	if (l->n > 1) /* never a NULL base to qsort */
		qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

int sr_strv_find(const sr_strv *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str);
}

void sr_strv_uniq(sr_strv *l)
{
	sr_strv_sort(l);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k && !strcmp(l->v[i], l->v[k - 1]))
			free(l->v[i]);
		else
			l->v[k++] = l->v[i];
	}
	l->n = k;
}

void sr_strv_clear(sr_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

void sr_strv_free(sr_strv *l)
{
	sr_strv_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}
