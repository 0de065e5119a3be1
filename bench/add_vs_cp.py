"""Benchmark: `recordkeep add` of one large random file against `cp FILE DST && sync`.

    python bench/add_vs_cp.py [--size-gib 2] [--pairs 7]

Two comparisons, each alternated (recordkeep, cp+sync, recordkeep, cp+sync, ...):
  1. `recordkeep --store S add FILE` (default: copy, hash, fsync)   vs  `cp FILE DST && sync`
  2. `recordkeep --store S add FILE --readback` (also re-reads every stored range from the
     device, its cached pages dropped: the check import does by default)  vs  the same
Each recordkeep run gets a fresh store (`init` untimed). Before every timed run,
untimed: the previous copy is removed, everything is synced, and the source file is
read once so it is warm in the page cache. The whole command is timed as a
subprocess on both sides. Target: add <= 1.25x cp+sync.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGET = 1.25


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[1], size_gib=2, pairs=7, pause=True)
    rk = c.resolve("recordkeep")
    cp = c.need("cp")
    size = int(args.size_gib * c.GiB)
    summaries = []
    with c.workdir("add_vs_cp", args.workdir, args.keep) as wd:
        src = wd / "source.bin"
        print(f"work folder {wd}; writing {size / c.GiB:g} GiB of random data to {src.name} ...",
              flush=True)
        c.make_random_file(src, size)
        c.warm([src])
        store = wd / "store"
        dst = wd / "copy.bin"

        def before() -> None:
            c.rmtree(store)
            dst.unlink(missing_ok=True)
            c.run([rk, "--store", str(store), "init"])  # on both sides: the same preparation
            c.sync()
            c.warm([src])

        def ours(flags: list[str]):
            return lambda: c.run([rk, "--store", str(store), "add", str(src), *flags])

        def tool() -> float:
            return c.run(f"{cp} {src} {dst} && sync", shell=True)

        for label, flags in (("add (default)", []), ("add --readback", ["--readback"])):
            comp = c.Comparison(
                label, "recordkeep " + label.split(" (")[0], "cp+sync",
                ours_cmd=f"recordkeep --store S add FILE {' '.join(flags)}".rstrip(),
                tool_cmd="cp FILE DST && sync")
            c.alternate(comp, args.pairs, ours(flags), tool, before=before, settle_s=args.settle,
                        pause_s=args.pause)
            summaries.append(c.report(comp, TARGET, unit_bytes=size))
        before()
    print("\nSUMMARY (median ratio recordkeep / cp+sync)")
    for s in summaries:
        print(f"  {s['name']:<28} {s['median_ratio']:.3f}  (min {s['min_ratio']:.3f}, "
              f"max {s['max_ratio']:.3f})  target <= {TARGET}: "
              f"{'MET' if s['target_met'] else 'MISSED'}")
    c.save("add_vs_cp", summaries, args, {"recordkeep": rk, "size_bytes": size})


if __name__ == "__main__":
    main()
