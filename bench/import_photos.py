"""Benchmark: `recordkeep import` of 500 JPEG photos (files per second), against `cp -r && sync`,
and the peak memory of importing one 4 GiB clip.

    python bench/import_photos.py [--photos 500] [--pairs 5] [--big-gib 4]

Photos are real JPEGs (1600x1200, EXIF DateTimeOriginal, ~1 MB, made with Pillow),
named like a body camera's. Targets: >= 50 files/s on 2 cores; peak memory
(max RSS of the import process, from getrusage) under 150 MB while importing a 4 GiB file.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

FILES_PER_S = 50
PEAK_MB = 150
ACTOR = "clerk@bench"  # one actor, so a signing store (from f3cc3d3 on) makes its key once and reuses it


def make_photos(folder: Path, count: int) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True)
    noise = Image.effect_noise((1600, 1200), 60).convert("RGB")
    paths = []
    for i in range(count):
        exif = Image.Exif()
        exif[0x9003] = f"2021:03:15 {8 + i // 60 % 10:02d}:{i % 60:02d}:00"
        path = folder / f"DSJ001_440301123456_20210315{8 + i // 60 % 10:02d}{i % 60:02d}00_{i:04d}.JPG"
        noise.rotate(i % 360).save(path, quality=85, exif=exif.tobytes())
        paths.append(path)
    return paths


def peak_rss_mb(argv: list[str]) -> float:
    """Max resident set size of a child process, in MB (getrusage of the waited child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024


def main() -> None:
    def extra(ap) -> None:
        ap.add_argument("--photos", type=int, default=500)
        ap.add_argument("--big-gib", type=float, default=4)

    args = c.parse_args(__doc__.splitlines()[1], pairs=5, extra=extra)
    rk = c.resolve("recordkeep")
    with c.workdir("import_photos", args.workdir, args.keep) as wd:
        # A store that signs its batches keeps the actor's private key under
        # $XDG_CONFIG_HOME/recordkeep/keys: a folder of the run's own, never the user's.
        # (Code from before signatures ignores both.)
        os.environ["XDG_CONFIG_HOME"] = str(wd / "config")
        os.environ["RECORDKEEP_ACTOR"] = ACTOR
        photos = make_photos(wd / "dump" / "DCIM" / "100DSJ01", args.photos)
        total = sum(p.stat().st_size for p in photos)
        print(f"work folder {wd}; {len(photos)} photos, {total / 1e6:.0f} MB", flush=True)
        store, dst = wd / "store", wd / "copy"

        def before() -> None:
            c.rmtree(store)
            c.rmtree(dst)
            c.sync()
            c.warm(photos)

        def ours() -> float:
            c.run([rk, "--store", str(store), "init"])
            c.sync()
            return c.run([rk, "--store", str(store), "import", str(wd / "dump")])

        def tool() -> float:
            return c.run(f"cp -r {wd / 'dump'} {dst} && sync", shell=True)

        comp = c.Comparison("import of photos", "recordkeep import", "cp -r + sync",
                            ours_cmd="recordkeep --store S import DUMP", tool_cmd="cp -r DUMP DST && sync")
        c.alternate(comp, args.pairs, ours, tool, before=before, settle_s=args.settle)
        summary = c.report(comp, unit_bytes=total)
        rate = len(photos) / summary["median_ours_s"]
        summary.update(files=len(photos), files_per_s=round(rate, 1), target_files_per_s=FILES_PER_S,
                       target_met=rate >= FILES_PER_S)
        print(f"   recordkeep: {rate:.0f} files/s (whole command, start-up included); "
              f"target >= {FILES_PER_S}: {'MET' if rate >= FILES_PER_S else 'MISSED'}")
        before()
        c.rmtree(wd / "dump")
        big = wd / "big" / "DSJ001_440301123456_20210315083000_0001.MP4"
        big.parent.mkdir()
        c.make_random_file(big, int(args.big_gib * c.GiB))
        c.run([rk, "--store", str(store), "init"])
        peak = peak_rss_mb([rk, "--store", str(store), "import", str(big.parent)])
        memory = {"name": "peak memory, import of one file", "file_bytes": big.stat().st_size,
                  "peak_rss_mb": round(peak, 1), "target_mb": PEAK_MB, "target_met": peak < PEAK_MB}
        print(f"\n== peak memory importing one {args.big_gib:g} GiB file: {peak:.0f} MB "
              f"(target < {PEAK_MB} MB: {'MET' if peak < PEAK_MB else 'MISSED'})")
    c.save("import_photos", [summary, memory], args, {"photos": len(photos), "photo_bytes": total})


if __name__ == "__main__":
    main()
