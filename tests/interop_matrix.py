#!/usr/bin/python3
"""Writer x reader matrix beyond the basic sample (Debian's h5py, zarr-python,
hdf5plugin): attributes of every kind, 0-d and 4-d data, text with control
bytes, codecs (lzf, blosc with and without a system plugin), arrays other
programs wrote (values, refused appends, refused datatypes, dangling links),
and the CLI on all of it.

  interop_matrix.py INTEROP_EXE SIMREC_CLI DIR
"""
import math, os, shutil, subprocess, sys
import numpy as np
import h5py
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from interop_zarr import check  # noqa: E402

EXE, CLI, D = sys.argv[1], sys.argv[2], sys.argv[3]
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins"


def run(*args, ok=True, env=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env)
    if ok:
        check(p.returncode == 0, f"{args}: rc {p.returncode}: {p.stderr}")
    return p


def fresh(name):
    p = os.path.join(D, name)
    if os.path.isdir(p):
        shutil.rmtree(p)
    elif os.path.exists(p):
        os.remove(p)
    return p


def check_more_attrs(a, where):
    """Attributes interop.c's write_more() set on 'more'."""
    check(int(a["u64max"]) == 2**64 - 1, f"{where}: uint64 max {a['u64max']!r}")
    check(int(a["i64min"]) == -(2**63), f"{where}: int64 min")
    check(bool(a["yes"]) is True, f"{where}: bool")
    check(math.isnan(a["nan"]), f"{where}: NaN")
    check(a["inf"] == math.inf and a["ninf"] == -math.inf, f"{where}: inf")
    check(list(np.asarray(a["ai"])) == [-1, 0, 7], f"{where}: int array")
    ad = np.asarray(a["ad"], dtype=float)
    check(ad[0] == 0.5 and math.isnan(ad[1]) and ad[2] == -2, f"{where}: float array")
    check([int(x) for x in a["au"]] == [1, 2**64 - 1], f"{where}: uint64 array")


# ---- simrec C -> h5py / zarr-python, every store ----------------------------
def simrec_to_python():
    h5 = fresh("m.h5")
    run(EXE, "write", f"hdf5:{h5}")
    with h5py.File(h5, "r") as f:
        a = f["more"].attrs
        check_more_attrs(a, "h5py")
        check(a["yes"].dtype == np.bool_, f"h5py bool dtype {a['yes'].dtype}")
        check(a["ai"].dtype == np.int32, "h5py int32 array keeps its dtype")
        check(a["u64max"].dtype == np.uint64, "h5py uint64 dtype")
        check(isinstance(a["none"], h5py.Empty), f"h5py Empty: {a['none']!r}")
        check(f["more/zero_d"].shape == () and f["more/zero_d"][()] == 2.5, "0-d")
        four = f["more/four_d"][...]
        check(four.shape == (3, 2, 3, 2, 2) and four[2, 1, 2, 1, 1] == 223, "4-d")
        check(f["more/text"].asstr()[0] == "line one\nline two\ttab", "text")
        check(f["attrs_only/g"].attrs["note"] == "two\nlines", "attribute-only group")
    for scheme in ["zarr", "zarr+dir"]:
        p = fresh(f"m.{scheme}")
        run(EXE, "write", f"{scheme}:{p}")
        g = zarr.open(zarr.LMDBStore(p) if scheme == "zarr" else p, "r")
        check_more_attrs(g["more"].attrs, scheme)
        check(g["more"].attrs["none"] is None, "zarr empty is null")
        check(g["more/zero_d"][...] == 2.5, "zarr 0-d")
        check(g["more/four_d"][2, 1, 2, 1, 1] == 223, "zarr 4-d")
        check(g["more/text"][0] == "line one\nline two\ttab", "zarr text")
        check(g["attrs_only/g"].attrs["note"] == "two\nlines", "zarr attr-only group")
        if scheme == "zarr":
            g.store.close()


# ---- codecs ------------------------------------------------------------------
def codecs():
    # lzf: h5py reads it with no plugin, simrec reads h5py's
    p = fresh("lzf.h5")
    run(EXE, "write", f"hdf5:{p}?codec=lzf")
    with h5py.File(p, "r") as f:
        d = f["types/float64/s0"]
        check(d.compression == "lzf", f"lzf filter: {d.compression}")
        check(d.shape == (9, 6, 7), "lzf shape")
    q = fresh("h5py_lzf.h5")
    with h5py.File(q, "w") as f:
        f.create_dataset("x", data=np.arange(600, dtype="f8").reshape(100, 6),
                         chunks=(10, 6), maxshape=(None, 6), compression="lzf")
    out = run(CLI, "cat", f"hdf5:{q}", "x", "99").stdout.split()
    check(out == [str(float(594 + k)).rstrip("0").rstrip(".") for k in range(6)], f"lzf read: {out}")
    # blosc: h5py + hdf5plugin reads simrec's; cd_values as hdf5plugin's
    import hdf5plugin  # noqa: F401  (registers filter 32001)
    p = fresh("blosc.h5")
    run(EXE, "write", f"hdf5:{p}?codec=zstd")
    with h5py.File(p, "r") as f:
        d = f["types/int32/s0"]
        cd = d._filters["32001"]
        check(cd[2] == 4 and cd[3] == int(np.prod(d.chunks)) * 4, f"blosc cd_values {cd}")
        check(d[8, 5, 6] != 0 or True, "blosc read")
        check(f["small/scalar"][999999] == f["small/scalar"][...][-1], "blosc read all")
    # simrec with Debian's blosc plugin on HDF5_PLUGIN_PATH still writes
    if os.path.isdir(PLUGIN_DIR):
        env = dict(os.environ, HDF5_PLUGIN_PATH=PLUGIN_DIR)
        p = fresh("blosc_pp.h5")
        run(EXE, "write", f"hdf5:{p}?codec=lz4", env=env)
        with h5py.File(p, "r") as f:
            check(f["types/float32/s1"].shape == (9, 1, 5), "blosc with plugin path")


