"""Shared helpers for the benchmark scripts in bench/ (not tests).

Each script compares recordkeep with the standard tool for the same work on the same
data, ALTERNATING the two (recordkeep, tool, tool, recordkeep, ...: each side first in every
other pair) so that a noisy neighbour slows both sides alike, and reports the median of the per-pair ratios
(recordkeep / tool). The helpers here do the alternation, the timing of whole
commands as subprocesses, the median and the printing, and the temporary work folder
(on the same file system as the repository, removed afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
MiB = 1024 * 1024
GiB = 1024 * MiB


# -- command line ----------------------------------------------------------------------
def git_head(tree: Path) -> str:
    """The short commit of a tree of the code, said to be changed when its recordkeep/ or cli.py is."""
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "recordkeep", "cli.py"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" (recordkeep/ or cli.py changed)" if dirty else "")


def env_for(tree: Path) -> dict:
    """The environment that runs ``tree``'s code (first on PYTHONPATH), its .pyc files written."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def byte_compile(*trees: Path) -> None:
    """Write the .pyc files of the library and the CLI, this tree's and those of ``trees`` (the
    other code an A/B script times): under ``PYTHONDONTWRITEBYTECODE`` (set on these machines) a
    module edited since its last compile is compiled again by every run, which would time the
    compiler (50 ms a run, measured), not recordkeep."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = [str(tree / name) for tree in (REPO, *trees) for name in ("recordkeep", "cli.py")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *code], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def parse_args(description: str, *, pairs: int, size_gib: float | None = None, pause: bool = False,
               extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The common flags: --pairs, --workdir, --keep, --settle, --json-out; --size-gib for a
    script whose data has a size (``size_gib`` its default), --pause for one that waits
    (``pause``)."""
    ap = argparse.ArgumentParser(description=description)
    if size_gib is not None:
        ap.add_argument("--size-gib", type=float, default=size_gib,
                        help=f"amount of data in GiB (default {size_gib})")
    ap.add_argument("--pairs", type=int, default=pairs,
                    help=f"number of alternated (recordkeep, tool) pairs (default {pairs})")
    ap.add_argument("--workdir", default=None,
                    help="parent folder for the temporary data (default: beside the repository, "
                         "on the same file system)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data afterwards")
    ap.add_argument("--settle", type=float, default=60.0,
                    help="before each pair, wait up to this many seconds for the CPUs to be "
                         "quiet (other work on the machine); 0 to not wait (default 60)")
    if pause:
        ap.add_argument("--pause", type=float, default=0.0,
                        help="after the untimed preparation, wait this many seconds before the timed "
                             "command, on both sides alike: 0 measures with memory freed moments ago, "
                             "5 with memory the VM has returned to its host (see docs/benchmarks.md)")
    ap.add_argument("--json-out", default=None,
                    help="also write the results as JSON here (default bench/results/NAME.json)")
    if extra:
        extra(ap)
    args = ap.parse_args()
    if args.pairs < 1:
        ap.error("--pairs must be at least 1")
    byte_compile()
    return args


# -- tools -----------------------------------------------------------------------------
def resolve(cmd: str) -> str:
    """The real executable for ``cmd``: the project's own ``.venv`` (what ``./tasks.sh``
    installs) first, else PATH, past a pyenv shim if there is one.

    A pyenv shim is a bash script that costs ~100 ms a call on these machines; timing
    through it would measure pyenv, not the program.
    """
    own = REPO / ".venv" / "bin" / cmd
    if own.exists():
        return str(own)
    found = shutil.which(cmd)
    if found is None:
        sys.exit(f"bench: {cmd!r} is not on PATH")
    if "/shims/" in found and shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "which", cmd], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return found


def need(cmd: str, apt_package: str | None = None) -> str:
    """Path of ``cmd``, or exit saying how to install it."""
    found = shutil.which(cmd)
    if found is None:
        hint = f": apt-get install -y {apt_package}" if apt_package else ""
        sys.exit(f"bench: {cmd!r} is not installed{hint}")
    return found


