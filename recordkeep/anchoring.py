"""Checkpoints of the journal: made, kept, timestamped and published; proofs drawn from them.

``make_checkpoint`` signs the journal's Merkle root at its head as a C2SP checkpoint, keeps
it under checkpoints/, asks the TSA for an RFC 3161 token over it when one is named, copies
both to ``publish`` (a second disk, the legal office's share) and journals
``checkpoint.made``. The tree grows from the compact range the index keeps, so a checkpoint
hashes only the lines since the last one. ``inclusion`` and ``consistency`` prove a line, or
an older checkpoint, against a checkpoint, in the JSON of design.md.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import errors, validate
from .archive import Archive
from .i18n import N_, _
from .index import anchors as kept
from .index import records
from .refs import public_url
from .store import fs
from .store.checkpoints import checkpoint_name, token_name
from .store.fs import atomic_write, fsync_dir, lies_inside, os_error
from .store.journal import Draft, Head
from .trust import checkpoint as notes
from .trust import timestamp
from .trust.merkle import CompactRange, Tree, leaf_hash


@dataclass(frozen=True)
class AnchorSettings:
    """recordkeep.toml's ``[anchor]``: a checkpoint after every import, the TSA and its CA."""

    auto: bool = False
    tsa_url: str | None = None
    tsa_ca: Path | None = None


def anchor_settings(archive: Archive) -> AnchorSettings:
    """``[anchor]`` read and checked (ConfigError); ``tsa_ca`` relative to the store's folder."""
    table = archive.settings.section("anchor")
    where = archive.root / "recordkeep.toml"
    auto, url, ca = table.get("auto", False), table.get("tsa_url"), table.get("tsa_ca")
    if not isinstance(auto, bool):
        raise errors.ConfigError(_("[anchor] auto must be true or false, not {value!r}").format(value=auto),
                                 path=where)
    if url is not None:
        check_tsa_url(url, where)
    if ca is not None and (not isinstance(ca, str) or not ca.strip()):
        raise errors.ConfigError(_("[anchor] tsa_ca must name a CA certificate file, not {value!r}").format(
            value=ca), path=where)
    return AnchorSettings(auto, url, archive.root / ca if ca else None)


