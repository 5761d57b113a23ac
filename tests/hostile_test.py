"""Crafted hostile stores, one row per class of bad input: each must give
the exact SIMREC_E* status with a message naming the key or file, no
crash and no hang, and `simrec cat` / `simrec verify` must exit non-zero
with the message on stderr (cat) or in the BAD or TORN line (verify).

    hostile_test.py PROBE SIMREC WORKDIR zarr|hdf5|redis

The redis rows write odd metadata and element headers with redis-cli into
the server named by SIMREC_REDIS_HOST (the ctest fixture's), and a lock
holder's id with terminal escapes. The zarr part also checks that names
with control bytes print escaped (terminal_rows) and that a writer killed
in the middle of a zarr+dir simrec_set leaves the old value whole
(set_killed), and that directories without metadata by the hundred
thousand are each listed once (many_orphan_rows)."""
import json
import os
import shutil
import struct
import subprocess
import sys

probe, simrec, work, part = sys.argv[1:5]
# a hang, not a speed test: generous for a loaded machine (the rows take
# a second or less each when the machine is quiet)
TIMEOUT = 120
failures = []


def run(*args, stdin=None):
    try:
        p = subprocess.run(list(args), capture_output=True, timeout=TIMEOUT,
                           input=stdin)
    except subprocess.TimeoutExpired:
        print("timed out after %d s: %s" % (TIMEOUT, " ".join(map(str, args))),
              file=sys.stderr)
        return None
    return p


# The command line's refusal of bad data is exit 1 (docs/cli.md) with the
# message; anything else is a crash: a signal (negative), a sanitizer's
# exit code (tools/test.sh: ASan 23, UBSan 24), usage (2), or a report on
# stderr that a sanitizer made without changing the exit code.
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
             "ThreadSanitizer")


def refused(p, needle):
    """p exited 1, named needle, and no sanitizer spoke."""
    if p is None or p.returncode != 1:
        return False
    text = (p.stdout + p.stderr).decode(errors="replace")
    return needle in text and not any(s in text for s in SANITIZER)


def cli_refused(name, args, needle):
    """A command (args) refused: exit 1, needle named."""
    q = run(*args)
    if not refused(q, needle):
        failures.append(f"{name}: rc={q.returncode if q else 'hung'} "
                        f"{(q.stdout + q.stderr)[:300] if q else ''}")
    else:
        print(f"{name}: refused, ok")


def check(name, uri, key, status, needle, cli=True):
    p = run(probe, uri, key)
    if p is None:
        failures.append(f"{name}: probe hung")
        return
    out = p.stdout.decode(errors="replace").strip()
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or not out.startswith(status + ":") or \
            needle not in out + err or any(s in err for s in SANITIZER):
        failures.append(f"{name}: probe rc={p.returncode} got '{out}' "
                        f"stderr '{p.stderr.decode(errors='replace')}', "
                        f"want {status} naming '{needle}'")
        return
    if not cli or status == "OK":
        return
    c = run(simrec, "cat", uri, key, "--max", "1000000000")
    if not refused(c, needle) or needle not in c.stderr.decode(
            errors="replace"):
        failures.append(f"{name}: simrec cat rc="
                        f"{c.returncode if c else 'hung'} stderr "
                        f"'{c.stderr.decode(errors='replace') if c else ''}'")
    v = run(simrec, "verify", uri)
    if not refused(v, needle):
        failures.append(f"{name}: simrec verify rc="
                        f"{v.returncode if v else 'hung'} output "
                        f"'{(v.stdout + v.stderr).decode(errors='replace') if v else ''}'")
    else:
        print(f"{name}: {status} ok")


def peak_rss(*args):
    """(exit status, stdout, peak resident KiB) of a command."""
    p = subprocess.Popen(list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out, ru.ru_maxrss


def export_bounded(name, src, needle):
    """simrec export of src refused (exit 1, needle named) before it
    writes: the destination is one HDF5 file, allowed 64 MiB (a writer
    past it is killed by SIGXFSZ, so a run of code that copies the fill
    cannot fill the disk)."""
    import resource
    out = os.path.join(work, name.replace(" ", "_") + "_out.h5")
    if os.path.exists(out):
        os.unlink(out)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    try:
        p = subprocess.run([simrec, "export", src, "hdf5:" + out],
                           capture_output=True, timeout=TIMEOUT,
                           preexec_fn=limit)
    except subprocess.TimeoutExpired:
        p = None
    size = os.path.getsize(out) if os.path.exists(out) else 0
    if not refused(p, needle) or size > 1 << 20:
        failures.append(f"{name}: export rc={p.returncode if p else 'hung'}"
                        f" wrote {size} bytes: "
                        f"{p.stderr[:300] if p else ''}")
    else:
        print(f"{name}: export refused, {size} bytes written, ok")
    if os.path.exists(out):
        os.unlink(out)


def check_big(name, uri, key, needle):
    """A file far over its bound: SIMREC_EFORMAT naming it and saying its
    size is past the bound, with the probe's memory under 512 MiB."""
    rc, out, kib = peak_rss(probe, uri, key)
    if rc != 0 or not out.startswith(b"SIMREC_EFORMAT:") or \
            b"more than the" not in out or kib > 512 * 1024:
        failures.append(f"{name}: probe rc={rc} peak {kib} KiB "
                        f"printed {out[:300]!r}")
    else:
        print(f"{name}: refused by its size, peak {kib // 1024} MiB")
    check(name, uri, key, "SIMREC_EFORMAT", needle)


# ---- zarr directory and LMDB stores ------------------------------------

def zarray(**over):
    m = {"chunks": [4], "compressor": None, "dtype": "<f8",
         "fill_value": 0.0, "filters": None, "order": "C", "shape": [4],
         "zarr_format": 2}
    m.update(over)
    for k in [k for k, v in m.items() if v == "DROP"]:
        del m[k]
    return json.dumps(m)


def make_dir(name, meta, chunks=None):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "x"))
    with open(os.path.join(d, ".zgroup"), "w") as f:
        f.write('{"zarr_format": 2}')
    if meta is not None:
        with open(os.path.join(d, "x", ".zarray"), "w") as f:
            f.write(meta)
    for k, v in (chunks or {}).items():
        with open(os.path.join(d, "x", k), "wb") as f:
            f.write(v)
    return "zarr+dir:" + d


