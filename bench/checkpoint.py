"""Benchmark: checkpoints of a 1,000,000-event signed journal.

    python bench/checkpoint.py [--events 1000000] [--new 1000] [--pairs 5] \
        [--old-tree ../wt-pre16] [--new-tree ../wt-head] [--store ../bench-tmp/checkpoint/s1m]

Each timed run is printed as wall seconds (its process's CPU seconds [the CPU seconds other
processes used meanwhile: this machine is shared]).

The store is built once as bench/log_verify.py builds it (a real `recordkeep init`, then
generated signed import batches), kept with ``--store`` and reused. Its index is built once
and one checkpoint made (the whole tree hashed, its compact range kept in the index).

A. The incremental checkpoint (issue target: under 1 s, process start included). Each
   round appends ``--new`` events (signed import batches) to the journal, then times, each a
   new process and alternating:
     a. `recordkeep log checkpoint --json` (catching the index up on the new events,
        checking the chain, growing the tree by them, signing, keeping, journaling);
     b. `recordkeep log head --json`, the cheapest command (process start and opening).
B. `log verify` with a checkpoint against the walk that knows none (issue target: <= 1.5x):
     c. `recordkeep log verify --json` of the tree before checkpoints (``--old-tree``);
     d. `recordkeep log verify --checkpoint FILE --json` of this tree (chain, signatures,
        and the Merkle tree grown in the same walk to the checkpoint's size).
Results: bench/results/checkpoint.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c
from log_verify import ACTOR, MARK, Events, build, iso

from recordkeep.store.journal import LocalJournal, canonical, chain
from recordkeep.trust import roles
from recordkeep.trust.keys import key_path, load_key
from recordkeep.trust.signer import Signer

TARGET_CHECKPOINT_S = 1.0
TARGET_VERIFY = 1.5


def append(root: Path, config: Path, count: int, gen: Events, batch: int = 10) -> None:
    """``count`` more journal lines: signed import batches of ``batch`` events and their seal."""
    journal = LocalJournal(root)
    head = journal.head()
    first = journal.first()
    os.environ["XDG_CONFIG_HOME"] = str(config)
    signer = Signer(load_key(key_path(ACTOR)), ACTOR, frozenset(roles.ALL_ROLES), first.data["store_id"])
    moment = dt.datetime.fromisoformat(journal.first().at) + dt.timedelta(days=400 + head.seq // 1000)
    goal = head.seq + count
    with open(journal.path, "ab") as f:
        while head.seq < goal:
            moment += dt.timedelta(seconds=60)
            made = chain(gen.batch(min(batch, goal - head.seq - 1) or 1, moment), actor=ACTOR, at=iso(moment),
                         after=head, seal=signer.seal)
            f.write(b"".join(canonical(e.as_dict()) + b"\n" for e in made))
            last = made[-1]
            head = type(head)(last.seq, last.hash, last.end, last.offset)
        f.flush()
        os.fsync(f.fileno())


CPU: dict[str, list[float]] = {}  # per run key: the process's CPU seconds
OTHERS: dict[str, list[float]] = {}  # per run key: CPU seconds other processes used meanwhile


def timed(argv: list[str], env: dict, key: str | None = None) -> float:
    wall = c.run(argv, env=env)
    if key is not None:
        CPU.setdefault(key, []).append(c.LAST_CPU_S)
        OTHERS.setdefault(key, []).append(c.LAST_OTHERS_S)
    return wall


def shown(key: str) -> str:
    """The last run of ``key``: wall s, its CPU s and [others' CPU s]."""
    return f"{CPU[key][-1]:.2f} CPU [{OTHERS[key][-1]:.1f}]"


def main() -> None:
    def extra(ap) -> None:
        ap.add_argument("--events", type=int, default=1_000_000, help="journal lines (default 1,000,000)")
        ap.add_argument("--new", type=int, default=1000, help="events appended before each checkpoint")
        ap.add_argument("--old-tree", default=str(c.REPO.parent / "wt-pre16"),
                        help="the code before checkpoints (a worktree at f8bc2e5)")
        ap.add_argument("--new-tree", default=str(c.REPO),
                        help="the code with checkpoints (default this tree; a worktree pins a commit "
                             "while others edit this one)")
        ap.add_argument("--store", default=None, help="build the store here once, keep and reuse it")

    args = c.parse_args(__doc__.splitlines()[0], pairs=5, extra=extra)
    rk = c.resolve("recordkeep")
    old, new = Path(args.old_tree).resolve(), Path(args.new_tree).resolve()
    if not (old / "recordkeep" / "logcheck.py").exists():
        sys.exit(f"bench: no pre-checkpoint tree at {old} (git worktree add {old} f8bc2e5)")
    c.byte_compile(old, new)
    with c.store_folder("checkpoint", args.store, args.workdir, args.keep) as root:
        config = root.parent / f"{root.name}-config"
        built = json.loads((root / MARK).read_text()) if (root / MARK).exists() else None
        if built is None or built["events"] != args.events:
            for p in (root, config):
                if p.exists():
                    shutil.rmtree(p)
            print(f"building {root}: {args.events:,} events", flush=True)
            built = build(root, args.events, 10, config, rk, new)
        env = {**c.env_for(new), "XDG_CONFIG_HOME": str(config)}
        old_env = {**c.env_for(old), "XDG_CONFIG_HOME": str(config)}
        base = [rk, "--store", str(root), "--actor", ACTOR]
        print("first checkpoint (index built, whole tree hashed) ...", flush=True)
        first_s = timed([*base, "log", "checkpoint", "--json"], env)
        print(f"   {first_s:.1f} s")
        gen = Events(seed=16)
        times: dict[str, list[float]] = {"a": [], "b": []}
        print(f"\n== A. checkpoint after {args.new} new events, {args.pairs} rounds (wall s)")
        for i in range(args.pairs):
            append(root, config, args.new, gen)
            c.settle(args.settle)
            times["a"].append(timed([*base, "log", "checkpoint", "--json"], env, "a"))
            times["b"].append(timed([*base, "log", "head", "--json"], env, "b"))
            print(f"   {i + 1:>5}  checkpoint {times['a'][-1]:.3f} ({shown('a')})  "
                  f"log head {times['b'][-1]:.3f} ({shown('b')})", flush=True)
        kept = sorted((root / "checkpoints").glob("*.checkpoint"), key=lambda p: int(p.stem))
        outside = root.parent / "published.checkpoint"
        shutil.copy(kept[-1], outside)
        verify_old = [*base, "log", "verify", "--json"]
        verify_new = [*base, "log", "verify", "--checkpoint", str(outside), "--json"]
        shutil.move(root / "checkpoints", root.parent / "checkpoints-aside")  # only the one given is checked
        try:
            for argv, e in ((verify_old, old_env), (verify_new, env)):
                c.run(argv, env=e)  # once, untimed
            times.update(c=[], d=[])
            print(f"\n== B. log verify of {built['events'] + (args.pairs + 1) * args.new:,}+ events, "
                  f"{args.pairs} pairs (wall s)")
            for i in range(args.pairs):
                c.settle(args.settle)
                c.warm([root / "journal" / "events.jsonl"])
                times["c"].append(timed(verify_old, old_env, "c"))
                c.warm([root / "journal" / "events.jsonl"])
                times["d"].append(timed(verify_new, env, "d"))
                print(f"   {i + 1:>5}  old {times['c'][-1]:.3f} ({shown('c')})  "
                      f"--checkpoint {times['d'][-1]:.3f} ({shown('d')})  "
                      f"ratio {times['d'][-1] / times['c'][-1]:.3f}", flush=True)
        finally:
            shutil.move(root.parent / "checkpoints-aside", root / "checkpoints")
        ratios = [d / o for d, o in zip(times["d"], times["c"], strict=True)]
        summary = {
            "name": "checkpoint", "events": built["events"], "new_per_round": args.new,
            "first_checkpoint_s": round(first_s, 3),
            "runs": {k: {"times_s": [round(t, 4) for t in v], "median_s": round(statistics.median(v), 4),
                         "cpu_s": [round(t, 3) for t in CPU[k]],
                         "median_cpu_s": round(statistics.median(CPU[k]), 3),
                         "others_cpu_s": [round(t, 2) for t in OTHERS[k]]}
                     for k, v in times.items()},
            "checkpoint_median_s": round(statistics.median(times["a"]), 4),
            "verify_ratio": {"median": round(statistics.median(ratios), 4), "min": round(min(ratios), 4),
                             "max": round(max(ratios), 4)},
        }
        summary["targets_met"] = {
            "checkpoint_under_1s": summary["checkpoint_median_s"] < TARGET_CHECKPOINT_S,
            "verify_with_checkpoint_le_1.5x": summary["verify_ratio"]["median"] <= TARGET_VERIFY,
        }
        print(f"\n   checkpoint after {args.new} events: median {summary['checkpoint_median_s']:.3f} s "
              f"(log head {summary['runs']['b']['median_s']:.3f} s); target < {TARGET_CHECKPOINT_S} s: "
              + ("MET" if summary["targets_met"]["checkpoint_under_1s"] else "MISSED"))
        print(f"   log verify --checkpoint / old log verify: median {summary['verify_ratio']['median']:.3f} "
              f"(min {summary['verify_ratio']['min']:.3f}, max {summary['verify_ratio']['max']:.3f}); "
              f"target <= {TARGET_VERIFY}: "
              + ("MET" if summary["targets_met"]["verify_with_checkpoint_le_1.5x"] else "MISSED"))
        c.save("checkpoint", [summary], args, {"built": built, "old_tree": str(old)})


if __name__ == "__main__":
    main()
