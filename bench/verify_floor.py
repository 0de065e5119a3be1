"""Diagnostic: what Python, click and the libraries cost before `verify --full` can hash, beside b3sum.

    python bench/verify_floor.py --store S [--rounds 9] [--settle 10]

S is a store of large blobs (`bench/verify_vs_b3sum.py --size-gib 8 --keep` leaves one).

First the start-up alone, with the interpreter the `recordkeep` console script runs under,
alternated, 2 runs a round, median wall times: `python -c pass`; importing click; importing
cli.py (click and the command definitions: where a command's own code can begin); importing
the modules of others `verify --full` uses (click, sqlite3, tomllib, json, subprocess,
concurrent.futures, cryptography's Ed25519 and PEM key loading); importing what `verify --full`
imports before it hashes (cli.py, the library, the key loading); a hash worker's start
(store/hashworker.py, run as verify runs it, given no work).

Then each round runs, in turn and each warm (every blob read once, untimed):
  b3sum          `b3sum BLOB...`, the standard tool;
  python+blake3  a Python program that hashes each blob as b3sum does (mmap, BLAKE3's threads)
                 and does nothing else: the cost of the language and of the blake3 package;
  +click         the same program importing click first, as every recordkeep command does;
  +deps          the same, importing first the modules of others listed above;
  +library       the same, importing first what `verify --full` imports: no store opened;
  recordkeep     `recordkeep --store S verify --full` (opens the store, checks the journal's
                 chain, loads the key, hashes, journals a signed `verify.run`);
  workers        recordkeep's two hash workers (store/hashworker.py, run as verify runs them)
                 given every other blob each, nothing else: verify's hashing without the command;
  overlapped     the workers and `recordkeep --store S verify --fast` started together, timed
                 until all end: everything the command does but the hashing, done while the
                 workers hash from the first moment: a bound no command can reach;
  overlapped+D   the same with the workers started D later, D the start-up of cli.py (medians
                 above): the earliest a click command could have its workers hashing, were they
                 started as its own code begins, before the library loads.
Prints each one's median time and median ratio to b3sum over the rounds. No target: it shows
how much of issue 20's warm target (<= 1.1x b3sum) the language and click leave to the rest.
"""

from __future__ import annotations

import argparse
import glob
import os
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

HASH_LIKE_B3SUM = """
import mmap, sys
from blake3 import blake3
for path in sys.argv[1:]:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        print(blake3(m, max_threads=blake3.AUTO).hexdigest(), path)
"""
CLICK = "import click\n"
CLI = "import cli\n"
DEPS = ("import click, sqlite3, tomllib, json, subprocess, concurrent.futures\n"
        "from cryptography.hazmat.primitives import serialization\n"
        "from cryptography.hazmat.primitives.asymmetric import ed25519\n")
LIBRARY = ("import click, cli, recordkeep.archive, recordkeep.verification, recordkeep.scope\n"
           "from cryptography.hazmat.primitives import serialization\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--settle", type=float, default=10.0,
                    help="before each round, wait up to this many seconds for the CPUs to be quiet")
    args = ap.parse_args()
    c.byte_compile()
    blobs = sorted(glob.glob(os.path.join(args.store, "objects", "blake3", "*", "*", "*")))
    if not blobs:
        sys.exit(f"bench: no blobs under {args.store}/objects/blake3")
    recordkeep = c.resolve("recordkeep")
    python = str(Path(recordkeep).with_name("python"))
    env = c.env_for(c.REPO)
    print(f"{len(blobs)} blobs, {sum(os.path.getsize(b) for b in blobs) / c.GiB:.2f} GiB, warm; "
          f"code at {c.git_head(c.REPO)}")
    started = startup(python, env, args.rounds * 2)
    delay = started["cli"]
    b3sum = [c.need("b3sum", "b3sum"), *blobs]
    fast = shlex.join([recordkeep, "--store", args.store, "verify", "--fast"])
    with tempfile.TemporaryDirectory() as requests:
        workers, waited = hash_workers(python, blobs, Path(requests))
        commands: dict[str, list[str] | str] = {
            "b3sum": b3sum,
            "python+blake3": [python, "-c", HASH_LIKE_B3SUM, *blobs],
            "+click": [python, "-c", CLICK + HASH_LIKE_B3SUM, *blobs],
            "+deps": [python, "-c", DEPS + HASH_LIKE_B3SUM, *blobs],
            "+library": [python, "-c", LIBRARY + HASH_LIKE_B3SUM, *blobs],
            "recordkeep": [recordkeep, "--store", args.store, "verify", "--full"],
            "workers": f"{workers} {waited}",
            "overlapped": f"{workers} {fast} >/dev/null || exit 1; {waited}",
            f"overlapped+{delay * 1000:.0f}ms": (f"(sleep {delay:.3f}; {workers} {waited}) & late=$!; "
                                                 f"{fast} >/dev/null || exit 1; wait $late"),
        }
        rounds(commands, blobs, env, args)


