"""An offline HTML dossier of a case or a party: ``index.html`` and ``assets/``.

The page shows the party (identity numbers masked), its cases, a timeline per case
(启动 / 调查取证 / 审核决定 / 送达执行 with stage events, decisions, publication and
closing) and every record with a preview, its facts, its full BLAKE3 digest, where it
lies in the BagIt export of the same scope, and its chain of custody (every journal event
that touched it: seq, time, actor, what, event hash).

Contract:

- Self-contained: one local stylesheet (``assets/dossier.css``), previews in
  ``assets/thumbs/``, icons as inline SVG; no script, no font, no address on the network.
  A Content-Security-Policy in the page forbids any fetch but local files and data: URLs.
- Everything taken from the store is HTML-escaped; control characters, bidirectional
  overrides and undecodable bytes in names are shown as visible escapes.
- The evidence files themselves are not copied: the BagIt export is the evidence
  package; this page is the readable overview that points into it.
- Atomic like the bag: written into a hidden sibling folder, fsynced and renamed into
  place; an existing non-empty ``dest`` is refused (RK460). A bad or unreadable media
  file gets an icon and a note, never stops the export. The export is journaled
  (``export.created`` with ``format: "html"``).
- Checkable without recordkeep: ``manifest-sha256.txt`` lists the SHA-256 of every other file
  (``sha256sum -c`` reads it), and the journal line gives the manifest's own (``manifest``), so
  a page changed after its export, even with the manifest made again, is found out.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from ..archive import Archive
from ..custody import describe, for_record
from ..dossier.views import case_view, party_view
from ..i18n import _, language
from ..index import people
from ..media import thumbnails
from ..personal import identity_documents, shows_identity
from ..refs import KIND_ZH, PENALTY_KINDS, label, scope_label
from .bagit import ExportResult, destination, journal_export, plan, sha256_of, staged, write_file
from .completeness import sha256_id

__all__ = ["export_html"]

THUMBS = "assets/thumbs"
MANIFEST = "manifest-sha256.txt"
_ESCAPE = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_COLS = '<colgroup><col class="seq"><col class="at"><col class="actor"><col><col class="hash"></colgroup>'
_CSP = ("default-src 'none'; img-src 'self' file: data:; style-src 'self' file: 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'")


def export_html(archive: Archive, dest: str | os.PathLike, *, case: str | None = None,
                party: str | None = None) -> ExportResult:
    """Write the offline dossier of ``case`` or ``party`` (exactly one) to ``dest`` (new or
    empty) and journal it. ``files``/``bytes`` count what was written; ``records`` the
    distinct records shown."""
    archive.require_intact_chain()
    dest = destination(archive, dest)
    if not archive.readonly:
        archive.require_can_write(["export.created"])
    scope, entries = plan(archive, case=case, party=party)
    view = case_view(archive, scope["case"]) if "case" in scope else party_view(archive, scope["party"])
    digests = sorted({e["digest"] for e in entries})
    result = ExportResult(dest, "html", entries=entries)
    with staged(dest) as stage:
        work = stage.work
        thumbs = _thumbnails(archive, entries, work / THUMBS)
        page = _Page(archive, scope, view, entries, thumbs)
        write_file(work / "assets" / "dossier.css", CSS)
        write_file(work / "index.html", page.render())
        files = sorted(p for p in work.rglob("*") if p.is_file())
        manifest = "".join(f"{_fsynced_sha256(path)}  {path.relative_to(work).as_posix()}\n"
                           for path in files).encode()
        write_file(work / MANIFEST, manifest)
        result.manifest = sha256_id(manifest)
        for path in [*files, work / MANIFEST]:
            result.files += 1
            result.bytes += path.stat().st_size
        result.records = len(digests)
        stage.seal()
        try:
            journal_export(archive, result, scope, digests)
        finally:
            stage.journaled = result.seq  # also when the line is in but its fold failed
    return result


def _fsynced_sha256(path: Path) -> str:
    """The file's SHA-256 (hex), once it is on the disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    return sha256_of(path)


def _thumbnails(archive: Archive, entries: list[dict], folder: Path) -> dict[str, thumbnails.Thumbnail]:
    """One preview per distinct record, made in parallel (ffmpeg runs as processes)."""
    wanted = {e["digest"]: e for e in entries}
    folder.mkdir(parents=True, exist_ok=True)
    identity = identity_documents(archive.settings.section("pii"))

    def one(e: dict) -> thumbnails.Thumbnail:
        if shows_identity(e.get("doc_type"), identity):
            return thumbnails.Thumbnail(None, _("no preview: {doc_type} shows personal information").format(
                doc_type=e["doc_type"]))
        if e["disposed"]:
            return thumbnails.render(None, e["kind"], folder / e["digest"])
        with archive.objects.local_file(e["digest"]) as blob:  # the blob itself, or a download
            return thumbnails.render(blob, e["kind"], folder / e["digest"])

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return dict(zip(wanted, pool.map(one, wanted.values()), strict=True))


