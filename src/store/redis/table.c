/* redis://HOST:PORT[/DB] - datasets as redis lists of chunk-row elements
 * (docs/redis-format.md). Every change is one MULTI/EXEC that a reader sees
 * wholly or not at all, and no transaction leaves metadata pointing at an
 * element that is not there: an element and the row count that covers it go
 * together, a value (simrec_set) and its metadata too. Writes are pipelined:
 * replies are read at the next read, flush or when 32 MB are in flight. Under
 * simrec_record_all every rank writes its own column list straight to the
 * server (no aggregation). This file: the store table. */
#include "rstore.h"

const sr_store_ops sr_redis_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "redis",
        .flags = SR_STORE_DISTRIBUTED,
        .lock_param = "prefix",
        .lock_param_default = "simrec",
        .default_codec = "none",
        .default_chunk_bytes = 1u << 20,
        .param_bit = SR_IN_REDIS,
        .open = rs_open,
        .close = rs_close,
        .commit = rs_commit,
        .lookup = rs_lookup,
        .create = rs_create,
        .write = rs_write,
        .write_vlen = rs_write_vlen,
        .split = rs_split,
        .read = rs_read,
        .read_vlen = rs_read_vlen,
        .release = rs_release,
        .attr_set = rs_attr_set,
        .attr_get = rs_attr_get,
        .attr_list = rs_attr_list,
        .list = rs_list,
        .disk_bytes = rs_disk_bytes,
};
