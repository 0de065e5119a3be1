"""Benchmark: wall time of `recordkeep --help` against `python -c pass`.

    python bench/cli_startup.py [--pairs 20]

Alternated (recordkeep --help, python -c pass, ...), --pairs times (default 20), with
the same interpreter the `recordkeep` console script runs under. Two comparisons:
  1. direct: the console script and the interpreter by their real paths;
  2. via PATH as a user types them: on a pyenv machine both go through a pyenv shim
     (a bash script, ~100 ms of its own), so this shows what a clerk sees.
Target: `recordkeep --help` in under 150 ms (median, absolute). Also prints
the heaviest imports of `recordkeep --help` (python -X importtime), once, untimed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGET_S = 0.150


def interpreter_of(script: str) -> str:
    first = Path(script).read_bytes().split(b"\n", 1)[0]
    if first.startswith(b"#!") and b"python" in first:
        return first[2:].decode().strip().split()[0]
    return sys.executable


def shims(cmd: str) -> str | None:
    """The pyenv shim a shell would run for ``cmd`` (``pyenv exec`` hides it from PATH here)."""
    if not shutil.which("pyenv"):
        return None
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    shim = Path(root) / "shims" / cmd
    return str(shim) if root and shim.exists() else None


def import_profile(python: str, script: str, top: int = 12) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the heaviest top-level imports."""
    proc = subprocess.run([python, "-X", "importtime", script, "--help"],
                          capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:  # top-level imports only
            rows.append((int(m.group(2)), m.group(4)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[1], pairs=20)
    script = c.resolve("recordkeep")
    python = interpreter_of(script)
    summaries = []
    variants = [("direct", [script, "--help"], [python, "-c", "pass"],
                 f"{script} --help", f"{python} -c pass")]
    on_path_rk, on_path_py = shims("recordkeep"), shims("python")
    if on_path_rk and on_path_py:
        variants.append(("via PATH (pyenv shim)", [on_path_rk, "--help"], [on_path_py, "-c", "pass"],
                         "recordkeep --help", "python -c pass"))
    for label, ours, tool, ours_cmd, tool_cmd in variants:
        c.run(ours), c.run(tool)  # warm: first runs load files into the page cache
        comp = c.Comparison(f"startup {label}", "recordkeep --help", "python -c pass",
                            ours_cmd=ours_cmd, tool_cmd=tool_cmd)
        c.alternate(comp, args.pairs, lambda o=ours: c.run(o), lambda t=tool: c.run(t),
                    settle_s=args.settle)
        s = c.report(comp)
        s["target_s"] = TARGET_S
        s["target_met"] = s["median_ours_s"] < TARGET_S
        s["overhead_s"] = round(s["median_ours_s"] - s["median_tool_s"], 4)
        print(f"   recordkeep --help median {s['median_ours_s'] * 1000:.1f} ms "
              f"(python -c pass {s['median_tool_s'] * 1000:.1f} ms, "
              f"recordkeep's own {s['overhead_s'] * 1000:.1f} ms); "
              f"target < {TARGET_S * 1000:.0f} ms: {'MET' if s['target_met'] else 'MISSED'}")
        summaries.append(s)
    prof = import_profile(python, script)
    print("\nheaviest top-level imports of `recordkeep --help` (cumulative, python -X importtime):")
    for us, mod in prof:
        print(f"   {us / 1000:7.1f} ms  {mod}")
    c.save("cli_startup", summaries, args,
           {"recordkeep": script, "python": python,
            "imports_ms": [{"module": m, "ms": round(us / 1000, 1)} for us, m in prof]})


if __name__ == "__main__":
    main()
