"""Diagnosis (not a comparison): can this disk read while it writes?

    python bench/device_overlap.py [--size-gib 1] [--pairs 5]

The read-back check re-reads every stored byte from the device. Overlapped with the
copy it costs nothing extra only if the device serves reads and writes at once. Each
round times, in rotating order: a device read of SIZE (an older file, its cached
pages dropped), a write of SIZE (`cp` of a warm file + `sync`), and both started
together. If `both` takes about `read + write`, the device serves them one after the
other and any read-back adds the full read time, however it is scheduled.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c


def drop(path: Path) -> None:
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[2].strip(), size_gib=1, pairs=5, pause=True)
    size = int(args.size_gib * c.GiB)
    with c.workdir("device_overlap", args.workdir, args.keep) as wd:
        old, src, dst = wd / "old.bin", wd / "src.bin", wd / "copy.bin"
        c.make_random_file(old, size)
        c.make_random_file(src, size)
        c.sync()
        read_cmd = ["dd", f"if={old}", "of=/dev/null", "bs=1M", "status=none"]
        write_cmd = f"cp {src} {dst} && sync"

        def prepare() -> None:
            dst.unlink(missing_ok=True)
            c.sync()
            c.warm([src])
            drop(old)
            time.sleep(args.pause)

        def both() -> float:
            t0 = time.perf_counter()
            reader = subprocess.Popen(read_cmd)
            subprocess.run(write_cmd, shell=True, check=True)
            reader.wait()
            return time.perf_counter() - t0

        runs = {"read": lambda: c.run(read_cmd), "write": lambda: c.run(write_cmd, shell=True),
                "both": both}
        times: dict[str, list[float]] = {k: [] for k in runs}
        order = list(runs)
        for i in range(args.pairs):
            c.settle(args.settle)
            for name in order[i % 3:] + order[:i % 3]:
                prepare()
                times[name].append(runs[name]())
            print("   round", i + 1, {k: round(v[-1], 3) for k, v in times.items()}, flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\nmedian: read {med['read']:.3f} s, write {med['write']:.3f} s, both at once "
              f"{med['both']:.3f} s; read + write {med['read'] + med['write']:.3f} s; "
              f"both / max(read, write) = {med['both'] / max(med['read'], med['write']):.2f}")
        c.save("device_overlap", [{"name": "device_overlap", "median_s": med,
                                   "runs_s": times}], args, {"size_bytes": size})


if __name__ == "__main__":
    main()
