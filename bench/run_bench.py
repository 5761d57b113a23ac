#!/usr/bin/python3
"""simrec_record_all on every store beside hand-written writers of the same
bytes, interleaved in one invocation.

For every round, every (rank count, method) pair runs once, in a fresh random
order, each as its own `mpiexec -n NP bench_mpi METHOD DIR MIB STEPS KIND`
into a fresh directory that is deleted afterwards. Prints the median MB/s per
method and rank count, each simrec method's ratio to the best hand-written
method of the same rank count, the writer's peak RSS and the time spent
inside simrec_record_all; writes PREFIX-runs.csv (every run),
PREFIX.csv (the summary) and PREFIX.png (MB/s against rank count).

    bench/run_bench.py --build build                     # 1 GiB, 5 rounds
    bench/run_bench.py --build build --mib 128 --rounds 3  # quick
    bench/run_bench.py --from-csv out-runs.csv             # redo table/plot

See bench/README.md for how to read the output.
"""
import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SIMREC = ["zarr", "zarr+dir", "zarr+dir-lz4", "zarr+dir-all", "hdf5",
          "hdf5-lz4", "hdf5-all"]
# the zero-copy step: METHOD-zc is METHOD with opts.zero_copy (simrec_wait
# after the compute phase)
ZC = [m + "-zc" for m in ["zarr", "zarr+dir", "zarr+dir-lz4", "hdf5",
                          "hdf5-all"]]
SIMREC += ZC
# methods that bench_mpi runs as another of its methods with the store's URI
# in SIMREC_STORE (so that a build older than the method runs it too)
VIA_STORE = {"hdf5-lz4": ("hdf5", "hdf5:{dir}/b.h5?codec=lz4")}
# a method run with the --baseline build's bench_mpi is named METHOD@base
BASE = "@base"
HAND = ["mpiio", "gather", "phdf5"]
# ADIOS2 BP5 (with --adios2 PREFIX): a peer, not a hand-written method
PEERS = ["adios2", "adios2-ew"]
LABEL = {
    "zarr": "simrec zarr: (LMDB), no compression",
    "zarr+dir": "simrec zarr+dir:, no compression",
    "zarr+dir-lz4": "simrec zarr+dir: lz4",
    "hdf5": "simrec hdf5:, default writers",
    "hdf5-lz4": "simrec hdf5: lz4 (blosc), default writers",
    "hdf5-all": "simrec hdf5:, every rank a writer",
    "zarr+dir-all": "simrec zarr+dir:, no compression, every rank a writer",
    "mpiio": "MPI_File_write_at_all + MPI_File_sync",
    "gather": "gather to rank 0 + pwrite + fdatasync",
    "phdf5": "parallel HDF5 by hand, fill NEVER",
    "adios2": "ADIOS2 BP5, default aggregation (+ fsync)",
    "adios2-ew": "ADIOS2 BP5, EveryoneWrites (+ fsync)",
}
for _m in ZC:
    LABEL[_m] = LABEL[_m[:-3]] + ", zero-copy"
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["round", "order", "method", "np", "bytes", "steps", "data",
          "seconds", "MBps", "open_s", "steps_s", "close_s", "rss0_kib",
          "rss_kib", "rss_max_kib", "compute_s", "io_s", "io_MBps", "call_s",
          "wait_s", "in_call", "in_step", "load1"]
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
}


def parse_line(out):
    for line in out.splitlines():
        if line.startswith("method="):
            return dict(kv.split("=", 1) for kv in line.split())
    return None


def mpi_env():
    """The environment of every run: mpiexec allowed as root and
    oversubscribed, without the variables that would silently change what
    a method measures."""
    env = dict(os.environ, **MPI_ENV)
    for k in ("SIMREC_STORE", "SIMREC_WRITERS", "SIMREC_RANKS_PER_WRITER",
              "SIMREC_IO_SUMMARY"):
        env.pop(k, None)
    return env


def bench_exe(build):
    exe = os.path.join(build, "bench", "bench_mpi")
    if not os.access(exe, os.X_OK):
        sys.exit(f"run_bench: no {exe}: build the project first")
    return exe


