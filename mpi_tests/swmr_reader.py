"""A reader that follows an HDF5 file written in SWMR mode:

    swmr_reader.py PATH FIFO h5py|simrec NRANKS [STEPS]

It waits for the writer's first flush (a line on FIFO), opens the file
(h5py.File(PATH, "r", swmr=True), or a simrec read-only recorder), then
reads continuously: between the writer's signals it refreshes and reads
every step it sees, with no synchronisation (to catch a torn state); at
each signal "k" (k steps flushed) it refreshes and checks that it sees at
least k steps. Every step it sees must equal the writer's formulas, the
extent never shrinks, and at "end" it must see STEPS steps; at the end of
the FIFO without "end" (a killed writer) the steps it sees must be whole.
Exit 0 only then."""
import os
import select
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from swmr_writer import value  # noqa: E402


class Follower:
    def __init__(self, path, how, nranks):
        self.how, self.nranks = how, nranks
        self.seen, self.whole = 0, 0  # largest extent; steps checked whole
        self.checks, self.shapes = 0, set()
        if how == "h5py":
            import h5py
            self.f = h5py.File(path, "r", swmr=True)
        else:
            import simrec
            self.f = simrec.Recorder("hdf5:" + path, mode="r")

    def read(self, key):
        if self.how == "h5py":
            ds = self.f[key]
            ds.refresh()
            return ds.shape[0], lambda a, b: ds[a:b]
        ds = self.f.get_all(key)
        return ds.shape[0], lambda a, b: ds[a:b]

    def check(self, at_least=0):
        """Refresh, and check every step not yet checked whole (and the
        last one again: a rewritten partial chunk)."""
        n, rd = self.read("f/T")
        m, rdn = self.read("f/n")
        assert n >= self.seen, "extent shrank from %d to %d" % (self.seen, n)
        assert n >= at_least, "%d steps flushed, %d seen" % (at_least, n)
        a = max(0, self.whole - 1)
        got = rd(a, n)
        for s in range(a, n):
            assert np.array_equal(got[s - a], value(s)), \
                "step %d of %d of f/T is not whole" % (s, n)
        want = np.arange(m)[:, None] * 10 + np.arange(self.nranks)[None, :]
        got = np.asarray(rdn(0, m)).reshape(m, -1)
        assert np.array_equal(got, want), "f/n is not whole (%d)" % m
        self.seen, self.whole = n, n
        self.checks += 1
        self.shapes.add(n)
        return n


def main():
    path, fifo, how, nranks = sys.argv[1:5]
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else None
    fd = os.open(fifo, os.O_RDONLY)
    buf = b""
    while b"\n" not in buf:  # the writer's first flush
        chunk = os.read(fd, 64)
        assert chunk, "the writer ended before its first flush"
        buf += chunk
    r = Follower(path, how, int(nranks))
    synced, ended, eof = 0, False, False
    while not ended and not eof:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line == b"end":
                ended = True
                break
            r.check(at_least=int(line))
            synced += 1
        if ended:
            break
        ready, _, _ = select.select([fd], [], [], 0.002)
        if ready:
            chunk = os.read(fd, 4096)
            eof = not chunk
            buf += chunk
        else:
            r.check()  # unsynchronised: whatever the file shows now
    n = r.check()
    if ended and steps is not None:
        assert n == steps, "the writer ended with %d steps, %d seen" % (
            steps, n)
    print("%s reader: %d steps whole at the end (%s), %d checks (%d at "
          "a flush signal), %d distinct extents" % (
              how, n, "writer ended" if ended else "writer gone",
              r.checks, synced, len(r.shapes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
