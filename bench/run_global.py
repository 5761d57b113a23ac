#!/usr/bin/python3
"""A 3-D global array written by simrec_record_global beside parallel HDF5
by hand and ADIOS2 BP5, then one plane of it read back, interleaved in one
invocation.

For every round, every (rank count, method) pair runs once, in a fresh
random order: `mpiexec -n NP bench_global write METHOD DIR ...` into a fresh
directory, then `mpiexec -n 1 bench_global read METHOD DIR STEP Z` (a fresh
serial process, the store's pages evicted first), then the directory is
deleted. Prints the median write MB/s per method and rank count, the ratios
simrec / parallel HDF5 by hand and simrec / ADIOS2, the plane read times and
ADIOS2 / simrec, and the writers' peak RSS beside the bytes they own per
step; writes PREFIX-runs.csv (every run) and PREFIX.csv (the summary).

    bench/run_global.py --build build --adios2 /opt/adios2   # 256^3 x 4
    bench/run_global.py --build build --shape 128x128x128 --rounds 3
    bench/run_global.py --from-csv out-runs.csv               # redo tables

ADIOS2 is never a dependency: with --adios2 PREFIX (an ADIOS2 2.x install
with bin/adios2-config) the script builds its own bench_global with the
ADIOS2 method; without it, the ADIOS2 method is skipped, and said so.
See bench/README.md for how to read the output.
"""
import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from run_bench import by_cell, interleave, mpi_env, parse_line

SIMREC = ["zarr", "zarr+dir", "zarr+dir-lz4", "hdf5", "hdf5-all"]
PEERS = ["phdf5", "adios2"]
LABEL = {
    "zarr": "simrec zarr: (LMDB), no compression",
    "zarr+dir": "simrec zarr+dir:, no compression",
    "zarr+dir-lz4": "simrec zarr+dir: lz4",
    "hdf5": "simrec hdf5:, default writers",
    "hdf5-all": "simrec hdf5:, every rank a writer",
    "phdf5": "parallel HDF5 by hand (hyperslabs, fill NEVER)",
    "adios2": "ADIOS2 BP5, default aggregation",
}
W_FIELDS = ["nz", "ny", "nx", "steps", "dtype", "decomp", "bytes", "seconds",
            "bump_s", "MBps", "open_s", "steps_s", "close_s", "writers",
            "step_bytes", "own_step_bytes", "rss_writer_kib", "rss_max_kib",
            "rss0_writer_kib"]
FIELDS = ["round", "order", "method", "np"] + W_FIELDS + \
    ["read_step", "read_z", "read_cache", "plane_bytes", "read_s",
     "read_MBps", "read_open_s", "read_get_s", "read_close_s", "chunks",
     "retries"]
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn(msg):
    print(f"run_global: {msg}", file=sys.stderr)


