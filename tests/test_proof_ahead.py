"""A long journal's signatures are checked in another process, ahead of the walk: the proof
must find exactly what checking one batch after the other finds, in the same order."""

from __future__ import annotations

import pytest

from recordkeep import errors
from recordkeep.store.journal import Event
from recordkeep.trust import keys, proof
from recordkeep.trust.batches import seal_data
from recordkeep.trust.proof import Proof

STORE = "store-for-the-proof"


def journal(tmp_path, batches: int, forged: set[int], stranger: set[int]) -> list[Event]:
    """store.created + the founder's enrolment, then ``batches`` batches of one verify.run each,
    each sealed by the founder; the seals of ``forged`` batches sign other bytes, the events of
    ``stranger`` batches name another actor."""
    key = keys.new_key(tmp_path / "founder.key")
    events: list[Event] = []

    def add(kind: str, data: dict, actor: str = "founder@test") -> Event:
        seq = len(events) + 1
        event = Event(seq, kind, "2026-12-01T00:00:00.000+08:00", actor, data, "0" * 64, f"{seq:064x}")
        events.append(event)
        return event

    def seal(first: Event, last: Event, other: bool = False) -> None:
        data = seal_data(key, STORE, first.seq, last.seq, last.hash if not other else "f" * 64)
        add("batch.signed", {**data, "head": last.hash})

    first = add("store.created", {"store_id": STORE, "layout": proof.SIGNED_LAYOUT, "admin_key": key.id,
                                  "public_key": key.public_b64})
    last = add("key.enrolled", {"key": key.id, "public_key": key.public_b64, "actor": "founder@test",
                                "roles": ["admin", "clerk", "records", "auditor"]})
    seal(first, last)
    for n in range(batches):
        event = add("verify.run", {"n": n}, actor="someone@else" if n in stranger else "founder@test")
        seal(event, event, other=n in forged)
    return events


def findings(events: list[Event], chunk: int, monkeypatch) -> tuple[list, int]:
    monkeypatch.setattr(proof, "CHUNK", chunk)
    monkeypatch.setattr(proof, "AHEAD", 4 * chunk)
    checked = Proof(STORE)
    for event in events:
        checked.feed(event)
    return [(f.code, f.seq) for f in checked.finish()], checked.batches


def test_signatures_checked_ahead_find_what_checking_one_by_one_finds_in_the_same_order(tmp_path,
                                                                                          monkeypatch):
    events = journal(tmp_path, 700, forged={3, 340, 699}, stranger={100, 512})
    one_by_one = findings(events, 10**9, monkeypatch)  # a chunk never filled: all checked here
    ahead = findings(events, 64, monkeypatch)          # chunks of 64 sent to the other process
    assert ahead == one_by_one
    codes = [code for code, _ in ahead[0]]
    assert codes.count(errors.BadSignature.code) == 3 and codes.count(errors.RoleNotAllowed.code) == 2
    assert ahead[1] == 1 + 700 - 3
    assert [seq for _, seq in ahead[0]] == sorted(seq for _, seq in ahead[0])


@pytest.mark.parametrize("batches", [0, 1, 63, 64, 65, 200])
def test_a_clean_journal_of_any_length_proves_every_batch(tmp_path, monkeypatch, batches):
    events = journal(tmp_path, batches, forged=set(), stranger=set())
    assert findings(events, 64, monkeypatch) == ([], 1 + batches)
