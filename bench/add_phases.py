"""Where `recordkeep add` spends its time: the copy loop's phases, timed in-process.

    python bench/add_phases.py [--size-gib 2] [--pairs 5]

A diagnostic beside add_vs_cp.py (not a test). Each round runs, alternated, each
untimed-prepared the same way as add_vs_cp.py (old copy removed, sync, source warm):
  cp+sync      `cp FILE DST && sync` (GNU cp copies with copy_file_range, in the kernel)
  rk-loop      recordkeep's first loop (objects.put_fd before copying.py): readv into a page-aligned
               4 MiB buffer -> BLAKE3 (max_threads=AUTO) -> os.write, sync_file_range
               every 32 MiB, fsync; each phase timed
  rk-loop-1M   the same loop with a 1 MiB buffer and a single-threaded hasher
  cfr+hash     the kernel copy that copying.py now does (there with sendfile, which also
               crosses file systems): os.copy_file_range 32 MiB at a time, then hash that range
               of the COPY from the page cache (pread into an aligned buffer), start its
               writeback, fsync; each phase timed
  import       `python -c "import recordkeep"`: the fixed cost every store command pays
and prints each round, the medians, and each variant's median ratio to cp+sync.
The order of the copy variants rotates from round to round.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

CHUNK = 4 * c.MiB
KICK = 32 * c.MiB

_libc = ctypes.CDLL(None, use_errno=True)
_sfr = _libc.sync_file_range
_sfr.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
SFR_WRITE = 2


def rk_loop(src: Path, dst: Path, chunk_size: int = CHUNK, threads: int | None = None) -> dict[str, float]:
    from blake3 import blake3
    pc = time.perf_counter
    t = {"read": 0.0, "hash": 0.0, "write": 0.0, "writeback": 0.0, "fsync": 0.0}
    m = mmap.mmap(-1, chunk_size)
    v = memoryview(m)
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    h = blake3(max_threads=blake3.AUTO if threads is None else threads)
    written = kicked = 0
    try:
        os.posix_fadvise(fi, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while True:
            s = pc()
            n = os.readv(fi, [v])
            t["read"] += pc() - s
            if not n:
                break
            with v[:n] as chunk:
                s = pc()
                h.update(chunk)
                t["hash"] += pc() - s
                s = pc()
                done = 0
                while done < n:
                    done += os.write(fo, chunk[done:])
                t["write"] += pc() - s
            written += n
            if written - kicked >= KICK:
                s = pc()
                _sfr(fo, kicked, written - kicked, SFR_WRITE)
                t["writeback"] += pc() - s
                kicked = written
        s = pc()
        os.fsync(fo)
        t["fsync"] += pc() - s
    finally:
        os.close(fi)
        os.close(fo)
        v.release()
        m.close()
    h.hexdigest()
    return t


def cfr_hash(src: Path, dst: Path) -> dict[str, float]:
    from blake3 import blake3
    pc = time.perf_counter
    t = {"copy_file_range": 0.0, "hash-copy": 0.0, "writeback": 0.0, "fsync": 0.0}
    m = mmap.mmap(-1, CHUNK)
    v = memoryview(m)
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    h = blake3(max_threads=blake3.AUTO)
    pos = 0
    try:
        while True:
            s = pc()
            n = os.copy_file_range(fi, fo, KICK)
            t["copy_file_range"] += pc() - s
            if not n:
                break
            s = pc()
            off, end = pos, pos + n
            while off < end:
                k = os.preadv(fo, [v[:min(CHUNK, end - off)]], off)
                with v[:k] as chunk:
                    h.update(chunk)
                off += k
            t["hash-copy"] += pc() - s
            s = pc()
            _sfr(fo, pos, n, SFR_WRITE)
            t["writeback"] += pc() - s
            pos = end
        s = pc()
        os.fsync(fo)
        t["fsync"] += pc() - s
    finally:
        os.close(fi)
        os.close(fo)
        v.release()
        m.close()
    h.hexdigest()
    return t


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[1], size_gib=2, pairs=5)
    size = int(args.size_gib * c.GiB)
    py = c.resolve("python")
    variants = [("rk-loop", rk_loop), ("rk-loop-1M", lambda s, d: rk_loop(s, d, c.MiB, 1)),
                ("cfr+hash", cfr_hash)]
    rows: dict[str, list[float]] = {"cp+sync": [], **{n: [] for n, _ in variants}, "import": []}
    phases: dict[str, dict[str, list[float]]] = {n: {} for n, _ in variants}
    with c.workdir("add_phases", args.workdir, args.keep) as wd:
        src, dst = wd / "source.bin", wd / "copy.bin"
        print(f"work folder {wd}; writing {size / c.GiB:g} GiB of random data ...", flush=True)
        c.make_random_file(src, size)

        def prep() -> None:
            dst.unlink(missing_ok=True)
            c.sync()
            c.warm([src])

        for r in range(args.pairs):
            busy = c.settle(args.settle)
            order = [("cp+sync", None), *variants]
            k = r % len(order)
            for name, fn in order[k:] + order[:k]:
                prep()
                if fn is None:
                    rows[name].append(c.run(f"cp {src} {dst} && sync", shell=True))
                    continue
                s = time.perf_counter()
                ph = fn(src, dst)
                rows[name].append(time.perf_counter() - s)
                for p, val in ph.items():
                    phases[name].setdefault(p, []).append(val)
            rows["import"].append(c.run([py, "-c", "import recordkeep"]))
            print(f"round {r + 1} (busy before {busy * 100:.0f}%): "
                  + "  ".join(f"{k} {v[-1]:.3f}s" for k, v in rows.items())
                  + "".join(f"\n   {n} phases: " + " ".join(f"{p} {v[-1]:.2f}" for p, v in ph.items())
                            for n, ph in phases.items()),
                  flush=True)
        dst.unlink(missing_ok=True)
    base = statistics.median(rows["cp+sync"])
    print("\nMEDIANS (s)")
    summary = {}
    for k, v in rows.items():
        med = statistics.median(v)
        summary[k] = {"median_s": round(med, 4), "runs_s": [round(x, 4) for x in v]}
        ratio = f"  ratio to cp+sync {med / base:.3f}" if k in phases else ""
        if k in phases:
            summary[k]["median_ratio_to_cp_sync"] = round(med / base, 4)
            summary[k]["phases_median_s"] = {p: round(statistics.median(x), 4)
                                             for p, x in phases[k].items()}
        print(f"  {k:<9} {med:.3f}{ratio}")
        if k in phases:
            print("     phases: " + ", ".join(f"{p} {statistics.median(x):.3f}"
                                            for p, x in phases[k].items()))
    c.save("add_phases", [summary], args, {"size_bytes": size})


if __name__ == "__main__":
    main()
