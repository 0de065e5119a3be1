"""Parties, cases, stages, decisions and links: the 一户式 dossier, as journaled events.

Every write here is an event appended through ``Archive.transact``, so values
that depend on the store's state (the next party key, whether a case number is
taken) are decided under the journal's lock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import errors, ids, when
from .archive import Archive
from .journal import Draft
from .retention import lock_permanent

STAGES = {"start": "启动", "investigate": "调查取证", "decide": "审核决定", "serve": "送达执行"}
PENALTY_KINDS = {"warning": "警告", "fine": "罚款", "confiscate": "没收", "suspend": "责令停产停业",
                 "revoke": "吊销许可证", "other": "其他"}
PARTY_KEY = re.compile(r"[Pp](\d+)")
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "[": "(", "]": ")", "【": "(", "】": ")",
                           "［": "(", "］": ")", "（": "(", "）": ")", "｛": "(", "｝": ")",
                           "{": "(", "}": ")"})


class BadStage(errors.MalformedInput):
    code = "RK406"
    hint = "a stage is start|investigate|decide|serve or 启动|调查取证|审核决定|送达执行"


class BadPenaltyKind(errors.MalformedInput):
    code = "RK407"
    hint = ("a penalty kind is warning|fine|confiscate|suspend|revoke|other "
            "or 警告|罚款|没收|责令停产停业|吊销许可证|其他")


class UnknownParty(errors.InputError):
    code = "RK430"
    hint = "'recordkeep party list' shows the parties; 'party add' registers one"


class AmbiguousParty(errors.InputError):
    code = "RK431"
    hint = "name the party by its key (P12) or identity number"


class PartyExists(errors.InputError):
    code = "RK432"


class UnknownCase(errors.InputError):
    code = "RK440"
    hint = "'recordkeep case open' opens a case; check the case number"


class CaseExists(errors.InputError):
    code = "RK441"
    hint = "case numbers are unique; check the number"


class AlreadyDecided(errors.InputError):
    code = "RK442"


class InvalidAmount(errors.InputError):
    code = "RK443"
    hint = "write the amount in yuan, e.g. 2625135.05 (at most two decimals)"


class PartyNeeded(errors.InputError):
    code = "RK444"
    hint = "the case has several parties: say which with --party"


class NotLinked(errors.InputError):
    code = "RK445"


def parse_stage(text: str) -> str:
    """A stage slug from a slug or its Chinese name."""
    value = text.strip()
    if value in STAGES:
        return value
    for slug, zh in STAGES.items():
        if value == zh:
            return slug
    raise BadStage(f"not a stage: {text!r}")


def parse_penalty_kind(text: str) -> str:
    value = text.strip()
    if value in PENALTY_KINDS:
        return value
    for slug, zh in PENALTY_KINDS.items():
        if value == zh:
            return slug
    raise BadPenaltyKind(f"not a penalty kind: {text!r}")


def parse_amount(text: str) -> str:
    """Yuan as an exact decimal string with two places ("150000.00"); never a float."""
    try:
        value = Decimal(unicodedata.normalize("NFKC", text).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise InvalidAmount(f"not an amount: {text!r}") from exc
    if not value.is_finite() or value < 0:
        raise InvalidAmount(f"not an amount: {text!r}")
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # more digits than Decimal's precision (28)
        raise InvalidAmount(f"not an amount: {text!r} (too large)") from exc
    if cents != value:
        raise InvalidAmount(f"more than two decimals: {text!r}")
    return str(cents)


def fold_case_no(text: str) -> str:
    """The lookup key of a case number: full-width folded, brackets unified, spaces dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return re.sub(r"\s+", "", folded)


@dataclass(frozen=True)
class Party:
    key: str
    kind: str
    name: str
    id_number: str | None
    credit_code: str | None
    address: str | None
    phone: str | None

    @property
    def identity(self) -> str:
        return self.id_number or self.credit_code or ""

    def masked_identity(self) -> str:
        if self.id_number:
            return ids.mask_id_number(self.id_number)
        return ids.mask_credit_code(self.credit_code) if self.credit_code else ""

    def as_data(self, *, show_pii: bool = False) -> dict:
        data = {"key": self.key, "kind": self.kind, "name": self.name,
                "address": self.address, "phone": self.phone}
        if self.id_number:
            data["id_number"] = self.id_number if show_pii else ids.mask_id_number(self.id_number)
        if self.credit_code:
            data["credit_code"] = self.credit_code if show_pii else ids.mask_credit_code(self.credit_code)
        return data


