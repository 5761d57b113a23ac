/* Minimal assertions for the C tests: a failed check prints where and
 * exits nonzero, so ctest reports it. */
#ifndef SIMREC_TEST_CHECK_H
#define SIMREC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "simrec.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define CHECK_RC(rec, expr, want)                                         \
	do {                                                              \
		int rc_ = (expr);                                         \
		if (rc_ != (want)) {                                      \
			fprintf(stderr,                                   \
			        "%s:%d: %s returned %s (%s), want %s\n",  \
			        __FILE__, __LINE__, #expr,                \
			        simrec_err_name(rc_), simrec_errmsg(rec), \
			        simrec_err_name(want));                   \
			exit(1);                                          \
		}                                                         \
	} while (0)

#define CHECK_OK(rec, expr) CHECK_RC(rec, expr, SIMREC_OK)

#endif
