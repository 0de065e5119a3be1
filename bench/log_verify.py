"""Benchmark: `log verify` of a 1,000,000-event signed journal, against the chain walk of the
code before signatures — not against another tool.

    git worktree add ../wt-pre15 d275348        # the code before signatures (byte-compiled by the script)
    python bench/log_verify.py [--events 1000000] [--batch 10] [--pairs 5] [--settle 30] \
        [--old-tree ../wt-pre15] [--new-tree ../wt-head] [--extra-cli ../wt-sig] \
        [--store ../bench-tmp/log_verify/s1m] [--profile]

It builds, once, a store in the signed layout (the new tree's `recordkeep init`: a real
``store.created`` (layout recordkeep-2) + ``key.enrolled`` + ``batch.signed`` and the
founding key under a private $XDG_CONFIG_HOME), then appends generated batches to
journal/events.jsonl: ``--batch`` events each (``--batch - 1`` record.imported of body-camera
videos and photos, then the import's batch.finished receipt), each batch closed by a
``batch.signed`` from the founding key, chained and sealed through the library
(``store.journal.chain(..., seal=Signer.seal)``), until the journal holds ``--events`` lines.
index.sqlite is deleted (no command below reads it). With ``--store`` the store is kept
and reused by later runs with the same ``--events``/``--batch``.

Then, ``--pairs`` rounds of these, each a new process timed whole (wall), warm page cache,
each started when the CPUs are quiet (``--settle``), with the CPU seconds other processes
used meanwhile recorded beside it (this machine is shared); a run that others disturbed
(more than ``--max-others`` of its wall time) is run again, up to ``--tries``, and the least
disturbed kept:

  a. the pre-signing code's check (``--old-tree``, on PYTHONPATH): ``LocalJournal(ROOT)
     .verify_chain()``, asserting no problem and every line walked;
  b. the new tree's chain walk with the signature proof: ``visit=Proof(store_id).feed``, then
     ``proof.finish()``, asserting no failure and every batch proved;
  c. the new tree's chain walk alone (no visit), for reference;
  d, e. (unless --no-cli) the whole command ``recordkeep --store ROOT log verify --json``,
     of the old tree and of the new one (from 50410ab on, it also grows the journal's Merkle
     tree in the same walk, for checkpoints);
  f, ... the same command of each ``--extra-cli`` tree.

``--only a b e`` times only those (a and b are always timed). Target (issue): b <= 1.5x a.
Results: bench/results/log_verify.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c

from recordkeep.store.journal import Draft, Head, LocalJournal, canonical, chain
from recordkeep.trust import roles
from recordkeep.trust.keys import key_path, load_key
from recordkeep.trust.signer import Signer

TARGET = 1.5
ACTOR = "clerk@station1"
MARK = "bench-log-verify.json"  # what was built, beside the journal

OLD_WALK = """
import sys
from recordkeep.store.journal import LocalJournal
r = LocalJournal(sys.argv[1]).verify_chain()
assert r.problem is None and r.lines == int(sys.argv[2]), r
"""
FULL_CHECK = """
import sys
from recordkeep import settings
from recordkeep.store.journal import LocalJournal
from recordkeep.trust.proof import Proof
proof = Proof(settings.load(sys.argv[1]).store_id)
r = LocalJournal(sys.argv[1]).verify_chain(visit=proof.feed)
assert r.problem is None and r.lines == int(sys.argv[2]), r
failures = [f for f in proof.finish() if not f.notice]
assert not failures, failures[:5]
assert proof.signed and proof.batches == int(sys.argv[3]), (proof.signed, proof.batches)
"""
WHICH = "import recordkeep, sys; print(recordkeep.__file__)"


# -- the journal -----------------------------------------------------------------------
def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class Events:
    """Body-camera imports as a clerk's `recordkeep import` journals them."""

    def __init__(self, seed: int = 15) -> None:
        self.rnd = random.Random(seed)
        self.officers = [f"4408{self.rnd.randrange(10**7, 10**8)}" for _ in range(300)]
        self.devices = {o: f"DSJ{i + 1:03d}" for i, o in enumerate(self.officers)}
        self.n = 0

    def batch(self, count: int, moment: dt.datetime) -> list[Draft]:
        """``count`` drafts: ``count - 1`` record.imported, then the batch's receipt."""
        rnd, officer = self.rnd, self.rnd.choice(self.officers)
        device = self.devices[officer]
        batch = f"{rnd.getrandbits(128):032x}"
        shot = moment - dt.timedelta(hours=rnd.randrange(2, 30))
        drafts, total = [], 0
        for _ in range(count - 1):
            self.n += 1
            shot += dt.timedelta(seconds=rnd.randrange(20, 900))
            drafts.append(Draft("record.imported", self.record(batch, officer, device, shot)))
            total += drafts[-1].data["size"]
        n = len(drafts)
        receipt = {"seen": n, "stored": n, "present": 0, "not_stored": 0, "skipped": 0, "damaged": 0,
                   "bytes": total,
                   "copied_bytes": total, "elapsed_ms": rnd.randrange(2_000, 60_000),
                   "throughput_bps": rnd.randrange(100_000_000, 400_000_000), "readback": True,
                   "verdict": "may_wipe", "started_at": iso(moment),
                   "finished_at": iso(moment + dt.timedelta(seconds=rnd.randrange(5, 90))),
                   "not_stored_files": []}
        drafts.append(Draft("batch.finished", {"batch": batch, "command": "import",
                                               "source": f"/media/clerk/{device}",
                                               "options": {"readback": True},
                                               "receipt": receipt}))
        return drafts

    def record(self, batch: str, officer: str, device: str, shot: dt.datetime) -> dict:
        rnd, n = self.rnd, self.n
        stamp, recorded = shot.strftime("%Y%m%d%H%M%S"), iso(shot)
        video = rnd.random() < 0.6
        important = rnd.random() < 0.03
        ext = "MP4" if video else "JPG"
        name = f"{device}_{officer}_{stamp}_{n % 10000:04d}{'_IMP' if important else ''}.{ext}"
        media = {"probe_status": "ok", "kind": "video" if video else "photo", "recorded_at": recorded,
                 "make": "DemoCam", "model": "DSJ-V8", "serial": f"V8{device}", "officer": officer}
        if video:
            media.update(container="mov,mp4,m4a,3gp,3g2,mj2", duration_ms=rnd.randrange(5_000, 1_800_000),
                         video_codec="h264", audio_codec="aac", width=1920, height=1080, frame_rate="30/1",
                         gps_lat=f"21.{rnd.randrange(100000, 300000)}",
                         gps_lon=f"110.{rnd.randrange(200000, 500000)}")
            size = rnd.randrange(20 << 20, 900 << 20)
        else:
            media.update(container="jpeg", width=1600, height=1200)
            size = rnd.randrange(500_000, 2_000_000)
        return {"batch": batch, "digest": f"blake3:{rnd.getrandbits(256):064x}", "size": size,
                "kind": "video" if video else "photo",
                "source": {"path": f"DCIM/100{device[3:]}/{name}",
                           "mtime": iso(shot + dt.timedelta(seconds=2))},
                "media": media,
                "name": {"pattern": "dsj", "device": device, "officer": officer, "started_at": recorded,
                         "seq": n % 10000, "important": important},
                "recorded_at": recorded, "time_source": "metadata", "officer": officer,
                "officer_source": "metadata", "device": device}


