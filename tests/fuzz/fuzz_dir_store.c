/* Fuzz target: opening and reading a whole zarr+dir store, as `simrec
 * cat`/`verify` do. The input is a list of files: u8 name length, name,
 * u16 little-endian data length, data. Names are confined to the store
 * (no "..", no absolute paths). */
#include "fuzz_util.h"
#include "read_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fz_dir();
	size_t off = 0;
	for (int files = 0; files < 32 && off < size; files++) {
		size_t nl = data[off++];
		if (!nl || off + nl + 2 > size)
			break;
		char name[256];
		memcpy(name, data + off, nl);
		name[nl] = 0;
		off += nl;
		size_t dl = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (dl > size - off)
			dl = size - off;
		if (strlen(name) == nl && name[0] != '/' &&
		    !strstr(name, "..") && !strstr(name, "//"))
			fz_write(dir, name, data + off, dl);
		off += dl;
	}
	char uri[300], msg[1024];
	snprintf(uri, sizeof uri, "zarr+dir:%s", dir);
	read_store(uri, NULL, msg, sizeof msg);
	return 0;
}
