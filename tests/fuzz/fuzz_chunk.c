/* Fuzz target: the chunk decode path. The first input byte picks the
 * array (blosc or raw float64 2-d, blosc or raw vlen-bytes); the rest is
 * the chunk at index 0, read whole and in part (blosc_getitem). */
#include "fuzz_util.h"
#include "read_store.h"

static const char *const metas[] = {
        "{\"chunks\": [16, 8], \"compressor\": {\"blocksize\": 0, "
        "\"clevel\": 5, \"cname\": \"lz4\", \"id\": \"blosc\", "
        "\"shuffle\": 1}, \"dtype\": \"<f8\", \"fill_value\": 0.0, "
        "\"filters\": null, \"order\": \"C\", \"shape\": [64, 8], "
        "\"zarr_format\": 2}",
        "{\"chunks\": [16, 8], \"compressor\": null, \"dtype\": \"<i2\", "
        "\"fill_value\": 0, \"filters\": null, \"order\": \"C\", "
        "\"shape\": [64, 8], \"zarr_format\": 2}",
        "{\"chunks\": [4], \"compressor\": {\"blocksize\": 0, \"clevel\": "
        "5, \"cname\": \"lz4\", \"id\": \"blosc\", \"shuffle\": 1}, "
        "\"dtype\": \"|O\", \"fill_value\": 0, \"filters\": [{\"id\": "
        "\"vlen-bytes\"}], \"order\": \"C\", \"shape\": [4], "
        "\"zarr_format\": 2}",
        "{\"chunks\": [4], \"compressor\": null, \"dtype\": \"|O\", "
        "\"fill_value\": 0, \"filters\": [{\"id\": \"vlen-utf8\"}], "
        "\"order\": \"C\", \"shape\": [4], \"zarr_format\": 2}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *dir = fz_dir();
	const char *meta = metas[data[0] % 4];
	fz_write(dir, ".zgroup", "{\"zarr_format\": 2}", 18);
	fz_write(dir, "x/.zarray", meta, strlen(meta));
	fz_write(dir, data[0] % 4 < 2 ? "x/0.0" : "x/0", data + 1, size - 1);
	char uri[300], msg[1024];
	snprintf(uri, sizeof uri, "zarr+dir:%s", dir);
	read_store(uri, "x", msg, sizeof msg);
	return 0;
}