# -- text helpers -----------------------------------------------------------------------
def esc(value: object, empty: str = "—") -> str:
    """``value`` as safe HTML text: escaped, with control characters, bidi overrides and
    lone surrogates shown as visible escapes; ``None`` or ``""`` as ``empty``."""
    if value is None or value == "":
        return empty
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    text = _ESCAPE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return html.escape(text, quote=True)


def _original_name(name: str, *, base_only: bool = False) -> str:
    """A sighting's path (or its last part) as HTML; a path that was not UTF-8 (stored as
    ``hex:…``) shows its bytes as ``\\xNN`` escapes, with a GBK reading when there is one."""
    raw = None
    if name.startswith("hex:"):
        try:
            raw = bytes.fromhex(name[4:])
        except ValueError:
            raw = None
    if raw is None:
        return esc(name.rsplit("/", 1)[-1] if base_only else name)
    if base_only:
        raw = raw.rsplit(b"/", 1)[-1]
    shown = esc(raw.decode("ascii", "backslashreplace"))
    try:
        gbk = esc(raw.decode("gbk"))
    except UnicodeDecodeError:
        return shown + ' <span class="muted">' + _("(not UTF-8)") + "</span>"
    return shown + ' <span class="muted">' + _("(not UTF-8; as GBK: {gbk})").format(gbk=gbk) + "</span>"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit} ({n:,} B)"


