"""Diagnostic: where `recordkeep verify --full` spends its time, beside b3sum's whole run.

    python bench/verify_phases.py --store S [--runs 10]

S is a store of large blobs (`bench/verify_vs_b3sum.py --keep` leaves one). Alternated, each
run warm (every blob read once, untimed): `b3sum BLOB...` timed whole, then the command run
in a child process that notes, from just before it was started, when the first blob is asked
of a hash worker (``start``), when the last answer came (``hashed``) and when the command
returned (``done``); the child imports nothing the command would not. Prints the medians:
the hashing phase (hashed - start) against b3sum's whole run tells the hashing's speed apart
from the fixed cost around it. Since verify's head start (store/headstart.py), ``start`` is the
head start's first request, made as the command begins: the phase then includes the start-up
that runs beside the hashing. No target: it explains one.
"""

from __future__ import annotations

import json
import os
import sys
import time


def child(store: str, t0: float) -> None:
    """Run the command in this process; print the marks, in seconds from ``t0`` (the parent's
    clock just before it started this process), and the command's exit code."""
    marks: dict[str, float] = {}
    sys.argv = ["recordkeep", "--store", store, "verify", "--full"]
    import cli
    from recordkeep.store import hashpool

    asked = hashpool.HashWorker.hash

    def hash_noted(self, path, size):
        marks.setdefault("start", time.time() - t0)
        answer = asked(self, path, size)
        marks["hashed"] = time.time() - t0
        return answer

    hashpool.HashWorker.hash = hash_noted
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the command's report is not wanted)
    try:
        cli.main()
    except SystemExit as end:
        marks["exit"] = end.code or 0
    marks["done"] = time.time() - t0
    sys.__stdout__.write(json.dumps(marks) + "\n")


def main() -> None:
    import argparse
    import glob
    import statistics
    import subprocess
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _common as c

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    c.byte_compile()
    blobs = sorted(glob.glob(os.path.join(args.store, "objects", "blake3", "*", "*", "*")))
    b3sum, python = c.need("b3sum", "b3sum"), str(Path(c.resolve("recordkeep")).with_name("python"))
    rows = []
    for _ in range(args.runs):
        c.warm([Path(b) for b in blobs])
        tool = c.run([b3sum, *blobs])
        c.warm([Path(b) for b in blobs])
        t0, t = time.time(), time.perf_counter()
        out = subprocess.run([python, __file__, "--child", args.store, repr(t0)], capture_output=True,
                             text=True, check=True, env=c.env_for(c.REPO))
        whole = time.perf_counter() - t
        marks = json.loads(out.stdout.splitlines()[-1])
        if marks.get("exit") or "start" not in marks:
            sys.exit(f"verify --full exited {marks.get('exit')} or hashed nothing through a worker "
                     f"(blobs under 8 MiB are streamed): {out.stderr[-500:]}")
        rows.append({"b3sum": tool, "whole": whole, "to_start": marks["start"],
                     "hashing": marks["hashed"] - marks["start"], "after": marks["done"] - marks["hashed"]})
        print("  ".join(f"{k} {v:.3f}" for k, v in rows[-1].items()), flush=True)
    median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print("MEDIAN  " + "  ".join(f"{k} {v:.3f} s" for k, v in median.items()))
    print(f"hashing phase / b3sum: {median['hashing'] / median['b3sum']:.3f}; "
          f"whole / b3sum: {median['whole'] / median['b3sum']:.3f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # imports nothing the command itself would not
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()
