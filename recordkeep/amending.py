"""``record set``: a record's recorded time, device, officer or doc type corrected by an event
(``record.amended``), never by an edit. Search, window links, ``check`` and ``case show`` use
the amended values; the original and every amendment stay in the journal (``log --record``)."""

from __future__ import annotations

from . import errors, validate
from .archive import Archive
from .i18n import _
from .index import records, resolve
from .refs import bare, carries_time, check_device
from .store.journal import Draft


def amend_record(archive: Archive, digest_text: str, *, reason: str, recorded_at: str | None = None,
                 device: str | None = None, officer: str | None = None, doc_type: str | None = None,
                 source: str | None = None) -> dict:
    """Journal ``record.amended`` with the fields that change (``changes``) and what they were
    (``previous``); ``source`` names a record that carries the time (a paper log, a second
    camera), which makes an amended time count as evidence (docs/rules.md). NothingToAmend
    when nothing would change. Return the event's data."""
    archive.require_intact_chain()
    reason = validate.required_text(reason, _("the reason"))
    digest = archive.resolve_digest(digest_text)
    wanted: dict = {}
    if recorded_at is not None:
        wanted["recorded_at"] = archive.settings.done_time(recorded_at, archive.now())
    if device is not None:
        wanted["device"] = check_device(device)
    if officer is not None:
        wanted["officer"] = resolve.officer(archive.index, officer)
    if doc_type is not None:
        wanted["doc_type"] = validate.required_text(doc_type, _("the doc type"), limit=validate.NAME_CHARS)
    data: dict = {"digest": "blake3:" + digest, "reason": reason}
    if source is not None:
        cited = archive.resolve_digest(source)
        if cited == digest:
            raise errors.InvalidValue(_("--source names another record, one that carries the time"))
        data["source"] = "blake3:" + cited

    def build() -> list[Draft]:
        carrier = records.record(archive.index, bare(data["source"])) if "source" in data else None
        if carrier is not None and carrier["disposed_seq"] is not None:
            raise errors.InvalidValue(_("--source names a record disposed of: its bytes no longer carry the "
                                        "time"), hint=_("name a record the store still holds"))
        row = records.record(archive.index, digest)
        _require_meeting(carrier, row, wanted.get("recorded_at"))
        cited = "source" in data  # a time given again with the record that carries it is a change
        changes = {k: v for k, v in wanted.items() if row[k] != v or (k == "recorded_at" and cited)}
        if not changes:
            raise errors.NothingToAmend(_("nothing to change: give --recorded-at, --device, --officer or "
                                          "--doc-type with a value the record does not already have"))
        data.update(changes=changes, previous={k: row[k] for k in changes})
        return [Draft("record.amended", data)]

    archive.transact(build)
    return data


def _require_meeting(carrier, row, at: str | None) -> None:
    """InvalidValue when a second camera's clip is cited for a time its own recording does not
    meet (check would not count it: docs/rules.md)."""
    if carrier is not None and at is not None and not carries_time(carrier, at, row["duration_ms"]):
        def shown(moment: str) -> str:
            return moment[:19].replace("T", " ")
        raise errors.InvalidValue(
            _("--source {digest} is a recording made at {when}: it does not meet {at}, so it cannot "
              "carry that time").format(digest=carrier["digest"][:12], when=shown(carrier["recorded_at"]),
                                        at=shown(at)),
            hint=_("cite the record that shows this time (a paper log, or a clip that overlaps it)"))
