"""The CLI contract (design.md, "CLI (contract ...)"): every command, for people and with
``--json``, on one store built from the fixtures through the CLI itself.

What must hold for every invocation: no traceback, an exit code of the contract (0 ok,
1 error, 2 usage, 3 integrity, 4 compliance, 5 incomplete) and the one expected for it.
A command that ran prints, with ``--json``, exactly one JSON object that keeps the
contract's conventions, and without it something for people; a command stopped by an
error prints nothing on stdout and its reason (RK code, what, what to do) in one line on
stderr. A command that only reads leaves the journal as it was. Every command of the
CLI has an invocation here, so a new command without a contract test fails.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from cli import main
from recordkeep.trust import roles

from .conftest import Cli, blob_path, make_dump
from .mounts import read_only_view

CASE = "坡城管罚〔2021〕12号"          # decided, published, closed
CASE_FOLDED = "坡城管罚[2021]12号"     # the same number, half-width brackets
CASE2 = "坡城管罚〔2021〕13号"         # opened, still open
OFFICER_1, OFFICER_2 = make_dump.OFFICER_1, make_dump.OFFICER_2
PERSON_ID = "11010519491231002X"        # valid 身份证号 (stdnum.cn.ric)
PERSON2_ID = "110101198512151237"       # another valid one
CREDIT_CODE = "91350100M000100Y43"      # valid 统一社会信用代码 (stdnum.cn.uscc)
CONTRACT_EXITS = {0, 1, 2, 3, 4, 5}


@dataclass
class Built:
    """The store built once for the module, and what the invocations refer to."""

    root: Path
    refs: dict[str, str]

    @functools.cached_property
    def typed(self) -> set[str]:
        """Every text the journal holds that a person typed or a file carried (names, titles,
        file names, reasons, metadata): every string of its events' data but bare slugs."""
        found: set[str] = set()

        def walk(value) -> None:
            if isinstance(value, str):
                for text in (value, value.rsplit("/", 1)[-1]):
                    if len(text) >= 3 and not re.fullmatch(r"[a-z_.-]+", text):
                        found.add(text)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        for line in (self.root / "journal" / "events.jsonl").read_text(encoding="utf-8").splitlines():
            walk(json.loads(line).get("data"))
        return found


def ok(result) -> None:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def write_scan(path: Path, text: str) -> Path:
    """A scanned page (Pillow), as a clerk's scanner would write it."""
    make_dump._page(text).save(path, "PDF", resolution=50.0)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory, dump_dir) -> Built:
    """init, import, officers, devices, parties, two cases with stages, window and digest
    links, a scan added to a case, decisions, publication, holds, exports, unlink,
    close and rebuild-index: all through the CLI."""
    work = tmp_path_factory.mktemp("contract")
    root = work / "store"
    cli = Cli(root)
    ok(cli("init"))
    ok(cli("import", str(dump_dir)))
    ok(cli("officer", "add", OFFICER_1, "--name", "李四", "--unit", "坡头中队"))
    ok(cli("officer", "add", OFFICER_2, "--name", "王五", "--unit", "坡头中队"))
    ok(cli("device", "add", "DSJ001", "--officer", OFFICER_1, "--from", "2021-01-01"))
    ok(cli("device", "add", "X6039412A", "--officer", OFFICER_2, "--from", "2021-01-01",
           "--until", "2021-12-31"))
    assert cli.json("party", "add", "--name", "张三", "--id-number", PERSON_ID,
                    "--address", "湛江市坡头区龙头镇1号", "--phone", "13800138000") == {"key": "P1"}
    assert cli.json("party", "add", "--name", "某某建材有限公司", "--credit-code", CREDIT_CODE,
                    "--phone", "13900139000") == {"key": "P2"}

    records = {r["name"]: r["digest"] for r in cli.json("search", "--limit", "1000")["records"]}
    video = records["DSJ001_440301123456_20210315083000_0001.MP4"]      # linked by window
    axon_0830 = records["Axon Body 3 Video 2021-03-15 0830.mp4"]        # linked by digest, unlinked
    axon_0852 = records["Axon Body 3 Video 2021-03-15 0852.mp4"]        # linked by digest
    photo = records["DSJ001_440301123456_20210315102000_0009.JPG"]      # held
    wav = records["DSJ001_440301123456_20210315094000_0005.WAV"]        # in no case

    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--title", "违法建设",
           "--officer", OFFICER_1, "--officer", OFFICER_2, "--at", "2021-03-14 09:00"))
    ok(cli("case", "stage", CASE_FOLDED, "启动", "--at", "2021-03-14 09:00"))
    ok(cli("case", "stage", CASE_FOLDED, "调查取证", "--at", "2021-03-15 08:25",
           "--until", "2021-03-15 09:00", "--officer", OFFICER_1, "--officer", OFFICER_2,
           "--on-site", "--action", "现场检查", "--note", "两名执法人员在场"))
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-03-25 10:00", "--action", "法制审核"))
    linked = cli.json("case", "link", CASE, "--officer", OFFICER_1, "--from", "2021-03-15 08:00",
                      "--to", "2021-03-15 09:30", "--stage", "investigate", "--party", "P1")["linked"]
    assert video in linked
    assert cli.json("case", "link", CASE, axon_0830[:12], "blake3:" + axon_0852, "--stage", "调查取证",
                    "--party", "P2")["linked"] == sorted([axon_0830, axon_0852])
    scan = write_scan(work / "行政处罚决定书.pdf", "Decision\n2021-04-01")
    added = cli.json("add", str(scan), "--case", CASE, "--stage", "decide", "--party", "P1",
                     "--doc-type", "行政处罚决定书", "--officer", OFFICER_1)
    assert added["files"][0]["status"] == "stored"
    id_copy = write_scan(work / "营业执照复印件.pdf", "Business licence")
    party_scan = cli.json("add", str(id_copy), "--party", "P2")["files"][0]["digest"]  # P2's, in no case
    ok(cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "罚款", "--amount", "2625135.05",
           "--at", "2021-04-01"))
    ok(cli("case", "decide", CASE, "--party", "P2", "--penalty-kind", "warning",
           "--at", "2021-04-01"))
    decision_seq = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    ok(cli("case", "publish", CASE, "--at", "2021-04-06"))
    ok(cli("hold", "--case", CASE, "--reason", "行政复议"))
    ok(cli("release", "--case", CASE))
    ok(cli("hold", photo[:8], "--reason", "法院调取"))
    ok(cli("export", "--case", CASE, str(work / "bag")))
    ok(cli("export", "--party", "P1", "--format", "html", str(work / "dossier")))
    ok(cli("case", "unlink", CASE, axon_0830, "--stage", "investigate"))
    ok(cli("case", "close", CASE, "--at", "2021-04-10"))
    ok(cli("case", "open", CASE2, "--party", "P2", "--title", "占道经营", "--officer", OFFICER_2,
           "--at", "2021-05-01 09:00"))
    stage_seq = cli.json("case", "stage", CASE2, "start", "--at", "2021-05-01 09:00")["seq"]
    from recordkeep.trust import keys

    auditor = keys.new_key(work / "auditor.key")
    enrolled = cli.json("key", "enrol", auditor.public_b64, "--actor", "auditor@bureau", "--role", "auditor")
    newcomer = keys.new_key(work / "newcomer.key")  # made, not enrolled: `key enrol` enrols it
    ok(cli("rebuild-index"))
    ok(cli("log", "checkpoint"))  # the export made the first
    kept = sorted((root / "checkpoints").glob("*.checkpoint"), key=lambda p: int(p.stem))
    vkey = next(k["verifier_key"] for k in cli.json("key", "list")["keys"] if k["actor"] == "clerk@station1")
    head = cli.json("log", "head")["hash"]
    return Built(root, {
        "case": CASE, "case_folded": CASE_FOLDED, "case2": CASE2, "o1": OFFICER_1, "o2": OFFICER_2,
        "video": video, "photo": photo, "due": axon_0830, "wav": wav, "scan": added["files"][0]["digest"],
        "dump": str(dump_dir), "bag": str(work / "bag"), "dossier": str(work / "dossier"), "head": head,
        "auditor_key": enrolled["key"], "new_pubkey": newcomer.public_b64,
        "cp_old": str(kept[0]), "cp_new": str(kept[-1]), "vkey": vkey, "stage_seq": str(stage_seq),
        "decision_seq": str(decision_seq), "party_scan": party_scan,
    })