def zarr_rows():
    import numpy as np
    import zarr
    F = "x/.zarray"
    rows = [
        ("sizes wrap", zarray(shape=[3, 6148914691236517206],
                              chunks=[1, 1]), "EFORMAT"),
        ("chunks overflow", zarray(shape=[10],
                                   chunks=[2305843009213693953]), "EFORMAT"),
        ("order null", zarray(order=None), "EFORMAT"),
        ("order missing", zarray(order="DROP"), "EFORMAT"),
        ("order F", zarray(order="F"), "ENOTSUP"),
        ("shape wrong type", zarray(shape="4"), "EFORMAT"),
        ("negative shape", zarray(shape=[-1]), "EFORMAT"),
        ("zero chunk", zarray(chunks=[0]), "EFORMAT"),
        ("17 dimensions", zarray(shape=[1] * 17, chunks=[1] * 17), "EFORMAT"),
        ("zarr_format 3", zarray(zarr_format=3), "EFORMAT"),
        ("dtype wrong type", zarray(dtype=8), "EFORMAT"),
        ("dtype unknown", zarray(dtype="<c32"), "ENOTSUP"),
        ("NaN fill for int", zarray(dtype="<i4", fill_value="NaN"), "EFORMAT"),
        ("fill out of range", zarray(dtype="|u1", fill_value=300), "EFORMAT"),
        ("fill wrong type", zarray(fill_value=[1]), "EFORMAT"),
        ("unknown compressor", zarray(compressor={"id": "zstd", "level": 1}),
         "ENOTSUP"),
        ("compressor id not a string", zarray(compressor={"id": 5}),
         "EFORMAT"),
        ("blosc params wrong type", zarray(compressor={
            "id": "blosc", "cname": "lz4", "clevel": "5", "shuffle": 1}),
         "EFORMAT"),
        ("filters wrong type", zarray(filters="vlen"), "EFORMAT"),
        ("unknown filter", zarray(filters=[{"id": "delta"}]), "ENOTSUP"),
        ("filter without id", zarray(filters=[{"x": 1}]), "EFORMAT"),
        ("dimension_separator bad", zarray(dimension_separator="-"),
         "EFORMAT"),
        ("not an object", "[1, 2]", "EFORMAT"),
    ]
    check("compressor absent", make_dir("nocomp", zarray(
        compressor="DROP"), {"0": b"\0" * 32}), "x", "OK", "", cli=False)
    for name, meta, st in rows:
        check(name, make_dir(name.replace(" ", "_"), meta), "x",
              "SIMREC_" + st, F)

    # chunks: raw chunk of the wrong size, blosc frames whose header lies
    check("raw chunk short", make_dir("rawshort", zarray(),
                                      {"0": b"\0" * 7}),
          "x", "SIMREC_EFORMAT", "x/0")
    import numcodecs
    blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)
    good = bytearray(blosc.encode(np.arange(1024, dtype="<f8")))
    bmeta = zarray(shape=[1024], chunks=[1024], compressor=blosc.get_config())
    ts = bytearray(good)
    ts[3] = 255  # typesize
    check("blosc typesize lie", make_dir("bts", bmeta, {"0": bytes(ts)}),
          "x", "SIMREC_EFORMAT", "x/0")
    nb = bytearray(good)
    nb[4:8] = struct.pack("<I", 8 * 1024 * 64)  # nbytes
    check("blosc nbytes lie", make_dir("bnb", bmeta, {"0": bytes(nb)}),
          "x", "SIMREC_EFORMAT", "x/0")
    cb = bytearray(good)
    cb[12:16] = struct.pack("<I", len(good) + 100)  # cbytes
    check("blosc cbytes lie", make_dir("bcb", bmeta, {"0": bytes(cb)}),
          "x", "SIMREC_EFORMAT", "x/0")
    check("blosc garbage", make_dir("bgb", bmeta, {"0": b"\x02" * 40}),
          "x", "SIMREC_EFORMAT", "x/0")
    vmeta = zarray(shape=[3], chunks=[3], dtype="|O",
                   filters=[{"id": "vlen-bytes"}], fill_value=0)
    check("vlen lengths lie", make_dir("vlen", vmeta, {
        "0": struct.pack("<II", 3, 1000) + b"abc"}), "x", "SIMREC_EFORMAT",
        "x/0")
    check("vlen count past the chunk", make_dir("vlenn", vmeta, {
        "0": struct.pack("<I", 0xffffffff) + bytes(16)}), "x",
        "SIMREC_EFORMAT", "x/0")
    umeta = zarray(shape=[1], chunks=[1], dtype="|O",
                   filters=[{"id": "vlen-utf8"}], fill_value=0)
    check("vlen-utf8 not UTF-8", make_dir("vlenu", umeta, {
        "0": struct.pack("<II", 1, 2) + b"a\xff"}), "x",
        "SIMREC_EFORMAT", "UTF-8")

    # a 3 GB .zarray, a 2 GiB chunk file (sparse): refused by their size,
    # before a byte is read (the probe's peak memory stays far below)
    d = make_dir("huge_meta", None)
    with open(os.path.join(work, "huge_meta", "x", ".zarray"), "wb") as f:
        f.truncate(3 * 10**9)
    check_big("3 GB .zarray", d, "x", "x/.zarray")
    d = make_dir("huge_chunk", zarray(), {"0": b""})
    with open(os.path.join(work, "huge_chunk", "x", "0"), "wb") as f:
        f.truncate(2 << 30)
    check_big("2 GiB chunk", d, "x", "x/0")
    d = make_dir("huge_blosc", bmeta, {"0": b""})
    with open(os.path.join(work, "huge_blosc", "x", "0"), "wb") as f:
        f.truncate(2 << 30)
    check_big("2 GiB blosc chunk", d, "x", "x/0")
    for n in ("huge_meta", "huge_chunk", "huge_blosc"):
        shutil.rmtree(os.path.join(work, n))

    # file-system entries
    d = make_dir("fifo", None)
    os.mkfifo(os.path.join(work, "fifo", "x", ".zarray"))
    check("FIFO .zarray", d, "x", "SIMREC_EFORMAT", "x/.zarray")
    d = make_dir("fifo_attrs", zarray())
    os.mkfifo(os.path.join(work, "fifo_attrs", "x", ".zattrs"))
    check("FIFO .zattrs", d, "x", "SIMREC_EFORMAT", "x/.zattrs")
    d = make_dir("link", None)
    with open(os.path.join(work, "link", "real"), "w") as f:
        f.write(zarray())
    os.symlink(os.path.join(work, "link", "real"),
               os.path.join(work, "link", "x", ".zarray"))
    check("symlinked .zarray", d, "x", "SIMREC_EFORMAT", "x/.zarray")
    d = make_dir("loops", zarray())
    os.symlink(".", os.path.join(work, "loops", "a"))
    os.symlink(".", os.path.join(work, "loops", "b"))
    os.symlink("..", os.path.join(work, "loops", "x", "up"))
    check("symlink loops (listing)", d, "", "OK", "", cli=False)
    v = run(simrec, "verify", d)
    # x has no chunk written: verify names it (exit 1); the point here is
    # that the links neither hang nor crash it
    if v is None or v.returncode not in (0, 1) or b"TORN  x" not in v.stdout:
        failures.append("symlink loops: verify hung or failed")

    # 2^40 steps and no chunk written: verify's list stays one line (the
    # torn steps as one range) and it reads nothing, allocates no list
    d = make_dir("big40", zarray(shape=[1 << 40], chunks=[1 << 24],
                                 dtype="|u1", fill_value=0))
    v = run(simrec, "verify", d)
    path = os.path.join(work, "big40")
    want = [f"TORN  x: steps 0-{(1 << 40) - 1} (chunk missing) of 'x' in "
            f"'{path}' are not whole (65536 bad chunk(s)); first bad chunk "
            "'x/0': chunk missing",
            f"      x: --repair keeps no step of {1 << 40} and drops steps "
            f"0-{(1 << 40) - 1} (records stay contiguous: it cuts at the "
            "first torn step)"]
    got = v.stdout.decode(errors="replace").splitlines() if v else []
    if v is None or v.returncode != 1 or got[:2] != want:
        failures.append(f"2^40 steps: verify rc={v.returncode if v else 'hung'}"
                        f" printed {got[:3]}")
    else:
        print("2^40 steps: verify ok")

    export_bounded("2^40 steps, zarr", d, "are not whole")

    # 2^40 steps of one step per chunk, none written: the check stops a
    # fixed number of chunks after the first bad one (it knows by then
    # what --repair keeps) and says where, rather than probe 2^40 chunks
    d = make_dir("big40one", zarray(shape=[1 << 40], chunks=[1],
                                    dtype="|u1", fill_value=0))
    v = run(simrec, "verify", d)
    n = 1 << 18  # SR_TORN_PROBES
    want = (f"TORN  x: steps 0-{n} (chunk missing) of 'x' in "
            f"'{os.path.join(work, 'big40one')}' are not whole ({n + 1} bad "
            f"chunk(s)); steps from {n + 1} on not examined (a check stops "
            f"{n} chunks after the first bad one); first bad chunk 'x/0': "
            "chunk missing")
    got = v.stdout.decode(errors="replace").splitlines() if v else []
    if v is None or v.returncode != 1 or got[:1] != [want]:
        failures.append(f"2^40 one-step chunks: verify rc="
                        f"{v.returncode if v else 'hung'} printed {got[:2]}")
    else:
        print("2^40 one-step chunks: verify stops, ok")

    # 2^40 steps whose chunk rows are alternately missing and short: at
    # most 8 ranges fit the TORN line, the rest is counted, and the
    # ranges listed plus the count are every step
    import re
    d = make_dir("big40alt", zarray(shape=[1 << 40], chunks=[1 << 24],
                                    dtype="|u1", fill_value=0),
                 {str(r): b"\0" * 7 for r in range(1, 40, 2)})
    v = run(simrec, "verify", d)
    got = v.stdout.decode(errors="replace").splitlines() if v else []
    torn = [x for x in got if x.startswith("TORN  x: steps ")]
    m = re.match(r"TORN  x: steps (.*), \.\.\. and (\d+) more step\(s\) of",
                 torn[0]) if torn else None
    ranges = re.findall(r"(\d+)(?:-(\d+))? \((chunk missing|chunk short)\)",
                        m.group(1)) if m else []
    listed = sum(int(b or a) - int(a) + 1 for a, b, _ in ranges)
    if v is None or v.returncode != 1 or not m or len(torn[0]) > 600 or \
            not 1 <= len(ranges) <= 8 or listed + int(m.group(2)) != 1 << 40:
        failures.append(f"2^40 alternating steps: verify printed {got[:3]}")
    else:
        print(f"2^40 alternating steps: {len(ranges)} ranges listed, ok")

    # truncated LMDB data.mdb (zarr-python's LMDBStore)
    p = os.path.join(work, "trunc.zarr")
    shutil.rmtree(p, ignore_errors=True)
    g = zarr.open_group(zarr.LMDBStore(p), mode="w")
    g.create_dataset("x", data=np.arange(200000.0), chunks=(1000,))
    g.store.close()
    with open(os.path.join(p, "data.mdb"), "r+b") as f:
        f.truncate(64 * 1024)
    check("truncated data.mdb", "zarr:" + p, "x", "SIMREC_EFORMAT",
          "data.mdb", cli=False)
    c = run(simrec, "cat", "zarr:" + p, "x")
    if not refused(c, "data.mdb") or b"data.mdb" not in c.stderr:
        failures.append("truncated data.mdb: cat did not fail cleanly")

    # an LMDB key holding a NUL byte: named, never hidden
    p = os.path.join(work, "nul.zarr")
    shutil.rmtree(p, ignore_errors=True)
    g = zarr.open_group(zarr.LMDBStore(p), mode="w")
    g.create_dataset("x", data=np.arange(4.0), chunks=(4,))
    g.store.close()
    import lmdb
    env = lmdb.open(p, subdir=True)
    with env.begin(write=True) as t:
        t.put(b"y\x00z/.zarray", zarray().encode())
    env.close()
    check("LMDB key with a NUL (listing)", "zarr:" + p, "", "SIMREC_EFORMAT",
          "y\\x00z/.zarray", cli=False)
    q = run(simrec, "ls", "zarr:" + p)
    if not refused(q, "holds a NUL byte") or b"x  float64" not in q.stdout:
        failures.append(f"LMDB key with a NUL: ls rc="
                        f"{q.returncode if q else 'hung'} "
                        f"{(q.stdout + q.stderr) if q else ''}")
    cli_refused("LMDB key with a NUL: verify", (simrec, "verify", "zarr:" + p),
                "holds a NUL byte")

    # dimension_separator "/": read as zarr-python does, append with it
    for kind in ("dir", "lmdb"):
        p = os.path.join(work, f"slash_{kind}.zarr")
        shutil.rmtree(p, ignore_errors=True)
        store = zarr.DirectoryStore(p, dimension_separator="/") \
            if kind == "dir" else zarr.LMDBStore(p, dimension_separator="/")
        g = zarr.open_group(store, mode="w")
        a = g.create_dataset("x", data=np.arange(12.0).reshape(3, 2, 2),
                             chunks=(2, 1, 2), dimension_separator="/")
        store.close() if kind == "lmdb" else None
        uri = ("zarr+dir:" if kind == "dir" else "zarr:") + p
        c = run(simrec, "cat", uri, "x")
        want = " ".join(f"{v:g}" for v in np.arange(12.0))
        got = " ".join(c.stdout.decode().split()) if c else ""
        if c is None or c.returncode != 0 or got.replace(".0", "") != \
                want.replace(".0", ""):
            failures.append(f"separator / ({kind}): cat gave '{got}'")
        a2 = run(probe, "append", uri, "x", "7")
        if a2 is None or a2.returncode != 0:
            failures.append(f"separator / ({kind}): append failed")
            continue
        store = zarr.DirectoryStore(p) if kind == "dir" else \
            zarr.LMDBStore(p, readonly=True, lock=False)
        z = zarr.open_group(store, mode="r")["x"]
        back = z[:]
        if back.shape != (4, 2, 2) or not (back[3] == 7).all() or \
                not (back[:3] == np.arange(12.0).reshape(3, 2, 2)).all():
            failures.append(f"separator / ({kind}): zarr-python reads "
                            f"{back.tolist()}")
        keys = list(store.keys())
        if any("." in k.split("/")[-1] and not k.split("/")[-1]
               .startswith(".") for k in keys):
            failures.append(f"separator / ({kind}): dotted chunk key in "
                            f"{keys}")
        if kind == "lmdb":
            store.close()
        print(f"separator / ({kind}): ok")