def build(root: Path, events: int, batch: int, config: Path, rk: str, tree: Path) -> dict:
    """A signed store whose journal holds ``events`` lines (the founding batch included)."""
    env = {**c.env_for(tree), "XDG_CONFIG_HOME": str(config)}
    subprocess.run([rk, "--store", str(root), "--actor", ACTOR, "init"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    journal = LocalJournal(root)
    head = journal.head()
    first = journal.first()
    store_id = first.data["store_id"]
    os.environ["XDG_CONFIG_HOME"] = str(config)
    signer = Signer(load_key(key_path(ACTOR)), ACTOR, frozenset(roles.ALL_ROLES), store_id)
    gen, moment = Events(), dt.datetime.fromisoformat(first.at)
    seals, t0 = 1, time.perf_counter()
    with open(journal.path, "ab", buffering=8 << 20) as f:
        while head.seq < events:
            count = min(batch, events - head.seq - 1)  # the seal makes one more line
            if count < 1:
                break
            moment += dt.timedelta(seconds=gen.rnd.randrange(60, 3600))
            made = chain(gen.batch(count, moment), actor=ACTOR, at=iso(moment), after=head,
                         seal=signer.seal)
            f.write(b"".join(canonical(e.as_dict()) + b"\n" for e in made))
            last = made[-1]
            head = Head(last.seq, last.hash, last.end, last.offset)
            seals += 1
            if head.seq % 200_000 < batch + 1:
                print(f"  {head.seq:,} events, {time.perf_counter() - t0:.0f} s", flush=True)
        f.flush()
        os.fsync(f.fileno())
    (root / "index.sqlite").unlink(missing_ok=True)
    built = {"events": head.seq, "batch": batch, "batches_signed": seals, "store_id": store_id,
             "head": head.hash, "journal_bytes": journal.path.stat().st_size,
             "build_s": round(time.perf_counter() - t0, 1)}
    (root / MARK).write_text(json.dumps(built, indent=2) + "\n")
    return built


# -- timing ----------------------------------------------------------------------------
PROFILE = """
import cProfile, pstats, sys
from recordkeep import Archive, logcheck
archive = Archive.open(sys.argv[1])
prof = cProfile.Profile()
prof.enable()
report = logcheck.verify_journal(archive)
prof.disable()
assert report.ok and report.batches == int(sys.argv[2])
pstats.Stats(prof).sort_stats("tottime").print_stats(int(sys.argv[3]))
"""


def profile_full(py: str, root: Path, built: dict, tree: Path, top: int = 25) -> None:
    """cProfile of what `log verify` does (``logcheck.verify_journal``) in ``tree`` (slower than
    unprofiled: every Python call pays the profiler)."""
    print(f"\n== profile of logcheck.verify_journal ({tree}, cProfile), top {top} by own time", flush=True)
    subprocess.run([py, "-P", "-c", PROFILE, str(root), str(built["batches_signed"]), str(top)],
                   env=c.env_for(tree), check=True)


def main() -> None:
    def extra(ap) -> None:
        ap.add_argument("--events", type=int, default=1_000_000, help="journal lines (default 1,000,000)")
        ap.add_argument("--batch", type=int, default=10,
                        help="events per signed batch before its seal (default 10)")
        ap.add_argument("--old-tree", default=str(c.REPO.parent / "wt-pre15"),
                        help="the pre-signing code (a worktree at d275348)")
        ap.add_argument("--new-tree", default=str(c.REPO),
                        help="the code with signatures (default this tree; a worktree pins a commit "
                             "while others edit this one)")
        ap.add_argument("--extra-cli", action="append", default=[], metavar="TREE",
                        help="also time `log verify` of this tree (f, g, ...), e.g. an earlier commit")
        ap.add_argument("--store", default=None, help="build the store here once, keep and reuse it")
        ap.add_argument("--no-cli", action="store_true", help="do not time the whole commands (d, e)")
        ap.add_argument("--only", nargs="+", default=None, metavar="KEY",
                        help="time only these runs (a and b always), e.g. --only a b e on a busy machine")
        ap.add_argument("--profile", action="store_true", help="also profile the full check once")
        c.disturbance_flags(ap, "measurement")

    args = c.parse_args(__doc__.splitlines()[0], pairs=5, extra=extra)
    rk = c.resolve("recordkeep")
    py = str(c.REPO / ".venv" / "bin" / "python") if (c.REPO / ".venv").exists() else sys.executable
    old, new = Path(args.old_tree).resolve(), Path(args.new_tree).resolve()
    extra_trees = [Path(t).resolve() for t in args.extra_cli]
    if not (old / "recordkeep" / "store" / "journal.py").exists():
        sys.exit(f"bench: no pre-signing tree at {old} (git worktree add {old} d275348)")
    c.byte_compile(old, new, *extra_trees)
    for tree in (old, new, *extra_trees):
        shown = subprocess.run([py, "-P", "-c", WHICH], env=c.env_for(tree), capture_output=True,
                               text=True).stdout.strip()  # -P: not the current folder's recordkeep
        if not shown.startswith(str(tree)):
            sys.exit(f"bench: with PYTHONPATH={tree}, recordkeep comes from {shown}")
    with c.store_folder("log_verify", args.store, args.workdir, args.keep) as root:
        config = root.parent / f"{root.name}-config"
        built = json.loads((root / MARK).read_text()) if (root / MARK).exists() else None
        if built and (built["events"], built["batch"]) != (args.events, args.batch):
            sys.exit(f"bench: {root} holds {built['events']} events in batches of {built['batch']}: "
                     "remove it or choose another --store")
        if built is None:
            if root.exists():
                c.rmtree(root)
            if config.exists():
                c.rmtree(config)
            print(f"building {root}: {args.events:,} events, batches of {args.batch} + their seal",
                  flush=True)
            built = build(root, args.events, args.batch, config, rk, new)
        print(f"store {root}: {built['events']:,} events, {built['batches_signed']:,} signed batches, "
              f"journal {built['journal_bytes'] / 1e6:.0f} MB"
              + (f" (built in {built['build_s']} s)" if "build_s" in built else ""), flush=True)
        n, seals = str(built["events"]), str(built["batches_signed"])
        walk = [py, "-P", "-c", OLD_WALK, str(root), n]
        full = [py, "-P", "-c", FULL_CHECK, str(root), n, seals]
        runs = {
            "a": ("pre-signing chain walk (old tree)", walk, c.env_for(old)),
            "b": ("full check: chain + signatures (this tree)", full, c.env_for(new)),
            "c": ("chain walk alone (this tree)", walk, c.env_for(new)),
        }
        if not args.no_cli:
            cli = [rk, "--store", str(root), "log", "verify", "--json"]
            runs["d"] = ("`recordkeep log verify --json`, old tree", cli,
                         {**c.env_for(old), "XDG_CONFIG_HOME": str(config)})
            runs["e"] = ("`recordkeep log verify --json`, this tree", cli,
                         {**c.env_for(new), "XDG_CONFIG_HOME": str(config)})
            for key, tree in zip("fghij", extra_trees, strict=False):
                runs[key] = (f"`recordkeep log verify --json`, {tree}", cli,
                             {**c.env_for(tree), "XDG_CONFIG_HOME": str(config)})
        if args.only:
            unknown = set(args.only) - set(runs)
            if unknown or not {"a", "b"} <= set(args.only):
                sys.exit(f"bench: --only takes a and b and any of {', '.join(runs)}, not {args.only}")
            runs = {k: v for k, v in runs.items() if k in args.only}
        times: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        others: dict[str, list[float]] = {k: [] for k in runs}
        retried: dict[str, int] = {k: 0 for k in runs}
        print(f"\n== log verify of {built['events']:,} events, {args.pairs} rounds "
              f"({', '.join(runs)} in turn, each a new process started in a quiet moment): wall s / "
              "CPU s of the process, and in brackets the CPU seconds other processes used meanwhile")
        for k, (what, _, env) in runs.items():
            print(f"   {k}: {what}  [PYTHONPATH={env['PYTHONPATH']}]")
        print(f"   {'round':>5}  " + "  ".join(f"{k:>20}" for k in runs) + f"  {'b/a':>6}  {'b/a CPU':>7}")
        for i in range(args.pairs):
            for key, (_, argv, env) in runs.items():
                def attempt(_: int, argv=argv, env=env) -> float:  # every run asserts what it checked
                    c.warm([root / "journal" / "events.jsonl"])
                    c.settle(args.settle)
                    return c.run(argv, env=env)

                wall, own, disturbed, again = c.least_disturbed(attempt, args.tries, args.max_others)
                retried[key] += again
                times[key].append(wall)
                cpu[key].append(own)
                others[key].append(disturbed)
            shown = (f"{times[k][-1]:>6.2f}/{cpu[k][-1]:>6.2f} [{others[k][-1]:>4.1f}]" for k in runs)
            print(f"   {i + 1:>5}  " + "  ".join(shown) + f"  {times['b'][-1] / times['a'][-1]:>6.3f}"
                  f"  {cpu['b'][-1] / cpu['a'][-1]:>7.3f}", flush=True)

        def ratio(x: str, y: str) -> dict:
            """Per round: wall over wall, and (``cpu_``) the processes' CPU seconds over theirs,
            which other work on the machine disturbs less (each check is one thread)."""
            r = [p / q for p, q in zip(times[x], times[y], strict=True)]
            rc = [p / q for p, q in zip(cpu[x], cpu[y], strict=True)]
            return {"median": round(statistics.median(r), 4), "min": round(min(r), 4),
                    "max": round(max(r), 4), "cpu_median": round(statistics.median(rc), 4),
                    "cpu_min": round(min(rc), 4), "cpu_max": round(max(rc), 4)}

        summary = {
            "name": "log verify", "events": built["events"], "batch": built["batch"],
            "batches_signed": built["batches_signed"], "journal_bytes": built["journal_bytes"],
            "runs": {k: {"what": what, "times_s": [round(t, 4) for t in times[k]],
                         "median_s": round(statistics.median(times[k]), 4),
                         "min_s": round(min(times[k]), 4), "max_s": round(max(times[k]), 4),
                         "median_cpu_s": round(statistics.median(cpu[k]), 3),
                         "cpu_s": [round(t, 3) for t in cpu[k]],
                         "others_cpu_s": [round(x, 2) for x in others[k]], "runs_redone": retried[k],
                         "events_per_s": round(built["events"] / statistics.median(times[k]))}
                     for k, (what, _, _) in runs.items()},
            "ratios": {"b/a": ratio("b", "a")},
        }
        wanted = [("b", "c"), ("c", "a"), ("e", "d"), ("e", "a")]
        wanted += [(k, base) for k in runs if k > "e" for base in ("d", "a")]
        for x, y in wanted:
            if x in runs and y in runs:
                summary["ratios"][f"{x}/{y}"] = ratio(x, y)
        print()
        for k, r in summary["runs"].items():
            print(f"   {k}: median {r['median_s']:.3f} s (min {r['min_s']:.3f}, max {r['max_s']:.3f}; "
                  f"CPU {r['median_cpu_s']:.2f} s; {r['runs_redone']} runs redone) = "
                  f"{r['events_per_s']:,} events/s  {r['what']}")
        for name, r in summary["ratios"].items():
            print(f"   ratio {name}: median {r['median']:.3f} (min {r['min']:.3f}, max {r['max']:.3f}); "
                  f"CPU seconds: {r['cpu_median']:.3f} ({r['cpu_min']:.3f}-{r['cpu_max']:.3f})")
        met = summary["ratios"]["b/a"]["median"] <= TARGET
        summary.update(target=TARGET, target_met=met)
        print(f"   target: full check <= {TARGET}x the pre-signing walk (b/a, wall): "
              f"{'MET' if met else 'MISSED'}")
        if args.profile:
            profile_full(py, root, built, new)
        c.save("log_verify", [summary], args, {"built": built, "trees": {
            str(t): c.git_head(t) for t in (old, new, *extra_trees)}})


if __name__ == "__main__":
    main()