@pytest.fixture(scope="module")
def read_only_store(built, tmp_path_factory):
    """The built store under a real read-only mount, as an auditor's copy often is."""
    with read_only_view(built.root, tmp_path_factory.mktemp("read-only") / "store") as view:
        yield view


# -- the invocations --------------------------------------------------------------------
def rules_raised(store: Path, refs: dict, tmp: Path) -> None:
    """recordkeep.toml edited since the last write: no write has recorded these settings."""
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write('\n[rules]\nmajor_fine_person = "500000"\n')


def tamper_blob(store: Path, refs: dict, tmp: Path) -> None:
    """Flip the first byte of a stored video (as a failing disk or a forger would)."""
    digest = refs["video"]
    blob = blob_path(store, digest)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[0] ^= 0xFF
    blob.write_bytes(bytes(data))


def tampered_bag(store: Path, refs: dict, tmp: Path) -> None:
    """A copy of the exported bag whose journal lines name another actor."""
    shutil.copytree(refs["bag"], tmp / "bag")
    lines = tmp / "bag" / "recordkeep" / "journal.jsonl"
    lines.write_text(lines.read_text(encoding="utf-8").replace("clerk@station1", "mallory@station9"),
                     encoding="utf-8")


def retitled_dossier(store: Path, refs: dict, tmp: Path) -> None:
    """A copy of the exported HTML dossier whose page names another party."""
    shutil.copytree(refs["dossier"], tmp / "dossier")
    page = tmp / "dossier" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("张三", "李四"), encoding="utf-8")


def missing_blob(store: Path, refs: dict, tmp: Path) -> None:
    """A blob of the closed case gone from objects/ (as after a bad restore)."""
    digest = refs["video"]
    blob_path(store, digest).unlink()


def stray_file(store: Path, refs: dict, tmp: Path) -> None:
    """A file under objects/ that is not at a digest's path."""
    folder = store / "objects" / "blake3" / "ab"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("not a blob")


def unreferenced_blob(store: Path, refs: dict, tmp: Path) -> None:
    """A valid blob no record claims (a crash between storing and journaling)."""
    from blake3 import blake3

    data = b"stored, never journaled"
    digest = blake3(data).hexdigest()
    blob = blob_path(store, digest)
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)


def torn_tail(store: Path, refs: dict, tmp: Path) -> None:
    """A last line cut before its fsync (a crash mid-append)."""
    with open(store / "journal" / "events.jsonl", "ab") as f:
        f.write(b'{"actor":"clerk@station1","at":"2021-')