# ---- deep trees and long paths ---------------------------------------------

def deep_tree(name, depth, part=b"a"):
    """A zarr+dir store whose dataset x sits depth directories deep (made
    through directory descriptors: the path may be past PATH_MAX)."""
    d = os.path.join(work, name)
    subprocess.run(["rm", "-rf", d], check=True)  # shutil recurses
    os.makedirs(d)
    with open(os.path.join(d, ".zgroup"), "w") as f:
        f.write('{"zarr_format": 2}')
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir(part, dir_fd=fd)
        nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    for leaf, data in ((b"x", None), (b".zarray", zarray().encode()),
                       (b"0", struct.pack("<4d", 1, 2, 3, 4))):
        if data is None:
            os.mkdir(leaf, dir_fd=fd)
            nfd = os.open(leaf, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            continue
        w = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(w, data)
        os.close(w)
    os.close(fd)
    return d


def deep_rows():
    """The directory walk is iterative: 1,500 levels (a path of 3,000
    bytes, within PATH_MAX) list and read; 20,000 levels (past PATH_MAX:
    no open() can name the dataset) are refused naming the path, by the
    library and by ls, verify and export, never a stack overflow."""
    d = deep_tree("deep1500", 1500)
    key = "a/" * 1500 + "x"
    check("1,500 levels deep (listing)", "zarr+dir:" + d, "", "OK", "")
    c = run(simrec, "cat", "zarr+dir:" + d, key)
    if c is None or c.returncode != 0 or c.stdout.split() != \
            [b"1", b"2", b"3", b"4"]:
        failures.append(f"1,500 levels deep: cat rc="
                        f"{c.returncode if c else 'hung'} "
                        f"{c.stdout[:80] if c else ''}")
    v = run(simrec, "verify", "zarr+dir:" + d)
    if v is None or v.returncode != 0:
        failures.append(f"1,500 levels deep: verify rc="
                        f"{v.returncode if v else 'hung'}")
    d = deep_tree("deep20000", 20000)
    uri = "zarr+dir:" + d
    needle = "is nested too deep"
    check("20,000 levels deep (listing)", uri, "", "SIMREC_EFORMAT", needle,
          cli=False)
    out = os.path.join(work, "deep20000_out")
    shutil.rmtree(out, ignore_errors=True)
    for what, args in (("ls", (simrec, "ls", uri)),
                       ("verify", (simrec, "verify", uri)),
                       ("export", (simrec, "export", uri,
                                   "zarr+dir:" + out))):
        p = run(*args)
        if not refused(p, needle) or f"'{d}'".encode() not in \
                p.stdout + p.stderr:
            failures.append(f"20,000 levels deep: {what} rc="
                            f"{p.returncode if p else 'hung'} "
                            f"{(p.stdout + p.stderr)[:300] if p else ''}")
        else:
            print(f"20,000 levels deep: {what} refused, ok")
    subprocess.run(["rm", "-rf", d, os.path.join(work, "deep1500")],
                   check=True)


# ---- HDF5 files ---------------------------------------------------------

def h5file(name, build):
    import h5py
    import numpy as np
    p = os.path.join(work, name)
    if os.path.exists(p):
        os.unlink(p)
    with h5py.File(p, "w") as f:
        f["good"] = np.arange(4.0)
        build(f)
    return p


def refused_everywhere(name, uri, key, needle):
    """probe (listing "" and reading key), ls, cat, verify: exit 1 (the
    probe: the status) naming needle, none hung."""
    check(name + " (listing)", uri, "", "SIMREC_EFORMAT", needle, cli=False)
    check(name, uri, key, "SIMREC_EFORMAT", needle)
    cli_refused(name + ": ls", (simrec, "ls", uri), needle)


def hdf5_missing_rows():
    """simrec's records (fill time "never": no fill value declared) grown
    by h5py past the data: a chunk never written inside the shape fails
    every read; h5py's own dataset (fill value 0 by default) reads it as
    0."""
    import h5py
    p = os.path.join(work, "grown.h5")
    if os.path.exists(p):
        os.unlink(p)
    recorded("hdf5:" + p + "?chunk_bytes=96")
    with h5py.File(p, "r+") as f:
        f["T"].resize(8, axis=0)
        f.create_dataset("h", shape=(2, 4), maxshape=(None, 4),
                         chunks=(1, 4), dtype="<f8")[0] = 1.0
    reads_refused("never-written chunk, hdf5", "hdf5:" + p, "T", 6,
                  f"chunk at [6,0,0] of 'T' is missing in '{p}'",
                  follow=False, torn="chunk unallocated")
    q = run(simrec, "cat", "hdf5:" + p, "h", "1")
    if q is None or q.returncode != 0 or q.stdout.split() != [b"0"] * 4:
        failures.append(f"hdf5 default fill: cat {q.stdout if q else 'hung'}")
    else:
        print("hdf5 default fill: reads as 0, ok")


def hdf5_rows():
    import h5py
    import numpy as np
    if os.environ.get("SIMREC_SANITIZED") != "1":
        hdf5_missing_rows()
    # an external link whose target is a FIFO: never opened
    fifo = os.path.join(work, "target.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    p = h5file("extlink.h5", lambda f: f.__setitem__(
        "ext", h5py.ExternalLink(fifo, "/x")))
    refused_everywhere("external link to a FIFO", "hdf5:" + p, "ext/x",
                       "external")
    # a soft link into the external one: refused as well
    p = h5file("softext.h5", lambda f: (
        f.__setitem__("ext", h5py.ExternalLink(fifo, "/x")),
        f.__setitem__("soft", h5py.SoftLink("/ext/x"))))
    check("soft link through an external one", "hdf5:" + p, "soft",
          "SIMREC_EFORMAT", "external")
    # the store itself a FIFO
    cli_refused("HDF5 store a FIFO: ls", (simrec, "ls", "hdf5:" + fifo),
                "not a regular file")

    # external raw storage: another file's bytes are never read
    secret = os.path.join(work, "secret.bin")
    with open(secret, "wb") as f:
        f.write(b"SECRET-" * 10)
    p = h5file("external.h5", lambda f: f.create_dataset(
        "x", shape=(64,), dtype="u1", external=[(secret, 0, 64)]))
    check("external raw storage", "hdf5:" + p, "x", "SIMREC_EFORMAT",
          "external storage")
    out = os.path.join(work, "external_out")
    shutil.rmtree(out, ignore_errors=True)
    e = run(simrec, "export", "hdf5:" + p, "zarr+dir:" + out)
    copied = [os.path.join(r, n) for r, _, ns in os.walk(out) for n in ns]
    if not refused(e, "external storage") or any(
            b"SECRET" in open(c, "rb").read() for c in copied):
        failures.append(f"external raw storage: export rc="
                        f"{e.returncode if e else 'hung'} copied {copied}")

    # a virtual dataset whose source file is missing
    def vds(f):
        lay = h5py.VirtualLayout(shape=(4,), dtype="f8")
        lay[:] = h5py.VirtualSource(os.path.join(work, "gone.h5"), "x",
                                    shape=(4,))
        f.create_virtual_dataset("v", lay, fillvalue=-1.0)
    p = h5file("virtual.h5", vds)
    check("virtual dataset", "hdf5:" + p, "v", "SIMREC_EFORMAT",
          "virtual dataset")

    # a damaged local heap (bad free list): h5py refuses the listing
    p = h5file("heap.h5", lambda f: [f.__setitem__(f"d{i}", np.arange(4.0))
                                     for i in range(3)])
    b = bytearray(open(p, "rb").read())
    i = b.find(b"HEAP")
    size = struct.unpack("<Q", b[i + 8:i + 16])[0]
    b[i + 16:i + 24] = struct.pack("<Q", size + 1000)
    open(p, "wb").write(b)
    check("damaged heap (listing)", "hdf5:" + p, "", "SIMREC_EFORMAT",
          "cannot list the links of '/'", cli=False)
    for what in ("ls", "verify"):
        cli_refused("damaged heap: " + what, (simrec, what, "hdf5:" + p),
                    "damaged heap")

    # a latest-format (SWMR) file whose root group keeps its links dense
    # (a fractal heap and a v2 B-tree, each block checksummed), bytes
    # flipped after a signature: the listing fails, naming the links,
    # and frees nothing it never set (under ASan: no crash)
    for sig, off in ((b"FRHP", 5), (b"BTLF", 6)):
        p = os.path.join(work, f"dense_{sig.decode()}.h5")
        with h5py.File(p, "w", libver="latest") as f:
            for i in range(20):
                f[f"d{i:02d}"] = np.arange(4.0)
        b = bytearray(open(p, "rb").read())
        i = b.find(sig)
        assert i >= 0, sig
        for k in range(i + off, i + off + 8):
            b[k] ^= 0xFF
        open(p, "wb").write(b)
        name = f"dense links, {sig.decode()} damaged"
        check(name + " (listing)", "hdf5:" + p, "", "SIMREC_EFORMAT",
              "cannot list the links of '/'", cli=False)
        out = os.path.join(work, "dense_out")
        shutil.rmtree(out, ignore_errors=True)
        for what, args in (("ls", ("ls", "hdf5:" + p)),
                           ("verify", ("verify", "hdf5:" + p)),
                           ("export", ("export", "hdf5:" + p,
                                       "zarr+dir:" + out))):
            cli_refused(f"{name}: {what}", (simrec,) + args,
                        "cannot list the links of '/'")

    # 2^40 steps and no chunk written: export copies no fill
    p = h5file("big40.h5", lambda f: f.create_dataset(
        "x", shape=(1 << 40,), chunks=(1 << 20,), dtype="u1",
        maxshape=(None,)))
    export_bounded("2^40 steps, HDF5", "hdf5:" + p, "chunk unallocated")

    # the cause of a failed open: a missing directory, another's lock
    zsrc = os.path.join(work, "src.zarr")
    shutil.rmtree(zsrc, ignore_errors=True)
    import zarr
    zarr.open_group(zsrc, mode="w")["x"] = np.arange(4.0)
    q = run(simrec, "export", "zarr+dir:" + zsrc,
            "hdf5:" + os.path.join(work, "no", "such", "dir.h5"))
    if not refused(q, "no such file or directory"):
        failures.append(f"missing directory: export said "
                        f"{(q.stdout + q.stderr) if q else 'hung'}")
    else:
        print("missing directory: named, ok")
    p = h5file("locked.h5", lambda f: None)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys\n"
         f"f = h5py.File({p!r}, 'a')\nprint('ready', flush=True)\n"
         "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        if holder.stdout.readline() != b"ready\n":
            failures.append("locked: the holder did not start")
        q = run(simrec, "cat", "hdf5:" + p, "good")
        if not refused(q, "locked by another process") or \
                b"?lock=" not in q.stderr or b"SIMREC_ELOCK" not in q.stderr:
            failures.append(f"locked: cat said "
                            f"{(q.stdout + q.stderr) if q else 'hung'}")
        else:
            print("locked by a writer: named, ok")
    finally:
        holder.stdin.close()
        holder.wait(timeout=TIMEOUT)

    # attribute names that are not UTF-8: refused alike by every store
    for scheme, ext in (("hdf5", ".h5"), ("zarr", ".zarr"),
                        ("zarr+dir", ".dzarr")):
        path = os.path.join(work, "attrname" + ext)
        subprocess.run(["rm", "-rf", path], check=True)
        for nm in (b"bad\xff", b"\xc3\x28"):
            q = subprocess.run([probe, "attr", f"{scheme}:{path}", "g", nm],
                               capture_output=True, timeout=TIMEOUT)
            if q.returncode != 0 or not q.stdout.startswith(
                    b"SIMREC_EINVAL:") or b"not valid UTF-8" not in q.stdout:
                failures.append(f"attribute name {nm!r} ({scheme}): "
                                f"rc={q.returncode} {q.stdout!r}")
    print("attribute names not UTF-8: refused by every store, ok")

    # 6,000 attributes in HDF5's compact storage (reading each scans all):
    # refused past 4,096, naming the key and the count
    def many(f):
        d = f.create_dataset("d", data=np.arange(4.0))
        for i in range(6000):
            d.attrs[f"a{i}"] = i
    p = h5file("attrs.h5", many)
    cli_refused("6,000 compact HDF5 attributes: info",
                (simrec, "info", "hdf5:" + p, "d"),
                "has 6000 attributes in HDF5's compact storage")