def _duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class _Page:
    """Builds index.html from the dossier view, the export plan and the previews."""

    def __init__(self, archive: Archive, scope: dict, view: dict, entries: list[dict],
                 thumbs: dict[str, thumbnails.Thumbnail]) -> None:
        self.archive, self.scope, self.view, self.thumbs = archive, scope, view, thumbs
        self.zone = archive.settings.zone
        self.bag_paths: dict[tuple, str] = {(e["digest"], e["case_no"], e["stage"]): e["path"]
                                            for e in entries}
        self.names = {e["digest"]: e["original_names"] for e in entries}
        self.custody: dict[str, list] = {}
        self.officers = {k: v for k, v in people.officer_names(archive.index).items() if v}

    # -- small pieces
    def when(self, iso: str | None) -> str:
        if not iso:
            return "—"
        try:
            moment = datetime.fromisoformat(iso).astimezone(self.zone)
        except ValueError:
            return esc(iso)
        shown = moment.strftime("%Y-%m-%d %H:%M:%S")
        if moment.microsecond:
            shown += f".{moment.microsecond // 1000:03d}"
        return f'<time datetime="{esc(iso)}">{shown}</time>'

    def officer(self, cert_no: str | None) -> str:
        if not cert_no:
            return "—"
        name = self.officers.get(cert_no)
        return esc(cert_no) + (f" {esc(name)}" if name else "")

    def officers_list(self, certs: Iterable[str]) -> str:
        return "、".join(self.officer(c) for c in certs) or "—"

    # -- the page
    def render(self) -> str:
        from importlib.metadata import version

        software = f"recordkeep {version('recordkeep')}"

        head = self.archive.journal.head()
        if "case" in self.scope:
            title = f"案卷 {self.scope['case']}"
            parties = self.view["case"]["parties"]
            cases = [(self.view, self.view["decisions"])]
            loose: list[dict] = []
        else:
            p = self.view["party"]
            title = f"一户式档案 {p['name']}（{p['key']}）"
            parties = [p]
            cases = [(c, c["decisions"]) for c in self.view["cases"]]
            loose = self.view["records_outside_cases"]
        digests = {d for d, _, _ in self.bag_paths}
        meta = [
            (_("范围 scope"), esc(scope_label(self.scope))),
            (_("记录 records"), f"{len(digests)}"),
            (_("导出时间 exported"), self.when(self.archive.now())),
            (_("导出人 exporter"), esc(self.archive.actor)),
            (_("存储库 store"), esc(self.archive.settings.store_id)),
            (_("日志头 journal head"), f'#{head.seq} <code>{esc(head.hash)}</code>'),
            (_("时区 time zone"), esc(self.archive.settings.timezone)),
            (_("软件 software"), esc(software)),
        ]
        body = [
            f"<header><h1>{esc(title)}</h1><p class=\"sub\">" + _("执法全过程记录 · offline dossier")
            + "</p>",
            self.dl(meta, "meta"),
            '<p class="note">' + _(
                "本页为概览。证据包为同一范围的 BagIt 导出（<code>recordkeep export --format bagit</code>）；"
                "请以其中的清单和 <code>b3sum --check</code> 核对下列摘要。 This page is an overview: the "
                "evidence package is the BagIt export of the same scope; check the digests below against its "
                "manifests.") + "</p></header>",
            "<section><h2>" + _("执法对象 Party") + "</h2>",
            *(self.party(p) for p in parties), "</section>",
        ]
        for view, decisions in cases:
            body.append(self.case(view, decisions))
        if "party" in self.scope:
            body.append("<section><h2>" + _("未关联案件的记录 Records outside cases") + "</h2>")
            body.append(self.records(loose) if loose else '<p class="empty">' + _("无 none") + "</p>")
            body.append("</section>")
        body.append(f'<footer>{esc(software)} · {esc(self.archive.settings.store_id)}</footer>')
        return (
            f"<!DOCTYPE html>\n<html lang=\"{'zh' if language() == 'zh' else 'zh-CN'}\">\n<head>\n"
            '<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n"
            '<link rel="stylesheet" href="assets/dossier.css">\n</head>\n<body>\n'
            f"{thumbnails.icon_symbols()}\n" + "\n".join(body) + "\n</body>\n</html>\n"
        )

    def dl(self, pairs: list[tuple[str, str]], cls: str = "facts") -> str:
        rows = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in pairs)
        return f'<dl class="{cls}">{rows}</dl>'

    def party(self, p: dict) -> str:
        kind = _("自然人 person") if p.get("kind") == "person" else _("单位 organisation")
        pairs = [(_("编号 key"), esc(p.get("key"))), (_("类别 kind"), kind)]
        if p.get("id_number"):
            pairs.append((_("身份证号 ID number"), f"<code>{esc(p['id_number'])}</code>"))
        if p.get("credit_code"):
            pairs.append((_("统一社会信用代码 credit code"), f"<code>{esc(p['credit_code'])}</code>"))
        pairs += [(_("地址 address"), esc(p.get("address"))), (_("电话 phone"), esc(p.get("phone")))]
        return f'<div class="card party"><h3>{esc(p.get("name"))}</h3>{self.dl(pairs)}</div>'

    def case(self, view: dict, decisions: list[dict]) -> str:
        c = view["case"]
        status = {"open": _("办理中 open"), "closed": _("已结案 closed")}.get(c["status"], esc(c["status"]))
        pairs = [
            (_("案由 title"), esc(c["title"])),
            (_("状态 status"), status),
            (_("立案 opened"), f"{self.when(c['opened_at'])} · {esc(c['opened_by'])}"),
            (_("当事人 parties"), esc("、".join(f"{p['name']}（{p['key']}）" for p in c["parties"]))),
            (_("执法人员 officers"), self.officers_list(c["officers"])),
            (_("决定 decisions"), "<br>".join(self.decision_text(d) for d in decisions) or "—"),
            (_("公示 published"), self.when(c["published_at"])),
            (_("结案 closed"), self.when(c["closed_at"])),
        ]
        out = ['<section class="case"><h2>' + _("案件 Case")
               + f' <span class="case-no">{esc(c["case_no"])}</span></h2>',
               self.dl(pairs), '<ol class="stages">']
        for n, stage in enumerate(view["stages"], start=1):
            items = stage["items"]
            records = sum(1 for i in items if i["type"] == "record")
            out.append(f'<li class="stage"><h3><span class="num">{n}</span> {esc(stage["name"])} '
                       + ("" if language() == "zh" else f'<span class="slug">{esc(stage["stage"])}</span>')
                       + '<span class="count">' + _("{n} 份记录 record(s)").format(n=records)
                       + "</span></h3>")
            if not items:
                out.append('<p class="empty">' + _("本阶段无记录 nothing recorded in this stage") + "</p>")
            else:
                out.append('<ol class="timeline">')
                out += [f"<li class=\"item {esc(i['type'])}\">{self.item(i)}</li>" for i in items]
                out.append("</ol>")
            out.append("</li>")
        out.append("</ol></section>")
        return "\n".join(out)

    def decision_text(self, d: dict, *, dated: bool = True) -> str:
        kind = PENALTY_KINDS.get(d["penalty_kind"], d["penalty_kind"])
        amount = f" {esc(d['amount'])} 元" if d.get("amount") else ""
        when = f" ({self.when(d.get('at'))})" if dated else ""
        return f"{esc(d['party'])}: {esc(kind)}{amount}{when}"

    def item(self, i: dict) -> str:
        kind = i["type"]
        if kind == "record":
            return self.record(i)
        if kind == "stage_event":
            span = self.when(i["at"]) + (f" – {self.when(i['until'])}" if i.get("until") else "")
            site = ' <span class="badge">' + _("现场 on site") + "</span>" if i.get("on_site") else ""
            pairs = [(_("执法人员 officers"), self.officers_list(i["officers"])),
                     (_("说明 note"), esc(i.get("note"))), (_("录入 entered by"), esc(i.get("entered_by")))]
            action = esc(i.get("action"), _("stage event"))
            what = f'<div class="what">环节 {action}{site}</div>'
            return f'<div class="when">{span}</div>{what}{self.dl(pairs)}'
        if kind == "decision":
            return (f'<div class="when">{self.when(i.get("at"))}</div><div class="what">'
                    + _("处罚决定 decision: {decision}").format(decision=self.decision_text(i, dated=False))
                    + f" · {esc(i.get('entered_by'))}</div>")
        if kind == "publication":
            return (f'<div class="when">{self.when(i["at"])}</div><div class="what">' + _("公示 published")
                    + "</div>")
        if kind == "closed":
            return (f'<div class="when">{self.when(i["at"])}</div><div class="what">' + _("结案 case closed")
                    + "</div>")
        return f'<div class="what">{esc(kind)}</div>'

    def records(self, items: list[dict]) -> str:
        return '<ol class="timeline">' + "".join(
            f'<li class="item record">{self.record(i)}</li>' for i in items) + "</ol>"

    def record(self, r: dict) -> str:
        digest = r["digest"]
        names = self.names.get(digest, [])
        bag_path = self.bag_paths.get((digest, r.get("case_no"), r.get("stage")))
        given = r.get("doc_type") or r.get("name")
        title = esc(given) if given else _original_name(names[0], base_only=True) if names else esc(r["kind"])
        flags = ""
        if r.get("important"):
            flags += ' <span class="badge imp">' + _("重要 important") + "</span>"
        if r.get("disposed"):
            flags += ' <span class="badge gone">' + _("已处置 disposed") + "</span>"
        length = _duration(r.get("duration"))
        pairs = [
            (_("类别 kind"), esc(label(r["kind"])) if language() == "zh"
             else f"{KIND_ZH.get(r['kind'], '')} {esc(r['kind'])}"),
            (_("录制时间 recorded"), self.when(r.get("recorded_at"))),
            (_("执法人员 officer"), self.officer(r.get("officer"))),
            (_("设备 device"), esc(r.get("device"))),
        ]
        if length:
            pairs.append((_("时长 duration"), length))
        if r.get("pages") is not None:
            pairs.append((_("页数 pages"), esc(r["pages"])))
        pairs += [
            (_("文书类型 doc type"), esc(r.get("doc_type"))),
            (_("大小 size"), _size(r.get("size"))),
            (_("摘要 digest"), f'<code class="digest">blake3:{esc(digest)}</code>'),
            (_("原文件名 original name"), "<br>".join(_original_name(n) for n in names) or "—"),
            (_("关联 linked"), f"{self.when(r.get('linked_at'))} · {esc(r.get('linked_by'))}"
                           + (f" · {esc(r['party'])}" if r.get("party") else "")),
            (_("证据包路径 in the bag"), f"<code>{esc(bag_path)}</code>"),
        ]
        if r.get("gps"):
            pairs.append((_("位置 GPS"), esc(f"{r['gps']['lat']:.6f}, {r['gps']['lon']:.6f}")))
        return (f'<article class="record-card"><div class="thumb">{self.thumb(r)}</div>'
                f'<div class="body"><h4>{title}{flags}</h4>{self.dl(pairs)}{self.custody_table(digest)}'
                "</div></article>")

    def thumb(self, r: dict) -> str:
        t = self.thumbs.get(r["digest"])
        if t is not None and t.path is not None:
            alt = _("{kind} preview").format(kind=esc(label(r["kind"])))
            return f'<img src="{THUMBS}/{esc(t.path.name)}" alt="{alt}" loading="eager">'
        icon = "gone" if r.get("disposed") else (r["kind"] if r["kind"] in KIND_ZH else "other")
        note = f'<p class="muted">{esc(t.note)}</p>' if t is not None and t.note else ""
        named = esc(label(r["kind"]))
        return f'<svg class="icon" role="img" aria-label="{named}"><use href="#icon-{icon}"/></svg>{note}'

    def custody_table(self, digest: str) -> str:
        if digest not in self.custody:
            self.custody[digest] = for_record(self.archive, digest).events
        subject = {"record": digest}
        rows = "".join(
            f"<tr><td>#{e.seq}</td><td>{self.when(e.at)}</td><td>{esc(e.actor)}</td>"
            f"<td>{esc(describe(e, subject))}</td>"
            f'<td><code title="{esc(e.hash)}">{esc(e.hash[:16])}</code></td></tr>'
            for e in self.custody[digest])
        summary = _("保管链 chain of custody ({n} events)").format(n=len(self.custody[digest]))
        heads = "".join(f"<th>{h}</th>" for h in (_("seq"), _("时间 time"), _("操作人 actor"), _("事件 what"),
                                                  _("事件哈希 event hash")))
        return (f'<details open class="custody"><summary>{summary}</summary><table>{_COLS}<thead><tr>{heads}'
                "</tr></thead>"
                f"<tbody>{rows}</tbody></table></details>")