def namesake(store: Path, refs: dict, tmp: Path) -> None:
    """A second party named 张三."""
    ok(Cli(store)("party", "add", "--name", "张三", "--id-number", PERSON2_ID))


def out_of_range_time(store: Path, refs: dict, tmp: Path) -> None:
    """A stage at 0001-01-01 (+08:00: no UTC time exists) journaled before times had limits."""
    from recordkeep import Archive
    from recordkeep.store.journal import Draft

    with Archive.open(store, actor="clerk@station1") as archive:
        archive.commit([Draft("case.stage", {"case_no": CASE2, "stage": "investigate", "officers": [],
                                             "on_site": False, "at": "0001-01-01T00:00:00.000+08:00"})])


def party_held(store: Path, refs: dict, tmp: Path) -> None:
    """A legal hold over the case of P1."""
    ok(Cli(store)("hold", "--case", refs["case"], "--reason", "行政复议"))


def fined(store: Path, refs: dict, tmp: Path) -> None:
    """A fine of 500 yuan decided for P2 in the open case."""
    ok(Cli(store)("case", "decide", refs["case2"], "--penalty-kind", "罚款", "--amount", "500",
                  "--at", "2021-05-03"))


def new_scan(store: Path, refs: dict, tmp: Path) -> None:
    write_scan(tmp / "送达回证.pdf", f"Proof of service\n{tmp.name}")


def recorder_card(store: Path, refs: dict, tmp: Path) -> None:
    """A card with a clip named by device and time only, and a clip only its file time dates."""
    card = tmp / "card"
    card.mkdir()
    for name in ("DSJ003_20210520160000_0001.MP4", "现场录像.mp4"):
        make_dump._run_ffmpeg(make_dump._av_clip(card / name, tags={"comment": name}))
    os.utime(card / "现场录像.mp4", (1621497600, 1621497600))  # 2021-05-20 16:00 in Shanghai


@dataclass(frozen=True)
class Call:
    """One invocation: the words after ``recordkeep --store S --actor A`` (``{ref}`` are
    filled from the built store; ``{tmp}`` is the test's own folder)."""

    line: str
    exit: int = 0
    writes: bool = False            # runs on a copy of the store (it journals, or may)
    fresh: bool = False             # runs on a new, empty folder instead of the store
    readonly: bool = False          # runs on the store under a read-only mount
    prepare: tuple[Callable, ...] = ()  # run on the copy first, in order
    stops: bool = False             # stopped by an error although its exit is 3 (not a report)

    @property
    def failed(self) -> bool:
        """Stopped by an error: nothing on stdout, the reason on stderr (even with --json)."""
        return self.exit in (1, 2) or self.stops

    @property
    def id(self) -> str:
        where = ["[new folder]"] if self.fresh else ["[read-only]"] if self.readonly else []
        return " ".join([self.line, *where, *(f"[{f.__name__}]" for f in self.prepare)])

    def args(self, refs: dict, tmp: Path) -> list[str]:
        return [word.format(tmp=tmp, **refs) for word in shlex.split(self.line)]


