"""The journal as a Merkle tree (RFC 9162 section 2.1, SHA-256), grown one line at a time.

Leaf ``i`` (seq ``i + 1``) hashes the stored line's bytes without its newline:
``SHA-256(0x00 || line)``; a node hashes ``SHA-256(0x01 || left || right)``; the empty tree's
root is ``SHA-256("")``. ``CompactRange`` keeps only the roots of the perfect subtrees that
make up the first ``size`` leaves (at most log2 of it), so the tree of a long journal grows
by its new lines alone. Inclusion and consistency proofs, and their verification, follow
RFC 9162 sections 2.1.3 and 2.1.4.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def leaf_hash(line: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + line).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass
class CompactRange:
    """The roots of the perfect subtrees covering leaves ``0..size-1``, largest first."""

    size: int = 0
    roots: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        """Add the next leaf's hash (merging equal-sized subtrees, as a binary counter carries)."""
        self.roots.append(leaf)
        size = self.size
        while size & 1:
            right = self.roots.pop()
            self.roots[-1] = node_hash(self.roots[-1], right)
            size >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The tree head: the subtree roots folded from the smallest (right) up."""
        if not self.roots:
            return EMPTY_ROOT
        acc = self.roots[-1]
        for left in reversed(self.roots[:-1]):
            acc = node_hash(left, acc)
        return acc

    def as_data(self) -> dict:
        return {"size": self.size, "roots": [r.hex() for r in self.roots]}

    @classmethod
    def from_data(cls, data: dict) -> CompactRange:
        return cls(int(data["size"]), [bytes.fromhex(r) for r in data["roots"]])


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes."""
    tree = CompactRange()
    tree.extend(leaves)
    return tree.root()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """Every node of the perfect subtrees over a list of leaf hashes (levels of 32-byte
    hashes in one bytearray each), so that the root of any prefix and the proofs within it
    cost O(log² n) hashes, not O(n): a bag proves hundreds of lines against one tree."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels = [bytearray()]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0]) // 32

    def append(self, leaf: bytes) -> None:
        self.levels[0] += leaf
        index, level = self.size - 1, 0
        while index & 1:  # completes a pair: its parent is now known
            row = self.levels[level]
            parent = node_hash(row[(index - 1) * 32:index * 32], row[index * 32:(index + 1) * 32])
            level, index = level + 1, index >> 1
            if len(self.levels) == level:
                self.levels.append(bytearray())
            self.levels[level] += parent

    def leaf(self, index: int) -> bytes:
        return bytes(self.levels[0][index * 32:(index + 1) * 32])

    def _hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``lo..hi-1`` (``lo`` a multiple of the largest power of two below the span)."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            i = lo >> level
            return bytes(self.levels[level][i * 32:(i + 1) * 32])
        k = _split(n)
        return node_hash(self._hash(lo, lo + k), self._hash(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all by default)."""
        return self._hash(0, self.size if size is None else self._within(size))

    def _within(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree holds {self.size} leaves, not {size}")
        return size

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) (RFC 9162 2.1.3.1): leaf ``index`` within the first ``size`` leaves."""
        size = self.size if size is None else self._within(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path, lo, hi = [], 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._hash(lo, lo + k))
                lo += k
        return path[::-1]

    def consistency(self, old: int, size: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) (RFC 9162 2.1.4.1) that the first ``old`` leaves are a prefix of ``size``."""
        size = self.size if size is None else self._within(size)
        if not 0 < old <= size:
            raise ValueError(f"no consistency proof from {old} to {size} leaves")
        path, lo, hi, m, whole = [], 0, size, old, True
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                path.append(self._hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._hash(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        if not whole:
            path.append(self._hash(lo, hi))
        return path[::-1]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     expected_root: bytes) -> bool:
    """RFC 9162 2.1.3.2: whether ``leaf`` is at ``index`` of the tree of ``size`` with that root."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: whether the tree of ``old`` leaves is a prefix of the one of ``new``."""
    if old == new:
        return not proof and old_root == new_root
    if old == 0 or old > new or not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root starts the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