def _party(row) -> Party:
    return Party(row["key"], row["kind"], row["name"], row["id_number"], row["credit_code"],
                 row["address"], row["phone"])


# -- parties --------------------------------------------------------------------------
def add_party(archive: Archive, *, name: str, id_number: str | None = None,
              credit_code: str | None = None, address: str | None = None,
              phone: str | None = None) -> str:
    """Register a person (身份证号) or an organisation (统一社会信用代码); return its key."""
    name = name.strip()
    if not name:
        raise errors.InvalidValue("a party needs a name")
    if (id_number is None) == (credit_code is None):
        raise errors.InvalidValue("give exactly one of --id-number or --credit-code")
    data: dict = {"name": name}
    if id_number is not None:
        data.update(kind="person", id_number=ids.validate_id_number(id_number))
    else:
        data.update(kind="organisation", credit_code=ids.validate_credit_code(credit_code))
    for key, value in (("address", address), ("phone", phone)):
        if value and value.strip():
            data[key] = value.strip()
    conn = archive.index.conn

    def build() -> list[Draft]:
        column = "id_number" if id_number is not None else "credit_code"
        row = conn.execute(f"SELECT key FROM parties WHERE {column} = ?", (data[column],)).fetchone()
        if row:
            raise PartyExists(f"a party with this identity number is already registered as {row[0]}",
                              hint=f"use {row[0]}")
        last = conn.execute("SELECT MAX(num) FROM parties").fetchone()[0] or 0
        data["key"] = f"P{last + 1}"
        return [Draft("party.added", data)]

    archive.transact(build)
    return data["key"]