CALLS = [
    # init
    Call("init", fresh=True),
    Call("init --timezone Asia/Urumqi", fresh=True),
    Call("init", exit=1),                                               # already a store
    Call("init --endpoint http://127.0.0.1:8333 --region us-east-1", exit=2, fresh=True),
    Call("init --backend file:///nowhere", exit=1, fresh=True),         # not an s3:// URL
    # add
    Call("add {tmp}/送达回证.pdf --case {case2} --stage 启动 --party P2 --doc-type 立案审批表 "
         "--officer {o2}", writes=True, prepare=(new_scan,)),
    Call("add {tmp}/送达回证.pdf --readback", writes=True, prepare=(new_scan,)),
    Call("add {tmp}/送达回证.pdf --no-readback --party 张三", writes=True, prepare=(new_scan,)),
    Call("add {tmp}/missing.pdf", exit=5, writes=True),                # a file left unstored
    Call("add {tmp}/送达回证.pdf", writes=True, prepare=(new_scan, torn_tail)),  # torn line set aside
    Call("add {tmp}/送达回证.pdf --stage start", exit=2, writes=True, prepare=(new_scan,)),  # no --case
    Call("add {tmp}/送达回证.pdf --case {case2}", exit=2, writes=True, prepare=(new_scan,)),  # no --stage
    Call("add {tmp}/送达回证.pdf --case 坡城管罚〔2099〕1号 --stage start", exit=1, writes=True,
         prepare=(new_scan,)),
    # import
    Call("import {dump}", writes=True),
    Call("import {dump} --device DSJ001 --officer {o1} --no-readback", writes=True),
    Call("import {dump} --dry-run"),
    Call("import {tmp}/card", writes=True, prepare=(recorder_card,)),   # device+time name; file time
    Call("import {tmp}/no-such-card", exit=1, writes=True),
    Call("import ''", exit=2, writes=True),                            # "$CARD" unset: not '.'
    # officers and devices
    Call("officer add 440301777777 --name 赵六 --unit 龙头中队", writes=True),
    Call("officer add {o1} --name 李四", writes=True),                   # renames: allowed
    Call("officer add 440301888888 --name 钱七 --unit 政策法规股 --post 法制审核", writes=True),
    Call("officer list"),
    Call("key list"),
    Call("key new --actor clerk@station1", exit=1),                     # a key is never overwritten
    Call("key enrol {new_pubkey} --actor newcomer@station2 --role clerk --role records", writes=True),
    Call("key enrol {new_pubkey} --actor newcomer@station2 --role nonesuch", exit=1),
    Call("key enrol not-a-key --actor newcomer@station2 --role clerk", exit=1),
    Call("key revoke {auditor_key} --reason 离职", writes=True),
    Call("key revoke 0000000000000000 --reason nobody", exit=1),
    Call("device add DSJ009 --officer 440301777777 --from 2021-01-01 --until 2021-12-31", writes=True),
    Call("device add DSJ009 --officer {o1} --from notadate", exit=2, writes=True),
    Call("device add DSJ001 --officer {o2} --from 2021-06-01", writes=True),  # a handover: ends o1's
    Call("device add X6039412A --officer {o1} --from 2022-01-01", writes=True),  # begins where o2's ends
    Call("device add X6039412A --officer {o1} --from 2021-06-01 --until 2021-07-01", exit=1,
         writes=True),                                                  # inside o2's: overlaps
    Call("device add DSJ050 --unit 执法一中队 --from 2021-01-01", writes=True),  # kept by a unit
    Call("device add DSJ051", exit=2, writes=True),                     # neither --officer nor --unit
    Call("device add DSJ051 --officer {o1} --unit 执法一中队", exit=2, writes=True),
    Call("device list"),
    # parties
    Call("party add --name 李梅 --id-number " + PERSON2_ID + " --address 坡头区 --phone 138-0013-8001",
         writes=True),
    Call("party add --name 另一家公司 --credit-code " + CREDIT_CODE, exit=1, writes=True),  # registered
    Call("party add --name 王二 --id-number 110105194912310021", exit=1, writes=True),  # check digit
    Call("party add --name 王二", exit=2, writes=True),                   # neither number
    Call("party list"),
    Call("party unlink P2 {party_scan}", writes=True),                 # linked to P2 in no case
    Call("party unlink P1 {party_scan}", exit=1, writes=True),         # not linked to P1
    Call("party list 建材"),
    Call("party show P1"),
    Call("party show " + PERSON_ID),
    Call("party show 某某建材有限公司"),
    Call("party show P1 --show-pii", writes=True),
    Call("party show " + PERSON_ID[:8], exit=1),                       # some digits find no party
    Call("party erase-pii P2 --reason 当事人申请删除", writes=True),
    Call("party erase-pii P1 --reason 目的已实现", exit=1, writes=True, prepare=(party_held,)),  # RK529
    Call("party erase-pii P1", exit=2, writes=True),                   # no --reason
    Call("party erase-pii P9 --reason x", exit=1, writes=True),
    Call("pii status"),
    Call("party show P9", exit=1),
    Call("party show 张三", exit=1, writes=True, prepare=(namesake,)),      # ambiguous: lists both
    # cases
    Call("case open 坡城管罚〔2021〕14号 --party P1 --title 违规设置广告 --officer {o1} --at 2021-06-01",
         writes=True),
    Call("case open {case_folded} --party P1 --at 2021-03-14", exit=1, writes=True),     # already open
    Call("case open 坡城管罚〔2021〕14号 --party P9 --at 2021-06-01", exit=1, writes=True),
    Call("case open 坡城管罚〔2021〕15号 --party P1", exit=1, writes=True),   # of 2021: --at needed (RK477)
    Call("case stage {case2} 调查取证 --at '2021-05-02 10:00' --until '2021-05-02 10:40' --officer {o2} "
         "--officer {o1} --on-site --action 现场检查 --note 当场拍照", writes=True),
    Call("case stage {case2} 审核决定 --action 集体讨论", writes=True),
    Call("case stage {case2} 告知 --at '2021-05-02 15:00' --officer {o2}", writes=True),  # an act: decide
    Call("case stage {case2} 告知 --action 送达", exit=1, writes=True),   # the act and --action differ
    Call("case stage {case2} nosuchstage", exit=2, writes=True),
    Call("case stage {case2} start --at 0001-01-01", exit=1, writes=True),  # out of range
    Call("case stage {case2} serve --at '2021-05-02 10:00' --until '2021-05-02 09:00'", exit=1,
         writes=True),
    Call("case decide {case2} --penalty-kind 警告 --at 2021-05-03T10:00:00+08:00", writes=True),
    Call("case decide {case2} --penalty-kind fine --amount 1e40", exit=1, writes=True),
    Call("case decide {case2} --penalty-kind fine --amount 150000 --party P2", writes=True),
    Call("case decide {case2} --penalty-kind 罚款", exit=1, writes=True),  # a fine needs an amount
    Call("case decide {case2} --penalty-kind 打板子", exit=2, writes=True),
    Call("case decide {case} --penalty-kind warning", exit=1, writes=True),  # two parties: which?
    Call("case decide {case} --party P1 --penalty-kind 罚款 --amount 100", exit=1, writes=True),  # fined
    Call("case decide {case2} --penalty-kind 没收违法所得 --amount 300 --at 2021-05-03", writes=True,
         prepare=(fined,)),                                             # 并处: a second kind
    Call("case decide {case2} --penalty-kind confiscate_property", writes=True),  # a value is optional
    Call("case decide {case2} --penalty-kind confiscate_income", exit=1, writes=True),  # needs an amount
    Call("case decide {case2} --penalty-kind warning --amount 500", exit=1, writes=True),  # no money
    Call("case decide {case2} --penalty-kind 限制从业 --at 2021-05-03", writes=True),
    Call("case publish {case2} --at 2021-05-08", writes=True),
    Call("case publish {case2} --at notadate", exit=2, writes=True),
    Call("case close {case2} --at 2021-05-10", writes=True),
    Call("case close {case2}", writes=True),
    Call("case close 坡城管罚〔2099〕1号", exit=1, writes=True),
    Call("case void {case2} {stage_seq} --reason 日期输入错误", writes=True),
    Call("case void {case} {decision_seq} --reason 决定书撤销重作", writes=True),
    Call("case void {case2} 1 --reason x", exit=1, writes=True),        # store.created: not the case's
    Call("case void {case2} {stage_seq}", exit=2, writes=True),          # no --reason
    Call("case void {case2} notaseq --reason x", exit=2, writes=True),
    Call("case reopen {case} --reason 补充送达", writes=True),
    Call("case reopen {case2} --reason x", exit=1, writes=True),        # not closed
    Call("case stage {case} serve --action 送达", exit=1, writes=True),  # closed: reopen first
    Call("record set {video} --officer {o2} --reason 记录仪借用", writes=True),
    Call("record set {video} --recorded-at '2021-03-15 08:31' --source {scan} --reason 时钟复位",
         writes=True),
    Call("record set {video} --doc-type 现场检查 --device DSJ009 --reason 补录", writes=True),
    Call("record set {video} --reason 无", exit=1, writes=True),          # nothing to change
    Call("record set 0000000000 --officer {o1} --reason x", exit=1, writes=True),
    Call("record set {video} --recorded-at notadate --reason x", exit=2, writes=True),
    Call("case close {case} --at 2021-05-01", exit=1, writes=True),    # closed already
    Call("case link {case2} {wav} --stage investigate --party P2", writes=True),
    Call("case link {case2} {wav} --stage 询问", writes=True),          # an act means its stage
    Call("case link {case2} --officer {o2} --from 2021-03-15 --to 2021-03-15 --stage 调查取证", writes=True),
    Call("case link {case2} --officer {o2} --from 2021-03-16 --to 2021-03-15 --stage start", exit=1,
         writes=True),                                                  # window ends before it starts
    Call("case link {case2} {wav} --stage investigate --party P1", exit=1, writes=True),  # not its party
    Call("case link {case2} --stage start", exit=2, writes=True),
    Call("case link {case2} --officer {o2} --stage start", exit=2, writes=True),
    Call("case link {case2} 0000000000 --stage start", exit=1, writes=True),  # no such record
    Call("case unlink {case} {video} --stage investigate", writes=True),
    Call("case unlink {case} {due}", exit=1, writes=True),             # not linked any more
    Call("case show {case}"),
    Call("case show {case_folded}"),
    Call("case show {case2}"),
    Call("case show 坡城管罚〔２０２１〕１２号"),                           # full-width digits fold
    Call("case show {case2}", prepare=(out_of_range_time,)),
    Call("case show 坡城管罚〔2099〕1号", exit=1),
    Call("case list"),
    Call("case list ２０２１ --status open --year 2021 --party P1"),  # full-width digits fold
    Call("case list 违法 --status closed"),                          # none: an empty list
    Call("case list --year 1200", exit=1),                            # outside the store's window
    Call("case list --party P99", exit=1),                            # no such party
    Call("case list --status shut", exit=2),
    # search
    Call("search"),
    Call("search 张三"),
    Call("search 坡头区 --kind video --since 2021-03-01"),
    Call("search --case {case_folded} --stage 调查取证"),
    Call("search --case {case} --stage 现场检查"),
    Call("search --party P1"),
    Call("search --officer {o1} --device DSJ001 --since '2021-03-15 08:00' --until 2021-03-15"),
    Call("search --important"),
    Call("search --unlinked --limit 3"),
    Call("search --kind nonsense", exit=2),
    Call("search --since notadate", exit=2),
    Call("search --limit 0", exit=2),
    Call("search --limit 99999999999999999999", exit=2),
    Call("search --until 9999-12-31", exit=1),                          # out of range
    Call("search", exit=1, fresh=True),                                 # not a store
    Call("search --case 坡城管罚〔2099〕1号", exit=1),
    # verify
    Call("verify", writes=True),
    Call("verify --fast", writes=True),
    Call("verify --full --case {case}", writes=True),
    Call("verify --party P1", writes=True),
    Call("verify --since 2021-01-01", writes=True),
    Call("verify --fast --since notadate", exit=2, writes=True),
    Call("verify --case 坡城管罚〔2099〕1号", exit=1, writes=True),
    Call("verify --case {case} --party P1", exit=2, writes=True),
    Call("verify --since 0001-01-01", exit=1, writes=True),
    Call("verify --fast", exit=3, writes=True, prepare=(missing_blob,)),
    Call("verify --fast", exit=3, writes=True, prepare=(stray_file,)),
    Call("verify --fast", writes=True, prepare=(unreferenced_blob,)),     # a notice, not a problem
    Call("verify", exit=3, writes=True, prepare=(tamper_blob,)),
    Call("verify --fast --case {case}", writes=True, prepare=(tamper_blob,)),  # fast: size only
    Call("verify --full --budget 30s", writes=True),                   # a rolling audit
    Call("verify --budget 1h30m", exit=3, writes=True, prepare=(tamper_blob,)),
    Call("verify --budget 30", exit=2, writes=True),                     # not a duration
    Call("verify --budget 30s --case {case}", exit=2, writes=True),
    Call("verify --status"),
    Call("verify --status --as-of 2099-01-01", exit=3),                  # overdue by then
    Call("verify --status --as-of notadate", exit=2),
    Call("verify --status --fast", exit=2),
    # log
    Call("log"),
    Call("log --record {video}"),
    Call("log --record {video} --report"),
    Call("log --case {case_folded}"),
    Call("log --case {case} --report"),
    Call("log --party 张三"),
    Call("log --report"),
    Call("log --record {video} --case {case}", exit=2),
    Call("log --record 00000000", exit=1),                             # well-formed, unknown
    Call("log --record 021e", exit=2),                                 # not a digest: too short
    Call("log", prepare=(torn_tail,)),                                 # reported, left in place
    Call("log", prepare=(out_of_range_time,)),
    Call("log", exit=1, fresh=True),                                    # not a store
    Call("log --party P9", exit=1),
    Call("log head"),
    Call("log verify"),
    Call("log verify --head {head}"),
    Call("log verify --index"),                                        # index.sqlite against a fresh fold
    Call("log verify", prepare=(torn_tail,)),                          # a notice: never acknowledged
    Call("log verify --head " + "ab" * 32, exit=3),
    Call("log verify --bag {bag}"),
    Call("log verify --bag {tmp}/bag", exit=3, prepare=(tampered_bag,)),
    Call("log verify --html {dossier}"),
    Call("log verify --html {tmp}/dossier", exit=3, prepare=(retitled_dossier,)),
    Call("log verify --html {dossier} --bag {bag}", exit=2),
    Call("log verify --checkpoint {cp_new}"),
    Call("log verify --checkpoint {cp_old} --checkpoint {cp_new} --vkey {vkey}"),
    Call("log verify --checkpoint {cp_new} --vkey " + "x" * 20, exit=2),   # no key: malformed, a usage error
    Call("log verify --vkey {vkey}", exit=2),                          # --vkey needs --checkpoint
    Call("log verify --checkpoint {tmp}/none.checkpoint", exit=1),
    Call("log checkpoint", writes=True),
    Call("log checkpoint --publish {tmp}", writes=True),
    Call("log checkpoint --publish {tmp}/unmounted", exit=1, writes=True),
    Call("log checkpoint --tsa http://127.0.0.1:9/tsa", exit=1, writes=True),  # no CA named for it
    Call("log checkpoint --tsa ftp://tsa.example", exit=1, writes=True),
    Call("log prove {video}"),
    Call("log prove --seq 3 --checkpoint {cp_old}"),
    Call("log prove --from {cp_old} --to {cp_new}"),
    Call("log prove", exit=2),
    Call("log prove {video} --from {cp_old} --to {cp_new}", exit=2),
    Call("log prove --seq 999999", exit=1),
    # export
    Call("export --case {case} {tmp}/bag", writes=True),
    Call("export --case {case_folded} --format html {tmp}/html", writes=True),
    Call("export --party P1 --format html {tmp}/dossier", writes=True),
    Call("export --party 某某建材有限公司 --format bagit {tmp}/bag", writes=True),
    Call("export {tmp}/bag", exit=2, writes=True),
    Call("export --case {case} --format zip {tmp}/bag", exit=2, writes=True),
    Call("export --case {case} {bag}", exit=1, writes=True),           # not an empty folder
    Call("export --case {case} {tmp}/bag", exit=3, stops=True, writes=True, prepare=(missing_blob,)),
    # check and stats
    Call("check", exit=4),
    Call("check --case {case}", exit=4),
    Call("check --year 2021 --strict", exit=4),
    Call("check --year 2020"),
    Call("check --case 坡城管罚〔2099〕1号", exit=1),
    Call("check", exit=4, prepare=(rules_raised,)),
    Call("settings history"),
    Call("settings history", prepare=(rules_raised,)),
    Call("settings history", readonly=True),
    Call("settings record", writes=True),
    Call("settings record", writes=True, prepare=(rules_raised,)),
    Call("settings record", readonly=True, exit=1),
    Call("stats"),
    Call("stats --year 2021"),
    Call("stats --year 2020"),
    Call("stats --year 0", exit=2),
    Call("stats --year 2021 --until 2021-11-11"),
    Call("stats --from 2021-03-01 --until 2021-03-31"),
    Call("stats --from 2021-03-01"),
    Call("stats --year 2021 --until 2022-01-05", exit=1),               # the cut-off is not in the year
    Call("stats --year 2021 --from 2021-03-01", exit=1),
    Call("stats --until notadate", exit=2),
    # retention
    Call("retention due"),
    Call("retention due --as-of 2021-06-01"),
    Call("retention due --as-of notadate", exit=2),
    Call("retention show {video} {due} {photo}"),
    Call("retention show 00000000", exit=1),
    Call("retention show xyz", exit=2),
    Call("retention keep {video} --reason 重大案件", writes=True),
    Call("retention lock", writes=True),
    Call("retention lock {video}", writes=True),
    Call("retention holds"),
    Call("dispose {due} --reason 保存期满", writes=True),
    Call("dispose {photo} --reason 保存期满", exit=1, writes=True),        # held
    Call("dispose {video} --reason 保存期满", exit=1, writes=True),        # linked to a case
    Call("dispose {due}", exit=2, writes=True),                         # no --reason
    Call("hold {video} {wav} --reason 法院调取", writes=True),
    Call("hold --case {case2}", writes=True),
    Call("hold --party P2 --reason 行政复议", writes=True),
    Call("hold {photo}", writes=True),                                  # already held
    Call("hold", exit=2, writes=True),
    Call("hold --case {case} --party P1", exit=2, writes=True),
    Call("release {photo}", writes=True),
    Call("release --party P1", exit=1, writes=True),                    # not held
    Call("release", exit=2, writes=True),
    # rebuild-index
    Call("rebuild-index", writes=True),
    # on a read-only store, reading works and writing says the store is read-only (RK103)
    Call("search 张三", readonly=True),
    Call("party list", readonly=True),
    Call("party show P1 --show-pii", exit=1, readonly=True),           # cannot be journaled: refused
    Call("case show {case}", readonly=True),
    Call("case list", readonly=True),
    Call("log --record {video} --report", readonly=True),
    Call("log verify --head {head}", readonly=True),
    Call("log verify --checkpoint {cp_new}", readonly=True),
    Call("log verify --html {dossier}", readonly=True),
    Call("log prove {video}", readonly=True),
    Call("log checkpoint", exit=1, readonly=True),
    Call("verify --fast", readonly=True),                               # says it was not journaled
    Call("verify --status", readonly=True),
    Call("verify --budget 1m", exit=1, readonly=True),                  # could not journal: refused
    Call("export --case {case} {tmp}/bag", readonly=True),              # to elsewhere
    Call("check", exit=4, readonly=True),
    Call("stats --year 2021", readonly=True),
    Call("retention due", readonly=True),
    Call("import {dump}", exit=1, readonly=True),
    Call("add {tmp}/送达回证.pdf", exit=1, readonly=True, prepare=(new_scan,)),
    Call("case stage {case2} serve", exit=1, readonly=True),
    Call("hold {video}", exit=1, readonly=True),
    Call("case void {case2} {stage_seq} --reason x", exit=1, readonly=True),
    Call("record set {video} --officer {o2} --reason x", exit=1, readonly=True),
    Call("rebuild-index", exit=1, readonly=True),
]