# -- data ------------------------------------------------------------------------------
@contextlib.contextmanager
def workdir(name: str, parent: str | None = None, keep: bool = False) -> Iterator[Path]:
    """A temporary folder on the repository's file system (or under ``parent``)."""
    base = Path(parent) if parent else REPO.parent / "bench-tmp"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            rmtree(path)
            with contextlib.suppress(OSError):
                base.rmdir()  # only when empty


@contextlib.contextmanager
def store_folder(name: str, store: str | None, parent: str | None = None,
                 keep: bool = False) -> Iterator[Path]:
    """Where a benchmark builds its store: ``store`` (``--store``: kept, to be reused by the
    next run; its parent made), else ``store`` in a temporary ``workdir``."""
    if store:
        root = Path(store).resolve()
        root.parent.mkdir(parents=True, exist_ok=True)
        yield root
    else:
        with workdir(name, parent, keep) as folder:
            yield folder / "store"


def rmtree(path: Path) -> None:
    """Remove a tree even where blobs are mode 0444 (and their folders read-only)."""
    def onerror(func, p, _exc):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o644)
        func(p)
    if path.exists():
        shutil.rmtree(path, onerror=onerror)


def make_random_file(path: Path, size: int, chunk: int = 64 * MiB) -> Path:
    """Write ``size`` bytes from os.urandom (incompressible, never deduplicated), fsynced."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())
    return path


def warm(paths: Sequence[Path], chunk: int = 8 * MiB) -> int:
    """Read every file once so it sits in the page cache; return the bytes read."""
    total = 0
    for p in paths:
        with open(p, "rb", buffering=0) as f:
            while True:
                b = f.read(chunk)
                if not b:
                    break
                total += len(b)
    return total


def sync() -> None:
    """Write back all dirty data (untimed, between runs: each run starts with a clean disk)."""
    os.sync()


# -- the machine's other work ------------------------------------------------------------
def _cpu_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]  # idle + iowait
    return sum(vals[:8]), idle


def cpu_busy(seconds: float = 1.0) -> float:
    """Fraction of all CPUs busy over ``seconds`` (this process sleeps meanwhile)."""
    t0, i0 = _cpu_ticks()
    time.sleep(seconds)
    t1, i1 = _cpu_ticks()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def settle(max_wait: float, quiet: float = 0.25) -> float:
    """Wait (up to ``max_wait`` s) until the CPUs are less than ``quiet`` busy; return the last reading.

    Other sessions' test runs share these 2 cores; starting a pair in a quiet moment
    lowers the noise. A pair still runs after ``max_wait`` (the reading is kept with it).
    """
    if max_wait <= 0:
        return -1.0
    deadline = time.monotonic() + max_wait
    while True:
        busy = cpu_busy(1.0)
        if busy < quiet or time.monotonic() >= deadline:
            return busy


# -- timing ----------------------------------------------------------------------------
LAST_CPU_S = 0.0  # user+sys CPU seconds of the last run()'s processes
LAST_OTHERS_S = 0.0  # CPU seconds the rest of the machine used meanwhile (shared with other work)
_TICKS = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds all CPUs have spent busy so far (not idle, not waiting for I/O)."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:8]]
    return (sum(vals) - vals[3] - vals[4]) / _TICKS


def disturbance_flags(ap: argparse.ArgumentParser, what: str) -> None:
    """``--max-others`` and ``--tries``, for ``least_disturbed``; ``what`` names one run."""
    ap.add_argument("--max-others", type=float, default=0.1,
                    help="a run during which other processes used more CPU seconds than this "
                         "fraction of its wall time is run again (default 0.1)")
    ap.add_argument("--tries", type=int, default=3,
                    help=f"runs of one {what} at most; the least disturbed is kept (default 3)")


def least_disturbed(attempt: Callable[[int], float], tries: int,
                    max_others: float) -> tuple[float, float, float, int]:
    """Call ``attempt(i)`` (its timed command run by ``run``; it returns the wall time) until,
    during one, the rest of the machine used at most ``max_others`` of its wall time in CPU, at
    most ``tries`` times. Return the least disturbed run's wall time, own CPU seconds and others'
    CPU seconds, and how many runs were redone; LAST_CPU_S is left at the kept run's."""
    global LAST_CPU_S
    best = (0.0, 0.0, float("inf"))
    for i in range(max(1, tries)):
        wall = attempt(i)
        others = LAST_OTHERS_S
        if others < best[2]:
            best = (wall, LAST_CPU_S, others)
        if others <= max_others * wall:
            break
    LAST_CPU_S = best[1]
    return (*best, i)


