/* The environment variables of env.h. Every layer but mpi/ reads them
 * through sr_env(); mpi/ (topology.c, shm.c) reads its three by the
 * names declared here. */
#include <stdlib.h>

#include "env.h"

static const char *const names[] = {
#define SR_ENV_NAME_(name, by, doc) #name,
        SR_ENV_VARS(SR_ENV_NAME_)
#undef SR_ENV_NAME_
};

const char *sr_env_name(sr_env_var v)
{
	return (unsigned)v < SR_ENV_COUNT ? names[v] : "";
}

const char *sr_env(sr_env_var v)
{
	return (unsigned)v < SR_ENV_COUNT ? getenv(names[v]) : NULL;
}