def check_tsa_url(url: object, where: str | os.PathLike | None = None) -> str:
    """An http(s) URL: else ConfigError when read from the settings file ``where``,
    InvalidValue when given (``--tsa``)."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is not None:
            parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:  # or an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        message = _("a TSA is named by an http:// or https:// URL, not {url!r}").format(url=url)
        if where is None:
            raise errors.InvalidValue(message, hint=_("give --tsa http(s)://HOST/PATH, the URL the timestamp "
                                                      "authority publishes for RFC 3161 requests"))
        raise errors.ConfigError(message, path=where)
    return url


@dataclass
class Made:
    """A checkpoint made: its tree, where it is kept, its token and where it was published.
    ``problems`` are what went wrong after it was signed (no token, not published)."""

    size: int
    root: bytes
    location: str
    signer: str
    seq: int | None = None
    tsa: str | None = None
    token: bool = False
    token_time: str | None = None
    published: list[str] = field(default_factory=list)
    problems: list[errors.RecordkeepError] = field(default_factory=list)

    def as_data(self) -> dict:
        return {"size": self.size, "root": self.root.hex(), "root_b64": base64.b64encode(self.root).decode(),
                "checkpoint": self.location, "signer": self.signer, "seq": self.seq, "tsa": self.tsa,
                "token": self.token, "token_time": self.token_time, "published": self.published,
                "problems": [str(p) for p in self.problems]}


# -- the tree ------------------------------------------------------------------------------
def tree_at_head(archive: Archive) -> CompactRange:
    """The journal's compact range at its head. With the range the index kept at the last
    checkpoint, only the lines since are hashed: they must continue it (CheckpointMismatch
    otherwise: the lines it was computed from were rewritten or cut) and pass the chain's
    check on opening. Without one (a new or rebuilt index), every line is hashed, once the
    whole chain is proved intact. Either way a checkpoint never vouches for a line changed
    after an earlier checkpoint hashed it."""
    ix = archive.index
    head = archive.journal.head()
    cached = kept.kept_range(ix)
    if cached is None or archive.chain_problem is not None:
        archive.require_intact_chain()
    if cached is None:
        tree = _grow(archive, CompactRange(), None, 0, head)
    elif cached["size"] > head.seq:
        tree = None
    else:
        tree = _grow(archive, CompactRange.from_data(cached), cached["hash"], cached["end"], head)
    if tree is None:
        size = cached["size"] if cached else 0
        raise errors.CheckpointMismatch(_("the journal no longer continues lines 1..{size} as the last "
                                          "checkpoint hashed them: lines were rewritten or cut").format(
                                              size=size),
                                        path=archive.journal.location, hint=_("run 'recordkeep log verify'"))
    if not archive.readonly:
        kept.keep_range(ix, {**tree.as_data(), "hash": head.hash, "end": head.end})
    return tree


def _grow(archive: Archive, tree: CompactRange, prev: str | None, start: int,
          head: Head) -> CompactRange | None:
    """``tree`` extended by the lines from position ``start`` to the head; None when they do
    not follow on (another seq, another prev) or do not end at the head."""
    last = prev
    if tree.size < head.seq:
        for event in archive.journal.read(start, head.end):
            if event.seq != tree.size + 1 or (last is not None and event.prev != last):
                return None
            tree.append(leaf_hash(event.line))
            last = event.hash
    return tree if tree.size == head.seq and last == head.hash else None


def tree_of(archive: Archive, size: int, keep: frozenset[int] = frozenset()) -> tuple[Tree, dict[int, bytes]]:
    """Every node of the journal's tree over its first ``size`` lines (CheckpointBeyondJournal
    when it holds fewer), and the lines of the seqs in ``keep``."""
    tree, lines = Tree(), {}
    for event in archive.journal.read(0):
        if tree.size == size:
            break
        tree.append(leaf_hash(event.line))
        if event.seq in keep:
            lines[event.seq] = event.line
    if tree.size < size:
        raise errors.CheckpointBeyondJournal(_("the checkpoint covers {size} lines, the journal holds "
                                               "{lines}: lines were cut from its end").format(
                                                   size=size, lines=tree.size),
                                             path=archive.journal.location)
    return tree, lines


# -- making one ------------------------------------------------------------------------------
def make_checkpoint(archive: Archive, *, tsa_url: str | None = None, tsa_ca: str | os.PathLike | None = None,
                    publish: str | os.PathLike | None = None) -> Made:
    """Sign, keep and journal a checkpoint of the journal at its head. The TSA is asked when
    ``tsa_url`` or ``[anchor] tsa_url`` names one (its CA, ``tsa_ca`` or ``[anchor] tsa_ca``,
    is then required); a TSA that fails leaves the checkpoint signed, without token, and the
    failure in ``problems``, as a publication that fails does."""
    conf = anchor_settings(archive)
    url = check_tsa_url(tsa_url) if tsa_url is not None else conf.tsa_url
    ca = None
    if url is not None:
        ca_path = Path(validate.given_path(tsa_ca)) if tsa_ca is not None else conf.tsa_ca
        if ca_path is None and tsa_url is not None:  # named on the command line
            raise errors.InvalidValue(_("--tsa names a TSA but not its CA certificate"),
                                      hint=_("give --tsa-ca FILE too, or set [anchor] tsa_ca"))
        if ca_path is None:
            raise errors.ConfigError(_("a TSA is named but not its CA certificate: give --tsa-ca or set "
                                       "[anchor] tsa_ca"), path=archive.root / "recordkeep.toml")
        ca = timestamp.read_ca(ca_path, given=tsa_ca is not None)
    destination = _publish_folder(archive, publish) if publish is not None else None
    archive.require_can_write(["checkpoint.made"])
    signer = archive.signer()
    tree = tree_at_head(archive)
    origin = notes.origin(archive.settings.store_id)
    data = _keep(archive, notes.sign(origin, tree.size, tree.root(), signer.key), tree)
    made = Made(tree.size, tree.root(), f"{archive.checkpoints.location}/{checkpoint_name(tree.size)}",
                signer.key.id, tsa=public_url(url) if url else None)
    token = _timestamp(archive, made, url, ca, data) if url is not None else None
    event = Draft("checkpoint.made", {"size": made.size, "root": made.root.hex(), "tsa": made.tsa,
                                      "token_sha256": hashlib.sha256(token).hexdigest() if token else None})
    made.seq = archive.commit([event])[0].seq
    if destination is not None:
        _publish(archive, made, destination, data, token)
    return made


def _keep(archive: Archive, data: bytes, tree: CompactRange) -> bytes:
    """Keep the signed note; when another writer kept one of the same size first, use
    theirs if it states the same root (BadCheckpoint if not: the journal or the file changed)."""
    name = checkpoint_name(tree.size)
    if archive.checkpoints.put(name, data):
        return data
    held = archive.checkpoints.get(name) or b""
    if notes.parse(held, name).root != tree.root():
        raise errors.CheckpointMismatch(_("{name} is kept with another root than the journal's tree of "
                                          "{size} lines").format(name=name, size=tree.size),
                                        path=archive.checkpoints.location)
    return held


def _timestamp(archive: Archive, made: Made, url: str, ca: bytes, data: bytes) -> bytes | None:
    """The TSA's token over the checkpoint, verified and kept; None (and a problem) if not."""
    try:
        token = timestamp.fetch(url, data)
        made.token_time = timestamp.verify(token, data, ca)
    except (errors.TsaUnreachable, errors.TokenUnreadable, errors.TokenUntrusted) as exc:
        made.problems.append(exc)
        return None
    name = token_name(made.size)
    if not archive.checkpoints.put(name, token):
        token = archive.checkpoints.get(name)  # another writer's, over the same checkpoint
    made.token = True
    return token