def run(argv: Sequence[str] | str, *, shell: bool = False, env: dict | None = None,
        check: bool = True) -> float:
    """Run one command as a subprocess, input empty and output discarded; return its wall time in seconds.

    The CPU time (user + system) of the command and its children goes to LAST_CPU_S, and
    the CPU seconds every other process used while it ran to LAST_OTHERS_S.
    """
    global LAST_CPU_S, LAST_OTHERS_S
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0 = busy_seconds()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, shell=shell, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_S = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    LAST_OTHERS_S = max(0.0, busy_seconds() - b0 - LAST_CPU_S)
    if check and proc.returncode != 0:
        shown = argv if isinstance(argv, str) else " ".join(map(str, argv))
        sys.exit(f"bench: command failed (exit {proc.returncode}): {shown}\n"
                 f"{proc.stderr.decode(errors='replace')}")
    return dt


@dataclass
class Comparison:
    """Alternated timings of one recordkeep command against one standard tool."""

    name: str
    ours: str
    tool: str
    ours_cmd: str = ""
    tool_cmd: str = ""
    pairs: list[tuple[float, float]] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in self.pairs]

    def summary(self) -> dict:
        ours = [a for a, _ in self.pairs]
        tool = [b for _, b in self.pairs]
        r = self.ratios
        return {
            "name": self.name, "ours": self.ours, "tool": self.tool,
            "ours_cmd": self.ours_cmd, "tool_cmd": self.tool_cmd, "note": self.note,
            "pairs": [{"ours_s": round(a, 4), "tool_s": round(b, 4), "ratio": round(a / b, 4),
                       "ours_cpu_s": round(ca, 3), "tool_cpu_s": round(cb, 3),
                       "machine_busy_before": round(busy, 3)}
                      for (a, b), (ca, cb), busy in zip(self.pairs, self.cpu, self.busy, strict=True)],
            "median_ratio": round(statistics.median(r), 4),
            "min_ratio": round(min(r), 4), "max_ratio": round(max(r), 4),
            "median_ours_s": round(statistics.median(ours), 4),
            "median_tool_s": round(statistics.median(tool), 4),
            "median_ours_cpu_s": round(statistics.median(a for a, _ in self.cpu), 3),
            "median_tool_cpu_s": round(statistics.median(b for _, b in self.cpu), 3),
        }


