"""Property: whatever a user types into the library's write functions (any text, categories
Cs and Cf included, any date, any amount, any file name), each call either succeeds or raises a
RecordkeepError, never another exception; and afterwards the store verifies, its journal
chain holds, and an index rebuilt from the journal answers exactly as the live one.

Profiles: ``ci`` (the default, about 30 s) and ``soak`` (``--hypothesis-profile=soak``,
about 10 minutes; run once before a release, with ``--hypothesis-seed`` noted).
"""

from __future__ import annotations

import os
import shutil
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import recordkeep as rk
from recordkeep import Archive, errors

from .index_dump import dump

settings.register_profile("ci", max_examples=60, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", max_examples=2500, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Any text, surrogates (undecodable bytes of a command line) and format characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=[]), max_size=40)
TYPED_TEXT = st.one_of(ANY_TEXT, st.sampled_from(["张三", "坡城管罚〔2021〕12号", "", " ", "询问笔录",
                                                   "\u202eabc", "a\nb", "x" * 300, "张\udcff三",
                                                   "\u200b张三\ufeff", "\U000e0001tag"]))
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="seconds")),
    st.sampled_from(["0001-01-01", "9999-12-31", "2021-03-15", "2021-03-15 08:30", "2021-02-30",
                     "2021-03-15T08:30:00+14:00", "1969-12-31T23:59:59-12:00", "", "yesterday"]),
)
AMOUNTS = st.one_of(st.decimals(allow_nan=True, allow_infinity=True).map(str), TYPED_TEXT,
                    st.sampled_from(["1,50", "-0", "1e400", "9" * 38, "１５００", "150000.00", "0.01"]))
KINDS = st.sampled_from(["warning", "fine", "confiscate", "suspend", "revoke", "other", "罚款", "没收", "x",
                         "confiscate_income", "没收非法财物", "close_down", "限制从业"])
STAGES = st.sampled_from(["start", "investigate", "decide", "serve", "调查取证", "nope"])
ID_NUMBERS = st.sampled_from(["11010519491231002X", "110101198512151237", "440301199001011234", "123"])
NAME_TIMES = st.one_of(st.sampled_from(["00010101000000", "99991231235959", "20210315083000",
                                        "20211301000000", "20210229120000"]),
                       st.text(string.digits, min_size=14, max_size=14))


def attempt(call, *args, **kwargs):
    """Call a library write; an expected refusal is a RecordkeepError, anything else fails."""
    try:
        return call(*args, **kwargs)
    except errors.RecordkeepError:
        return None


class AnyInput(RuleBasedStateMachine):
    """One store, written by arbitrary input."""

    @initialize()
    def make_store(self):
        self.folder = Path(tempfile.mkdtemp(prefix="recordkeep-any-"))
        self.root = self.folder / "store"
        Archive.init(self.root, actor="clerk@station1").close()
        self.archive = Archive.open(self.root, actor="clerk@station1")
        self.cases: list[str] = []
        self.serial = 0

    def teardown(self):
        try:
            if hasattr(self, "archive"):
                self.check_the_store()
                self.archive.close()
        finally:
            if hasattr(self, "folder"):
                shutil.rmtree(self.folder, ignore_errors=True)

    def check_the_store(self):
        report = rk.verify(self.archive, journal=False)
        assert report.ok, [f.as_data() for f in report.problems]
        chain = self.archive.journal.verify_chain()
        assert chain.problem is None, chain.problem
        self.archive.index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        live = dump(self.root / "index.sqlite")
        rebuilt = self.folder / "rebuilt.sqlite"
        rk.index.rebuild(self.archive.journal, rebuilt)
        assert dump(rebuilt) == live

    @rule(name=TYPED_TEXT, id_number=ID_NUMBERS, address=st.none() | TYPED_TEXT, phone=st.none() | TYPED_TEXT)
    def add_party(self, name, id_number, address, phone):
        attempt(rk.add_party, self.archive, name=name, id_number=id_number, address=address, phone=phone)

    @rule(number=TYPED_TEXT, title=st.none() | TYPED_TEXT, at=st.none() | DATES, officer=TYPED_TEXT)
    def open_case(self, number, title, at, officer):
        if attempt(rk.open_case, self.archive, number, parties=["P1"], title=title, at=at,
                   officers=[officer]) is not None:
            self.cases.append(number)

    @rule(data=st.data(), stage=STAGES, at=st.none() | DATES, until=st.none() | DATES,
          action=st.none() | TYPED_TEXT, note=st.none() | TYPED_TEXT, on_site=st.booleans())
    def add_stage(self, data, stage, at, until, action, note, on_site):
        case = data.draw(st.sampled_from(self.cases)) if self.cases else "坡城管罚〔2021〕12号"
        attempt(rk.add_stage, self.archive, case, stage, at=at, until=until, action=action, note=note,
                on_site=on_site, officers=["440301123456"])

    @rule(data=st.data(), kind=KINDS, amount=st.none() | AMOUNTS, at=st.none() | DATES)
    def decide(self, data, kind, amount, at):
        case = data.draw(st.sampled_from(self.cases)) if self.cases else "none"
        attempt(rk.decide, self.archive, case, penalty_kind=kind, amount=amount, at=at)

    @rule(data=st.data(), which=st.sampled_from(["publish", "close"]), at=DATES)
    def date_a_case(self, data, which, at):
        case = data.draw(st.sampled_from(self.cases)) if self.cases else "none"
        attempt(rk.publish if which == "publish" else rk.close_case, self.archive, case, at)

    @rule(device=TYPED_TEXT, officer=TYPED_TEXT, start=st.none() | DATES, end=st.none() | DATES)
    def assign_device(self, device, officer, start, end):
        attempt(rk.assign_device, self.archive, device, officer, valid_from=start, valid_until=end)

    @rule(name_time=NAME_TIMES, doc_type=st.none() | TYPED_TEXT, officer=st.none() | TYPED_TEXT)
    def import_a_file(self, name_time, doc_type, officer):
        self.serial += 1
        dump_dir = self.folder / f"dump{self.serial}"
        dump_dir.mkdir()
        (dump_dir / f"DSJ001_440301123456_{name_time}_{self.serial:04d}.MP4").write_bytes(
            os.urandom(32) + name_time.encode())
        options = rk.Options(doc_type=doc_type, officer=officer, readback=False)
        receipt = attempt(rk.import_dump, self.archive, dump_dir, options=options)
        assert receipt is None or receipt.complete

    @rule(data=st.data(), stage=STAGES, officer=TYPED_TEXT, start=DATES, end=DATES)
    def link_a_window(self, data, stage, officer, start, end):
        case = data.draw(st.sampled_from(self.cases)) if self.cases else "none"
        attempt(rk.link_window, self.archive, case, officer=officer, start=start, end=end, stage=stage)

    @rule(text=TYPED_TEXT, since=st.none() | DATES, until=st.none() | DATES)
    def search(self, text, since, until):
        attempt(rk.search.search, self.archive, rk.search.Query(text=text, since=since, until=until))

    @invariant()
    def the_journal_chain_holds(self):
        if hasattr(self, "archive"):
            assert self.archive.journal.verify_chain().problem is None


TestAnyInput = pytest.mark.slow(AnyInput.TestCase)
