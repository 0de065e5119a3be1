"""A child process that hashes blobs through mmap, so a SIGBUS can only kill it.

Run by path without site (``python -S hashworker.py BLAKE3_HOME``) so it starts fast
and imports nothing but blake3, from the folder given.
Protocol, one request at a time: the parent writes ``SIZE<TAB>PATH\\n``; the
worker answers ``<hex>\\n``, ``size-changed\\n`` or ``error:<text>\\n``.
"""

import mmap
import os
import sys

if len(sys.argv) > 1:
    sys.path.append(sys.argv[1])

from blake3 import blake3


def _hash(path: str, size: int) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != size:
            return "size-changed"
        if size == 0:
            return blake3().hexdigest()
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m:
            hasher = blake3(max_threads=blake3.AUTO)
            hasher.update(m)
            return hasher.hexdigest()
    finally:
        os.close(fd)


def serve() -> None:
    for line in sys.stdin:
        size, path = line.rstrip("\n").split("\t", 1)
        try:
            answer = _hash(path, int(size))
        except OSError as exc:
            answer = f"error:{exc.strerror}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