def command_path(args: list[str]) -> str:
    """The command an invocation runs, e.g. "case stage" or "log"."""
    cmd, path = main, []
    for word in args:
        if not (isinstance(cmd, click.Group) and word in cmd.commands):
            break
        cmd = cmd.commands[word]
        path.append(word)
    return " ".join(path)


def leaf_commands() -> dict[str, click.Command]:
    """Every command a person can run: leaves, and groups that act on their own (log)."""
    found: dict[str, click.Command] = {}

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(cmd, click.Group):
            if path and cmd.invoke_without_command:
                found[" ".join(path)] = cmd
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = cmd

    walk(main, ())
    return found


SNAKE = re.compile(r"[a-z][a-z0-9_]*")
HEX = re.compile(r"[0-9a-f]{64}")
MONEY = re.compile(r"\d+\.\d\d")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00")  # the store's zone: Asia/Shanghai
TIME_KEYS = {"at", "since", "until", "from", "as_of", "keep_until"}
FLOAT_KEYS = {"duration", "lat", "lon"}


def convention_breaches(value, path: str = "") -> list[tuple]:
    """Where ``--json`` output breaks design.md's conventions: snake_case keys, digests as
    bare hex under ``digest``, money as strings with two places, times ISO 8601 with the
    store's offset, no floats but durations and GPS. Journal events (``events[].data``)
    are printed verbatim, as chained, and are not judged here."""
    found: list[tuple] = []
    if isinstance(value, list):
        for item in value:
            found += convention_breaches(item, path + "[]")
    if not isinstance(value, dict):
        return found
    for key, v in value.items():
        where = f"{path}.{key}"
        if not SNAKE.fullmatch(key):
            found.append(("key", where))
        if key == "digest" and v is not None and not HEX.fullmatch(v):
            found.append(("digest", where, v))
        if key in ("amount", "total_amount") and v is not None and not MONEY.fullmatch(v):
            found.append(("money", where, v))
        if (key.endswith("_at") or key in TIME_KEYS) and isinstance(v, str) and not TIME.fullmatch(v):
            found.append(("time", where, v))
        if isinstance(v, float) and key not in FLOAT_KEYS:
            found.append(("float", where, v))
        if not (key == "data" and path.endswith("events[]")):
            found += convention_breaches(v, where)
    return found


