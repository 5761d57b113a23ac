/* Fuzz target: the zarr metadata parser. The input is x/.zarray of a
 * directory store; the store is then read as `simrec cat` reads it. */
#include "fuzz_util.h"
#include "read_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fz_dir();
	fz_write(dir, ".zgroup", "{\"zarr_format\": 2}", 18);
	fz_write(dir, "x/.zarray", data, size);
	char uri[300], msg[1024];
	snprintf(uri, sizeof uri, "zarr+dir:%s", dir);
	read_store(uri, "x", msg, sizeof msg);
	return 0;
}