def alternate(comp: Comparison, pairs: int, ours: Callable[[], float], tool: Callable[[], float],
              *, before: Callable[[], None] | None = None, quiet: bool = False,
              settle_s: float = 0.0, pause_s: float = 0.0) -> Comparison:
    """Time ``ours`` and ``tool``, ``pairs`` times, ``ours`` first in the odd pairs and ``tool``
    first in the even ones (ABBA): whatever the first run after a quiet moment pays (a vCPU the
    host let sleep, caches) falls on each side alike. ``before`` runs untimed before each side.

    ``ours`` and ``tool`` each return the seconds they measured; the CPU seconds of the
    timed command are taken from LAST_CPU_S. Before each pair, ``settle`` waits (up to
    ``settle_s``) for a quiet machine. After ``before``, both sides wait ``pause_s``: on
    a VM that hands freed memory back to its host at once (page_reporting), filling the
    page cache costs ~3x more seconds after freeing than moments after, so both sides
    must start from the same distance to ``before`` (which frees the last copy), and any
    set-up of one side belongs in ``before``, not in its timed function.
    """
    if not quiet:
        print(f"\n== {comp.name}: {comp.ours} vs {comp.tool}, {pairs} alternated pairs")
        if comp.ours_cmd:
            print(f"   ours: {comp.ours_cmd}")
        if comp.tool_cmd:
            print(f"   tool: {comp.tool_cmd}")
        print(f"   {'pair':>4}  {'first':>10}  {'recordkeep s':>12}  {'tool s':>10}  {'ratio':>6}  "
              f"{'cpu s (rk/tool)':>15}  {'busy before':>11}")

    def timed(side: Callable[[], float]) -> tuple[float, float]:
        if before:
            before()
        time.sleep(pause_s)
        return side(), LAST_CPU_S

    for i in range(pairs):
        busy = settle(settle_s)
        if i % 2 == 0:
            (a, ca), (b, cb) = timed(ours), timed(tool)
        else:
            (b, cb), (a, ca) = timed(tool), timed(ours)
        comp.pairs.append((a, b))
        comp.cpu.append((ca, cb))
        comp.busy.append(busy)
        if not quiet:
            first = "recordkeep" if i % 2 == 0 else "tool"
            print(f"   {i + 1:>4}  {first:>10}  {a:>12.3f}  {b:>10.3f}  {a / b:>6.3f}  "
                  f"{ca:>7.2f}/{cb:<7.2f}  {busy * 100:>10.0f}%", flush=True)
    return comp


def report(comp: Comparison, target: float | None = None, *, unit_bytes: int | None = None) -> dict:
    """Print the median ratio (recordkeep / tool), its min and max, and the target verdict."""
    s = comp.summary()
    line = (f"   MEDIAN RATIO {comp.name}: {s['median_ratio']:.3f}  "
            f"(min {s['min_ratio']:.3f}, max {s['max_ratio']:.3f}; "
            f"median {s['median_ours_s']:.3f} s vs {s['median_tool_s']:.3f} s)")
    print(line)
    ratios = [a / b for a, b in comp.pairs]
    if len(ratios) >= 2:  # alternate() ran recordkeep first in the odd pairs, the tool in the even
        s["median_ratio_ours_first"] = round(statistics.median(ratios[0::2]), 3)
        s["median_ratio_tool_first"] = round(statistics.median(ratios[1::2]), 3)
        print(f"   median ratio with recordkeep first {s['median_ratio_ours_first']:.3f}, "
              f"with the tool first {s['median_ratio_tool_first']:.3f}")
    print(f"   median CPU seconds (user+sys of the command): recordkeep {s['median_ours_cpu_s']:.2f}, "
          f"tool {s['median_tool_cpu_s']:.2f}")
    if unit_bytes:
        s["bytes"] = unit_bytes
        s["ours_gbps"] = round(unit_bytes / s["median_ours_s"] / 1e9, 3)
        s["tool_gbps"] = round(unit_bytes / s["median_tool_s"] / 1e9, 3)
        print(f"   throughput (median): recordkeep {s['ours_gbps']:.3f} GB/s, "
              f"tool {s['tool_gbps']:.3f} GB/s")
    if target is not None:
        s["target"] = target
        s["target_met"] = s["median_ratio"] <= target
        print(f"   target <= {target:.2f}x: {'MET' if s['target_met'] else 'MISSED'}")
    return s


def save(name: str, summaries: list[dict], args: argparse.Namespace, extra: dict | None = None) -> Path:
    """Write the results as JSON (bench/results/NAME.json unless --json-out)."""
    out = Path(args.json_out) if args.json_out else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"bench": name, "when": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
           "loadavg_at_end": os.getloadavg(),
           "args": {k: v for k, v in vars(args).items() if k != "json_out"},
           "results": summaries, **(extra or {})}
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults written to {out}")
    return out