def run(built: Built, call: Call, tmp: Path, as_json: bool, request):
    refs = built.refs
    if call.fresh:
        store = tmp / "new-store"
    elif call.readonly:
        store = request.getfixturevalue("read_only_store")
    elif call.writes or call.prepare:
        store = tmp / "store"
        shutil.copytree(built.root, store)
    else:
        store = built.root
    for prepare in call.prepare:
        prepare(store, refs, tmp)
    args = call.args(refs, tmp) + (["--json"] if as_json else [])
    journal = store / "journal" / "events.jsonl"
    before = journal.read_bytes() if journal.exists() else None
    result = Cli(store)(*args)
    if not call.writes and before is not None:
        assert journal.read_bytes() == before, f"{call.line} only reads, yet the journal changed"
    return result


@pytest.mark.parametrize("as_json", [False, True], ids=["people", "json"])
@pytest.mark.parametrize("call", CALLS, ids=[c.id for c in CALLS])
def test_every_command_exits_with_its_contract_code_and_no_traceback(built, call, as_json, tmp_path,
                                                                     request):
    result = run(built, call, tmp_path, as_json, request)
    assert "Traceback" not in result.output
    assert result.exit_code in CONTRACT_EXITS
    assert result.exit_code == call.exit, result.output
    if call.failed and result.exit_code != 2:  # click's usage errors print usage too
        reason = result.stderr.strip()
        assert reason.startswith("RK") and "\n" not in reason, "one line on stderr: code, what, what to do"
        if call.readonly:
            assert reason.startswith("RK103"), "a write to a read-only store says the store is read-only"
    if call.failed:
        assert result.stdout == "", "a command stopped by an error prints nothing on stdout, even with --json"
    elif as_json:
        assert isinstance(json.loads(result.stdout), dict), "--json prints exactly one JSON object"
        assert convention_breaches(json.loads(result.stdout)) == []
    else:
        assert result.stdout.strip(), "a command tells people what it did"


