#!/usr/bin/python3
"""The seed's table: SimRecorder's own benchmark (tests/time_zarr.py and
tests/time_hdf5.py) through every reader and writer, side by side.

N random float64 arrays of (10, 10000, 200) (16 MB each) are recorded under
one key; then 20 slices [:N//2, b, t, :] and the whole dataset are read.
Methods, each in its own process per phase, interleaved round by round, on
one disk, in a fresh random order every round, with the page cache
dropped before every phase:

  simrec-c zarr / hdf5      simrec's C API (bench_seed)
  simrec-c zarr bit         the same with shuffle=bit (SimRecorder's
                            shuffle: smaller, slower to code)
  simrec-py zarr / hdf5     simrec's Python package
  zarr-python / h5py        used the way SimRecorder uses them (LMDBStore,
                            blosclz level 9 bit-shuffle, its chunk rule;
                            h5py libver latest, lzf, resize per record, SWMR)
  SimRecorder zarr / hdf5   SimRecorder itself, with --simrecorder SRC

It prints medians of the rounds: total write, mean write (one record call),
mean slice read, whole read (seconds) and size on disk (MB); then the
ratios of each peer's figure to simrec's (above 1: simrec is faster or
smaller).

  run_seed.py --build BUILD --n 4 [--rounds 3] [--dir DIR]
              [--simrecorder SRC --peers DIR_WITH_h5py_cache]

Not a test: timings depend on the machine and its load."""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

KEY = "train/what"
SHAPE = [10, 10000, 200]  # --rows sets SHAPE[1]
CHUNK_MB = 0.1  # SimRecorder's benchmarks ask for 0.1 MiB chunks
PHASES = ("write", "slice", "whole")
# URI parameters of a variant (a read-only open keeps the stored codec)
PARAMS = {"simrec-c zarr bit": "?shuffle=bit"}
COLUMNS = ("write_s", "mean_write_s", "slice_s", "whole_s", "size_MB")


# ---- workers: one method, one phase, in a process of its own -----------

def shape():
    return tuple(SHAPE)


def arrays(n):
    rng = np.random.default_rng(42)
    return [rng.random(shape()) for _ in range(n)]


def slices(n):
    rng = np.random.default_rng(7)
    return [(int(rng.integers(SHAPE[0])), int(rng.integers(SHAPE[1])))
            for _ in range(20)]


def seed_chunks(shape):
    """SimRecorder's _get_chunk_size (4-byte elements assumed)."""
    total = CHUNK_MB * 1024 ** 2 / 4
    if np.prod(shape) * 4 <= CHUNK_MB * 1024 ** 2:
        return (1,) + tuple(shape)
    cum = total / shape[-1]
    out = [1]
    nd = len(shape)
    for i in range(nd - 1):
        s = int(np.floor(min(shape[i], cum ** (1 / (nd - i - 1)))))
        cum /= s
        out.append(s)
    return tuple(out + [shape[-1]])


class Py:
    """open_write(path) -> record(a) ... close(); open_read(path) -> array
    that slices like numpy."""

    def __init__(self, method):
        self.method = method

    def open_write(self, path):
        m = self.method
        if m.startswith("simrec-py"):
            import simrec
            scheme = m.split()[1]
            self.r = simrec.Recorder("%s:%s" % (scheme, path), mode="w")
            self.record = lambda a: self.r.record(KEY, a)
            self.close = self.r.close
        elif m.startswith("SimRecorder"):
            from simrecorder import Recorder, ZarrDataStore, HDF5DataStore
            b = CHUNK_MB * 1024 ** 2
            self.ds = (ZarrDataStore(path, desired_chunk_size_bytes=b)
                       if "zarr" in m else
                       HDF5DataStore(path, desired_chunk_size_bytes=b))
            self.r = Recorder(self.ds)
            self.i = 0

            def rec(a):
                self.r.record(KEY, a)
                if self.i == 0 and "hdf5" in m:
                    self.ds.enable_swmr()  # as time_hdf5.py does
                self.i += 1
            self.record = rec
            self.close = self.r.close
        elif m == "zarr-python":
            import zarr
            from numcodecs import Blosc
            self.store = zarr.LMDBStore(path)
            self.g = zarr.group(store=self.store, overwrite=True)
            comp = Blosc(cname="blosclz", clevel=9, shuffle=Blosc.BITSHUFFLE)

            def rec(a):
                d = self.g.get(KEY)
                if d is None:
                    self.g.create_dataset(KEY, data=a[None], compressor=comp,
                                          chunks=seed_chunks(a.shape))
                else:
                    d.resize(d.shape[0] + 1, *d.shape[1:])
                    d[-1, ...] = a
                    self.store.flush()
            self.record = rec
            self.close = self.store.close
        elif m == "h5py":
            import h5py
            self.f = h5py.File(path, "w", libver="latest")
            self.i = 0

            def rec(a):
                d = self.f.get(KEY)
                if d is None:
                    self.f.create_dataset(
                        KEY, data=a[None], maxshape=(None,) + a.shape,
                        compression="lzf", chunks=seed_chunks(a.shape))
                    self.f.swmr_mode = True
                else:
                    d.resize(d.shape[0] + 1, axis=0)
                    d[-1, ...] = a
                    d.flush()
            self.record = rec
            self.close = self.f.close
        else:
            raise SystemExit("unknown method %r" % m)

    def open_read(self, path):
        m = self.method
        if m.startswith("simrec-py"):
            import simrec
            self.r = simrec.Recorder("%s:%s" % (m.split()[1], path),
                                     mode="r")
            return self.r.get_all(KEY)
        if m.startswith("SimRecorder"):
            from simrecorder import Recorder, ZarrDataStore, HDF5DataStore
            b = CHUNK_MB * 1024 ** 2
            ds = (ZarrDataStore(path, desired_chunk_size_bytes=b)
                  if "zarr" in m else
                  HDF5DataStore(path, desired_chunk_size_bytes=b))
            self.r = Recorder(ds)
            return self.r.get_all(KEY)
        if m == "zarr-python":
            import zarr
            self.r = zarr.LMDBStore(path)
            return zarr.open_group(self.r, mode="r")[KEY]
        import h5py
        self.r = h5py.File(path, "r", libver="latest", swmr=True)
        return self.r[KEY]