CSS = """\
:root { --ink: #1d2733; --muted: #6b7785; --line: #d5dce4; --accent: #1f5f8b; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1160px; padding: 24px; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
h1 { font-size: 24px; margin: 0; color: var(--accent); }
h2 { font-size: 19px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 16px; margin: 0 0 8px; }
h4 { font-size: 15px; margin: 0 0 6px; }
code { font-family: "DejaVu Sans Mono", "WenQuanYi Micro Hei Mono", monospace; font-size: 12px; }
code.digest { word-break: break-all; }
.sub, .muted, footer { color: var(--muted); }
.muted { font-size: 12px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 12px; }
.note { background: var(--bg); border-left: 4px solid var(--accent); padding: 8px 12px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dt { color: var(--muted); white-space: nowrap; }
dd { margin: 0; overflow-wrap: anywhere; }
dl.meta { grid-template-columns: max-content 1fr max-content 1fr; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 8px 0;
  background: var(--bg); }
.case-no { font-weight: normal; }
ol.stages, ol.timeline { list-style: none; padding: 0; margin: 0; }
li.stage { margin: 18px 0; }
li.stage h3 { background: var(--accent); color: #fff; padding: 6px 12px; border-radius: 4px; }
li.stage h3 .num { display: inline-block; width: 22px; height: 22px; line-height: 22px; text-align: center;
  border-radius: 50%; background: #fff; color: var(--accent); margin-right: 6px; }
.slug { font-weight: normal; opacity: .8; margin-left: 6px; }
.count { float: right; font-weight: normal; font-size: 13px; }
ol.timeline { border-left: 3px solid var(--line); margin-left: 14px; padding-left: 18px; }
li.item { position: relative; margin: 10px 0; }
li.item::before { content: ""; position: absolute; left: -26px; top: 6px; width: 11px; height: 11px;
  border-radius: 50%; background: var(--accent); border: 2px solid #fff; }
li.item.decision::before { background: #b5462f; }
li.item.publication::before, li.item.closed::before { background: #2f8b4c; }
.when { color: var(--muted); font-size: 13px; }
.what { font-weight: 600; }
.empty { color: var(--muted); font-style: italic; margin-left: 14px; }
.badge { display: inline-block; font-size: 12px; font-weight: normal; padding: 0 6px; border-radius: 3px;
  background: #e3edf5; color: var(--accent); margin-left: 6px; }
.badge.imp { background: #fbe9d0; color: #8a4b00; }
.badge.gone { background: #f3d6d6; color: #8b1f1f; }
article.record-card { display: flex; gap: 16px; border: 1px solid var(--line); border-radius: 6px;
  padding: 12px; background: #fff; break-inside: avoid; }
.thumb { flex: 0 0 240px; width: 240px; min-width: 0; text-align: center; overflow-wrap: anywhere; }
.thumb img { max-width: 240px; max-height: 320px; border: 1px solid var(--line); background: var(--bg); }
svg.defs { position: absolute; width: 0; height: 0; overflow: hidden; }
svg.icon { width: 96px; height: 96px; fill: none; stroke: var(--muted); stroke-width: 1.4;
  stroke-linecap: round; stroke-linejoin: round; margin-top: 16px; }
.body { flex: 1 1 auto; min-width: 0; }
details.custody summary { cursor: pointer; color: var(--accent); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin-top: 4px; table-layout: fixed; }
col.seq { width: 44px; } col.at { width: 150px; } col.actor { width: 140px; } col.hash { width: 130px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: normal; }
td { overflow-wrap: anywhere; }
footer { margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px; font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; }
  li.stage h3 { background: none; color: var(--ink); border-bottom: 2px solid var(--ink); }
  details.custody > summary { list-style: none; }
}
"""
