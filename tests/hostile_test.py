"""Crafted hostile stores, one row per class of bad input: each must give
the exact SIMREC_E* status with a message naming the key or file, no
crash and no hang, and `simrec cat` / `simrec verify` must exit non-zero
with the message on stderr (cat) or in the BAD or TORN line (verify).

    hostile_test.py PROBE SIMREC WORKDIR zarr|redis

The redis rows write odd metadata and element headers with redis-cli into
the server named by SIMREC_REDIS_HOST (the ctest fixture's), and a lock
holder's id with terminal escapes. The zarr part also checks that names
with control bytes print escaped (terminal_rows) and that a writer killed
in the middle of a zarr+dir simrec_set leaves the old value whole
(set_killed)."""
import json
import os
import shutil
import struct
import subprocess
import sys

probe, simrec, work, part = sys.argv[1:5]
TIMEOUT = 30
failures = []


def run(*args, stdin=None):
    try:
        p = subprocess.run(list(args), capture_output=True, timeout=TIMEOUT,
                           input=stdin)
    except subprocess.TimeoutExpired:
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
    del os.environ["SIMREC_REDIS_MAX_REPLY"]
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

def terminal_rows():
    """Directory and attribute names may hold ESC, newline, C1 controls and
    bytes that are not UTF-8: every command prints them escaped, so no raw
    control byte reaches the terminal and no line is forged."""
    d = os.path.join(work, "terminal")
    shutil.rmtree(d, ignore_errors=True)
    evil = b"evil\x1b[2J\x1b[31mRED\nok    fake: 1 record(s)"
    names = [evil, b"c1\xc2\x9b31m", b"bad\xff\xfe", b"tab\tcr\r"]
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
            if raw or b"\xc2\x9b" in out or b"\xff" in out:
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
if part == "zarr":
    zarr_rows()
    terminal_rows()
    set_killed()
    set_killed_lmdb()
else:
    redis_rows()
for f in failures:
    print("FAIL", f)
print("hostile: ok" if not failures else f"hostile: {len(failures)} failed")
sys.exit(1 if failures else 0)
