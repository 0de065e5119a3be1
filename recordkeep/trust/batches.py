"""Signed batches: every command's append ends with ``batch.signed``, an Ed25519 signature by
the writer's key over ``recordkeep-batch/v1\\n<store id>\\n<S1>\\n<S2>\\n<head>\\n``, where
S1..S2 are the events it appended before the seal and head is the hash of event S2 (which
chains to every event before it)."""

from __future__ import annotations

import base64
import binascii

from .keys import SigningKey, verify

SEALED = "batch.signed"


def message(store_id: str, first: int, last: int, head: str) -> bytes:
    """The bytes a batch's signature covers."""
    return f"recordkeep-batch/v1\n{store_id}\n{first}\n{last}\n{head}\n".encode()


def seal_data(key: SigningKey, store_id: str, first: int, last: int, head: str) -> dict:
    """The data of the ``batch.signed`` event closing events ``first``..``last``."""
    signature = key.sign(message(store_id, first, last, head))
    return {"from": first, "to": last, "head": head, "key": key.id,
            "sig": base64.b64encode(signature).decode()}


def signature_holds(public_raw: bytes, store_id: str, data: dict) -> bool:
    """Whether a ``batch.signed`` event's signature holds under the key ``public_raw``."""
    try:
        signature = base64.b64decode(str(data.get("sig", "")), validate=True)
        first, last, head = int(data["from"]), int(data["to"]), str(data["head"])
    except (binascii.Error, KeyError, TypeError, ValueError):
        return False
    return verify(public_raw, signature, message(store_id, first, last, head))