def attr_rows():
    """30,000 attributes in one .zattrs: info reads them in time linear in
    their number (one parse, not one per attribute) and prints each;
    export refuses past the 1,024 a key may hold, naming the key."""
    n = 30000
    d = make_dir("attrs30k", zarray(), {"0": struct.pack("<4d", 1, 2, 3, 4)})
    with open(os.path.join(work, "attrs30k", "x", ".zattrs"), "w") as f:
        json.dump({f"a{i}": i for i in range(n)}, f)
    q = run(simrec, "info", d, "x")
    lines = [ln for ln in (q.stdout.split(b"\n") if q else [])
             if ln.startswith(b"  a")]
    if q is None or q.returncode != 0 or len(lines) != n or \
            b"  a29999 = 29999" not in lines:
        failures.append(f"30,000 attributes: info rc="
                        f"{q.returncode if q else 'hung'}, {len(lines)} "
                        "attribute lines")
    else:
        print("30,000 attributes: info lists them, ok")
    out = os.path.join(work, "attrs30k_out")
    shutil.rmtree(out, ignore_errors=True)
    cli_refused("30,000 attributes: export",
                (simrec, "export", d, "zarr+dir:" + out),
                "holds 1024 attributes, the most a key may hold")


# ---- a chunk the format says is there, missing ---------------------------

