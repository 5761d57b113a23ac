/* Every environment variable the library reads, declared once. The
 * manual's "Environment" section of include/simrec.h lists the same
 * names; the settings_doc test compares the two (and every variable read
 * anywhere in src/ with this list). */
#ifndef SIMREC_COMMON_ENV_H
#define SIMREC_COMMON_ENV_H

/* X(NAME, READ BY, DOC) */
#define SR_ENV_VARS(X)                                                         \
	X(SIMREC_STORE, "simrec_open, simrec_open_comm",                       \
	  "replaces the URI list of a writer (any mode but "                   \
	  "SIMREC_MODE_READONLY); it never applies to a read-only open.")      \
	X(SIMREC_TRACE, "every failure",                                       \
	  "1 prints, on stderr, the source file and line of every failure as " \
	  "it is reported; the first line printed is the origin.")             \
	X(SIMREC_IO_SUMMARY, "simrec_close",                                   \
	  "1: an I/O summary at close (writers only) and a line per read "     \
	  "(simrec_dataset_read), as opts->io_summary.")                       \
	X(SIMREC_WRITERS, "simrec_open_comm",                                  \
	  "record_all, record_global, record_joined: the number of writers, "  \
	  "when the options give neither writers nor ranks_per_writer.")       \
	X(SIMREC_RANKS_PER_WRITER, "simrec_open_comm",                         \
	  "record_all, record_global, record_joined: ranks per writer, when "  \
	  "the options give neither.")                                         \
	X(SIMREC_SHM, "simrec_open_comm",                                      \
	  "0: record_all never uses node-local shared memory.")                \
	X(SIMREC_ZERO_COPY, "simrec_open_comm",                                \
	  "record_all, record_global: 1 borrows the caller's buffer until "    \
	  "simrec_wait() (opts->zero_copy = SIMREC_ZERO_COPY_ON), check also " \
	  "checksums it (SIMREC_ZERO_COPY_CHECK), 0 copies; when the options " \
	  "leave zero_copy at 0.")                                             \
	X(SIMREC_ON_TERM, "simrec_open, simrec_open_comm",                     \
	  "0: the library leaves SIGTERM alone; otherwise (and when the "      \
	  "program has no SIGTERM handler of its own) a SIGTERM makes the "    \
	  "next simrec call flush and close every open recorder, then die "    \
	  "of SIGTERM.")                                                       \
	X(SLURM_JOB_ID, "zarr:, zarr+dir: and redis writers",                  \
	  "set by SLURM: the job id written into a store's writer lock, so "   \
	  "that a refused second writer learns which job holds it.")           \
	X(SIMREC_REDIS_HOST, "redis:// URIs and the lock",                     \
	  "HOST[:PORT] of a redis:// URI that names no host.")                 \
	X(SIMREC_REDIS_PASSWORD, "redis:// URIs and the lock",                 \
	  "the password of a redis:// URI that gives none.")                   \
	X(SIMREC_REDIS_MAX_REPLY, "redis:// URIs and the lock",                \
	  "the largest reply accepted, in bytes (only lower than the "         \
	  "default: small-memory readers).")

typedef enum sr_env_var {
#define SR_ENV_ENUM_(name, by, doc) SR_ENV_##name,
	SR_ENV_VARS(SR_ENV_ENUM_)
#undef SR_ENV_ENUM_
	        SR_ENV_COUNT
} sr_env_var;

/* The value of v in the environment, or NULL (unset). */
const char *sr_env(sr_env_var v);

/* Its name ("SIMREC_STORE"), for messages. */
const char *sr_env_name(sr_env_var v);

#endif