def _publish_folder(archive: Archive, publish: str | os.PathLike) -> Path:
    """``publish/<store id>``: the folder must exist (a share mounted, a disk plugged in)."""
    if not os.fspath(publish).strip():
        raise errors.EmptyPath(_("an empty --publish folder was given"))
    folder = Path(publish)
    try:
        present = folder.is_dir()
    except OSError as exc:  # a name too long, say
        raise errors.InvalidPath(_("the --publish folder cannot be looked at: {error}").format(
            error=exc.strerror), path=folder) from exc
    if not present:
        raise errors.InvalidPath(_("the --publish folder does not exist (is the share mounted?)"),
                                 path=folder)
    if lies_inside(folder, archive.root):  # a copy there is lost with the store
        raise errors.InvalidPath(_("the --publish folder lies inside the store"), path=folder,
                                 hint=_("give --publish a folder outside the store (a second disk, the legal "
                                        "office's share)"))
    return folder / archive.settings.store_id


def _publish(archive: Archive, made: Made, folder: Path, data: bytes, token: bytes | None) -> None:
    try:
        folder.mkdir(exist_ok=True)
        fsync_dir(folder.parent)
        for name, content in ((checkpoint_name(made.size), data), (token_name(made.size), token)):
            if content is not None:
                atomic_write(folder / name, content)
                made.published.append(str(folder / name))
    except OSError as exc:
        made.problems.append(os_error(exc, N_("publishing the checkpoint"), folder))
    except errors.StoreError as exc:
        made.problems.append(exc)


def after_import(archive: Archive) -> Made | None:
    """The checkpoint ``[anchor] auto = true`` makes at the end of an import, else None."""
    if not anchor_settings(archive).auto:
        return None
    return make_checkpoint(archive)


# -- proofs ---------------------------------------------------------------------------------
@dataclass
class Anchored:
    """A kept or given checkpoint, parsed, with the file it came from."""

    name: str
    data: bytes
    note: notes.Checkpoint


def newest(archive: Archive) -> Anchored:
    """The newest checkpoint kept in the store (InvalidValue when there is none)."""
    sizes = archive.checkpoints.sizes()
    if not sizes:
        raise errors.InvalidValue(_("the store keeps no checkpoint yet"),
                                  hint=_("run 'recordkeep log checkpoint'"))
    return read_kept(archive, sizes[-1])