def get_party(archive: Archive, key: str) -> Party:
    row = archive.index.conn.execute("SELECT * FROM parties WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise UnknownParty(f"no party {key}")
    return _party(row)


def resolve_party(archive: Archive, ref: str) -> str:
    """A party's key from its key (P12), identity number or exact name."""
    conn = archive.index.conn
    text = unicodedata.normalize("NFKC", ref).strip()
    m = PARTY_KEY.fullmatch(text)
    if m:
        row = conn.execute("SELECT key FROM parties WHERE num = ?", (int(m.group(1)),)).fetchone()
        if row:
            return row[0]
        raise UnknownParty(f"no party {text.upper()}")
    compact = re.sub(r"[\s-]", "", text).upper()
    row = conn.execute("SELECT key FROM parties WHERE id_number = ? OR credit_code = ?",
                       (compact, compact)).fetchone()
    if row:
        return row[0]
    rows = conn.execute("SELECT * FROM parties WHERE name = ? ORDER BY num", (text,)).fetchall()
    if len(rows) == 1:
        return rows[0]["key"]
    if rows:
        listed = ", ".join(f"{r['key']} ({_party(r).masked_identity()})" for r in rows)
        raise AmbiguousParty(f"{len(rows)} parties are named {text}: {listed}")
    raise UnknownParty(f"no party has the key, number or name {ref!r}")


def find_parties(archive: Archive, text: str | None = None, *, limit: int = 200) -> list[Party]:
    """Parties whose name, identity number or address contains ``text`` (all when None)."""
    conn = archive.index.conn
    if not text:
        rows = conn.execute("SELECT * FROM parties ORDER BY num LIMIT ?", (limit,))
    else:
        needle = unicodedata.normalize("NFKC", text).strip()
        rows = conn.execute(
            "SELECT * FROM parties WHERE instr(name, ?) OR instr(coalesce(id_number, ''), upper(?)) "
            "OR instr(coalesce(credit_code, ''), upper(?)) OR instr(coalesce(address, ''), ?) "
            "ORDER BY num LIMIT ?", (needle, needle, needle, needle, limit))
    return [_party(r) for r in rows]


def note_pii_shown(archive: Archive, key: str) -> None:
    """Journal that a party's identity number was shown unmasked (with the actor)."""
    if not archive.readonly:
        archive.commit([Draft("party.pii_shown", {"party": key})])


# -- cases -----------------------------------------------------------------------------
def resolve_case(archive: Archive, text: str) -> str:
    """The stored case number for ``text`` (full/half-width and brackets folded)."""
    row = archive.index.conn.execute("SELECT case_no FROM cases WHERE case_key = ?",
                                     (fold_case_no(text),)).fetchone()
    if row is None:
        raise UnknownCase(f"no case {text}")
    return row[0]


def _officers(values: list[str] | tuple[str, ...]) -> list[str]:
    from .registry import check_officer

    seen: list[str] = []
    for value in values:
        officer = check_officer(value)
        if officer not in seen:
            seen.append(officer)
    return seen


def open_case(archive: Archive, case_no: str, *, parties: list[str], title: str | None = None,
              officers: list[str] | tuple[str, ...] = (), at: str | None = None) -> str:
    """Open (立案) a case for one or more parties; the number is kept verbatim."""
    case_no = case_no.strip()
    if not case_no:
        raise errors.InvalidValue("a case needs a number")
    if not parties:
        raise errors.InvalidValue("a case needs at least one party (--party)")
    zone = archive.settings.zone
    data: dict = {"case_no": case_no, "case_key": fold_case_no(case_no),
                  "officers": _officers(officers), "at": when.parse(at, zone) if at else archive.now()}
    if title:
        data["title"] = title.strip()

    def build() -> list[Draft]:
        row = archive.index.conn.execute("SELECT case_no FROM cases WHERE case_key = ?",
                                         (data["case_key"],)).fetchone()
        if row:
            raise CaseExists(f"case {row[0]} already exists")
        keys = []
        for p in parties:
            key = resolve_party(archive, p)
            if key not in keys:
                keys.append(key)
        data["parties"] = keys
        return [Draft("case.opened", data)]

    archive.transact(build)
    return case_no


def add_stage(archive: Archive, case_ref: str, stage: str, *, at: str | None = None,
              until: str | None = None, officers: list[str] | tuple[str, ...] = (),
              on_site: bool = False, action: str | None = None, note: str | None = None) -> int:
    """Record a stage event (an action's span, who was there, on site or not); return its seq."""
    slug = parse_stage(stage)
    zone = archive.settings.zone
    data: dict = {"stage": slug, "officers": _officers(officers), "on_site": bool(on_site),
                  "at": when.parse(at, zone) if at else archive.now()}
    if until:
        data["until"] = when.parse(until, zone, end_of_day=True)
        if data["until"] <= data["at"]:  # both in the store's zone: text order is time order
            raise errors.InvalidValue("--until must be after --at")
    for key, value in (("action", action), ("note", note)):
        if value and value.strip():
            data[key] = value.strip()

    def build() -> list[Draft]:
        data["case_no"] = resolve_case(archive, case_ref)
        return [Draft("case.stage", data)]

    return archive.transact(build)[-1].seq


def decide(archive: Archive, case_ref: str, *, penalty_kind: str, party: str | None = None,
           amount: str | None = None, at: str | None = None) -> dict:
    """Record the decision (行政处罚决定) for one party of a case: kind and exact amount."""
    kind = parse_penalty_kind(penalty_kind)
    data: dict = {"penalty_kind": kind, "at": when.parse(at, archive.settings.zone) if at else archive.now()}
    if amount is not None:
        data["amount"] = parse_amount(amount)
    elif kind == "fine":
        raise InvalidAmount("a fine needs --amount")

    def build() -> list[Draft]:
        conn = archive.index.conn
        data["case_no"] = resolve_case(archive, case_ref)
        members = [r[0] for r in conn.execute("SELECT party FROM case_parties WHERE case_no = ?",
                                              (data["case_no"],))]
        if party is None:
            if len(members) != 1:
                raise PartyNeeded(f"case {data['case_no']} has {len(members)} parties")
            data["party"] = members[0]
        else:
            data["party"] = resolve_party(archive, party)
            if data["party"] not in members:
                raise UnknownParty(f"{data['party']} is not a party of case {data['case_no']}")
        if conn.execute("SELECT 1 FROM decisions WHERE case_no = ? AND party = ?",
                        (data["case_no"], data["party"])).fetchone():
            raise AlreadyDecided(f"case {data['case_no']} already has a decision for {data['party']}")
        return [Draft("case.decided", data)]

    archive.transact(build)
    return data


def _dated(archive: Archive, event_type: str, case_ref: str, at: str | None) -> dict:
    data = {"at": when.parse(at, archive.settings.zone) if at else archive.now()}

    def build() -> list[Draft]:
        data["case_no"] = resolve_case(archive, case_ref)
        return [Draft(event_type, data)]

    archive.transact(build)
    return data


def publish(archive: Archive, case_ref: str, at: str) -> dict:
    """Record when the decision was published (公示); return the event's data
    (``case_no`` as stored, ``at``)."""
    return _dated(archive, "case.published", case_ref, at)


def close_case(archive: Archive, case_ref: str, at: str | None = None) -> dict:
    """Close (结案) the case; return the event's data (``case_no`` as stored, ``at``)."""
    return _dated(archive, "case.closed", case_ref, at)


# -- links -----------------------------------------------------------------------------
def link(archive: Archive, case_ref: str | None, digests: list[str], *, stage: str | None,
         party: str | None = None, via: dict | None = None) -> list[str]:
    """Link records to a case (and stage, and optionally a party), or to a party alone."""
    slug = parse_stage(stage) if stage else None
    if case_ref is not None and slug is None:
        raise BadStage("a link to a case needs --stage")
    resolved = sorted({archive.resolve_digest(d) for d in digests})

    def build() -> list[Draft]:
        data: dict = {"digests": ["blake3:" + d for d in resolved]}
        if case_ref is not None:
            data["case_no"] = resolve_case(archive, case_ref)
            data["stage"] = slug
        if party is not None:
            data["party"] = resolve_party(archive, party)
        if via:
            data["via"] = via
        return [Draft("record.linked", data)] if resolved else []

    archive.transact(build)
    lock_permanent(archive, resolved)  # a linked record is permanent: lengthen its blob's lock
    return resolved


def link_window(archive: Archive, case_ref: str, *, officer: str, start: str, end: str, stage: str,
                party: str | None = None) -> list[str]:
    """Link every record ``officer`` recorded from ``start`` to ``end`` (the clerk's act
    after an on-site inspection); the officer's records are found whichever device
    recorded them, so a device reassigned mid-day is followed."""
    from .index import utc_key
    from .registry import check_officer

    zone = archive.settings.zone
    officer = check_officer(officer)
    t0, t1 = when.parse(start, zone), when.parse(end, zone, end_of_day=True)
    if utc_key(t1) <= utc_key(t0):
        raise errors.InvalidValue("--to must be after --from")
    rows = archive.index.conn.execute(
        "SELECT digest FROM records WHERE officer = ? AND recorded_utc >= ? AND recorded_utc < ? "
        "AND disposed_seq IS NULL ORDER BY recorded_utc", (officer, utc_key(t0), utc_key(t1)))
    digests = [r[0] for r in rows]
    if not digests:
        return []
    return link(archive, case_ref, digests, stage=stage, party=party,
                via={"officer": officer, "from": t0, "to": t1})


def unlink(archive: Archive, case_ref: str, digests: list[str], *, stage: str | None = None) -> list[str]:
    """Remove links of records to a case (journaled; the records themselves stay)."""
    slug = parse_stage(stage) if stage else None
    resolved = sorted({archive.resolve_digest(d) for d in digests})

    def build() -> list[Draft]:
        case_no = resolve_case(archive, case_ref)
        for d in resolved:
            if not archive.index.conn.execute(
                    "SELECT 1 FROM links WHERE digest = ? AND case_no = ? AND (? IS NULL OR stage = ?)",
                    (d, case_no, slug, slug)).fetchone():
                raise NotLinked(f"record {d[:12]} is not linked to case {case_no}"
                                + (f" at stage {slug}" if slug else ""))
        data: dict = {"case_no": case_no, "digests": ["blake3:" + d for d in resolved]}
        if slug:
            data["stage"] = slug
        return [Draft("record.unlinked", data)]

    archive.transact(build)
    return resolved


def add_and_link(archive: Archive, paths: list, *, case_ref: str | None, stage: str | None,
                 party: str | None, options, progress=None):
    """``add`` with ``--case/--stage/--party``: validate the target first, store the files,
    then link every stored (or already present) one. Returns the ingest receipt."""
    from .ingest import add_files

    slug = parse_stage(stage) if stage else None
    if case_ref is not None:
        if slug is None:
            raise BadStage("adding to a case needs --stage")
        resolve_case(archive, case_ref)
    elif slug is not None:
        raise errors.InvalidValue("--stage needs --case")
    if party is not None:
        resolve_party(archive, party)
    receipt = add_files(archive, paths, options=options, progress=progress)
    digests = [o.digest for o in receipt.outcomes if o.status in ("stored", "present") and o.digest]
    if digests and not options.dry_run and (case_ref is not None or party is not None):
        link(archive, case_ref, digests, stage=slug, party=party)
    return receipt