def build_adios2(a):
    """Build bench_global with the ADIOS2 method into the build directory;
    returns its path, or None (said loudly) if ADIOS2 is not there."""
    cfg = os.path.join(a.adios2, "bin", "adios2-config")
    if not os.access(cfg, os.X_OK):
        warn(f"SKIPPING ADIOS2: no {cfg} (extract the ADIOS2 install "
             "there, or drop --adios2)")
        return None
    exe = os.path.join(a.build, "bench", "bench_global_adios2")
    lib = os.path.abspath(os.path.join(a.build, "src"))
    inc = os.path.join(SRC, "include")
    flags = ["-DBENCH_HAVE_ADIOS2"]
    with open(os.path.join(inc, "simrec.h")) as f:
        if "simrec_record_global(" in f.read():
            flags.append("-DBENCH_HAVE_RECORD_GLOBAL")
    h5 = subprocess.run(["pkg-config", "--cflags", "--libs",
                         "hdf5-openmpi"], capture_output=True, text=True)
    if h5.returncode == 0:
        flags += ["-DBENCH_HAVE_HDF5"] + h5.stdout.split()
    ad = subprocess.run([cfg, "-m", "--c-flags", "--c-libs"],
                        capture_output=True, text=True, check=True)
    cmd = [a.mpicc, "-O2", "-std=gnu11", "-I", inc,
           os.path.join(SRC, "bench", "bench_global.c"), "-o", exe,
           "-L", lib, "-lsimrec", "-Wl,-rpath," + lib] + flags + \
        ad.stdout.split() + ["-lm"]
    warn("building the ADIOS2 method: " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    return exe


def built_methods(exe, env):
    p = subprocess.run([exe, "methods"], env=env, capture_output=True,
                       text=True, timeout=60)
    line = p.stdout.strip()
    if p.returncode or not line.startswith("methods="):
        sys.exit(f"run_global: {exe} methods failed:\n{p.stdout}{p.stderr}")
    return [m for m in line[len("methods="):].split(",") if m]


def choose_methods(a, env):
    """The binary to run and the methods to measure; what cannot run is
    dropped with a warning."""
    exe = os.path.join(a.build, "bench", "bench_global")
    if not os.access(exe, os.X_OK):
        sys.exit(f"run_global: no {exe}: build the project first")
    if "adios2" in a.methods:
        if a.adios2:
            exe = build_adios2(a) or exe
        else:
            warn("SKIPPING ADIOS2: no --adios2 PREFIX given")
    have = built_methods(exe, env)
    for m in a.methods:
        if m not in have:
            warn(f"SKIPPING {m}: not built into {exe}"
                 + (" (this simrec has no simrec_record_global)"
                    if m in SIMREC else ""))
    methods = [m for m in a.methods if m in have]
    if not methods:
        sys.exit("run_global: no method left to run")
    return exe, methods


class RunFailed(Exception):
    pass


def run_cmd(a, cmd, env, op):
    """The key=value fields of one process's line; RunFailed if it fails,
    prints no line or outlives --timeout."""
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=a.timeout)
    except subprocess.TimeoutExpired as e:
        out = [x.decode(errors="replace") if isinstance(x, bytes)
               else x or "" for x in (e.stdout, e.stderr)]
        raise RunFailed(f"{' '.join(cmd)} still running after "
                        f"{a.timeout:.0f} s (killed):\n" + "".join(out))
    got = parse_line(p.stdout)
    if p.returncode or got is None or got.get("op") != op:
        raise RunFailed(f"{' '.join(cmd)} failed (exit {p.returncode}):\n"
                        f"{p.stdout}{p.stderr}")
    return got


def run_pair(a, exe, env, n, m, r):
    """The write, then the read, into a fresh directory deleted after."""
    d = tempfile.mkdtemp(prefix="run-", dir=a.dir)
    nz, ny, nx = a.shape
    try:
        got = run_cmd(a, [a.mpiexec, "-n", str(n), exe, "write", m, d,
                          str(nz), str(ny), str(nx), str(a.steps), a.dtype],
                      env, "write")
        r.update({k: got[k] for k in W_FIELDS})
        if a.no_read:
            return
        got = run_cmd(a, [a.mpiexec, "-n", "1", exe, "read", m, d,
                          str(a.read_step), str(a.read_z),
                          "warm" if a.warm else "cold"], env, "read")
        r.update({"read_step": got["step"], "read_z": got["z"],
                  "read_cache": got["cache"],
                  "plane_bytes": got["plane_bytes"],
                  "read_s": got["seconds"], "read_MBps": got["MBps"],
                  "read_open_s": got.get("open_s", ""),
                  "read_get_s": got.get("get_s", ""),
                  "read_close_s": got.get("close_s", ""),
                  "chunks": got.get("chunks", "")})
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_one(a, exe, env, n, m):
    """One run of method m at np n; a run that fails is run again (up to
    --retries times, each said on stderr and counted in the CSV): on a
    loaded machine mpiexec now and then fails to start its ranks."""
    for attempt in range(a.retries + 1):
        r = {"np": n, "retries": attempt}
        try:
            run_pair(a, exe, env, n, m, r)
            return r
        except RunFailed as e:
            if attempt == a.retries:
                sys.exit(f"run_global: {e}")
            warn(f"RETRYING np={n} {m} after a failure: {e}")


