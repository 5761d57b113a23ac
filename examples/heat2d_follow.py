#!/usr/bin/python3
"""Follow a running heat2d (examples/heat2d.c) and keep a running
diagnostic of its temperature field:

    heat2d_follow.py STORE [--png-every N] [--png-dir DIR] [--timeout S]

For each snapshot of heat/T as soon as heat2d commits it, one line:

    RECORD STEP mean=... max=... heat=... drift=... change=...

RECORD is the snapshot's index in heat/T, STEP the simulation step (heat2d
records every EVERY steps, the attribute heat.every); mean and max of the
field; heat, the field's sum (the total heat: heat2d's insulated borders
conserve it); drift, heat minus the first snapshot's heat (rounding only);
change, the L2 norm of the field minus the previous snapshot (0 for the
first). Numbers are printed in full (%.17g), so a check can recompute them.

Every N-th snapshot (record index a multiple of N, default 5) and the last
one are drawn by `simrec png` into DIR/T_RECORD.png (default: the current
directory): an image of the field, replaced atomically, that a viewer can
reload. The command is found in the directory SIMREC_BIN, else on PATH.

The follower holds no lock and never sees half a step; it waits on a
notification (inotify, redis pub/sub), not in a busy loop, and ends when
heat2d closes the store: exit 0. --timeout S gives up when no snapshot
comes within S seconds (a simulation killed by a signal never closes its
store): exit 4. Any other failure: exit 1.

The store must exist when the follower starts: start it once heat2d has
opened the store, or (a follower started first, as in a batch job) give
heat2d a store created empty beforehand, e.g. for zarr+dir: a directory
holding only the file .zgroup with {"zarr_format": 2}.

Needs the simrec Python package (PYTHONPATH; SIMREC_LIBRARY for a build
tree's libsimrec) and numpy.
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

import simrec

KEY = "heat/T"


def parse_args(argv):
    p = argparse.ArgumentParser(description="Follow a running heat2d.")
    p.add_argument("store", help="the store URI heat2d writes")
    p.add_argument("--png-every", type=int, default=5, metavar="N",
                   help="draw every N-th snapshot (and the last one)")
    p.add_argument("--png-dir", default=".", metavar="DIR")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds to wait for each snapshot (default: "
                        "forever)")
    a = p.parse_args(argv)
    if a.png_every < 1:
        p.error("--png-every must be at least 1")
    return a


def simrec_command():
    bindir = os.environ.get("SIMREC_BIN")
    cmd = os.path.join(bindir, "simrec") if bindir else shutil.which("simrec")
    if not cmd:
        sys.exit("heat2d_follow: no simrec command (set SIMREC_BIN or PATH)")
    return cmd


def draw(cmd, store, record, png_dir):
    """Snapshot `record` of heat/T into png_dir/T_RECORD.png."""
    out = os.path.join(png_dir, "T_%05d.png" % record)
    r = subprocess.run([cmd, "png", store, "%s[%d]" % (KEY, record), out],
                       stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError("simrec png of record %d exited %d"
                           % (record, r.returncode))


class Diagnostic:
    """The running diagnostic: what each snapshot's line says."""

    def __init__(self):
        self.first_heat = None
        self.prev = None

    def line(self, record, step, T):
        heat = T.sum()
        if self.first_heat is None:
            self.first_heat = heat
        change = 0.0 if self.prev is None else \
            np.sqrt(((T - self.prev) ** 2).sum())
        self.prev = T
        return ("%d %d mean=%.17g max=%.17g heat=%.17g drift=%.17g "
                "change=%.17g" % (record, step, T.mean(), T.max(), heat,
                                  heat - self.first_heat, change))


def follow(rec, a, cmd):
    diag = Diagnostic()
    every = None  # heat.every: set by heat2d before its first snapshot
    last = None
    for i, T in rec.follow(KEY, timeout=a.timeout):
        if every is None:
            every = int(rec.attributes("heat").get("every", 1))
        print(diag.line(i, i * every, T), flush=True)
        if i % a.png_every == 0:
            draw(cmd, a.store, i, a.png_dir)
        last = i
    # the writer finished: draw its last snapshot too
    if last is not None and last % a.png_every != 0:
        draw(cmd, a.store, last, a.png_dir)


def main(argv):
    a = parse_args(argv)
    cmd = simrec_command()
    os.makedirs(a.png_dir, exist_ok=True)
    try:
        with simrec.Recorder(a.store, mode="r") as rec:
            print("following %s in %s" % (KEY, rec.uri), flush=True)
            follow(rec, a, cmd)
    except simrec.TimedOutError as e:
        print("heat2d_follow: no new snapshot in time: %s" % e,
              file=sys.stderr)
        return 4
    except (simrec.Error, RuntimeError, OSError) as e:
        print("heat2d_follow: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
