#!/usr/bin/python3
"""The suite's own rules, read from ctest itself (ctest --show-only=json-v1
in the build directory): every test passes on its exit code alone (no
PASS_REGULAR_EXPRESSION, FAIL_REGULAR_EXPRESSION, SKIP_RETURN_CODE,
SKIP_REGULAR_EXPRESSION or WILL_FAIL) and has a TIMEOUT. Prints the count.
    check_suite.py CTEST BUILD_DIR"""
import json
import subprocess
import sys

ctest, build = sys.argv[1:3]
out = subprocess.run([ctest, "--show-only=json-v1"], cwd=build, check=True,
                     capture_output=True, text=True).stdout
tests = json.loads(out)["tests"]
FORBIDDEN = {"PASS_REGULAR_EXPRESSION", "FAIL_REGULAR_EXPRESSION",
             "SKIP_RETURN_CODE", "SKIP_REGULAR_EXPRESSION", "WILL_FAIL"}
bad = []
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    for p in sorted(FORBIDDEN & props.keys()):
        bad.append(f"{t['name']}: {p} {props[p]!r}")
    if not props.get("TIMEOUT"):
        bad.append(f"{t['name']}: no TIMEOUT")
for b in bad:
    print("FAIL", b)
print(f"{len(tests)} tests, {len(tests) - len({b.split(':')[0] for b in bad})} "
      f"passing on their exit code alone, with a timeout")
sys.exit(1 if bad or not tests else 0)
