/* Operating-system errors named for users: the cause of a failed write
 * ("no space left on device", "disk quota exceeded", ...) whichever
 * library (LMDB, HDF5, plain files) met it. */
#ifndef SIMREC_OSERR_H
#define SIMREC_OSERR_H

/* Lower-case text for errno value err; never NULL. */
const char *sr_os_cause(int err);

/* err, or ENOSPC when err is EIO (or 0) and the file system holding path
 * has no room left: libraries report a short write to a full disk as an
 * I/O error. */
int sr_os_refine(int err, const char *path);

/* The errno found in an HDF5 error stack text ("errno = 28"), or 0. */
int sr_os_errno_in(const char *text);

#endif
