#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr_json.h"

/* Marker strings: NUL, then a tag. "N" NaN, "I" Infinity, "-I" -Infinity,
 * "U<digits>" an integer above INT64_MAX, "F<number>" an integer outside
 * both int64 and uint64 (read as a double). */
#define MARK_MAX 48

static json_t *mark(const char *tag)
{
	char b[MARK_MAX];
	size_t n = strlen(tag);
	if (n + 1 > sizeof b)
		return NULL;
	b[0] = 0;
	memcpy(b + 1, tag, n);
	return json_stringn_nocheck(b, n + 1);
}

static json_t *double_json(double d)
{
	if (isnan(d))
		return mark("N");
	if (isinf(d))
		return mark(d > 0 ? "I" : "-I");
	return json_real(d);
}

static json_t *uint_json(uint64_t u)
{
	if (u <= INT64_MAX)
		return json_integer((json_int_t)u);
	char b[32];
	snprintf(b, sizeof b, "U%" PRIu64, u);
	return mark(b);
}

static int numeric_dtype(simrec_dtype_t dt)
{
	/* attribute arrays hold the types JSON has: no float16, no complex */
	return (int)dt >= 0 && dt <= SIMREC_BOOL;
}

int sr_attr_check(const simrec_attr_t *a, sr_err *e)
{
	switch (a->type) {
	case SIMREC_ATTR_INT:
	case SIMREC_ATTR_DOUBLE:
	case SIMREC_ATTR_UINT:
	case SIMREC_ATTR_BOOL:
		return 0;
	case SIMREC_ATTR_STRING:
		return a->s ? 0
		            : sr_fail(e, SIMREC_EINVAL,
		                      "string attribute with a NULL value");
	case SIMREC_ATTR_STRINGS:
		return a->s && a->count >= 1 && a->count <= SR_ATTR_STRINGS_MAX
		               ? 0
		               : sr_fail(e, SIMREC_EINVAL,
		                         "list of %zu strings: 1 to %d, none "
		                         "NULL",
		                         a->count, SR_ATTR_STRINGS_MAX);
	case SIMREC_ATTR_EMPTY:
	case SIMREC_ATTR_ARRAY:
		if (!numeric_dtype(a->dtype))
			return sr_fail(
			        e, SIMREC_EINVAL,
			        "attribute arrays hold numbers or bools, "
			        "not dtype %d",
			        (int)a->dtype);
		if (a->type == SIMREC_ATTR_ARRAY && a->count && !a->data)
			return sr_fail(e, SIMREC_EINVAL,
			               "attribute array of %zu elements with "
			               "NULL data",
			               a->count);
		if (a->type == SIMREC_ATTR_ARRAY &&
		    a->count > ((size_t)1 << 28))
			return sr_fail(e, SIMREC_EINVAL,
			               "attribute array of %zu elements: "
			               "attributes are small values",
			               a->count);
		return 0;
	}
	return sr_fail(e, SIMREC_EINVAL, "unknown attribute type %d",
	               (int)a->type);
}

static json_t *elem_json(simrec_dtype_t dt, const void *src)
{
	/* the caller's array may be unaligned (a deferred MPI queue) */
	union {
		int64_t i;
		double d;
		unsigned char b[8];
	} u;
	const void *p = &u;
	memcpy(u.b, src,
	       simrec_dtype_size(dt) <= 8 ? simrec_dtype_size(dt) : 0);
	switch (dt) {
	case SIMREC_INT8:
		return json_integer(*(const int8_t *)p);
	case SIMREC_INT16:
		return json_integer(*(const int16_t *)p);
	case SIMREC_INT32:
		return json_integer(*(const int32_t *)p);
	case SIMREC_INT64:
		return json_integer(*(const int64_t *)p);
	case SIMREC_UINT8:
		return json_integer(*(const uint8_t *)p);
	case SIMREC_UINT16:
		return json_integer(*(const uint16_t *)p);
	case SIMREC_UINT32:
		return json_integer(*(const uint32_t *)p);
	case SIMREC_UINT64:
		return uint_json(*(const uint64_t *)p);
	case SIMREC_FLOAT32:
		return double_json(*(const float *)p);
	case SIMREC_FLOAT64:
		return double_json(*(const double *)p);
	case SIMREC_BOOL:
		return json_boolean(*(const unsigned char *)p != 0);
	default:
		return NULL;
	}
}

