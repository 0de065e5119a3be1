"""Real mounts for the tests that need them: a small disk that fills up, and a read-only
view of a store (root ignores file modes, so only a read-only mount is read-only).
Each skips the test, saying why, where mounting is not permitted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (such as ``"8m"``) mounted at ``where`` while the block runs."""
    where.mkdir(exist_ok=True)
    if os.system(f"mount -t tmpfs -o size={size} tmpfs {where} 2>/dev/null") != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield where
    finally:
        os.system(f"umount {where}")


def grow(disk: Path, size: str) -> None:
    """Give a ``small_disk`` more room (space freed, as a clerk would)."""
    assert os.system(f"mount -o remount,size={size} {disk}") == 0


@contextmanager
def read_only_view(source: Path, where: Path) -> Iterator[Path]:
    """``source`` under a real read-only bind mount at ``where`` while the block runs."""
    where.mkdir(exist_ok=True)
    if os.system(f"mount --bind {source} {where} 2>/dev/null") != 0:
        pytest.skip("bind mounts are not permitted here (needs root in a mount namespace)")
    try:
        if os.system(f"mount -o remount,ro,bind {where} 2>/dev/null") != 0:
            pytest.skip("read-only remount is not permitted here")
        yield where
    finally:
        os.system(f"umount {where}")
