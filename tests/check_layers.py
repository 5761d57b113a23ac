#!/usr/bin/env python3
"""The arrows of src/ only point down.

Reads the object files of libsimrec (nm: symbols each file defines and
uses), draws file -> file arrows for every call or reference between two
files, and checks (1) that the file graph has no cycle and (2) that every
arrow between folders goes down the layer order below.

    check_layers.py OBJECT_DIR SOURCE_DIR

Objects whose source file no longer exists (left in an old build
directory) are ignored.
"""
import os
import subprocess
import sys

# top to bottom; a folder may use itself and any folder after it
LAYERS = ["mpi", "core", "store", "lock", "redis", "codec", "common"]


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True,
                         text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True,
                         check=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, used


def main():
    root, srcdir = sys.argv[1], sys.argv[2]
    objs = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".c.o"):
                rel = os.path.relpath(os.path.join(d, f), root)[:-2]
                if os.path.exists(os.path.join(srcdir, rel)):
                    objs[rel] = os.path.join(d, f)
    if len(objs) < 10:
        sys.exit(f"only {len(objs)} object files under {root}")
    defs, uses = {}, {}
    for name, path in objs.items():
        defs[name], uses[name] = symbols(path)
    owner = {s: n for n, ds in defs.items() for s in ds}
    edges = {n: sorted({owner[s] for s in uses[n] if s in owner and owner[s] != n})
             for n in objs}
    bad = []
    for a, outs in edges.items():
        la = LAYERS.index(a.split("/")[0])
        for b in outs:
            lb = LAYERS.index(b.split("/")[0])
            if lb < la:
                bad.append(f"upward arrow {a} -> {b}")
    # cycle search (DFS)
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in edges[n]:
            if state.get(m) == 1:
                cyc = stack[stack.index(m):] + [m]
                bad.append("cycle " + " -> ".join(cyc))
            elif not state.get(m):
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if not state.get(n):
            visit(n)
    narrows = sum(len(v) for v in edges.values())
    for line in bad:
        print(line)
    if bad:
        sys.exit(1)
    print(f"layers: ok ({len(objs)} files, {narrows} arrows, no cycle, "
          f"none upward)")


main()
