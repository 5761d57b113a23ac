"""The Python example in README.md runs as printed."""
import os
import re
import subprocess
import sys

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def readme_example():
    text = open(README, encoding="utf-8").read()
    m = re.search(r"<!-- python-example[^>]*-->\s*```python\n(.*?)```", text,
                  re.S)
    assert m, "README.md has no marked Python example"
    return m.group(1)


def test_readme_example_runs(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                         check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert lines[0] == "(100, 32, 64) float32"
    assert "99." in lines[1]
    assert lines[-1].endswith("0.01") and "49.5" in lines[-1]


def test_quick_start_is_two_commands():
    text = open(README, encoding="utf-8").read()
    m = re.search(r"## Quick start\n.*?```sh\n(.*?)```", text, re.S)
    assert m, "README.md has no quick start"
    lines = [ln.split("#")[0].strip() for ln in m.group(1).splitlines()]
    assert [ln for ln in lines if ln] == ["tools/run.sh", "tools/test.sh"]
