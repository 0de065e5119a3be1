"""Benchmark: `recordkeep import` of a dump of large clips against `cp -r DUMP DST && sync`.

    python bench/import_vs_cp.py [--size-gib 2] [--clip-mib 256] [--pairs 5]

Two comparisons, each alternated (recordkeep, cp -r + sync, ...), a fresh store and a
fresh copy folder each run, the dump warm in the page cache:
  1. `recordkeep --store S import DUMP --no-readback`   target <= 1.2x
  2. `recordkeep --store S import DUMP` (read-back)     target <= 1.5x
The clips are random bytes named like a body camera's files (DSJ…_….MP4): ffprobe
is run on each (it fails fast on random bytes, as on a damaged clip).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGETS = {"--no-readback": 1.2, "": 1.5}


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[1], size_gib=2, pairs=5, pause=True,
                        extra=lambda ap: ap.add_argument("--clip-mib", type=int, default=256))
    rk = c.resolve("recordkeep")
    clip = args.clip_mib * c.MiB
    count = max(1, int(args.size_gib * c.GiB) // clip)
    summaries = []
    with c.workdir("import_vs_cp", args.workdir, args.keep) as wd:
        dump = wd / "dump" / "DCIM" / "100DSJ01"
        dump.mkdir(parents=True)
        files = [c.make_random_file(dump / f"DSJ001_440301123456_20210315{8 + i // 60:02d}{i % 60:02d}00_"
                                           f"{i + 1:04d}.MP4", clip) for i in range(count)]
        print(f"work folder {wd}; dump of {count} clips of {args.clip_mib} MiB", flush=True)
        store, dst = wd / "store", wd / "copy"

        def before() -> None:
            c.rmtree(store)
            c.rmtree(dst)
            c.run([rk, "--store", str(store), "init"])  # on both sides: the same preparation
            c.sync()
            c.warm(files)

        def ours(flags: list[str]):
            return lambda: c.run([rk, "--store", str(store), "import", str(wd / "dump"), *flags])

        def tool() -> float:
            return c.run(f"cp -r {wd / 'dump'} {dst} && sync", shell=True)

        for flag, target in TARGETS.items():
            label = f"import {flag}".strip() if flag else "import (default, read-back)"
            comp = c.Comparison(label, f"recordkeep import {flag}".strip(), "cp -r + sync",
                                ours_cmd=f"recordkeep --store S import DUMP {flag}".rstrip(),
                                tool_cmd="cp -r DUMP DST && sync")
            c.alternate(comp, args.pairs, ours([flag] if flag else []), tool, before=before,
                        settle_s=args.settle, pause_s=args.pause)
            summaries.append(c.report(comp, target, unit_bytes=clip * count))
        before()
    print("\nSUMMARY (median ratio recordkeep / cp -r + sync)")
    for s in summaries:
        print(f"  {s['name']:<30} {s['median_ratio']:.3f}  (min {s['min_ratio']:.3f}, "
              f"max {s['max_ratio']:.3f})  target <= {s['target']}: "
              f"{'MET' if s['target_met'] else 'MISSED'}")
    c.save("import_vs_cp", summaries, args, {"clips": count, "clip_bytes": clip})


if __name__ == "__main__":
    main()