def worker(method, phase, path, n):
    p = Py(method)
    if phase == "write":
        data = arrays(n)  # made before the clock starts, as in the seed
        total = sum(float(a.sum()) for a in data)
        p.open_write(path)
        times = []
        t0 = time.perf_counter()
        for a in data:
            s = time.perf_counter()
            p.record(a)
            times.append(time.perf_counter() - s)
        p.close()
        out = {"write_s": time.perf_counter() - t0,
               "mean_write_s": float(np.mean(times)), "sum": total}
    else:
        ds = p.open_read(path)
        if phase == "slice":
            times = []
            for b, t in slices(n):
                s = time.perf_counter()
                np.array(ds[:n // 2, b, t, :])
                times.append(time.perf_counter() - s)
            out = {"slice_s": float(np.mean(times)), "sum": 0.0}
        else:
            s = time.perf_counter()
            a = np.array(ds)
            out = {"whole_s": time.perf_counter() - s,
                   "sum": float(a.sum())}
            assert a.shape == (n,) + shape(), a.shape
        p.r.close()
    print(json.dumps(out))


# ---- driver --------------------------------------------------------------

def drop_caches(path, state):
    """Drop the page cache (as root); else, or with --no-drop, evict the
    store's files alone."""
    subprocess.run(["sync"], check=True)
    try:
        if state.get("no_drop"):
            raise OSError("--no-drop")
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return
    except OSError as e:
        if not state.get("warned"):
            print("note: page cache not dropped (%s): evicting the "
                  "store's files with posix_fadvise instead" % e)
            state["warned"] = True
    if not os.path.exists(path):
        return  # before the write: nothing to evict
    for root, _, files in os.walk(path) if os.path.isdir(path) else \
            [(os.path.dirname(path), None, [os.path.basename(path)])]:
        for f in files:
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def du(path):
    if not os.path.exists(path):
        return 0
    out = subprocess.run(["du", "-sk", path], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0]) * 1024


def run_phase(args, method, phase, path):
    env = dict(os.environ)
    if method.startswith("simrec-c"):
        scheme = method.split()[1]
        cmd = [os.path.join(args.build, "bench", "bench_seed"),
               "%s:%s%s" % (scheme, path, PARAMS.get(method, "")),
               str(args.n), phase,
               str(args.rows)]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker",
               method, phase, path, str(args.n), str(args.rows)]
        env["SIMREC_LIBRARY"] = os.path.join(args.build, "src",
                                             "libsimrec.so")
        here = os.path.dirname(os.path.abspath(__file__))
        extra = [os.path.join(here, "..", "python")]
        if args.simrecorder:
            extra += [args.simrecorder, args.peers]
        env["PYTHONPATH"] = os.pathsep.join(
            extra + [env.get("PYTHONPATH", "")])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=args.timeout)
    if r.returncode:
        raise SystemExit("%s %s failed:\n%s" % (method, phase,
                                                r.stderr[-2000:]))
    return json.loads(r.stdout.strip().splitlines()[-1])


