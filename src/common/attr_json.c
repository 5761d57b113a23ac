#include <stdlib.h>
#include <string.h>

#include "attr_json.h"

int sr_attr_to_json(json_t *obj, const char *name, const simrec_attr_t *a)
{
	json_t *v = a->type == SIMREC_ATTR_INT      ? json_integer(a->i)
	            : a->type == SIMREC_ATTR_DOUBLE ? json_real(a->d)
	                                            : json_string(a->s);
	if (!v)
		return SIMREC_EINVAL; /* e.g. a string that is not UTF-8 */
	return json_object_set_new(obj, name, v) ? SIMREC_ENOMEM : 0;
}

int sr_attr_from_json(const json_t *obj, const char *name, simrec_attr_t *out)
{
	memset(out, 0, sizeof *out);
	json_t *v = json_object_get(obj, name);
	if (!v)
		return SIMREC_ENOKEY;
	if (json_is_integer(v)) {
		out->type = SIMREC_ATTR_INT;
		out->i = json_integer_value(v);
		out->d = (double)out->i;
	} else if (json_is_real(v)) {
		out->type = SIMREC_ATTR_DOUBLE;
		out->d = json_real_value(v);
	} else if (json_is_boolean(v)) {
		out->type = SIMREC_ATTR_INT;
		out->i = json_is_true(v);
		out->d = (double)out->i;
	} else if (json_is_string(v)) {
		out->type = SIMREC_ATTR_STRING;
		out->s = strdup(json_string_value(v));
		if (!out->s)
			return SIMREC_ENOMEM;
	} else {
		/* arrays/objects: hand back their JSON text */
		out->type = SIMREC_ATTR_STRING;
		out->s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!out->s)
			return SIMREC_ENOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sr_attr_json_list(const json_t *obj, sr_attr_fn fn, void *arg)
{
	size_t n = json_object_size(obj), i = 0;
	if (!n)
		return 0;
	const char **names = malloc(n * sizeof *names);
	if (!names)
		return SIMREC_ENOMEM;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) names[i++] = k;
	qsort(names, n, sizeof *names, cmp_str);
	int rc = 0;
	for (i = 0; i < n && !rc; i++)
		rc = fn(names[i], arg);
	free(names);
	return rc;
}

void simrec_attr_clear(simrec_attr_t *a)
{
	if (a) {
		free(a->s);
		a->s = NULL;
	}
}
