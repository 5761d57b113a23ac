/* redis's attributes (a JSON hash per key), listing and size. */
#include <string.h>

#include "../../common/attr_json.h"
#include "rstore.h"

/* ---- attributes and listing -------------------------------------------- */

/* Is there a dataset under key (its metadata hash)? */
static int is_dataset(sr_store *st, const char *key, int *ds)
{
	rstore *s = rs_of(st);
	char mk[4200];
	rs_meta_key(mk, sizeof mk, s, key);
	redisReply *x = NULL;
	const char *argv[2] = {"EXISTS", mk};
	int rc = rs_cmd(s, &x, 2, argv, (size_t[]){6, strlen(mk)});
	if (!rc)
		rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "EXISTS");
	if (!rc)
		*ds = x->integer > 0;
	freeReplyObject(x);
	return rc;
}

/* The attribute, and the group its new key becomes, in one transaction
 * (a cluster: the group entries right after it). */
int rs_attr_set(sr_store *st, const char *key, const char *nm,
                const simrec_attr_t *a)
{
	rstore *s = rs_of(st);
	int rc = rs_write_ready(st), ds = 1;
	if (rc)
		return rc;
	json_t *o = json_object();
	rc = sr_attr_to_json(o, "v", a);
	char *text = rc ? NULL
	                : sr_attr_json_dump(json_object_get(o, "v"),
	                                    JSON_ENCODE_ANY);
	json_decref(o);
	if (!text)
		return rc ? rc : SIMREC_ENOMEM;
	/* an attribute on a new key makes it a group; dimension names are
	 * set on datasets just made, with no round trip (a set stays queued
	 * in the pipeline with its names) */
	int dims = a->type == SIMREC_ATTR_STRINGS &&
	           !strcmp(nm, "_ARRAY_DIMENSIONS");
	if (*key && !dims && (rc = is_dataset(st, key, &ds))) {
		free(text);
		return rc;
	}
	char ak[4200];
	rs_name(ak, sizeof ak, s, "a", key);
	sr_redis *r = rs_at(s, ak);
	if (!r) {
		free(text);
		return s->at_rc;
	}
	/* one server: the group entries in the transaction; a cluster
	 * holds them in another slot, so they follow it */
	sr_redis_append(r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	const char *argv[4] = {"HSET", ak, nm, text};
	sr_redis_append(r, 4, argv,
	                (size_t[]){4, strlen(ak), strlen(nm), strlen(text)});
	free(text);
	if (s->cl)
		sr_redis_append(r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	if (!ds)
		rc = rs_queue_index(st, "groups", key);
	if (!s->cl)
		sr_redis_append(r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	if (!rc)
		rc = dims ? 0 : rs_drain(s); /* names: with the writes */
	return rc ? sr_wrap(st->err, rc, "attribute '%s' of '%s'", nm,
	                    *key ? key : "/")
	          : 0;
}

static int get_attrs(sr_store *st, const char *key, json_t **out)
{
	rstore *s = rs_of(st);
	int rc = rs_read_ready(st);
	if (rc)
		return rc;
	redisReply *x;
	if ((rc = rs_hgetall(s, "a", key, &x)))
		return rc;
	*out = json_object();
	for (size_t i = 0; i + 1 < x->elements; i += 2) {
		if (x->element[i]->type != REDIS_REPLY_STRING ||
		    x->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		/* NaN/Infinity/uint64 as in zarr's .zattrs */
		json_t *v = sr_attr_json_load(x->element[i + 1]->str,
		                              x->element[i + 1]->len, NULL);
		if (v)
			json_object_set_new(*out, x->element[i]->str, v);
	}
	freeReplyObject(x);
	return 0;
}

int rs_attr_get(sr_store *st, const char *key, const char *nm,
                simrec_attr_t *out)
{
	json_t *o = NULL;
	int rc = get_attrs(st, key, &o);
	if (!rc)
		rc = sr_attr_from_json(o, nm, out);
	json_decref(o);
	return rc;
}

int rs_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	json_t *o = NULL;
	int rc = get_attrs(st, key, &o);
	if (!rc)
		rc = sr_attr_json_list(o, fn, arg);
	json_decref(o);
	return rc;
}

typedef struct entry {
	char *key;
	int ds;
} entry;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

int rs_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	rstore *s = rs_of(st);
	int rc = rs_read_ready(st);
	if (rc)
		return rc;
	redisReply *x[2];
	char gk[200], kk[200];
	snprintf(gk, sizeof gk, "%s:groups", s->prefix);
	snprintf(kk, sizeof kk, "%s:keys", s->prefix);
	if ((rc = rs_cmds(s, &x[0], "SMEMBERS", gk, NULL)) ||
	    (rc = sr_redis_expect_strings(&s->r, &x[0], "SMEMBERS")))
		return rc;
	if ((rc = rs_cmds(s, &x[1], "SMEMBERS", kk, NULL)) ||
	    (rc = sr_redis_expect_strings(&s->r, &x[1], "SMEMBERS"))) {
		freeReplyObject(x[0]);
		return rc;
	}
	size_t n = x[0]->elements + x[1]->elements, m = 0;
	entry *e = calloc(n ? n : 1, sizeof *e);
	size_t pl = strlen(prefix);
	for (int t = 0; e && t < 2; t++)
		for (size_t i = 0; i < x[t]->elements; i++) {
			char *k = x[t]->element[i]->str;
			if (strncmp(k, prefix, pl) ||
			    (pl && k[pl] && k[pl] != '/'))
				continue;
			/* an index entry no writer could have made */
			if (!sr_key_valid(k) ||
			    strlen(k) != x[t]->element[i]->len) {
				rc = sr_fail(st->err, SIMREC_EFORMAT,
				             "redis prefix '%s': its key index "
				             "holds an invalid key",
				             s->prefix);
				break;
			}
			e[m].key = k;
			e[m++].ds = t;
		}
	if (e)
		qsort(e, m, sizeof *e, cmp_entry);
	for (size_t i = 0; e && i < m && !rc; i++)
		rc = fn(e[i].key, e[i].ds, arg);
	free(e);
	freeReplyObject(x[0]);
	freeReplyObject(x[1]);
	return rc;
}

long long rs_disk_bytes(sr_store *st)
{
	SR_UNUSED(st);
	return -1;
}
