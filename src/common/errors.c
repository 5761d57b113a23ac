/* Status codes: names and messages generated from SIMREC_ERRNO_MAP. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "common.h"
#include "env.h"
#include "escape.h"

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

static int trace_on(void)
{
	const char *v = sr_env(SR_ENV_SIMREC_TRACE);
	return v && *v && strcmp(v, "0");
}

static _Thread_local sr_err *redirect;

sr_err *sr_err_redirect(sr_err *to)
{
	sr_err *prev = redirect;
	redirect = to;
	return prev;
}

sr_err *sr_err_target(sr_err *e)
{
	return redirect && e ? redirect : e;
}

int sr_fail_at(const char *file, int line, sr_err *e, int status,
               const char *fmt, ...)
{
	e = sr_err_target(e);
	/* through a copy: callers may pass e->msg itself as an argument, to
	 * wrap a store's detail in the recorder's context */
	char tmp[SR_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	char shown[SR_ERRLEN];
	simrec_uri_masked(tmp, shown, sizeof shown); /* never a password */
	/* never a raw control byte: messages quote key and attribute names
	 * from files and servers, and end up on terminals */
	sr_escape(tmp, sizeof tmp, shown, strlen(shown), 0);
	if (e)
		memcpy(e->msg, tmp, sizeof tmp);
	if (trace_on()) {
		const char *base = strstr(file, "src/");
		fprintf(stderr, "simrec trace: %s:%d: %s: %s\n",
		        base ? base : file, line, simrec_err_name(status), tmp);
	}
	return status;
}

int sr_wrap_at(const char *file, int line, sr_err *e, int status,
               const char *fmt, ...)
{
	sr_err *t = sr_err_target(e);
	char context[SR_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof context, fmt, ap);
	va_end(ap);
	return sr_fail_at(file, line, e, status, "%s: %s", context,
	                  t && t->msg[0] ? t->msg : simrec_strerror(status));
}
