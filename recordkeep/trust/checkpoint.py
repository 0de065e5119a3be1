"""Checkpoints: a C2SP tlog-checkpoint of the journal's Merkle tree, as a C2SP signed note.

Body: the origin (``recordkeep/<store id>``), the tree size in decimal, the standard base64 of
the root, each line ending in a newline; then an empty line and one signature line per
signer: ``— <name> <base64(key hash || Ed25519 signature over the body)>``, where the key
hash is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .. import errors
from ..i18n import _
from .keys import SigningKey, note_key_hash, verify

DASH = "\u2014"
_SIGNATURE = re.compile(DASH + r" (\S+) (\S+)")


def origin(store_id: str) -> str:
    """The name of a store's checkpoints and verifier keys: ``recordkeep/<store id>``."""
    return f"recordkeep/{store_id}"


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: its body's fields and its signature lines (name, key hash, sig)."""

    origin: str
    size: int
    root: bytes
    body: bytes
    signatures: tuple[tuple[str, bytes, bytes], ...]

    def signed_by(self, name: str, public_raw: bytes) -> bool:
        """Whether a signature line by this key (under ``name``) holds over the body."""
        wanted = note_key_hash(name, public_raw)
        return any(n == name and h == wanted and verify(public_raw, sig, self.body)
                   for n, h, sig in self.signatures)


def body(name: str, size: int, root: bytes) -> bytes:
    return f"{name}\n{size}\n{base64.b64encode(root).decode()}\n".encode()


def sign(name: str, size: int, root: bytes, key: SigningKey) -> bytes:
    """The whole signed note of the tree (``size``, ``root``) under ``name``, the origin."""
    text = body(name, size, root)
    signature = note_key_hash(name, key.public_raw) + key.sign(text)
    return text + f"\n{DASH} {name} {base64.b64encode(signature).decode()}\n".encode()


def parse(data: bytes, where: str = "") -> Checkpoint:
    """A checkpoint from its file's bytes; BadCheckpoint when it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadCheckpoint(_("not a checkpoint: not UTF-8"), path=where) from exc
    head, sep, tail = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or len(lines) < 3:
        raise errors.BadCheckpoint(_("not a checkpoint: it needs origin, size, root and signatures"),
                                   path=where)
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise errors.BadCheckpoint(_("not a checkpoint: size or root does not parse"), path=where) from exc
    signatures = []
    for line in tail.splitlines():
        m = _SIGNATURE.fullmatch(line)
        if not m:
            raise errors.BadCheckpoint(_("not a signature line: {line!r}").format(line=line[:60]), path=where)
        try:
            raw = base64.b64decode(m.group(2), validate=True)
        except binascii.Error as exc:
            raise errors.BadCheckpoint(_("a signature line does not parse"), path=where) from exc
        signatures.append((m.group(1), raw[:4], raw[4:]))
    if len(root) != 32 or size < 0 or not signatures:
        raise errors.BadCheckpoint(_("not a checkpoint: bad root, size or no signature"), path=where)
    return Checkpoint(lines[0], size, root, (head + "\n").encode(), tuple(signatures))
