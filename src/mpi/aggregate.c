#include "../core/recorder.h"
int sr_agg_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data)
{
	(void)rec;
	(void)key;
	(void)dt;
	(void)ndim;
	(void)shape;
	(void)data;
	return SIMREC_ENOTSUP;
}
int sr_agg_flush(simrec_t *rec)
{
	return sr_flush_local(rec);
}
int sr_agg_close(simrec_t *rec)
{
	return sr_flush_local(rec);
}
