"""HDF5 SWMR (?swmr=1): a writer appends while readers follow the file.

    swmr_follow.py serial|mpi|kill|refused MPIEXEC PYTHON SIMREC_CLI TMPDIR

serial: one writer process, deflate-compressed chunks (rewritten to a new
place at every flush), read by two h5py SWMR readers and one simrec
reader. mpi: mpiexec -n 3 with one writer rank (SIMREC_WRITERS=1), two
h5py readers. Each reader (swmr_reader.py) sees only whole steps, every
one by the end. kill: the writer is killed with SIGKILL after its 8th
flush, while it keeps writing; the readers end at the end of their FIFO
with whole steps; afterwards h5py (swmr=True) and simrec read at least 8
whole steps and `simrec verify` finds the file whole. refused: ?swmr=1
with three writer ranks is refused on every rank. Every process must exit
0; the readers and the writer are synchronised by FIFOs only."""
import os
import signal
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from swmr_writer import value  # noqa: E402

mode, mpiexec, py, cli, tmp = sys.argv[1:6]
tmp = os.path.join(tmp, "swmr_" + mode)
os.makedirs(tmp, exist_ok=True)
path = os.path.join(tmp, "run.h5")
for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
WAIT = 150


def fifo(name):
    p = os.path.join(tmp, name)
    os.mkfifo(p)
    return p


def reader(f, how, nranks, steps):
    return subprocess.Popen([py, os.path.join(HERE, "swmr_reader.py"), path,
                             f, how, str(nranks)] + (
                                 [str(steps)] if steps else []))


def writer(uri, steps, fifos, np_=1, extra=(), env=None):
    cmd = [py, os.path.join(HERE, "swmr_writer.py"), uri, str(steps)] + \
        fifos + list(extra)
    if np_ > 1:
        cmd = [mpiexec, "-n", str(np_)] + cmd + ["--mpi"]
    return subprocess.Popen(cmd, env=dict(os.environ, **(env or {})))


def wait_all(procs, what):
    bad = []
    for p in procs:
        try:
            rc = p.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        if rc != 0:
            bad.append((p.args[:4], rc))
    assert not bad, "%s: processes failed: %s" % (what, bad)


def check_after_kill(at_least):
    import h5py
    with h5py.File(path, "r", swmr=True) as f:
        n = f["f/T"].shape[0]
        assert n >= at_least, (n, at_least)
        for s in range(n):
            assert np.array_equal(f["f/T"][s], value(s)), s
        k = f["f/n"].shape[0]
        assert k >= at_least, (k, at_least)
        assert np.array_equal(f["f/n"][:].reshape(k), np.arange(k) * 10)
    import simrec
    with simrec.Recorder("hdf5:" + path, mode="r") as rec:
        t = rec.get_all("f/T")
        assert t.shape[0] == n, (t.shape, n)
        assert np.array_equal(t[:], np.stack([value(s) for s in range(n)]))
    v = subprocess.run([cli, "verify", "hdf5:" + path], capture_output=True,
                       text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    print("after SIGKILL: %d whole steps (h5py swmr=True, simrec, "
          "simrec verify)" % n)


def main():
    uri = "hdf5:%s?swmr=1" % path
    if mode == "refused":
        w = writer(uri, 1, [], 3, ["--refused"], {"SIMREC_WRITERS": "3"})
        wait_all([w], "refused")
        return 0
    if mode == "serial":
        fs = [fifo("r%d" % i) for i in range(3)]
        rs = [reader(fs[0], "h5py", 1, 100), reader(fs[1], "h5py", 1, 100),
              reader(fs[2], "simrec", 1, 100)]
        w = writer(uri + "&codec=deflate", 100, fs)
        wait_all([w] + rs, "serial")
        return 0
    if mode == "mpi":
        fs = [fifo("r%d" % i) for i in range(2)]
        rs = [reader(f, "h5py", 3, 30) for f in fs]
        w = writer(uri, 30, fs, 3, env={"SIMREC_WRITERS": "1"})
        wait_all([w] + rs, "mpi")
        return 0
    # kill: the writer goes on writing after the flush it is killed at
    fs = [fifo("r%d" % i) for i in range(2)]
    rs = [reader(f, "h5py", 1, None) for f in fs]
    mine = fifo("harness")
    w = writer(uri, 100000, fs + [mine])
    seen = 0
    with open(mine) as sig:
        for line in sig:
            seen = int(line)
            if seen >= 8:
                w.send_signal(signal.SIGKILL)
                break
    assert w.wait(timeout=WAIT) == -signal.SIGKILL
    wait_all(rs, "readers of a killed writer")
    check_after_kill(seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