def test_every_command_of_the_cli_has_a_contract_invocation():
    exercised = {command_path(shlex.split(c.line)) for c in CALLS}
    assert set(leaf_commands()) - exercised == set()


def test_every_command_takes_json():
    lacking = [path for path, cmd in leaf_commands().items()
               if not any("--json" in p.opts for p in cmd.params)]
    assert lacking == []



#: what may stay in Latin letters in Chinese human output, by kind (never by word): RK codes,
#: digests, ids and base64, quoted commands and code, options, command names, config keys and
#: identifiers, event types, role codes, journal lines shown verbatim (JSON), paths and file
#: names, actors, officer, device and case numbers, sizes, software and format names, the
#: operating system's own error texts, the values a choice offers to type (``start|investigate``),
#: and anything the user typed (the call's own arguments, and the store's data)
#: hex digests, ids and base64 (keys, signatures, hashes): random text, removed first
DIGESTS_AND_KEYS = re.compile(r"\{\".*\}|blake3:[0-9a-f]*|\b[0-9a-f]{8,}\b|[A-Za-z0-9+/]{4,}={1,2}"
                              r"|(?=[A-Za-z0-9+/]*[0-9+/])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])"
                              r"[A-Za-z0-9+/]{12,}")
OS_ERRORS = sorted({os.strerror(n) for n in errno.errorcode}, key=len, reverse=True)