def run_cmd(a, name, exe, n, d, env):
    """The command and environment of one run of method name into d."""
    m = name[:-len(BASE)] if name.endswith(BASE) else name
    if name.endswith(BASE):
        exe = bench_exe(a.baseline)
        # a copied build directory still has the RUNPATH of the original
        # one: load the copy's own library
        lib = os.path.abspath(os.path.join(a.baseline, "src"))
        env = dict(env, LD_LIBRARY_PATH=os.pathsep.join(
            [lib] + [p for p in [env.get("LD_LIBRARY_PATH")] if p]))
    if m in PEERS:
        exe = a.adios2_exe
    if m in VIA_STORE:
        env = dict(env, SIMREC_STORE=VIA_STORE[m][1].format(dir=d))
        m = VIA_STORE[m][0]
    cmd = [a.mpiexec, "-n", str(n), exe, m, d, str(a.mib), str(a.steps),
           a.data, str(a.compute), a.compute_kind]
    return cmd, env


def interleave(a, methods, fields, run, show):
    """Every (rank count in a.np, method) pair once per round, a.rounds
    rounds, each round in a fresh random order (a.seed); run(n, m) returns
    the row of one run, written to a.out-runs.csv at once with its round,
    order and method; show(row) is its progress line. Returns the rows."""
    os.makedirs(a.dir, exist_ok=True)
    rng = random.Random(a.seed)
    rows = []
    with open(a.out + "-runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        for rnd in range(a.rounds):
            pairs = [(n, m) for n in a.np for m in methods]
            rng.shuffle(pairs)
            for order, (n, m) in enumerate(pairs):
                r = run(n, m)
                r.update({"round": rnd, "order": order, "method": m})
                w.writerow(r)
                f.flush()
                rows.append(r)
                print(f"round {rnd + 1}/{a.rounds} np={n:<2} {m:<13} "
                      f"{show(r)}", file=sys.stderr)
    return rows


def build_adios2(a):
    """bench_mpi with the ADIOS2 methods (mpicc, never part of the
    project's build) into BUILD/bench/bench_mpi_adios2; None (said loudly)
    if PREFIX holds no ADIOS2."""
    cfg = os.path.join(a.adios2, "bin", "adios2-config")
    if not os.access(cfg, os.X_OK):
        print(f"run_bench: SKIPPING ADIOS2: no {cfg}", file=sys.stderr)
        return None
    exe = os.path.join(a.build, "bench", "bench_mpi_adios2")
    lib = os.path.abspath(os.path.join(a.build, "src"))
    inc = os.path.join(SRC, "include")
    flags = ["-DBENCH_HAVE_ADIOS2"]
    h5 = subprocess.run(["pkg-config", "--cflags", "--libs", "hdf5-openmpi"],
                        capture_output=True, text=True)
    if h5.returncode == 0:
        flags += ["-DBENCH_HAVE_HDF5"] + h5.stdout.split()
    ad = subprocess.run([cfg, "-m", "--c-flags", "--c-libs"],
                        capture_output=True, text=True, check=True)
    cmd = [a.mpicc, "-O2", "-std=gnu11", "-I", inc,
           os.path.join(SRC, "bench", "bench_mpi.c"), "-o", exe, "-L", lib,
           "-lsimrec", "-Wl,-rpath," + lib] + flags + ad.stdout.split() + \
        ["-lm"]
    print("run_bench: building the ADIOS2 methods: " + " ".join(cmd),
          file=sys.stderr)
    subprocess.run(cmd, check=True)
    return exe


def run_all(a):
    exe = bench_exe(a.build)
    env = mpi_env()

    def run(n, m):
        d = tempfile.mkdtemp(prefix="run-", dir=a.dir)
        cmd, env_m = run_cmd(a, m, exe, n, d, env)
        try:
            p = subprocess.run(cmd, env=env_m, capture_output=True,
                               text=True, timeout=a.timeout)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        r = parse_line(p.stdout)
        if p.returncode or r is None:
            sys.exit(f"run_bench: {' '.join(cmd)} failed "
                     f"(exit {p.returncode}):\n{p.stdout}{p.stderr}")
        r["load1"] = f"{os.getloadavg()[0]:.2f}"
        return r
    return interleave(a, a.methods + a.base, FIELDS, run,
                      lambda r: f"{float(r['MBps']):8.1f} MB/s")


def by_cell(rows):
    """{(method, np): [the rows of that cell]}."""
    groups = {}
    for r in rows:
        groups.setdefault((r["method"], int(r["np"])), []).append(r)
    return groups


def summarize(rows):
    """{(method, np): dict of medians and spreads}."""
    s = {}
    for key, rs in by_cell(rows).items():
        mbps = [float(r["MBps"]) for r in rs]
        fr = [[float(x) for x in r["in_call"].split(":")] for r in rs]
        fs = [[float(x) for x in (r.get("in_step") or "0").split(":")]
              for r in rs]

        def med(k):
            return statistics.median(float(r.get(k) or 0) for r in rs)
        s[key] = {
            "runs": len(rs),
            "MBps": statistics.median(mbps),
            "MBps_min": min(mbps),
            "MBps_max": max(mbps),
            "rss_mib": statistics.median(float(r["rss_kib"]) for r in rs)
            / 1024,
            "rss0_mib": statistics.median(float(r["rss0_kib"]) for r in rs)
            / 1024,
            # one writer's group: all ranks, but one rank for the -all methods
            # (and their -zc and @base runs)
            "step_mib": float(rs[0]["bytes"]) / int(rs[0]["steps"]) / 2**20
            / (int(rs[0]["np"]) if "-all" in key[0] else 1),
            "in_call_w": statistics.median(f[0] for f in fr),
            "in_call_max": statistics.median(max(f) for f in fr),
            "close_s": statistics.median(float(r["close_s"]) for r in rs),
            "seconds": statistics.median(float(r["seconds"]) for r in rs),
            "compute_s": med("compute_s"),
            "io_s": med("io_s"),
            "io_MBps": med("io_MBps"),
            "call_s": med("call_s"),
            "wait_s": med("wait_s"),
            "in_step_w": statistics.median(f[0] for f in fs),
            "in_step_max": statistics.median(max(f) for f in fs),
        }
    return s


def best_hand(s, n):
    cand = [(s[(m, n)]["MBps"], m) for m in HAND if (m, n) in s]
    return max(cand) if cand else (None, None)


def best_peer(s, n):
    """(MB/s, method) of ADIOS2's better variant at np n."""
    cand = [(s[(m, n)]["MBps"], m) for m in PEERS if (m, n) in s]
    return max(cand) if cand else (None, None)


def best_hand_io(s, n):
    """(I/O seconds, method) of the fastest hand-written I/O at np n."""
    cand = [(s[(m, n)]["io_s"], m) for m in HAND
            if (m, n) in s and s[(m, n)]["io_s"] > 0]
    return min(cand) if cand else (None, None)


def print_tables(s, nps, methods, out):
    def table(title, fmt, only=None):
        print(f"\n{title}\n")
        print("| method | " + " | ".join(f"np{n}" for n in nps) + " |")
        print("| --- |" + " --- |" * len(nps))
        for m in methods:
            if only and m not in only:
                continue
            cells = [fmt(m, n) if (m, n) in s else "" for n in nps]
            print(f"| {LABEL.get(m, m)} | " + " | ".join(cells) + " |")

    runs = sorted({v["runs"] for v in s.values()})
    print(f"median of {'/'.join(map(str, runs))} runs per cell; "
          "only figures of this one run are comparable")
    table("MB/s (median; min-max over rounds)",
          lambda m, n: f"{s[(m, n)]['MBps']:.0f} "
          f"({s[(m, n)]['MBps_min']:.0f}-{s[(m, n)]['MBps_max']:.0f})")
    table("ratio to the best hand-written method of the same np",
          lambda m, n: f"{s[(m, n)]['MBps'] / best_hand(s, n)[0]:.2f}"
          if best_hand(s, n)[0] else "", SIMREC)
    print("\nbest hand-written: " + ", ".join(
        f"np{n} {best_hand(s, n)[1]}" for n in nps if best_hand(s, n)[1]))
    if any(best_peer(s, n)[0] for n in nps):
        table("ratio to ADIOS2 BP5's better variant of the same np "
              "(default aggregation or EveryoneWrites)",
              lambda m, n: f"{s[(m, n)]['MBps'] / best_peer(s, n)[0]:.2f}"
              if best_peer(s, n)[0] else "", SIMREC + HAND)
        print("\nADIOS2's better: " + ", ".join(
            f"np{n} {best_peer(s, n)[1]}" for n in nps
            if best_peer(s, n)[1]))
    table("peak RSS of rank 0 (the writer), MiB; bound 2 x group step + 64 MiB",
          lambda m, n: f"{s[(m, n)]['rss_mib']:.0f} / "
          f"{2 * s[(m, n)]['step_mib'] + 64:.0f}")
    table("time inside simrec_record_all / wall time: writer (rank 0), "
          "max over ranks",
          lambda m, n: f"{s[(m, n)]['in_call_w']:.2f}, "
          f"{s[(m, n)]['in_call_max']:.2f}", SIMREC)
    if any(v["compute_s"] > 0 for v in s.values()):
        table("with the compute phase: I/O MB/s (bytes / (wall - compute))",
              lambda m, n: f"{s[(m, n)]['io_MBps']:.0f}")
        table("time inside simrec_record_all / time inside steps "
              "(record_all + compute): writer, max over ranks",
              lambda m, n: f"{s[(m, n)]['in_step_w']:.2f}, "
              f"{s[(m, n)]['in_step_max']:.2f}", SIMREC)
        table("time inside simrec_record_all (writer) / raw write time "
              "(I/O time of the best hand-written method of the same np); "
              "goal <= 0.10, zero-copy <= 0.05",
              lambda m, n: f"{s[(m, n)]['call_s'] / best_hand_io(s, n)[0]:.2f}"
              if best_hand_io(s, n)[0] else "", SIMREC)
        zc = [m for m in methods if m in ZC]
        if zc:
            table("zero-copy: time inside simrec_record_all + simrec_wait "
                  "(writer) / raw write time",
                  lambda m, n: f"{(s[(m, n)]['call_s'] + s[(m, n)]['wait_s']) / best_hand_io(s, n)[0]:.2f}"
                  if best_hand_io(s, n)[0] else "", zc)
        print("\nbest hand-written I/O time: " + ", ".join(
            f"np{n} {best_hand_io(s, n)[1]} {best_hand_io(s, n)[0]:.2f} s"
            for n in nps if best_hand_io(s, n)[1]))
    with open(out + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "np", "runs", "MBps_median", "MBps_min",
                    "MBps_max", "ratio_to_best_hand", "best_hand",
                    "rss_writer_mib", "rss_start_mib", "in_call_writer",
                    "in_call_max", "close_s_median", "compute_s", "io_MBps",
                    "call_s", "in_step_writer", "in_step_max"])
        for m in methods:
            for n in nps:
                if (m, n) not in s:
                    continue
                v = s[(m, n)]
                b, bm = best_hand(s, n)
                w.writerow([m, n, v["runs"], f"{v['MBps']:.1f}",
                            f"{v['MBps_min']:.1f}", f"{v['MBps_max']:.1f}",
                            f"{v['MBps'] / b:.3f}" if b else "", bm or "",
                            f"{v['rss_mib']:.1f}", f"{v['rss0_mib']:.1f}",
                            f"{v['in_call_w']:.3f}", f"{v['in_call_max']:.3f}",
                            f"{v['close_s']:.3f}", f"{v['compute_s']:.3f}",
                            f"{v['io_MBps']:.1f}", f"{v['call_s']:.4f}",
                            f"{v['in_step_w']:.3f}", f"{v['in_step_max']:.3f}"])