size_t sr_attr_strings_len(const char *s, size_t count)
{
	size_t n = 0;
	for (size_t k = 0; k < count; k++)
		n += strlen(s + n) + 1;
	return n;
}

static json_t *strings_json(const simrec_attr_t *a)
{
	json_t *l = json_array();
	const char *p = a->s;
	for (size_t k = 0; l && p && k < a->count; k++) {
		json_t *v = json_string(p);
		if (!v || json_array_append_new(l, v)) {
			json_decref(l);
			return NULL;
		}
		p += strlen(p) + 1;
	}
	return l;
}

static json_t *attr_json(const simrec_attr_t *a)
{
	switch (a->type) {
	case SIMREC_ATTR_INT:
		return json_integer(a->i);
	case SIMREC_ATTR_DOUBLE:
		return double_json(a->d);
	case SIMREC_ATTR_UINT:
		return uint_json(a->u);
	case SIMREC_ATTR_BOOL:
		return json_boolean(a->i != 0);
	case SIMREC_ATTR_STRING:
		return a->s ? json_string(a->s) : NULL;
	case SIMREC_ATTR_EMPTY:
		return json_null();
	case SIMREC_ATTR_STRINGS:
		return strings_json(a);
	case SIMREC_ATTR_ARRAY: {
		json_t *l = json_array();
		size_t sz = simrec_dtype_size(a->dtype);
		for (size_t k = 0; l && k < a->count; k++) {
			json_t *v = elem_json(a->dtype,
			                      (const char *)a->data + k * sz);
			if (!v || json_array_append_new(l, v)) {
				json_decref(l);
				return NULL;
			}
		}
		return l;
	}
	}
	return NULL;
}

int sr_attr_to_json(json_t *obj, const char *name, const simrec_attr_t *a)
{
	json_t *v = attr_json(a);
	if (!v)
		return SIMREC_EINVAL; /* e.g. a string that is not UTF-8 */
	return json_object_set_new(obj, name, v) ? SIMREC_ENOMEM : 0;
}

/* ---- reading ----------------------------------------------------------- */

/* A scalar JSON number/bool/marker as an attribute kind; 0 if it is not
 * one. */
static int scalar_of(const json_t *v, simrec_attr_t *out)
{
	memset(out, 0, sizeof *out);
	if (json_is_integer(v)) {
		out->type = SIMREC_ATTR_INT;
		out->i = json_integer_value(v);
		out->d = (double)out->i;
		out->u = out->i >= 0 ? (uint64_t)out->i : 0;
		return 1;
	}
	if (json_is_real(v)) {
		out->type = SIMREC_ATTR_DOUBLE;
		out->d = json_real_value(v);
		return 1;
	}
	if (json_is_boolean(v)) {
		out->type = SIMREC_ATTR_BOOL;
		out->i = json_is_true(v);
		out->d = (double)out->i;
		out->u = (uint64_t)out->i;
		return 1;
	}
	if (!json_is_string(v) || json_string_length(v) < 2 ||
	    json_string_value(v)[0] != 0)
		return 0;
	const char *t = json_string_value(v) + 1;
	if (!strcmp(t, "N") || !strcmp(t, "I") || !strcmp(t, "-I")) {
		out->type = SIMREC_ATTR_DOUBLE;
		out->d = *t == 'N' ? NAN : *t == 'I' ? INFINITY : -INFINITY;
		return 1;
	}
	if (*t == 'U') {
		errno = 0;
		char *end;
		unsigned long long u = strtoull(t + 1, &end, 10);
		if (errno || *end || end == t + 1)
			return 0;
		out->type = SIMREC_ATTR_UINT;
		out->u = u;
		out->d = (double)u;
		out->i = u <= INT64_MAX ? (int64_t)u : 0;
		return 1;
	}
	if (*t == 'F') {
		out->type = SIMREC_ATTR_DOUBLE;
		out->d = strtod(t + 1, NULL);
		return 1;
	}
	return 0;
}

