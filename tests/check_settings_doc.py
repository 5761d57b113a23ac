#!/usr/bin/env python3
"""The manual lists the settings the code declares, and nothing else.

    check_settings_doc.py SOURCE_DIR [--print]

Reads the tables (SR_URI_PARAMS in src/store/settings.h, SR_ENV_VARS in
src/common/env.h), the stores' scheme and parameter bit (src/store/), every
environment variable read anywhere in src/, and the "URI parameters" and
"Environment" sections of include/simrec.h, and fails on any difference:
a name missing on either side, other stores, another default or doc line.
--print writes the two sections as the tables make them.
"""
import glob
import os
import re
import sys
import textwrap


def c_strings(text):
    """The concatenated C string literals of text."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', text))


def macro_rows(path, macro):
    """The X(...) rows of a '#define MACRO(X) \\' list, as argument lists."""
    src = open(path).read()
    start = src.index(f"#define {macro}(X)")
    body = []
    for line in src[start:].splitlines()[1:]:
        body.append(line.rstrip("\\").strip())
        if not line.rstrip().endswith("\\"):
            break
    text = " ".join(body)
    rows = []
    for m in re.finditer(r"X\(", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0) if not in_string(
                text, i) else 0
            i += 1
        rows.append(split_args(text[m.end():i - 1]))
    return rows


def in_string(text, i):
    return text[:i].count('"') % 2 == 1


def split_args(s):
    out, cur, quoted = [], "", False
    for i, ch in enumerate(s):
        if ch == '"' and (i == 0 or s[i - 1] != "\\"):
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def store_bits(src):
    """SR_IN_* bit values, and the schemes that name each bit."""
    settings = open(os.path.join(src, "store/settings.h")).read()
    enum = settings[settings.index("SR_IN_MEMORY"):]
    enum = enum[:enum.index("}")]
    bits = {}
    for name, expr in re.findall(r"(SR_IN_\w+) = ([^,]+),", enum):
        bits[name] = eval(re.sub(r"SR_IN_\w+", lambda m: str(bits[m.group(0)]),
                                 expr))
    schemes = {}
    for f in glob.glob(os.path.join(src, "store/**/*.c"), recursive=True):
        text = open(f).read()
        for table in re.findall(r"const sr_store_ops \w+ = \{(.*?)\};", text,
                                re.S):
            scheme = re.search(r'\.scheme = "([^"]+)"', table)
            bit = re.search(r"\.param_bit = (SR_IN_\w+)", table)
            if scheme and bit:
                schemes[scheme.group(1)] = bits[bit.group(1)]
    return bits, schemes


ORDER = ["memory", "zarr", "zarr+dir", "hdf5", "redis"]


def stores_text(mask, schemes):
    if all(mask & b for b in schemes.values()):
        return "every store"
    names = [s for s in ORDER if s in schemes and mask & schemes[s]]
    names += sorted(s for s in schemes if s not in ORDER and mask & schemes[s])
    return ", ".join(names)


def params(src):
    bits, schemes = store_bits(src)
    out = []
    for name, kind, stores, dflt, doc in macro_rows(
            os.path.join(src, "store/settings.h"), "SR_URI_PARAMS"):
        out.append((name, stores_text(bits["SR_IN_" + stores], schemes),
                    c_strings(dflt), c_strings(doc)))
    return out


def env_vars(src):
    return [(name, c_strings(doc)) for name, _, doc in macro_rows(
        os.path.join(src, "common/env.h"), "SR_ENV_VARS")]


def wrap(first, rest_indent, text):
    return textwrap.wrap(text, width=76, initial_indent=first,
                         subsequent_indent=rest_indent,
                         break_on_hyphens=False)


def sections(src):
    p = []
    for name, stores, dflt, doc in params(src):
        p += wrap(" *   ", " *       ",
                  f"{name} ({stores}; default: {dflt}): {doc}")
    e = []
    for name, doc in env_vars(src):
        e += wrap(" *   - ", " *     ", f"{name}: {doc}")
    return p, e


def header_section(header, title, stop):
    text = open(header).read()
    start = text.index(f" * {title}")
    lines = text[start:].splitlines()[1:]
    out = []
    for line in lines:
        if line.startswith(stop) or line.strip() in ("*", "*/"):
            break
        out.append(line.rstrip())
    return out


def normal(lines):
    return " ".join(w for l in lines for w in l.lstrip(" *").split())


def entries(lines, pattern):
    """Entries of a section: a line matching pattern starts one."""
    out, cur = {}, None
    for line in lines:
        m = re.match(pattern, line)
        if m:
            cur = m.group(1)
            out[cur] = [line]
        elif cur:
            out[cur].append(line)
    return {k: normal(v) for k, v in out.items()}


def main():
    src = sys.argv[1]
    want_p, want_e = sections(src)
    if "--print" in sys.argv:
        print("\n".join(want_p))
        print("\n".join(want_e))
        return
    header = os.path.join(src, "..", "include", "simrec.h")
    bad = []
    got_p = header_section(header, "URI parameters", " * Environment")
    # the section's own introduction runs until the first entry
    got_p = got_p[next(i for i, l in enumerate(got_p)
                       if re.match(r" \*   \w+ \(", l)):]
    got_e = header_section(header, "Environment", " * Precedence")
    for what, want, got, pat in (
            ("URI parameter", want_p, got_p, r" \*   (\w+) \("),
            ("environment variable", want_e, got_e, r" \*   - (\w+):")):
        w, g = entries(want, pat), entries(got, pat)
        for name in sorted(set(w) | set(g)):
            if name not in g:
                bad.append(f"{what} {name} is declared but not in "
                           f"include/simrec.h")
            elif name not in w:
                bad.append(f"{what} {name} is in include/simrec.h but "
                           f"declared nowhere")
            elif w[name] != g[name]:
                bad.append(f"{what} {name}: include/simrec.h says\n  "
                           f"{g[name]}\nthe table says\n  {w[name]}")
    # every variable read anywhere in src/ is in the table
    declared = {n for n, _ in env_vars(src)}
    for f in glob.glob(os.path.join(src, "**/*.c"), recursive=True):
        for name in re.findall(r'(?:getenv|env_int)\("(\w+)"',
                               open(f).read()):
            if name not in declared:
                bad.append(f"{os.path.relpath(f, src)} reads {name}, "
                           f"which src/common/env.h does not declare")
    for line in bad:
        print(line)
    if bad:
        sys.exit(1)
    print(f"settings doc: ok ({len(params(src))} URI "
          f"parameters, {len(declared)} environment variables)")


main()