def run_all(a):
    env = mpi_env()
    exe, methods = choose_methods(a, env)

    def show(r):
        rd = f", plane {float(r['read_s']) * 1e3:7.2f} ms" \
            if r.get("read_s") else ""
        return f"{float(r['MBps']):8.1f} MB/s{rd}"
    return interleave(a, methods, FIELDS,
                      lambda n, m: run_one(a, exe, env, n, m), show)


def owned_bytes(r):
    """Bytes of whole chunks the busiest writer of run r owns in a step:
    simrec's chunk rows along the slowest axis spread evenly over its
    writers, as the chunk shape read back says; else an even share of the
    step."""
    ch = [int(x) for x in (r.get("chunks") or "").split("x") if x]
    nw = int(r["writers"])
    if r["method"] not in SIMREC or len(ch) != 4 or min(ch) < 1:
        return float(r["own_step_bytes"])
    shape = [int(r["nz"]), int(r["ny"]), int(r["nx"])]
    row = ch[1] * 4 * (2 if r["dtype"] == "f64" else 1)
    for n, c in zip(shape[1:], ch[2:]):
        row *= -(-n // c) * c
    return -(-(-(-shape[0] // ch[1])) // nw) * row


def summarize(rows):
    """{(method, np): dict of medians and spreads}."""
    s = {}
    for key, rs in by_cell(rows).items():
        def med(k):
            return statistics.median(float(r[k]) for r in rs)
        mbps = [float(r["MBps"]) for r in rs]
        reads = [float(r["read_s"]) for r in rs if r.get("read_s")]

        def med_ms(k):
            v = [float(r[k]) for r in rs if r.get(k)]
            return statistics.median(v) * 1e3 if v else None
        s[key] = {
            "runs": len(rs),
            "MBps": statistics.median(mbps),
            "MBps_min": min(mbps),
            "MBps_max": max(mbps),
            "seconds": med("seconds"),
            "close_s": med("close_s"),
            "read_ms": statistics.median(reads) * 1e3 if reads else None,
            "read_min_ms": min(reads) * 1e3 if reads else None,
            "read_max_ms": max(reads) * 1e3 if reads else None,
            "read_open_ms": med_ms("read_open_s"),
            "read_get_ms": med_ms("read_get_s"),
            "read_close_ms": med_ms("read_close_s"),
            "writers": int(rs[0]["writers"]),
            "decomp": rs[0]["decomp"],
            "own_mib": owned_bytes(rs[0]) / 2**20,
            "chunks": "" if set((rs[0].get("chunks") or "0")) <= set("0x")
            else rs[0]["chunks"],
            "rss_w_mib": med("rss_writer_kib") / 1024,
            "rss_max_mib": med("rss_max_kib") / 1024,
            "rss0_w_mib": med("rss0_writer_kib") / 1024,
        }
    return s


def ratio(s, m, ref, n, key="MBps"):
    if (m, n) not in s or (ref, n) not in s or not s[(ref, n)][key]:
        return None
    return s[(m, n)][key] / s[(ref, n)][key]


def table(s, nps, methods, title, fmt):
    lines = []
    for m in methods:
        cells = [fmt(m, n) if (m, n) in s else "" for n in nps]
        if any(cells):
            lines.append(f"| {LABEL.get(m, m)} | " + " | ".join(cells)
                         + " |")
    if not lines:
        return
    print(f"\n{title}\n")
    print("| method | " + " | ".join(f"np{n}" for n in nps) + " |")
    print("| --- |" + " --- |" * len(nps))
    print("\n".join(lines))


def f2(x):
    return "" if x is None else f"{x:.2f}"


def print_tables(s, nps, methods):
    simrec = [m for m in methods if m in SIMREC]
    runs = sorted({v["runs"] for v in s.values()})
    print(f"median of {'/'.join(map(str, runs))} runs per cell; "
          "only figures of this one run are comparable")
    print("decomposition: " + ", ".join(
        f"np{n} {s[(methods[0], n)]['decomp']}" for n in nps
        if (methods[0], n) in s))
    chunks = []
    for m in methods:
        cs = {n: s[(m, n)]["chunks"] for n in nps if (m, n) in s}
        if len(set(cs.values())) == 1:
            chunks.append(f"{m} {next(iter(cs.values())) or '-'}")
        elif cs:
            chunks.append(f"{m} " + " ".join(f"np{n} {c or '-'}"
                                             for n, c in cs.items()))
    print("chunks (step, z, y, x) as read back: " + "; ".join(chunks))
    table(s, nps, methods, "write MB/s (median; min-max over rounds), "
          "durable at the end",
          lambda m, n: f"{s[(m, n)]['MBps']:.0f} "
          f"({s[(m, n)]['MBps_min']:.0f}-{s[(m, n)]['MBps_max']:.0f})")
    if "phdf5" in methods:
        table(s, nps, simrec, "write: simrec / parallel HDF5 by hand "
              "(goal >= 0.9)", lambda m, n: f2(ratio(s, m, "phdf5", n)))
    if "adios2" in methods:
        table(s, nps, simrec, "write: simrec / ADIOS2 BP5 (goal >= 1)",
              lambda m, n: f2(ratio(s, m, "adios2", n)))
    if any(v["read_ms"] is not None for v in s.values()):
        table(s, nps, methods, "plane read, serial fresh process, ms "
              "(median; min-max), open to close",
              lambda m, n: f"{s[(m, n)]['read_ms']:.1f} "
              f"({s[(m, n)]['read_min_ms']:.1f}-"
              f"{s[(m, n)]['read_max_ms']:.1f})"
              if s[(m, n)]["read_ms"] is not None else "")
        table(s, nps, methods, "plane read, ms: open (up to the data "
              "read) + get + close (medians)",
              lambda m, n: f"{s[(m, n)]['read_open_ms']:.1f} + "
              f"{s[(m, n)]['read_get_ms']:.1f} + "
              f"{s[(m, n)]['read_close_ms']:.1f}"
              if s[(m, n)]["read_get_ms"] is not None else "")
        if "adios2" in methods:
            table(s, nps, simrec, "plane read speed: ADIOS2 time / simrec "
                  "time (goal >= 2)",
                  lambda m, n: f2(ratio(s, "adios2", m, n, "read_ms")))
    table(s, nps, methods, "peak RSS, MiB: max over writer ranks (+ growth "
          "over the RSS before the write) / bound (2 x owned + 64) "
          "[owned per step; writers]",
          lambda m, n: f"{s[(m, n)]['rss_w_mib']:.0f} "
          f"(+{s[(m, n)]['rss_w_mib'] - s[(m, n)]['rss0_w_mib']:.0f}) / "
          f"{2 * s[(m, n)]['own_mib'] + 64:.0f} "
          f"[{s[(m, n)]['own_mib']:.1f}; {s[(m, n)]['writers']}]")
    table(s, nps, methods, "peak RSS, MiB: max over all ranks (RSS of a "
          "writer before the write)",
          lambda m, n: f"{s[(m, n)]['rss_max_mib']:.0f} "
          f"({s[(m, n)]['rss0_w_mib']:.0f})")


def write_csv(s, nps, methods, out):
    with open(out + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "np", "runs", "decomp", "MBps_median",
                    "MBps_min", "MBps_max", "ratio_to_phdf5",
                    "ratio_to_adios2", "read_ms_median", "read_ms_min",
                    "read_ms_max", "read_speed_vs_adios2", "writers",
                    "own_step_mib", "rss_writer_mib", "rss_bound_mib",
                    "rss_max_mib", "rss_writer_start_mib"])
        for m in methods:
            for n in nps:
                if (m, n) not in s:
                    continue
                v = s[(m, n)]

                def g(x, fmt="{:.3f}"):
                    return "" if x is None else fmt.format(x)
                w.writerow([m, n, v["runs"], v["decomp"], g(v["MBps"]),
                            g(v["MBps_min"]), g(v["MBps_max"]),
                            g(ratio(s, m, "phdf5", n)),
                            g(ratio(s, m, "adios2", n)), g(v["read_ms"]),
                            g(v["read_min_ms"]), g(v["read_max_ms"]),
                            g(ratio(s, "adios2", m, n, "read_ms")),
                            v["writers"], g(v["own_mib"]),
                            g(v["rss_w_mib"]), g(2 * v["own_mib"] + 64),
                            g(v["rss_max_mib"]), g(v["rss0_w_mib"])])
    print(f"\nwrote {out}-runs.csv, {out}.csv")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory")
    ap.add_argument("--adios2", metavar="PREFIX",
                    help="ADIOS2 install (PREFIX/bin/adios2-config); "
                    "without it the ADIOS2 method is skipped")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(),
                                                  "simrec-bench-global"),
                    help="where the runs write (on the disk to measure)")
    ap.add_argument("--shape", default="256x256x256",
                    help="NZxNYxNX of one step (default 256x256x256)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--np", default="1,2,4,8", help="rank counts")
    ap.add_argument("--methods", default=",".join(SIMREC + PEERS))
    ap.add_argument("--read-step", type=int, default=None,
                    help="step of the plane read (default: steps // 2)")
    ap.add_argument("--read-z", type=int, default=None,
                    help="index of the plane on the slowest axis "
                    "(default: NZ // 3)")
    ap.add_argument("--warm", action="store_true",
                    help="read with the store in the page cache")
    ap.add_argument("--no-read", action="store_true")
    ap.add_argument("--out", default="bench-global", help="output prefix")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the run order (default: random)")
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--mpicc", default="mpicc")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds allowed per run")
    ap.add_argument("--retries", type=int, default=1,
                    help="times a failed run is run again (default 1)")
    ap.add_argument("--from-csv", metavar="RUNS_CSV",
                    help="summarize an earlier -runs.csv instead of running")
    a = ap.parse_args()
    a.methods = [m for m in a.methods.split(",") if m]
    unknown = set(a.methods) - set(SIMREC + PEERS)
    if unknown:
        sys.exit(f"run_global: unknown method(s) {sorted(unknown)}")
    try:
        a.shape = [int(x) for x in a.shape.lower().split("x")]
        a.np = [int(x) for x in a.np.split(",")]
    except ValueError:
        sys.exit("run_global: --shape is NZxNYxNX, --np a list of numbers")
    if len(a.shape) != 3 or min(a.shape) < 1 or a.rounds < 1 \
            or a.steps < 1 or not a.np or min(a.np) < 1:
        sys.exit("run_global: shape, steps, rounds and rank counts "
                 "must be > 0")
    a.read_step = a.steps // 2 if a.read_step is None else a.read_step
    a.read_z = a.shape[0] // 3 if a.read_z is None else a.read_z
    if not (0 <= a.read_step < a.steps and 0 <= a.read_z < a.shape[0]):
        sys.exit("run_global: --read-step/--read-z outside the array")
    return a