def read_kept(archive: Archive, size: int) -> Anchored:
    name = checkpoint_name(size)
    data = archive.checkpoints.get(name) or b""
    return Anchored(f"{archive.checkpoints.location}/{name}", data, notes.parse(data, name))


def read_file(path: str | os.PathLike) -> Anchored:
    try:
        data = fs.read_regular(validate.given_path(path), fs.GIVEN_LIMIT)
    except OSError as exc:
        raise errors.InvalidPath(_("cannot read the checkpoint: {error}").format(error=exc.strerror),
                                 path=path) from exc
    return Anchored(os.fspath(path), data, notes.parse(data, os.fspath(path)))


def tree_for(archive: Archive, anchored: Anchored, keep: frozenset[int] = frozenset()) -> tuple[Tree, dict]:
    """The journal's tree at the checkpoint's size (and the lines ``keep`` names), once its
    root is the checkpoint's (CheckpointMismatch otherwise)."""
    note = anchored.note
    origin = notes.origin(archive.settings.store_id)
    if note.origin != origin:
        raise errors.OtherStoreCheckpoint(_("a checkpoint of {origin}, not of {store}").format(
                                              origin=note.origin, store=origin),
                                          path=anchored.name)
    tree, lines = tree_of(archive, note.size, keep)
    if tree.root(note.size) != note.root:
        raise errors.CheckpointMismatch(_("the journal's tree of {size} lines has another root than the "
                                          "checkpoint: lines were rewritten").format(size=note.size),
                                        path=anchored.name)
    return tree, lines


def seq_of_record(archive: Archive, digest_text: str) -> int:
    """The seq of a record's ``record.imported`` line."""
    digest = archive.resolve_digest(digest_text)
    return records.record(archive.index, digest)["first_seq"]


def inclusion(archive: Archive, seq: int, anchored: Anchored) -> dict:
    """``{"leaf_index", "tree_size", "line", "hashes"}``: line ``seq`` within the checkpoint's tree."""
    size = anchored.note.size
    if seq < 1:
        raise errors.InvalidValue(_("seq {seq} names no journal line: lines are counted from 1").format(
            seq=seq))
    if seq > size:
        raise errors.InvalidValue(_("seq {seq} is not among the {size} lines the checkpoint covers").format(
                                      seq=seq, size=size),
                                  hint=_("make a newer checkpoint ('recordkeep log checkpoint') and prove "
                                         "against it"))
    tree, lines = tree_for(archive, anchored, frozenset({seq}))
    return inclusion_of(tree, size, seq, lines[seq])


def inclusion_of(tree: Tree, size: int, seq: int, line: bytes, *, withheld: bool = False) -> dict:
    """The proof JSON of line ``seq``; ``withheld`` (a line holding personal numbers plain):
    its leaf hash (base64) instead of the line."""
    shown = ({"leaf_hash": base64.b64encode(leaf_hash(line)).decode()} if withheld
             else {"line": line.decode("utf-8")})
    return {"leaf_index": seq - 1, "tree_size": size, **shown,
            "hashes": [base64.b64encode(h).decode() for h in tree.inclusion(seq - 1, size)]}


def consistency(archive: Archive, old: Anchored, new: Anchored) -> dict:
    """``{"old_size", "new_size", "hashes"}``: the older checkpoint's tree is a prefix of the newer's."""
    if old.note.size > new.note.size:
        old, new = new, old
    tree, _lines = tree_for(archive, new)
    if tree.root(old.note.size) != old.note.root or old.note.origin != new.note.origin:
        raise errors.CheckpointMismatch(_("the journal's tree of {size} lines has another root "
                                          "than the older checkpoint: lines were rewritten").format(
                                              size=old.note.size), path=old.name)
    hashes = tree.consistency(old.note.size, new.note.size) if old.note.size else []
    return {"old_size": old.note.size, "new_size": new.note.size,
            "hashes": [base64.b64encode(h).decode() for h in hashes]}