def methods(args):
    ms = ["simrec-c zarr", "simrec-py zarr", "simrec-c zarr bit",
          "simrec-c hdf5", "simrec-py hdf5", "zarr-python", "h5py"]
    if args.simrecorder:
        ms += ["SimRecorder zarr", "SimRecorder hdf5"]
    if args.only:
        ms = [m for m in ms if m in args.only.split(",")]
    return ms


def measure(args):
    rows = {m: {c: [] for c in COLUMNS} for m in methods(args)}
    state = {"no_drop": args.no_drop}
    rng = random.Random(args.seed)
    for rnd in range(args.rounds):
        print("round %d, load average %s" % (
            rnd + 1, " ".join("%.2f" % x for x in os.getloadavg())),
            flush=True)
        # a fresh order every round: a method never always follows the
        # same one (whose deleted store, dirty pages or freed memory the
        # kernel may still be settling)
        order = list(rows)
        rng.shuffle(order)
        for m in order:
            ext = ".h5" if "hdf5" in m or m == "h5py" else ".zarr"
            path = os.path.join(args.dir, m.replace(" ", "_") + ext)
            if "SimRecorder zarr" == m or m == "zarr-python":
                path = os.path.join(path, "data.mdb")  # as time_zarr.py
            top = os.path.dirname(path) if path.endswith("data.mdb") \
                else path
            shutil.rmtree(top, ignore_errors=True)
            if os.path.isfile(top):
                os.remove(top)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            sums = []
            for ph in PHASES:
                drop_caches(top, state)
                out = run_phase(args, m, ph, path)
                for k, v in out.items():
                    if k in rows[m]:
                        rows[m][k].append(v)
                if ph != "slice":
                    sums.append(out["sum"])
            rows[m]["size_MB"].append(du(top) / 1e6)
            if abs(sums[0] - sums[1]) > 1e-9 * abs(sums[0]):
                raise SystemExit("%s: read back sum %r, wrote %r"
                                 % (m, sums[1], sums[0]))
            shutil.rmtree(top, ignore_errors=True)
            if os.path.isfile(top):
                os.remove(top)
            print("  %-18s %s" % (m, "  ".join(
                "%s=%.4g" % (c, rows[m][c][-1]) for c in COLUMNS)),
                flush=True)
    return {m: {c: statistics.median(v) for c, v in r.items()}
            for m, r in rows.items()}


def report(med, args):
    print("\nN = %d (%.2f GB), medians of %d, load average after: %s"
          % (args.n, args.n * np.prod(shape()) * 8 / 1e9, args.rounds,
             " ".join("%.2f" % x for x in os.getloadavg())))
    print("| method | write s | mean write s | slice read s | "
          "whole read s | size MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for m, r in med.items():
        print("| %s | %.3f | %.4f | %.5f | %.3f | %.1f |" % (
            m, r["write_s"], r["mean_write_s"], r["slice_s"], r["whole_s"],
            r["size_MB"]))
    peers = [m for m in med if m.startswith("SimRecorder")
             or m in ("zarr-python", "h5py")]
    ours = [m for m in med if m.startswith("simrec")]
    if not peers or not ours:
        return
    print("\nratios peer / simrec (above 1: simrec faster or smaller)")
    print("| simrec | peer | " + " | ".join(COLUMNS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in COLUMNS) + " |")
    for o in ours:
        for p in peers:
            print("| %s | %s | %s |" % (o, p, " | ".join(
                "%.2f" % (med[p][c] / med[o][c]) if med[o][c] else "-"
                for c in COLUMNS)))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, method, phase, path, n, rows = sys.argv
        SHAPE[1] = int(rows)
        return worker(method, phase, path, int(n))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="simrec's build tree")
    ap.add_argument("--n", type=int, default=4, help="records (16 MB each)")
    ap.add_argument("--rows", type=int, default=10000,
                    help="the middle extent of a record (the seed's 10000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the per-round method order")
    ap.add_argument("--dir", default="seed-runs",
                    help="where the stores go (one disk)")
    ap.add_argument("--simrecorder", help="SimRecorder's source folder")
    ap.add_argument("--peers", default="",
                    help="folder with h5py_cache.py (SimRecorder's HDF5)")
    ap.add_argument("--only", help="comma-separated methods")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-drop", action="store_true",
                    help="evict the store's files, not the whole page cache")
    args = ap.parse_args()
    SHAPE[1] = args.rows
    os.makedirs(args.dir, exist_ok=True)
    args.dir = os.path.abspath(args.dir)
    report(measure(args), args)


if __name__ == "__main__":
    main()
