"""Benchmark: `recordkeep verify --full` against `b3sum` over the same blob files.

    python bench/verify_vs_b3sum.py [--size-gib 4] [--files 8] [--pairs 7]

One store holding --size-gib of random data in --files files (default 8 x 512 MiB),
added once with `--no-readback`. Then, alternated (recordkeep, b3sum, ...):
  `recordkeep --store S verify --full`   vs   `b3sum BLOB...` (every file under
  S/objects, the same as `find S/objects -type f -print0 | xargs -0 b3sum`)
Before every timed run, untimed, every blob is read once (warm cache). The whole
command is timed as a subprocess on both sides. Target: <= 1.25x b3sum.
b3sum is Debian's package (`apt-get install -y b3sum`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGET = 1.25


def extra(ap) -> None:
    ap.add_argument("--files", type=int, default=8, help="number of files in the store (default 8)")


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[1], size_gib=4, pairs=7, extra=extra)
    rk = c.resolve("recordkeep")
    b3sum = c.need("b3sum", "b3sum")
    each = int(args.size_gib * c.GiB) // args.files
    summaries = []
    with c.workdir("verify_vs_b3sum", args.workdir, args.keep) as wd:
        store = wd / "store"
        srcdir = wd / "src"
        srcdir.mkdir()
        print(f"work folder {wd}; writing {args.files} x {each / c.MiB:g} MiB of random data ...",
              flush=True)
        sources = [c.make_random_file(srcdir / f"clip{i:02d}.bin", each) for i in range(args.files)]
        c.run([rk, "--store", str(store), "init"])
        c.run([rk, "--store", str(store), "add", "--no-readback", *map(str, sources)])
        c.rmtree(srcdir)
        blobs = sorted(Path(dp) / f for dp, _, fs in os.walk(store / "objects") for f in fs)
        total = sum(b.stat().st_size for b in blobs)
        print(f"store holds {len(blobs)} blobs, {total / c.GiB:g} GiB", flush=True)
        if len(blobs) != args.files:
            sys.exit(f"bench: expected {args.files} blobs, found {len(blobs)}")
        c.warm(blobs)

        comp = c.Comparison("verify --full", "recordkeep verify --full", "b3sum",
                            ours_cmd="recordkeep --store S verify --full",
                            tool_cmd="b3sum S/objects/blake3/*/*/*  (all blob files)")
        c.alternate(comp, args.pairs,
                    lambda: c.run([rk, "--store", str(store), "verify", "--full"]),
                    lambda: c.run([b3sum, *map(str, blobs)]),
                    before=lambda: c.warm(blobs), settle_s=args.settle)
        summaries.append(c.report(comp, TARGET, unit_bytes=total))
    c.save("verify_vs_b3sum", summaries, args,
           {"recordkeep": rk, "b3sum": b3sum, "files": args.files, "bytes": total})


if __name__ == "__main__":
    main()