# The read paths of the Python package on a store whose record STEP is
# lost: each must raise simrec.FormatError naming the chunk (argv: uri key
# step needle follow; follow 0: the store is not followed, HDF5 without
# ?lock=)
PY_READS = r"""
import sys
import simrec
import xarray as xr
uri, key, step, needle, follow = sys.argv[1:6]
step = int(step)
bad = []

def refused(name, fn):
    try:
        fn()
    except simrec.FormatError as e:
        if needle not in str(e):
            bad.append(f"{name}: {e}")
        return
    except Exception as e:
        bad.append(f"{name}: {type(e).__name__}: {e}")
        return
    bad.append(f"{name}: no error")

with simrec.Recorder(uri, mode="r") as rec:
    refused("get_all()[step]", lambda: rec.get_all(key)[step])
    refused("get_all().read()", lambda: rec.get_all(key).read())
    if follow == "1":
        refused("follow", lambda: list(rec.follow(key, timeout=1)))
refused("xarray", lambda: xr.open_dataset(uri, engine="simrec")[key].values)
print("\n".join(bad) or "python reads refused")
sys.exit(1 if bad else 0)
"""


def reads_refused(name, uri, key, step, needle, python=True, follow=True,
                  torn="chunk missing"):
    """Every read path of a dataset whose record step is lost fails naming
    its chunk (needle): the probe, cat and png of that step, watch (if the
    store is followed), verify (its TORN line names torn), and the Python
    package."""
    check(name, uri, key, "SIMREC_EFORMAT", needle, cli=False)
    cli_refused(name + ": cat", (simrec, "cat", uri, key, str(step)), needle)
    if follow:
        cli_refused(name + ": watch", (simrec, "watch", uri, key,
                                       "--timeout", "1"), needle)
    cli_refused(name + ": png", (simrec, "png", uri, f"{key}[{step}]",
                                 os.path.join(work, "missing.png")), needle)
    cli_refused(name + ": verify", (simrec, "verify", uri), torn)
    if not python:
        return
    p = run(sys.executable, "-c", PY_READS, uri, key, str(step), needle,
            "1" if follow else "0")
    if p is None or p.returncode != 0:
        failures.append(f"{name}: python {p.stdout if p else 'hung'} "
                        f"{p.stderr[-600:] if p else ''}")
    else:
        print(f"{name}: python refused, ok")


def recorded(uri, steps=6):
    """steps records of 'T' (3 x 4 float64, one per chunk) written by the
    Python package."""
    import numpy as np
    import simrec
    with simrec.Recorder(uri) as rec:
        for i in range(steps):
            rec.record("T", np.full((3, 4), i + 0.5))


def lmdb_without(name, key):
    """An LMDB store of recorded() with key deleted: its path."""
    import lmdb
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    recorded("zarr:" + d + "?chunk_bytes=96")
    env = lmdb.open(d, subdir=True)
    with env.begin(write=True) as t:
        assert t.delete(key)
    env.close()
    return d


