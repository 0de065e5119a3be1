"""Ed25519 keys: the private key file of an actor, its key id and verifier key.

A private key is a PKCS#8 PEM file, mode 0600, under ``$XDG_CONFIG_HOME/recordkeep/keys/``
(``~/.config`` when unset) named ``<actor>.key``, or wherever ``$RECORDKEEP_KEY`` points. A
file readable by group or others is refused, as ssh refuses one. In the journal a key is
named by its id: the lowercase hex of the first 8 bytes of SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import errors
from ..i18n import _
from ..refs import shortened
from ..store.fs import atomic_write

ALGORITHM_ED25519 = b"\x01"  # the C2SP signed-note signature type of Ed25519
_VERIFIER = re.compile(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)")


def key_id(public_raw: bytes) -> str:
    """The key's id in the journal: hex of the first 8 bytes of SHA-256 of the raw key."""
    return hashlib.sha256(public_raw).digest()[:8].hex()


def note_key_hash(name: str, public_raw: bytes) -> bytes:
    """The C2SP signed-note key hash: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ALGORITHM_ED25519 + public_raw).digest()[:4]


def verifier_key(name: str, public_raw: bytes) -> str:
    """The C2SP verifier key ``<name>+<8 hex key hash>+<base64(0x01 || public key)>``."""
    return (f"{name}+{note_key_hash(name, public_raw).hex()}+"
            f"{base64.b64encode(ALGORITHM_ED25519 + public_raw).decode()}")


def public_from_text(text: str) -> bytes:
    """A raw 32-byte public key from base64 of it, or from a verifier key (InvalidValue)."""
    value = text.strip()
    m = _VERIFIER.fullmatch(value)
    if m:
        raw = _b64(m.group(3))
        if raw is None or len(raw) != 33 or raw[:1] != ALGORITHM_ED25519 \
                or note_key_hash(m.group(1), raw[1:]).hex() != m.group(2):
            raise errors.InvalidValue(_("not an Ed25519 verifier key: {key!r}").format(key=shortened(text)))
        return raw[1:]
    raw = _b64(value)
    if raw is None or len(raw) != 32:
        raise errors.InvalidValue(_("not an Ed25519 public key (base64 of 32 bytes): {key!r}").format(
            key=shortened(text)))
    return raw


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is the key's Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """A private key loaded from its file."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @property
    def id(self) -> str:
        return key_id(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def keys_dir() -> Path:
    """Where actors' private keys live: ``$XDG_CONFIG_HOME/recordkeep/keys``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "recordkeep" / "keys"


def key_path(actor: str) -> Path:
    """``$RECORDKEEP_KEY`` when set, else the actor's key file under ``keys_dir()``."""
    explicit = os.environ.get("RECORDKEEP_KEY")
    return Path(explicit) if explicit else keys_dir() / f"{actor}.key"


def new_key(path: Path) -> SigningKey:
    """Generate a key and write it to ``path`` (0600, never over an existing file)."""
    if path.exists():
        raise errors.KeyExists(_("a private key already exists there"), path=path)
    from cryptography.hazmat.primitives import serialization  # PEM only here and in load_key

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise errors.KeyUnusable(_("the keys folder cannot be made: {error}").format(error=exc.strerror),
                                 path=path.parent) from exc
    atomic_write(path, pem, mode=0o600)
    return SigningKey(private, path)


def load_key(path: Path) -> SigningKey:
    """The private key in ``path``: KeyMissing when there is none, KeyUnusable when it is
    readable by group or others, or not an Ed25519 private key."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise errors.KeyMissing(_("no private key"), path=path) from exc
    except OSError as exc:
        raise errors.KeyUnusable(_("the private key cannot be read: {error}").format(error=exc.strerror),
                                 path=path) from exc
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise errors.KeyUnusable(_("the private key is readable by others (mode {mode:o})").format(
            mode=stat.S_IMODE(st.st_mode)), path=path,
            hint=_("chmod 600 {path}; if others may have read it, revoke it").format(path=path))
    from cryptography.hazmat.primitives import serialization

    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise errors.KeyUnusable(_("not a private key file"), path=path) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise errors.KeyUnusable(_("not an Ed25519 private key"), path=path)
    return SigningKey(private, path)