COMMAND_NAMES = sorted({word for path in leaf_commands() for word in path.split()}, key=len, reverse=True)
NOT_ENGLISH_WORDS = re.compile(
    r"\{\".*\}|\$[A-Z_]+|\b[a-z]+\.[a-z_]+\b|\b[a-z_]+(?:\|[a-z_]+)+\b|"
    + "|".join(re.escape(e) for e in OS_ERRORS) + "|" +
    r"\bRK\d{3}\b|blake3:[0-9a-f]*|\b[0-9a-f]{8,}\b|[0-9a-f]{4,}(?:-[0-9a-f]{4,})+|[A-Za-z0-9+/]{4,}={1,2}"
    r"|(?=[A-Za-z0-9+/]*[0-9+/])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/]{12,}"
    r"|'[^'\n]*'|`[^`\n]*`|--?[A-Za-z][\w-]*|\[[a-z_]+\](?: [a-z_]+)?|\b[a-z]+_[a-z_]+\b"
    r"|\b[a-z]+\.[a-z_]+\b|\b(?:" + "|".join(roles.ALL_ROLES) + r")\b"
    r"|\S*/\S*|\S+\.\w{1,5}\b|\S+@\S+|\b[A-Za-z]+\d[\w-]*|\b[A-Z]{2,}\b"
    r"|\b\d+(?:\.\d+)? ?[KMGT]?B(?:/s)?\b|\b(?:BagIt|UTF-8|GBK|recordkeep|BLAKE3|Ed25519|SHA-256|S3|TSA)\b"
    r"|（[ -~]*）|\([ -~]*\)|\[Errno \d+\][^:\n]*|(?<![\w-])(?:" + "|".join(COMMAND_NAMES) + r")(?![\w-])")


@pytest.mark.parametrize("call", [c for c in CALLS if not c.fresh], ids=[c.id for c in CALLS if not c.fresh])
def test_in_chinese_a_command_prints_no_english_word_but_codes_names_and_what_was_typed(
        built, call, tmp_path, request, monkeypatch):
    for name in ("RECORDKEEP_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # a Chinese desktop: no --lang needed
    chinese = call
    try:
        result = run(built, chinese, tmp_path, False, request)
    finally:
        Cli(built.root)("--lang", "en", "--help")  # the rest of the session reads English
    text = result.stdout + result.stderr
    if result.exit_code == 2:  # a usage error: click's usage line names the command and its options
        text = re.sub(r"^用法[:：].*$", " ", text, flags=re.MULTILINE)
    if result.stdout.lstrip().startswith("{"):
        text = result.stderr  # a proof printed as JSON, for the auditor's scripts
    typed = sorted({t for t in chinese.args(built.refs, tmp_path) if t not in COMMAND_NAMES} | built.typed,
                   key=len, reverse=True)  # a command's own words are a kind of their own
    spaced = [t for t in typed if not t.isascii() or " " in t]  # names: never inside random bytes
    for value in spaced:
        text = text.replace(value, " ")
    text = DIGESTS_AND_KEYS.sub(" ", text)  # before shorter values could cut into random bytes
    for value in typed:
        text = text.replace(value, " ")
    left = NOT_ENGLISH_WORDS.sub(" ", text)
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", left)))
    assert words == [], f"{call.line}: " + "; ".join(
        f"{w} in …{left[max(m.start() - 25, 0):m.end() + 15]!r}" for w in words
        if (m := re.search(rf"\b{w}\b", left) or re.search(w, left)))