def missing_rows():
    # zarr+dir: record 2's chunk file deleted
    d = os.path.join(work, "lost_dir")
    shutil.rmtree(d, ignore_errors=True)
    recorded("zarr+dir:" + d + "?chunk_bytes=96")
    os.unlink(os.path.join(d, "T", "2.0.0"))
    reads_refused("lost chunk, zarr+dir", "zarr+dir:" + d, "T", 2,
                  "chunk 'T/2.0.0' of 'T' is missing in '" + d)
    # LMDB: the same key deleted
    d = lmdb_without("lost_lmdb", b"T/2.0.0")
    reads_refused("lost chunk, LMDB", "zarr:" + d, "T", 2,
                  "chunk 'T/2.0.0' of 'T' is missing in '" + d)
    # a shape grown far past the data (2^40 steps, fill_value null): the
    # last step, watch and png fail at the first missing chunk, at once
    u = make_dir("shape_past_data", zarray(shape=[1 << 40, 4],
                                           chunks=[1, 4], fill_value=None),
                 {"0.0": struct.pack("<4d", 1, 2, 3, 4)})
    reads_refused("shape past the data", u, "x", (1 << 40) - 1,
                  "of 'x' is missing in", python=False)
    cli_refused("shape past the data: cat of the last step",
                (simrec, "cat", u, "x", "-1"),
                f"chunk 'x/{(1 << 40) - 1}.0' of 'x' is missing")
    cli_refused("shape past the data: watch stops at step 1",
                (simrec, "watch", u, "x", "--timeout", "1"),
                "chunk 'x/1.0' of 'x' is missing")
    # a declared fill value: a missing chunk reads as it (zarr-python's
    # arrays), no error
    u = make_dir("fill_declared", zarray(shape=[2], chunks=[1],
                                         fill_value=7.0),
                 {"0": struct.pack("<d", 1)})
    p = run(simrec, "cat", u, "x")
    if p is None or p.returncode != 0 or p.stdout.split() != [b"1", b"7"]:
        failures.append(f"declared fill: cat {p.stdout if p else 'hung'}")
    else:
        print("declared fill: reads as the fill, ok")


# ---- entries that hold data but are neither group nor dataset -----------

def named_by_all(name, uri, key, needle):
    """ls marks key unreadable, verify finds problems, export fails: each
    names needle, none drops the key without a word."""
    q = run(simrec, "ls", uri)
    line = [ln for ln in (q.stdout.decode(errors="replace").splitlines()
                          if q else []) if "(unreadable:" in ln]
    if q is None or q.returncode != 0 or not line or needle not in line[0]:
        failures.append(f"{name}: ls {q.stdout if q else 'hung'}")
    else:
        print(f"{name}: ls marks it unreadable, ok")
    cli_refused(name + ": verify", (simrec, "verify", uri), needle)
    out = os.path.join(work, "lost_meta_out")
    shutil.rmtree(out, ignore_errors=True)
    cli_refused(name + ": export", (simrec, "export", uri, "zarr+dir:" + out),
                needle)


def lost_meta_rows():
    lost = "'T' in '{}' holds entries (chunks) but no readable .zarray"
    d = os.path.join(work, "nometa_dir")
    shutil.rmtree(d, ignore_errors=True)
    recorded("zarr+dir:" + d + "?chunk_bytes=96")
    os.unlink(os.path.join(d, "T", ".zarray"))
    named_by_all(".zarray deleted, zarr+dir", "zarr+dir:" + d, "T",
                 lost.format(d))
    os.mkdir(os.path.join(d, "T", ".zarray"))
    named_by_all(".zarray a directory, zarr+dir", "zarr+dir:" + d, "T",
                 "T/.zarray")
    d = lmdb_without("nometa_lmdb", b"T/.zarray")
    named_by_all(".zarray deleted, LMDB", "zarr:" + d, "T", lost.format(d))
    # a directory without metadata holding a file, beside a good dataset;
    # a stray file in a group is no key's data and lists nothing
    u = make_dir("stray", zarray(), {"0": struct.pack("<4d", 1, 2, 3, 4)})
    d = u[len("zarr+dir:"):]
    os.makedirs(os.path.join(d, "g", "h"))
    with open(os.path.join(d, "g", "h", "data.bin"), "wb") as f:
        f.write(b"\1" * 8)
    with open(os.path.join(d, "README"), "w") as f:
        f.write("notes\n")
    named_by_all("directory of data without metadata", u, "g",
                 "'g' in '{}' holds entries".format(d))
    shutil.rmtree(os.path.join(d, "g"))
    v = run(simrec, "verify", u)
    if v is None or v.returncode != 0:
        failures.append(f"stray file in a group: verify "
                        f"{v.stdout if v else 'hung'}")
    else:
        print("stray file in a group: not a key, ok")


# ---- many directories without metadata ----------------------------------

def listed_once(name, uri, tops):
    """The listing (hostile_probe list) names each of tops once, as a
    dataset, in key order, and nothing else. Each top is listed once
    after the scan, whatever the number of entries below it: a check of
    each against those already listed made this quadratic (300,000 tops:
    minutes), the sorted list takes well under a second."""
    p = run(probe, "list", uri)
    lines = p.stdout.decode(errors="replace").splitlines() if p else []
    want = ["D " + t for t in sorted(tops)]
    if p is None or p.returncode != 0 or lines[-1:] != ["OK: "] or \
            lines[:-1] != want:
        got = len(lines) - 1
        failures.append(f"{name}: rc={p.returncode if p else 'hung'} "
                        f"listed {got} lines, want {len(want)}: "
                        f"{lines[:3]} ... {lines[-3:]}")
    else:
        print(f"{name}: {len(want)} listed once each, ok")


def many_orphan_rows():
    """Directories holding entries but no metadata, by the thousand: each
    listed once (as unreadable by ls). LMDB: 300,000 tops, each with an
    entry of its own and one in a subdirectory (the top comes twice);
    zarr+dir: 20,000 directories, each with an empty file."""
    import lmdb
    n = 300000
    d = os.path.join(work, "orphans_lmdb")
    shutil.rmtree(d, ignore_errors=True)
    env = lmdb.open(d, subdir=True, map_size=1 << 30)
    with env.begin(write=True) as t:
        t.put(b".zgroup", b'{"zarr_format": 2}')
        for i in range(n):
            t.put(b"d%06d/0" % i, b"\1" * 8)
            t.put(b"d%06d/sub/0" % i, b"\1" * 8)
    env.close()
    listed_once(f"{n:,} tops without metadata, LMDB", "zarr:" + d,
                ["d%06d" % i for i in range(n)])
    shutil.rmtree(d)
    n = 20000
    d = os.path.join(work, "orphans_dir")
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    with open(os.path.join(d, ".zgroup"), "w") as f:
        f.write('{"zarr_format": 2}')
    for i in range(n):
        os.mkdir(os.path.join(d, "d%06d" % i))
        os.close(os.open(os.path.join(d, "d%06d" % i, "0"),
                         os.O_WRONLY | os.O_CREAT, 0o644))
    tops = ["d%06d" % i for i in range(n)]
    listed_once(f"{n:,} directories without metadata, zarr+dir",
                "zarr+dir:" + d, tops)
    q = run(simrec, "ls", "zarr+dir:" + d)
    marked = [ln.split()[0] for ln in
              (q.stdout.decode(errors="replace").splitlines() if q else [])
              if "(unreadable:" in ln]
    if q is None or q.returncode != 0 or sorted(marked) != tops:
        failures.append(f"{n:,} directories without metadata: ls rc="
                        f"{q.returncode if q else 'hung'}, {len(marked)} "
                        f"marked unreadable, want {n}")
    else:
        print(f"{n:,} directories without metadata: ls marks each, ok")
    subprocess.run(["rm", "-rf", d], check=True)


# ---- redis ------------------------------------------------------------