/* A list of numbers/bools as an ARRAY; 0 if it is not one. */
static int array_of(const json_t *l, simrec_attr_t *out)
{
	size_t n = json_array_size(l);
	int any_double = 0, any_uint = 0, any_neg = 0, all_bool = 1;
	simrec_attr_t e;
	for (size_t k = 0; k < n; k++) {
		if (!scalar_of(json_array_get(l, k), &e))
			return 0;
		any_double |= e.type == SIMREC_ATTR_DOUBLE;
		any_uint |= e.type == SIMREC_ATTR_UINT;
		any_neg |= e.type == SIMREC_ATTR_INT && e.i < 0;
		all_bool &= e.type == SIMREC_ATTR_BOOL;
	}
	simrec_dtype_t dt = !n                    ? SIMREC_FLOAT64
	                    : all_bool            ? SIMREC_BOOL
	                    : any_double          ? SIMREC_FLOAT64
	                    : any_uint && any_neg ? SIMREC_FLOAT64
	                    : any_uint            ? SIMREC_UINT64
	                                          : SIMREC_INT64;
	size_t sz = simrec_dtype_size(dt);
	void *data = malloc(n ? n * sz : 1);
	if (!data)
		return -1;
	for (size_t k = 0; k < n; k++) {
		scalar_of(json_array_get(l, k), &e);
		char *p = (char *)data + k * sz;
		if (dt == SIMREC_BOOL)
			*(unsigned char *)p = (unsigned char)e.i;
		else if (dt == SIMREC_FLOAT64)
			*(double *)p = e.d;
		else if (dt == SIMREC_UINT64)
			*(uint64_t *)p = e.type == SIMREC_ATTR_UINT
			                         ? e.u
			                         : (uint64_t)e.i;
		else
			*(int64_t *)p = e.i;
	}
	memset(out, 0, sizeof *out);
	out->type = SIMREC_ATTR_ARRAY;
	out->dtype = dt;
	out->count = n;
	out->data = data;
	return 1;
}

/* A non-empty list of strings (none holding a NUL) as STRINGS: 1, 0 if l
 * is not one, -1 out of memory. */
static int strings_of(const json_t *l, simrec_attr_t *out)
{
	size_t n = json_array_size(l), len = 0;
	if (!n || n > SR_ATTR_STRINGS_MAX)
		return 0;
	for (size_t k = 0; k < n; k++) {
		json_t *v = json_array_get(l, k);
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return 0;
		len += json_string_length(v) + 1; /* bounded by the text */
	}
	char *s = malloc(len), *p = s;
	if (!s)
		return -1;
	for (size_t k = 0; k < n; k++) {
		json_t *v = json_array_get(l, k);
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		p += json_string_length(v) + 1;
	}
	out->type = SIMREC_ATTR_STRINGS;
	out->s = s;
	out->count = n;
	return 1;
}