def hash_workers(python: str, blobs: list[str], requests: Path) -> tuple[str, str]:
    """Shell text that starts recordkeep's hash workers in the background, each asked for every
    other blob (``SIZE<TAB>PATH`` lines, as hashpool.HashWorker asks), answers discarded, and
    the text that waits for them, failing when one failed."""
    from recordkeep.store.hashpool import BLAKE3_HOME, WORKER, WORKERS

    started, waited = [], []
    for i in range(WORKERS):
        asked = requests / f"worker{i}"
        asked.write_text("".join(f"{os.path.getsize(b)}\t{b}\n" for b in blobs[i::WORKERS]))
        worker = shlex.join([python, "-S", WORKER, BLAKE3_HOME])
        started.append(f"{worker} <{shlex.quote(str(asked))} >/dev/null & w{i}=$!;")
        waited.append(f"wait $w{i}")
    return " ".join(started), " && ".join(waited)


def rounds(commands: dict[str, list[str] | str], blobs: list[str], env: dict,
           args: argparse.Namespace) -> None:
    """Run ``commands`` in turn, each warm, ``args.rounds`` times; print the times and ratios."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    print("round  " + "  ".join(f"{name:>13}" for name in commands))
    for n in range(1, args.rounds + 1):
        c.settle(args.settle)
        for name, argv in commands.items():
            c.warm([Path(b) for b in blobs])
            times[name].append(c.run(argv, env=env, shell=isinstance(argv, str)))
        print(f"{n:5}  " + "  ".join(f"{times[name][-1]:13.3f}" for name in commands), flush=True)
    tool = times["b3sum"]
    print("MEDIAN " + "  ".join(f"{statistics.median(v):13.3f}" for v in times.values()))
    print("RATIO  " + "  ".join(f"{statistics.median(t / b for t, b in zip(v, tool, strict=True)):13.3f}"
                                for v in times.values()) + "   (median of the per-round ratios to b3sum)")


def startup(python: str, env: dict, runs: int) -> dict[str, float]:
    """Print and return the median wall times (s) of the start-up alone (no hashing), alternated."""
    from recordkeep.store.hashpool import BLAKE3_HOME, WORKER

    programs = {name: [python, "-c", code] for name, code in
                {"python": "pass", "+click": CLICK, "cli": CLI, "+deps": DEPS, "+library": LIBRARY}.items()}
    programs["worker"] = [python, "-S", WORKER, BLAKE3_HOME]  # no request: it ends at once
    times: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(runs):
        for name, argv in programs.items():
            times[name].append(c.run(argv, env=env))
    medians = {name: statistics.median(v) for name, v in times.items()}
    print(f"start-up alone, median of {runs} alternated runs (ms): "
          + "  ".join(f"{name} {m * 1000:.0f}" for name, m in medians.items()), flush=True)
    return medians


if __name__ == "__main__":
    main()