def main():
    a = parse_args()
    if a.from_csv:
        with open(a.from_csv, newline="") as f:
            rows = list(csv.DictReader(f))
        if a.out == "bench-global" and a.from_csv.endswith("-runs.csv"):
            a.out = a.from_csv[:-len("-runs.csv")]
    else:
        t0 = time.time()
        load0 = os.getloadavg()
        rows = run_all(a)
        print(f"{len(rows)} runs in {time.time() - t0:.0f} s; load average "
              f"(1 min) {load0[0]:.2f} at the start, "
              f"{os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    if not rows:
        sys.exit("run_global: no runs")
    nps = sorted({int(r["np"]) for r in rows})
    methods = [m for m in SIMREC + PEERS if any(r["method"] == m
                                                for r in rows)]
    s = summarize(rows)
    r0 = rows[0]
    print(f"\n{r0['steps']} steps of a {r0['nz']} x {r0['ny']} x {r0['nx']} "
          f"{r0['dtype']} array ({float(r0['step_bytes']) / 2**20:.1f} MiB "
          f"a step), 3-D blocks; plane read: step {r0.get('read_step')}, "
          f"z = {r0.get('read_z')} ({r0.get('read_cache')})")
    retried = [f"np{r['np']} {r['method']}" for r in rows
               if int(r.get("retries") or 0)]
    if retried:
        print("runs that failed and were run again: " + ", ".join(retried))
    print_tables(s, nps, methods)
    write_csv(s, nps, methods, a.out)


if __name__ == "__main__":
    main()