def plot(s, nps, methods, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=120)
    for k, m in enumerate(methods):
        ns = [n for n in nps if (m, n) in s]
        if not ns:
            continue
        # methods side by side around each rank count, so bars do not hide
        xs = [n * 2 ** (0.03 * (k - (len(methods) - 1) / 2)) for n in ns]
        ys = [s[(m, n)]["MBps"] for n in ns]
        lo = [y - s[(m, n)]["MBps_min"] for y, n in zip(ys, ns)]
        hi = [s[(m, n)]["MBps_max"] - y for y, n in zip(ys, ns)]
        ax.errorbar(xs, ys, yerr=[lo, hi], capsize=2, marker="o",
                    elinewidth=0.8,
                    linestyle="--" if m in HAND + PEERS else "-",
                    linewidth=2 if m in HAND + PEERS else 1.5,
                    label=LABEL.get(m, m))
    ax.set_xscale("log", base=2)
    ax.set_xticks(nps)
    ax.set_xticklabels([str(n) for n in nps])
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("MB/s (median; bars: min-max over rounds)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(out + ".png")
    print(f"\nwrote {out}-runs.csv, {out}.csv, {out}.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(),
                                                  "simrec-bench"),
                    help="where the runs write (on the disk to measure)")
    ap.add_argument("--mib", type=float, default=1024,
                    help="total MiB written per run (default 1024)")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--np", default="1,2,4,8", help="rank counts")
    ap.add_argument("--methods", default=",".join(SIMREC + HAND))
    ap.add_argument("--data", choices=["smooth", "random"],
                    default="smooth")
    ap.add_argument("--compute", type=float, default=0, metavar="MS",
                    help="compute phase after every step, in ms (default 0:"
                    " none); about one step's write time")
    ap.add_argument("--compute-kind", choices=["sleep", "busy"],
                    default="sleep", help="sleep (default) or spin")
    ap.add_argument("--out", default="bench-mpi", help="output prefix")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the run order (default: random)")
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds allowed per run")
    ap.add_argument("--baseline", metavar="BUILD",
                    help="also run --baseline-methods with this build's "
                    "bench_mpi, interleaved, as METHOD@base")
    ap.add_argument("--baseline-methods", default="hdf5-lz4")
    ap.add_argument("--adios2", metavar="PREFIX",
                    help="ADIOS2 install (PREFIX/bin/adios2-config): "
                    "adds the methods adios2 and adios2-ew")
    ap.add_argument("--mpicc", default="mpicc")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--from-csv", metavar="RUNS_CSV",
                    help="summarize an earlier -runs.csv instead of running")
    a = ap.parse_args()
    a.methods = [m for m in a.methods.split(",") if m]
    a.base = [m + BASE for m in a.baseline_methods.split(",") if m] \
        if a.baseline else []
    if a.adios2 and not a.from_csv:
        a.methods += [m for m in PEERS if m not in a.methods]
    unknown = set(a.methods + [m[:-len(BASE)] for m in a.base]) \
        - set(SIMREC + HAND + PEERS)
    if unknown:
        sys.exit(f"run_bench: unknown method(s) {sorted(unknown)}")
    if any(m in PEERS for m in a.methods) and not a.from_csv:
        a.adios2_exe = build_adios2(a) if a.adios2 else None
        if not a.adios2_exe:
            print("run_bench: SKIPPING adios2, adios2-ew: no ADIOS2 "
                  "(--adios2 PREFIX)", file=sys.stderr)
            a.methods = [m for m in a.methods if m not in PEERS]
    if a.from_csv:
        with open(a.from_csv, newline="") as f:
            rows = list(csv.DictReader(f))
        if a.out == "bench-mpi" and a.from_csv.endswith("-runs.csv"):
            a.out = a.from_csv[:-len("-runs.csv")]
    else:
        a.np = [int(x) for x in a.np.split(",")]
        if a.rounds < 1 or a.steps < 1 or not a.np or min(a.np) < 1 \
                or a.compute < 0:
            sys.exit("run_bench: rounds, steps and rank counts must be > 0")
        t0 = time.time()
        rows = run_all(a)
        print(f"{len(rows)} runs in {time.time() - t0:.0f} s",
              file=sys.stderr)
    if not rows:
        sys.exit("run_bench: no runs")
    nps = sorted({int(r["np"]) for r in rows})
    for m in sorted({r["method"] for r in rows if r["method"].endswith(BASE)}):
        SIMREC.append(m)
        LABEL[m] = LABEL.get(m[:-len(BASE)], m) + " (baseline build)"
    methods = [m for m in SIMREC + HAND + PEERS
               if any(r["method"] == m for r in rows)]
    s = summarize(rows)
    r0 = rows[0]
    print(f"\n{float(r0['bytes']) / 2**20:.0f} MiB of float32 "
          f"({r0['data']} data) in {r0['steps']} steps per run")
    loads = sorted(float(r["load1"]) for r in rows if r.get("load1"))
    if loads:
        print(f"load average (1 min) at the end of each run: min "
              f"{loads[0]:.1f}, median {statistics.median(loads):.1f}, max "
              f"{loads[-1]:.1f} on {os.cpu_count()} cores")
    comp = float(r0.get("compute_s") or 0) / int(r0["steps"])
    if comp > 0:
        print(f"compute phase: {comp * 1000:.0f} ms after every step")
    print_tables(s, nps, methods, a.out)
    if not a.no_plot:
        plot(s, nps, methods, a.out,
             f"simrec record_all vs hand-written writers: "
             f"{float(r0['bytes']) / 2**20:.0f} MiB float32 "
             f"({r0['data']}) in {r0['steps']} steps, durable")


if __name__ == "__main__":
    main()
