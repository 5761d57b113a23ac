#!/usr/bin/env python3
"""The arrows of src/ only point down.

Reads the object files of libsimrec and of the simrec tool (nm: symbols
each file defines and uses), draws file -> file arrows for every call or
reference between two files, and checks
(1) that the file graph has no cycle,
(2) that every arrow between folders goes down the layer order below,
(3) that a store's own folder (store/NAME/) calls only itself, the
    generic store layer (the files directly in store/) and the folders
    below store/: never another store's folder,
(4) that the tool (cli/) calls the library only through the public API
    (simrec_* functions of include/simrec.h) and its own copies of a few
    common/ files.

    check_layers.py OBJECT_DIR SOURCE_DIR

OBJECT_DIR is the library's (CMakeFiles/simrec.dir); the tool's objects
are read from its sibling simrec_cli.dir. Objects whose source file no
longer exists (left in an old build directory) are ignored.
"""
import os
import subprocess
import sys

# top to bottom; a folder may use itself and any folder after it
LAYERS = ["cli", "mpi", "core", "store", "lock", "redis", "codec", "common"]


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True,
                         text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True,
                         check=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, used


def objects(root, srcdir, tag=""):
    objs = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".c.o"):
                rel = os.path.relpath(os.path.join(d, f), root)[:-2]
                if os.path.exists(os.path.join(srcdir, rel)):
                    objs[tag + rel] = os.path.join(d, f)
    return objs


def layer(name):
    return LAYERS.index(name.split(":")[-1].split("/")[0])


def store_room(name):
    """store/NAME for a file of a store's own folder, else None."""
    parts = name.split("/")
    if parts[0] == "store" and len(parts) > 2:
        return "/".join(parts[:2])
    return None


def room_arrows(edges):
    bad = []
    for a, outs in edges.items():
        ra = store_room(a)
        for b in outs:
            rb = store_room(b)
            if rb and rb != ra and (ra or a.split("/")[0] != "store"
                                    or not a.endswith("registry.c")):
                bad.append(f"arrow into another store's folder {a} -> {b}")
    return bad


def cli_arrows(root, srcdir, owner):
    """The tool's files use the library only through simrec_* symbols."""
    cli = objects(os.path.join(os.path.dirname(root), "simrec_cli.dir"),
                  srcdir)
    if not any(n.startswith("cli/") for n in cli):
        return [f"no object of cli/ next to {root}"], 0, {}
    own = {}
    for n, p in cli.items():
        for s in symbols(p)[0]:
            own[s] = n
    bad, narrows, edges = [], 0, {}
    for n, p in cli.items():
        if not n.startswith("cli/"):
            continue
        edges[n] = set()
        for s in symbols(p)[1]:
            if s in own:
                narrows += own[s] != n
                if own[s] != n and own[s].startswith("cli/"):
                    edges[n].add(own[s])
            elif s in owner:
                narrows += 1
                if not s.startswith("simrec_"):
                    bad.append(f"cli file {n} uses the library's private "
                               f"{s} ({owner[s]})")
    return bad, narrows, {n: sorted(v) for n, v in edges.items()}


def main():
    root, srcdir = sys.argv[1], sys.argv[2]
    objs = objects(root, srcdir)
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
        la = layer(a)
        for b in outs:
            lb = layer(b)
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
    bad += room_arrows(edges)
    cli_bad, cli_narrows, cli_edges = cli_arrows(root, srcdir, owner)
    bad += cli_bad
    edges.update(cli_edges)  # the tool's own files: no cycle either
    narrows = sum(len(v) for v in edges.values())
    for line in bad:
        print(line)
    if bad:
        sys.exit(1)
    print(f"layers: ok ({len(objs)} files, {narrows} arrows, no cycle, "
          f"none upward, no store calls another's folder; cli: "
          f"{cli_narrows} arrows, public API only)")


main()