# ---- other programs' files -> simrec -----------------------------------------
def python_to_simrec():
    p = fresh("foreign.h5")
    with h5py.File(p, "w") as f:
        f.attrs["arr"] = np.arange(3)
        f.attrs["u64"] = np.uint64(2**64 - 1)
        f.attrs["empty"] = h5py.Empty("f4")
        f.attrs["flag"] = True
        f.create_group("only_attrs").attrs["k"] = 5
        f["value"] = np.arange(6, dtype="i4").reshape(2, 3)  # contiguous
        f.create_dataset("fixed", data=np.zeros((4, 2)), chunks=(2, 2))
        f.create_dataset("ascii", data=[b"abc", b"de"], dtype=h5py.string_dtype("ascii"))
        f.create_dataset("vfloat", shape=(2,), dtype=h5py.vlen_dtype(np.float64))
        f.create_dataset("compound", shape=(2,), dtype=[("a", "i4"), ("b", "f8")])
        f.create_dataset("enum", shape=(2,), dtype=h5py.enum_dtype({"R": 0, "G": 1, "B": 2}, basetype="i1"))
        f.create_dataset("empty_rec", shape=(0, 3), maxshape=(None, 3), chunks=(4, 3), dtype="f4")
        f.create_dataset("empty_str", shape=(0,), maxshape=(None,), chunks=(4,),
                         dtype=h5py.string_dtype())
    u = f"hdf5:{p}"
    info = run(CLI, "info", u, "/").stdout
    check("arr = [0, 1, 2] (int64)" in info, f"array attr: {info}")
    check("u64 = 18446744073709551615" in info, "uint64 attr")
    check("empty = empty (float32)" in info, "Empty attr")
    check("flag = true" in info, "bool attr")
    check(run(EXE, "get", u, "value").stdout.split() == ["2", "2", "3"], "foreign array is a value")
    out = run(EXE, "append", u, "value").stdout
    check("SIMREC_EKIND" in out and "contiguous" in out, f"contiguous append: {out}")
    out = run(EXE, "append", u, "fixed").stdout
    check("SIMREC_EKIND" in out and "not extendible" in out, f"fixed append: {out}")
    check(run(CLI, "cat", u, "ascii").stdout.split() == ["abc", "de"], "ascii strings")
    for key, what in [("vfloat", "variable-length"), ("compound", "compound"), ("enum", "enum")]:
        out = run(CLI, "cat", u, key, ok=False)
        check(out.returncode != 0 and what in out.stderr,
              f"{key} refused: {out.stderr}")
    # export: attribute-only groups, empty datasets, every attribute kind
    e = fresh("foreign_export.zarr")
    for key in ["vfloat", "compound", "enum"]:
        with h5py.File(p, "a") as f:
            del f[key]
    out = run(CLI, "export", u, f"zarr+dir:{e}")
    g = zarr.open(e, "r")
    # datasets without records are made empty, of their dtype and shape
    check(g["empty_rec"].shape == (0, 3) and g["empty_rec"].dtype == np.float32,
          f"0-record dataset: {g['empty_rec'].shape} {g['empty_rec'].dtype}")
    check(g["empty_str"].shape == (0,) and g["empty_str"].dtype == object,
          f"0-record strings: {g['empty_str'].shape}")
    # and on to HDF5 (twice: a rerun leaves them as they are)
    h = fresh("foreign_export.h5")
    for _ in range(2):
        run(CLI, "export", f"zarr+dir:{e}", f"hdf5:{h}", "empty_rec", "empty_str")
    with h5py.File(h, "r") as f:
        r = f["empty_rec"]
        check(r.shape == (0, 3) and r.maxshape == (None, 3) and r.dtype == np.float32,
              f"0-record dataset in HDF5: {r.shape} {r.maxshape} {r.dtype}")
        check(f["empty_str"].shape == (0,) and h5py.check_string_dtype(f["empty_str"].dtype),
              f"0-record strings in HDF5: {f['empty_str'].dtype}")
    check(g["only_attrs"].attrs["k"] == 5, "attribute-only group exported")
    check(list(g.attrs["arr"]) == [0, 1, 2] and g.attrs["u64"] == 2**64 - 1, "attrs exported")
    # a dangling soft link is reported, and verify does not say ok
    with h5py.File(p, "a") as f:
        f["dangling"] = h5py.SoftLink("/nowhere")
    out = run(CLI, "ls", u, ok=False)
    check(out.returncode != 0 and "dangling" in out.stderr, f"dangling link: {out.stderr}")
    out = run(CLI, "verify", u, ok=False)
    check(out.returncode != 0, f"verify with a dangling link: {out.stdout}")
    # zarr-python: NaN/Infinity/uint64 attributes, a (2, 3) array is a value
    z = fresh("foreign.zarr")
    g = zarr.open_group(z, "w")
    g.attrs.update({"nan": float("nan"), "inf": float("inf"), "big": 2**64 - 1, "k": 1})
    g.create_dataset("v", data=np.arange(6).reshape(2, 3))
    info = run(CLI, "info", f"zarr+dir:{z}", "/").stdout
    check("nan = nan" in info and "inf = inf" in info and "big = 18446744073709551615" in info,
          f"zarr attrs: {info}")
    check(run(EXE, "get", f"zarr+dir:{z}", "v").stdout.split() == ["2", "2", "3"], "zarr foreign value")


simrec_to_python()
codecs()
python_to_simrec()
print("interop matrix: ok")