int sr_attr_from_json(const json_t *obj, const char *name, simrec_attr_t *out)
{
	memset(out, 0, sizeof *out);
	json_t *v = json_object_get(obj, name);
	if (!v)
		return SIMREC_ENOKEY;
	if (scalar_of(v, out))
		return 0;
	if (json_is_null(v)) {
		out->type = SIMREC_ATTR_EMPTY;
		out->dtype = SIMREC_FLOAT64;
		return 0;
	}
	if (json_is_array(v)) {
		int r = strings_of(v, out);
		if (r)
			return r < 0 ? SIMREC_ENOMEM : 0;
		r = array_of(v, out);
		if (r < 0)
			return SIMREC_ENOMEM;
		if (r)
			return 0;
	}
	out->type = SIMREC_ATTR_STRING;
	if (json_is_string(v)) {
		/* text with an embedded NUL cannot be a C string: refused
		 * rather than shown cut short */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return SIMREC_EFORMAT;
		out->s = strdup(json_string_value(v));
	} else {
		/* lists of other things and objects: their JSON text */
		out->s = sr_attr_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	return out->s ? 0 : SIMREC_ENOMEM;
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

/* ---- text with NaN/Infinity/big integers ------------------------------ */

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t n)
{
	size_t need;
	if (sr_size_add(b->n, n, &need) || sr_size_add(need, 1, &need) ||
	    sr_grow((void **)&b->p, &b->cap, need))
		return -1;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
	return 0;
}

static int put_mark(buf *b, const char *tag, size_t n)
{
	return put(b, "\"\\u0000", 7) || put(b, tag, n) || put(b, "\"", 1);
}

/* Length of a JSON number token at s (0 if none) and whether it is an
 * integer (no fraction or exponent). */
static size_t number_len(const char *s, size_t n, int *integer)
{
	size_t k = 0;
	*integer = 1;
	if (k < n && s[k] == '-')
		k++;
	size_t d0 = k;
	while (k < n && s[k] >= '0' && s[k] <= '9')
		k++;
	if (k == d0)
		return 0;
	if (k < n && s[k] == '.') {
		*integer = 0;
		k++;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	if (k < n && (s[k] == 'e' || s[k] == 'E')) {
		*integer = 0;
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	return k;
}

json_t *sr_attr_json_load(const void *text, size_t n, json_error_t *je)
{
	const char *s = text;
	buf b = {0};
	int fail = put(&b, "", 0);
	int in_str = 0;
	for (size_t k = 0; k < n && !fail;) {
		char c = s[k];
		if (in_str) {
			size_t run = c == '\\' && k + 1 < n ? 2 : 1;
			if (c == '"')
				in_str = 0;
			fail = put(&b, s + k, run);
			k += run;
			continue;
		}
		int integer;
		size_t len;
		if (c == '"') {
			in_str = 1;
			fail = put(&b, s + k, 1);
			k++;
		} else if (n - k >= 3 && !memcmp(s + k, "NaN", 3)) {
			fail = put_mark(&b, "N", 1);
			k += 3;
		} else if (n - k >= 8 && !memcmp(s + k, "Infinity", 8)) {
			fail = put_mark(&b, "I", 1);
			k += 8;
		} else if (n - k >= 9 && !memcmp(s + k, "-Infinity", 9)) {
			fail = put_mark(&b, "-I", 2);
			k += 9;
		} else if ((len = number_len(s + k, n - k, &integer)) > 0) {
			char tok[MARK_MAX];
			int big = 0;
			if (integer && len < sizeof tok - 1) {
				memcpy(tok + 1, s + k, len);
				tok[len + 1] = 0;
				errno = 0;
				(void)strtoll(tok + 1, NULL, 10);
				big = errno == ERANGE;
			} else if (integer) {
				big = 2; /* too long for any 64-bit integer */
			}
			if (big == 1) {
				errno = 0;
				(void)strtoull(tok + 1, NULL, 10);
				tok[0] = tok[1] != '-' && errno != ERANGE ? 'U'
				                                          : 'F';
				fail = put_mark(&b, tok, len + 1);
			} else if (big == 2) {
				/* as a double: append a fraction */
				fail = put(&b, s + k, len) || put(&b, ".0", 2);
			} else {
				fail = put(&b, s + k, len);
			}
			k += len;
		} else {
			fail = put(&b, s + k, 1);
			k++;
		}
	}
	if (fail) {
		free(b.p);
		if (je)
			snprintf(je->text, sizeof je->text, "out of memory");
		return NULL;
	}
	json_t *j = json_loadb(b.p, b.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, je);
	free(b.p);
	return j;
}

char *sr_attr_json_dump(const json_t *j, size_t flags)
{
	char *t = json_dumps(j, flags | JSON_ENCODE_ANY);
	if (!t || !strstr(t, "\"\\u0000"))
		return t;
	buf b = {0};
	int fail = put(&b, "", 0), in_str = 0;
	for (size_t k = 0; t[k] && !fail;) {
		if (in_str) {
			size_t run = t[k] == '\\' && t[k + 1] ? 2 : 1;
			if (t[k] == '"')
				in_str = 0;
			fail = put(&b, t + k, run);
			k += run;
			continue;
		}
		if (t[k] != '"') {
			fail = put(&b, t + k, 1);
			k++;
			continue;
		}
		const char *end = strchr(t + k + 1, '"');
		if (!strncmp(t + k, "\"\\u0000", 7) && end) {
			const char *tag = t + k + 7;
			size_t tl = (size_t)(end - tag);
			if (tl == 1 && *tag == 'N')
				fail = put(&b, "NaN", 3);
			else if (tl == 1 && *tag == 'I')
				fail = put(&b, "Infinity", 8);
			else if (tl == 2 && !strncmp(tag, "-I", 2))
				fail = put(&b, "-Infinity", 9);
			else if (tl > 1 && (*tag == 'U' || *tag == 'F'))
				fail = put(&b, tag + 1, tl - 1);
			else
				fail = put(&b, t + k,
				           (size_t)(end - t) - k + 1);
			k = (size_t)(end - t) + 1;
			continue;
		}
		in_str = 1;
		fail = put(&b, t + k, 1);
		k++;
	}
	free(t);
	if (fail) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

void simrec_attr_clear(simrec_attr_t *a)
{
	if (a) {
		free(a->s);
		free(a->data);
		a->s = NULL;
		a->data = NULL;
	}
}
