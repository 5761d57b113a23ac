#!/usr/bin/python3
"""A cost model of one step of simrec_record_all and simrec_record_global
from 1 to 1000 nodes, for every store, fed by rates measured on this machine.

    bench/scale_model.py measure --build build --out bench/scale_rates.json
    bench/scale_model.py model --rates bench/scale_rates.json --png scale.png
    bench/scale_model.py check --build build --rates bench/scale_rates.json

`measure` runs bench_mpi (np 1 and 2, one node) and bench_redis beside a
private redis-server, and writes the per-node rates the model needs.
`model` evaluates the model for 1..1024 nodes under the cluster's figures
(options; the defaults are a mid-size cluster, see docs/scale.md), prints a
table per store and draws it. `check` runs bench_mpi on 1 to 4 hosts made of
network namespaces on this machine and prints the measured figures beside
the model's for the same hosts. docs/scale.md explains every term.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
}
# the file stores bench_mpi runs as methods (redis runs as zarr with the
# URI in SIMREC_STORE)
FILE_STORES = ["zarr", "zarr+dir", "zarr+dir-lz4", "hdf5"]
STORES = FILE_STORES + ["redis", "redis-cluster"]
MIB = 1048576.0


def mpi_env(extra=None):
    env = dict(os.environ, **MPI_ENV)
    for k in ("SIMREC_STORE", "SIMREC_WRITERS", "SIMREC_RANKS_PER_WRITER",
              "SIMREC_IO_SUMMARY"):
        env.pop(k, None)
    env.update(extra or {})
    return env


def bench_line(cmd, env, timeout=600):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode:
        sys.exit("scale_model: %s failed (%d):\n%s%s" % (
            " ".join(cmd), out.returncode, out.stdout, out.stderr))
    for line in out.stdout.splitlines():
        if line.startswith("method="):
            return dict(kv.split("=", 1) for kv in line.split())
    sys.exit("scale_model: no result line from %s" % " ".join(cmd))


def run_bench_mpi(build, method, np_, mib, steps, compute_ms=0):
    """One bench_mpi run in a fresh directory: its result fields."""
    d = tempfile.mkdtemp(prefix="scale-", dir=os.environ.get("SCALE_DIR"))
    try:
        cmd = ["mpiexec", "-n", str(np_),
               os.path.join(build, "bench", "bench_mpi"), method, d,
               str(mib), str(steps), "smooth", str(compute_ms)]
        return bench_line(cmd, mpi_env())
    finally:
        shutil.rmtree(d, ignore_errors=True)


def lz4_ratio(build):
    """Stored bytes / raw bytes of bench_mpi's smooth field under lz4."""
    d = tempfile.mkdtemp(prefix="scale-ratio-")
    try:
        bench_line(["mpiexec", "-n", "1",
                    os.path.join(build, "bench", "bench_mpi"),
                    "zarr+dir-lz4", d, "16", "4", "smooth"], mpi_env())
        chunks = 0
        for root, _dirs, files in os.walk(d):
            for f in files:
                if not f.startswith("."):
                    chunks += os.path.getsize(os.path.join(root, f))
        return chunks / (16 * MIB)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def redis_rate(build, clients=4, mib=64):
    """MB/s one redis-server takes in from CLIENTS appending 1 MiB records."""
    d = tempfile.mkdtemp(prefix="scale-redis-")
    srv = os.path.join(HERE, "..", "tests", "redis_server.sh")
    subprocess.run([srv, "start", d], check=True, capture_output=True)
    try:
        port = open(os.path.join(d, "port")).read().strip()
        out = subprocess.run(
            [os.path.join(build, "bench", "bench_redis"),
             "redis://127.0.0.1:%s?prefix=scale" % port, str(int(MIB)),
             str(mib // clients), str(clients)],
            capture_output=True, text=True, timeout=600, check=True).stdout
        for tok in out.split("records/s,")[1:]:
            return float(tok.split("MB/s")[0])
        sys.exit("scale_model: no MB/s in bench_redis's output: " + out)
    finally:
        subprocess.run([srv, "stop", d], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def measure(args):
    """Per-node rates: a writer's stream rate per store (np 1), and the
    time a rank spends inside record_all per byte with a node-local group
    (np 2: agreement, copy into the shared step buffer, lz4 on the ranks),
    measured with a compute phase of twice a step's write, so that the
    call does not wait for the disk."""
    rates = {"writer_MBps": {}, "call_MBps_per_rank": {}}
    runs = {m: {1: [], 2: []} for m in FILE_STORES}
    for _ in range(args.rounds):
        for m in FILE_STORES:
            r = run_bench_mpi(args.build, m, 1, args.mib, args.steps)
            runs[m][1].append(r)
            step_ms = 1e3 * args.mib * MIB / args.steps / 1e6 / float(
                r["MBps"])
            runs[m][2].append(run_bench_mpi(args.build, m, 2, args.mib,
                                            args.steps, 2 * step_ms))
    for m in FILE_STORES:
        rates["writer_MBps"][m] = statistics.median(
            float(r["MBps"]) for r in runs[m][1])
        per_rank = args.mib * MIB / 2 / 1e6  # MB per rank over the run
        rates["call_MBps_per_rank"][m] = statistics.median(
            per_rank / float(r["call_s"]) for r in runs[m][2])
    rates["redis_server_MBps"] = redis_rate(args.build)
    rates["lz4_ratio"] = lz4_ratio(args.build)
    rates["measured"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "host": os.uname().nodename, "cores": os.cpu_count(),
        "load": os.getloadavg()[0], "mib": args.mib, "steps": args.steps,
        "rounds": args.rounds, "dir": os.environ.get("SCALE_DIR", "TMPDIR"),
    }
    with open(args.out, "w") as f:
        json.dump(rates, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(rates, indent=1, sort_keys=True))


class Cluster:
    """The machine a run is modelled on (every figure an option)."""

    def __init__(self, a):
        self.rpn = a.ranks_per_node
        self.b = a.mib_per_rank * MIB
        self.wpn = a.writers_per_node
        self.servers = a.fs_servers
        self.server_bw = a.fs_server_gbps * 1e9
        self.nic = a.nic_gbps * 1e9
        self.mds = a.mds_ops
        self.lat = a.latency_us * 1e-6
        self.redis_servers = a.redis_servers
        self.redis_link = a.nic_gbps * 1e9
        self.maxclients = a.redis_maxclients
        self.chunk_dir = 8 * MIB  # zarr+dir's target chunk (docs/format.md)


def step_cost(store, n, c, rates, kind="all"):
    """Seconds of one step: (in the call, the writers' stage, bound name),
    or None where the store cannot run at this size."""
    ranks = n * c.rpn
    raw = ranks * c.b
    lz4 = store.endswith("lz4")
    data = raw * (rates["lz4_ratio"] if lz4 else 1.0)
    agree = 2 * c.lat * math.ceil(math.log2(max(ranks, 2)))
    key = store if store in rates["call_MBps_per_rank"] else "zarr+dir"
    # agreement, copy into the node's shared step buffer, lz4 on the ranks
    local = c.b / (rates["call_MBps_per_rank"][key] * 1e6)
    call = agree + local
    if kind == "global":
        # two-phase exchange: every block to the writers owning its chunk
        # rows, spread over every node's link (full bisection assumed)
        call += raw * (1 - 1.0 / n) / (n * c.nic) if n > 1 else 0
    wr = rates["writer_MBps"].get(store.replace("redis-cluster", "redis"))
    if store == "zarr":
        # LMDB: one writer for the job, its node's disk and link
        if n > 1:
            call += raw * (1 - 1.0 / n) / c.nic  # the gather into its node
        write = data / (wr * 1e6)
        return call, write, "one LMDB writer"
    if store.startswith("redis"):
        k = c.redis_servers if store == "redis-cluster" else 1
        if ranks > c.maxclients:
            return None
        srv = min(c.redis_link, rates["redis_server_MBps"] * 1e6)
        write = data / (k * srv)
        # fully distributed: every rank pushes in its own call
        return call + write, write, "%d redis server%s" % (
            k, "s" if k > 1 else "")
    writers = n * c.wpn
    streams = {"writers": writers * wr * 1e6, "node links": n * c.nic,
               "file system": c.servers * c.server_bw}
    bound = min(streams, key=streams.get)
    write = data / streams[bound]
    if store.startswith("zarr+dir"):
        files = ranks if lz4 else writers * math.ceil(
            c.rpn * c.b / c.wpn / c.chunk_dir)
        meta = 2 * files / c.mds  # create + rename per chunk file
        if meta > write:
            write, bound = meta, "metadata (%d files a step)" % files
    if store == "hdf5" and writers > 1:
        # collective parallel HDF5 writes in the calling thread
        coll = 4 * c.lat * math.ceil(math.log2(writers))
        return call + write + coll, write + coll, bound
    return call, write, bound


def model(args, rates, out=sys.stdout):
    c = Cluster(args)
    nodes = [1 << i for i in range(11)]
    rows = []
    for kind in ("all", "global"):
        print("\nrecord_%s: %d ranks a node, %.0f MiB a rank a step, "
              "%d writer(s) a node, %d file-system servers of %.1f GB/s, "
              "links %.1f GB/s, %d metadata ops/s" % (
                  kind, c.rpn, c.b / MIB, c.wpn, c.servers,
                  c.server_bw / 1e9, c.nic / 1e9, c.mds), file=out)
        print("%-14s %6s %10s %10s %10s  %s" % (
            "store", "nodes", "GB/s", "call s", "write s", "bound"),
            file=out)
        for store in STORES:
            for n in nodes:
                r = step_cost(store, n, c, rates, kind)
                if r is None:
                    print("%-14s %6d %10s %10s %10s  %s" % (
                        store, n, "-", "-", "-",
                        "more ranks than a server's maxclients"), file=out)
                    rows.append((kind, store, n, None, None, None, ""))
                    continue
                call, write, bound = r
                gbs = n * c.rpn * c.b / max(call, write) / 1e9
                rows.append((kind, store, n, gbs, call, write, bound))
                print("%-14s %6d %10.2f %10.4f %10.4f  %s" % (
                    store, n, gbs, call, write, bound), file=out)
    print("\nwhere each store stops scaling (GB/s per node below half of "
          "one node's):", file=out)
    for kind in ("all", "global"):
        for store in STORES:
            mine = [r for r in rows if r[0] == kind and r[1] == store]
            one = mine[0][3]
            stop = next((r for r in mine if r[3] is None or
                         r[3] / r[2] < one / 2), None)
            print("  record_%s %-14s %s" % (
                kind, store, "scales to 1024 nodes" if stop is None else
                "at %d nodes (%s)" % (stop[2], stop[6] or "refused")),
                file=out)
    return rows


def draw(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, kind in zip(axes, ("all", "global")):
        for store in STORES:
            pts = [(r[2], r[3]) for r in rows
                   if r[0] == kind and r[1] == store and r[3] is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    label=store)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel("GB/s per step (model)")
        ax.set_title("simrec_record_%s" % kind)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("wrote", path)


def add_cluster_args(ap):
    ap.add_argument("--ranks-per-node", type=int, default=64)
    ap.add_argument("--mib-per-rank", type=float, default=16)
    ap.add_argument("--writers-per-node", type=int, default=1)
    ap.add_argument("--fs-servers", type=int, default=32,
                    help="object storage targets (Lustre OSTs)")
    ap.add_argument("--fs-server-gbps", type=float, default=2.0)
    ap.add_argument("--nic-gbps", type=float, default=12.5,
                    help="a node's link (100 Gb/s = 12.5 GB/s)")
    ap.add_argument("--mds-ops", type=float, default=20000,
                    help="file creates and renames a second")
    ap.add_argument("--latency-us", type=float, default=3.0,
                    help="one network hop of a small message")
    ap.add_argument("--redis-servers", type=int, default=3,
                    help="masters of a Redis Cluster")
    ap.add_argument("--redis-maxclients", type=int, default=10000)


def check(args, rates):
    """bench_mpi on 1..HOSTS namespace hosts beside the model of the same
    hosts: one file-system server (this machine's disk, at the writer rate
    `measure` found), links of --nic-gbps."""
    ns_run = os.path.join(HERE, "ns_run.sh")
    exe = os.path.join(args.build, "bench", "bench_mpi")
    print("%-9s %5s %5s %10s %10s %7s %10s %10s" % (
        "store", "hosts", "ranks", "MB/s", "model", "ratio", "call s",
        "model"))
    for method in ("zarr+dir", "hdf5"):
        for h in range(1, args.hosts + 1):
            got = []
            for _ in range(args.rounds):
                d = tempfile.mkdtemp(prefix="scale-ns-",
                                     dir=os.environ.get("SCALE_DIR"))
                try:
                    got.append(bench_line(
                        [ns_run, str(h), str(args.ranks), exe, method, d,
                         str(args.mib), str(args.steps), "smooth"],
                        mpi_env()))
                finally:
                    shutil.rmtree(d, ignore_errors=True)
            mbps = statistics.median(float(r["MBps"]) for r in got)
            call = statistics.median(float(r["call_s"]) for r in got)
            a = argparse.Namespace(**vars(args))
            a.ranks_per_node, a.writers_per_node = args.ranks, 1
            a.mib_per_rank = args.mib / args.steps / (h * args.ranks)
            a.fs_servers = 1
            a.fs_server_gbps = rates["writer_MBps"][method] / 1e3
            c = Cluster(a)
            call_m, write_m, _ = step_cost(method, h, c, rates)
            model_mbps = h * c.rpn * c.b / max(call_m, write_m) / 1e6
            print("%-9s %5d %5d %10.1f %10.1f %7.2f %10.4f %10.4f" % (
                method, h, h * args.ranks, mbps, model_mbps,
                mbps / model_mbps, call / args.steps, call_m), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="measure this node's rates")
    m.add_argument("--build", default="build")
    m.add_argument("--mib", type=float, default=256)
    m.add_argument("--steps", type=int, default=16)
    m.add_argument("--rounds", type=int, default=3)
    m.add_argument("--out", default="scale_rates.json")
    e = sub.add_parser("model", help="evaluate the model, 1..1024 nodes")
    e.add_argument("--rates", default=os.path.join(HERE, "scale_rates.json"))
    e.add_argument("--png", help="draw it here")
    add_cluster_args(e)
    k = sub.add_parser("check", help="measure 1..HOSTS namespace hosts "
                       "beside the model (root)")
    k.add_argument("--build", default="build")
    k.add_argument("--rates", default=os.path.join(HERE, "scale_rates.json"))
    k.add_argument("--hosts", type=int, default=4)
    k.add_argument("--ranks", type=int, default=1, help="ranks a host")
    k.add_argument("--mib", type=float, default=128)
    k.add_argument("--steps", type=int, default=8)
    k.add_argument("--rounds", type=int, default=3)
    add_cluster_args(k)
    args = ap.parse_args()
    if args.cmd == "measure":
        measure(args)
        return
    with open(args.rates) as f:
        rates = json.load(f)
    if args.cmd == "check":
        check(args, rates)
        return
    print("rates measured %s on %s (%s cores, load %.1f)" % (
        rates["measured"]["date"], rates["measured"]["host"],
        rates["measured"]["cores"], rates["measured"]["load"]))
    rows = model(args, rates)
    if args.png:
        draw(rows, args.png)


if __name__ == "__main__":
    main()
