"""Benchmark: `recordkeep verify --full` against `b3sum` over the same blob files.

    python bench/verify_vs_b3sum.py [--size-gib 4] [--files 8] [--pairs 7] [--cold]

One store holding --size-gib of random data in --files files (default 8 x 512 MiB),
added once with `--no-readback`. Then, alternated (recordkeep, b3sum, ...):
  `recordkeep --store S verify --full`   vs   `b3sum BLOB...` (every file under
  S/objects, the same as `find S/objects -type f -print0 | xargs -0 b3sum`)
Warm (default): before every timed run, untimed, every blob is read once. Cold
(`--cold`, as root): before every timed run, untimed, `sync` and
`echo 3 > /proc/sys/vm/drop_caches`, so both sides read every byte from the device.
The whole command is timed as a subprocess on both sides. Target: <= 1.1x b3sum.
The load average before each pair is printed with it (`busy before` is the CPUs' use).
b3sum is Debian's package (`apt-get install -y b3sum`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGET = 1.1


def extra(ap) -> None:
    ap.add_argument("--files", type=int, default=8, help="number of files in the store (default 8)")
    ap.add_argument("--cold", action="store_true",
                    help="drop the page cache before every timed run (needs root) instead of warming it")


def drop_caches() -> None:
    """Write back dirty pages, then drop the whole page cache (both sides start cold)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


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
        before = drop_caches if args.cold else (lambda: c.warm(blobs))
        before()
        how = "cold" if args.cold else "warm"
        comp = c.Comparison(f"verify --full ({how})", "recordkeep verify --full", "b3sum",
                            ours_cmd="recordkeep --store S verify --full",
                            tool_cmd="b3sum S/objects/blake3/*/*/*  (all blob files)")
        print(f"load average before: {os.getloadavg()}", flush=True)
        c.alternate(comp, args.pairs,
                    lambda: c.run([rk, "--store", str(store), "verify", "--full"]),
                    lambda: c.run([b3sum, *map(str, blobs)]),
                    before=before, settle_s=args.settle)
        print(f"load average after: {os.getloadavg()}", flush=True)
        summaries.append(c.report(comp, TARGET, unit_bytes=total))
    c.save(f"verify_vs_b3sum_{how}", summaries, args,
           {"recordkeep": rk, "b3sum": b3sum, "files": args.files, "bytes": total, "cold": args.cold})


if __name__ == "__main__":
    main()