def redis_rows():
    host, port = os.environ["SIMREC_REDIS_HOST"].split(":")
    cli = ["redis-cli", "-h", host, "-p", port]

    def rc(*args, data=None):
        a = cli + (["-x"] if data is not None else []) + list(args)
        p = run(*a, stdin=data)
        assert p is not None and p.returncode == 0, (args, p)

    def element(dtype=9, ndim=1, shape=(4,), raw=32, payload=None,
                comp=0, flags=0):
        h = b"SRR1" + bytes([dtype, comp, ndim, flags])
        h += b"".join(struct.pack("<Q", s) for s in shape)
        h += struct.pack("<Q", raw)
        return h + (payload if payload is not None else b"\0" * raw)

    def dataset(prefix, meta=None, el=None, kind="hash"):
        rc("DEL", f"{prefix}:m:x", f"{prefix}:d:x:0", f"{prefix}:keys")
        m = {"dtype": "float64", "shape": "4", "ndim": "1", "chunks": "4",
             "value": "0", "rows:0": "4", "cols": "1"}
        m.update(meta or {})
        if kind == "hash":
            args = []
            for k, v in m.items():
                args += [k, v]
            rc("HSET", f"{prefix}:m:x", *args)
        else:
            rc("SET", f"{prefix}:m:x", "not a hash")
        rc("SADD", f"{prefix}:keys", "x")
        rc("RPUSH", f"{prefix}:d:x:0", data=el if el is not None
           else element())
        return f"redis://?prefix={prefix}"

    rows = [
        ("redis good", {}, None, "hash", "OK"),
        ("redis unknown dtype", {"dtype": "float128"}, None, "hash",
         "EFORMAT"),
        ("redis ndim overflow", {"ndim": "99"}, None, "hash", "EFORMAT"),
        ("redis ndim garbage", {"ndim": "1x"}, None, "hash", "EFORMAT"),
        ("redis shape/ndim disagree", {"shape": "4 4"}, None, "hash",
         "EFORMAT"),
        ("redis zero chunks", {"chunks": "0"}, None, "hash", "EFORMAT"),
        ("redis shape overflow", {"shape": "99999999999999999999"}, None,
         "hash", "EFORMAT"),
        ("redis metadata wrong type", {}, None, "string", "ESERVER"),
        ("redis element dtype lie", {}, element(dtype=0), "hash", "EFORMAT"),
        ("redis element shape lie", {}, element(shape=(1 << 60,)), "hash",
         "EFORMAT"),
        ("redis element raw_bytes lie", {}, element(raw=1 << 40,
                                                    payload=b"\0" * 32),
         "hash", "EFORMAT"),
        ("redis element short", {}, element(shape=(2,), raw=16), "hash",
         "EFORMAT"),
        ("redis element ndim lie", {}, element(ndim=15, shape=(1,) * 15,
                                               raw=8), "hash", "EFORMAT"),
        ("redis element garbage", {}, b"SRR1", "hash", "EFORMAT"),
        ("redis element blosc lie", {}, element(comp=1, payload=b"\2" * 40),
         "hash", "EFORMAT"),
        ("redis cols garbage", {"cols": "-3"}, None, "hash", "EFORMAT"),
        # the metadata promises 8 rows, the list holds one element of 4:
        # the second element is missing, never read as zeros
        ("redis element missing", {"shape": "8", "rows:0": "8"}, None,
         "hash", "EFORMAT"),
    ]
    # a reply over the bound (SIMREC_REDIS_MAX_REPLY lowers it from 129 MiB)
    uri = dataset("hostilebig", {"shape": "512", "chunks": "512",
                                 "rows:0": "512"},
                  element(shape=(512,), raw=4096))
    os.environ["SIMREC_REDIS_MAX_REPLY"] = "2000"
    check("redis reply too large", uri, "x", "SIMREC_EFORMAT",
          "element 0 of 'x'")
    os.environ["SIMREC_REDIS_MAX_REPLY"] = "8000"
    check("redis reply within bound", uri, "x", "OK", "")
    # many small elements: each costs its reply object, not only its bytes
    # (200,000 index members are 2.6 MB on the wire, over 12 MB parsed)
    uri = dataset("hostilemany")
    rc("EVAL", "for i = 1, 200000 do redis.call('SADD', KEYS[1], 'k' .. i) "
       "end", "1", "hostilemany:keys")
    os.environ["SIMREC_REDIS_MAX_REPLY"] = "4000000"
    check("redis reply of many elements", uri, "", "SIMREC_EFORMAT",
          "over 4000000 bytes", cli=False)
    del os.environ["SIMREC_REDIS_MAX_REPLY"]
    rc("DEL", "hostilemany:keys")
    for i, (name, meta, el, kind, st) in enumerate(rows):
        uri = dataset(f"hostile{i}", meta, el, kind)
        check(name, uri, "x", "OK" if st == "OK" else "SIMREC_" + st,
              "" if st == "OK" else "x")
    # a lock holder's id is the server's word: printed escaped
    res = "hostile-lock"
    rc("SET", f"simrec-lock:{res}:writer",
       b"h\x1b[2J\x1b[31m\n  readers: 99\xc2\x9b", "PX", "60000")
    p = run(simrec, "lock", "status", f"redis://{host}:{port}", res)
    out = (p.stdout + p.stderr) if p else b""
    if p is None or p.returncode != 0 or \
            [c for c in out if (c < 0x20 and c != 0x0a) or c == 0x7f] or \
            b"\xc2\x9b" in out or b"\n  readers: 99" in out or \
            b"writer: h\\e[2J\\e[31m\\n  readers: 99\\xc2\\x9b" not in out:
        failures.append(f"lock status: holder printed raw: {out!r}")
    else:
        print("lock holder escaped: ok")
    rc("DEL", f"simrec-lock:{res}:writer")
    # a key index holding a key no writer could make (empty, control byte)
    for i, bad in enumerate(["", "a\x01b", "../up"]):
        uri = dataset(f"hostileidx{i}")
        rc("SADD", f"hostileidx{i}:keys", bad)
        check(f"redis index key {bad!r}", uri, "", "SIMREC_EFORMAT",
              "key index", cli=False)


# ---- names that would drive the terminal ------------------------------------

# the bidirectional controls, UTF-8: they reorder what a terminal shows
BIDI = [chr(c).encode() for c in
        [0x61c, 0x200e, 0x200f, *range(0x202a, 0x202f), *range(0x2066, 0x206a)]]


