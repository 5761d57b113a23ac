/* Status codes: names and messages generated from SIMREC_ERRNO_MAP. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *simrec_strerror(int status)
{
	switch (status) {
	case SIMREC_OK:
		return "success";
#define SR_ERR_TEXT_(name, code, text) \
	case SIMREC_##name:            \
		return text;
		SIMREC_ERRNO_MAP(SR_ERR_TEXT_)
#undef SR_ERR_TEXT_
	default:
		return "unknown error";
	}
}

const char *simrec_err_name(int status)
{
	switch (status) {
	case SIMREC_OK:
		return "SIMREC_OK";
#define SR_ERR_NAME_(name, code, text) \
	case SIMREC_##name:            \
		return "SIMREC_" #name;
		SIMREC_ERRNO_MAP(SR_ERR_NAME_)
#undef SR_ERR_NAME_
	default:
		return "SIMREC_EUNKNOWN";
	}
}

int sr_fail(sr_err *e, int status, const char *fmt, ...)
{
	if (e) {
		/* through a copy: callers may pass e->msg itself as an
		 * argument, to wrap a store's detail in the recorder's context
		 */
		char tmp[SR_ERRLEN];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof tmp, fmt, ap);
		va_end(ap);
		memcpy(e->msg, tmp, sizeof tmp);
	}
	return status;
}