def terminal_rows():
    """Directory and attribute names may hold ESC, newline, C1 controls and
    bytes that are not UTF-8: every command prints them escaped, so no raw
    control byte reaches the terminal and no line is forged."""
    d = os.path.join(work, "terminal")
    shutil.rmtree(d, ignore_errors=True)
    evil = b"evil\x1b[2J\x1b[31mRED\nok    fake: 1 record(s)"
    names = [evil, b"c1\xc2\x9b31m", b"bad\xff\xfe", b"tab\tcr\r",
             "rlo\u202etxt.exe".encode(), "iso\u2066lri\u200f".encode()]
    os.makedirs(d)
    with open(os.path.join(d, ".zgroup"), "w") as f:
        f.write('{"zarr_format": 2}')
    meta = zarray(shape=[1], chunks=[1]).encode()
    attrs = json.dumps({"a\x1b[31m\nb": "v\x1b[31m\n",
                        "plain": 1}).encode()
    for n in names:
        k = os.path.join(os.fsencode(d), n)
        os.makedirs(k)
        with open(os.path.join(k, b".zarray"), "wb") as f:
            f.write(meta)
        with open(os.path.join(k, b".zattrs"), "wb") as f:
            f.write(attrs)
        with open(os.path.join(k, b"0"), "wb") as f:
            f.write(struct.pack("<d", 1.5))
    with open(os.path.join(d, ".zattrs"), "wb") as f:
        f.write(attrs)
    uri = "zarr+dir:" + d
    key = os.fsdecode(evil)
    runs = [("library message", (probe, uri, key)),
            ("ls", (simrec, "ls", uri)), ("verify", (simrec, "verify", uri)),
            ("info", (simrec, "info", uri, key)),
            ("info /", (simrec, "info", uri, "/")),
            ("info c1", (simrec, "info", uri, os.fsdecode(names[1]))),
            ("cat", (simrec, "cat", uri, key)),
            ("cat missing", (simrec, "cat", uri, key + "/no\x1b")),
            ("export", (simrec, "export", uri,
                        "zarr+dir:" + os.path.join(work, "terminal_out")))]
    shutil.rmtree(os.path.join(work, "terminal_out"), ignore_errors=True)
    for what, args in runs:
        p = run(*args)
        if p is None or p.returncode not in (0, 1) or any(
                s.encode() in p.stdout + p.stderr for s in SANITIZER):
            failures.append(f"terminal {what}: hung or crashed "
                            f"({p.returncode if p else 'hung'})")
            continue
        for stream, out in (("stdout", p.stdout), ("stderr", p.stderr)):
            raw = [c for c in out if (c < 0x20 and c != 0x0a) or c == 0x7f]
            if raw or b"\xc2\x9b" in out or b"\xff" in out or any(
                    b in out for b in BIDI):
                failures.append(f"terminal {what}: raw control bytes "
                                f"on {stream}: {out!r}")
            if any(ln.startswith(b"ok    fake") for ln in out.split(b"\n")):
                failures.append(f"terminal {what}: forged line: {out!r}")
        if what.startswith("info ") and b"a\\e[31m\\nb = " not in p.stdout:
            failures.append(f"terminal info: attribute name not escaped "
                            f"as a\\e[31m\\nb: {p.stdout!r}")
        if what == "verify" and b"\nBAD   evil\\e[2J\\e[31mRED\\nok    " \
                b"fake: 1 record(s): " not in p.stdout:
            failures.append(f"terminal verify: no escaped ok line: "
                            f"{p.stdout!r}")
    ls = run(simrec, "ls", uri)
    if ls is None or b"rlo\\xe2\\x80\\xaetxt.exe" not in ls.stdout:
        failures.append(f"terminal ls: U+202E not escaped byte by byte: "
                        f"{ls.stdout if ls else 'hung'!r}")
    print("terminal names: ok")


# ---- a writer killed in the middle of simrec_set ----------------------------

def set_killed():
    """zarr+dir: a set whose value spans several chunk files is replaced
    whole. A child is killed (SIGKILL, by the store's test hook
    SIMREC_TEST_KILL_AFTER_PUTS) after .zarray, .zattrs and 3 of its 8
    chunk files: simrec and zarr-python (plain and consolidated) read the
    old value whole, and the next set removes the dead writer's hidden
    directory."""
    import signal
    import numpy as np
    import zarr
    d = os.path.join(work, "setkill")
    shutil.rmtree(d, ignore_errors=True)
    uri = "zarr+dir:" + d + "?chunk_bytes=8K"  # (8, 128): 8 chunk files

    def set_value(v, kill_after=None):
        """hostile_probe set: its exit status, or -SIGNAL"""
        env = dict(os.environ)
        if kill_after:
            env["SIMREC_TEST_KILL_AFTER_PUTS"] = str(kill_after)
        p = subprocess.run([probe, "set", uri, "grid/v", str(v), "64",
                            "128"], capture_output=True, env=env,
                           timeout=TIMEOUT)
        return p.returncode

    def whole(v, what):
        for how, open_ in (("zarr", zarr.open),
                           ("consolidated", zarr.open_consolidated)):
            a = open_(d, mode="r")["grid/v"][:]
            if a.shape != (64, 128) or not (a == v).all():
                failures.append(f"set killed: {what}: {how} reads "
                                f"{np.unique(a)}, want all {v}")
        c = run(simrec, "cat", uri, "grid/v", "0:64,0", "--csv")
        vals = c.stdout.split() if c and c.returncode == 0 else []
        if len(vals) != 64 or any(float(x) != v for x in vals):
            failures.append(f"set killed: {what}: simrec cat {vals}")
        ver = run(simrec, "verify", uri)
        if ver is None or ver.returncode != 0:
            failures.append(f"set killed: {what}: verify "
                            f"{ver.stdout if ver else 'hung'}")

    def hidden():
        return [n for n in os.listdir(os.path.join(d, "grid"))
                if n.startswith(".simrec-tmp-set-")]

    assert set_value(1.0) == 0
    zarr.consolidate_metadata(d)
    st = set_value(2.0, kill_after=5)
    if st != -signal.SIGKILL:
        failures.append(f"set killed: the writer was not killed ({st})")
    if not hidden():
        failures.append("set killed: no hidden directory of the killed "
                        "writer (the hook fired elsewhere?)")
    whole(1.0, "after the kill")
    ls = run(simrec, "ls", uri)
    if ls is None or b"simrec" in ls.stdout:
        failures.append(f"set killed: ls shows {ls.stdout if ls else ''}")
    if set_value(3.0) != 0:
        failures.append("set killed: the next set failed")
    if hidden():
        failures.append(f"set killed: left over after the next set: "
                        f"{hidden()}")
    whole(3.0, "after the next set")
    print("set killed: ok")


def set_killed_lmdb():
    """zarr (LMDB): a set replacing a value with one of another shape is
    one transaction. A child is killed (SIMREC_TEST_KILL_AFTER_PUTS) after
    the new .zarray, .zattrs and 3 chunks were put: simrec and zarr-python
    read the old value, whole and in its own shape."""
    import signal
    import numpy as np
    import zarr
    d = os.path.join(work, "setkill.zarr")
    shutil.rmtree(d, ignore_errors=True)
    uri = "zarr:" + d + "?chunk_bytes=8K&codec=none"

    def set_value(v, rows, kill_after=None):
        """hostile_probe set: its exit status, or -SIGNAL"""
        env = dict(os.environ)
        if kill_after:
            env["SIMREC_TEST_KILL_AFTER_PUTS"] = str(kill_after)
        p = subprocess.run([probe, "set", uri, "grid/v", str(v), str(rows),
                            "128"], capture_output=True, env=env,
                           timeout=TIMEOUT)
        return p.returncode

    assert set_value(1.0, 64) == 0
    st = set_value(2.0, 32, kill_after=5)
    if st != -signal.SIGKILL:
        failures.append(f"set killed (LMDB): not killed ({st})")
    store = zarr.LMDBStore(d, readonly=True, lock=False)
    a = zarr.open(store, mode="r")["grid/v"][:]
    store.close()
    if a.shape != (64, 128) or not (a == 1.0).all():
        failures.append(f"set killed (LMDB): zarr-python reads {a.shape} "
                        f"{np.unique(a)}, want (64, 128) all 1.0")
    ver = run(simrec, "verify", uri)
    if ver is None or ver.returncode != 0:
        failures.append(f"set killed (LMDB): verify "
                        f"{ver.stdout if ver else 'hung'}")
    if set_value(3.0, 32) != 0:
        failures.append("set killed (LMDB): the next set failed")
    print("set killed (LMDB): ok")


os.makedirs(work, exist_ok=True)
# A sanitizer build's library cannot be loaded into Python (not linked with
# the sanitizer runtime): the rows that make or read their stores through
# the Python package run in the normal build, the rest here too.
in_python = os.environ.get("SIMREC_SANITIZED") != "1"
if part == "hdf5":
    hdf5_rows()
elif part == "zarr":
    attr_rows()
    deep_rows()
    many_orphan_rows()
    zarr_rows()
    if in_python:
        missing_rows()
        lost_meta_rows()
    terminal_rows()
    set_killed()
    set_killed_lmdb()
else:
    redis_rows()
for f in failures:
    print("FAIL", f)
print("hostile: ok" if not failures else f"hostile: {len(failures)} failed")
sys.exit(1 if failures else 0)
