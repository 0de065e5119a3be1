"""recordkeep's command line: parse, call the library, format, map errors to exit codes.

Exit codes: 0 ok, 1 error, 2 usage, 3 integrity problem, 4 compliance rule
broken, 5 incomplete (a regular file left unstored). Heavy imports are lazy so
``recordkeep --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

EXIT_ERROR, EXIT_USAGE, EXIT_INTEGRITY, EXIT_COMPLIANCE, EXIT_INCOMPLETE = 1, 2, 3, 4, 5


class Group(click.Group):
    """Maps every RecordkeepError to one line on stderr: exit 3 for integrity, else 1."""

    def invoke(self, ctx: click.Context):
        from recordkeep import RecordkeepError, errors

        try:
            return super().invoke(ctx)
        except RecordkeepError as exc:
            click.echo(str(exc), err=True)
            if isinstance(exc, errors.MalformedInput):
                ctx.exit(EXIT_USAGE)
            ctx.exit(EXIT_INTEGRITY if isinstance(exc, errors.IntegrityError) else EXIT_ERROR)


def emit(data: dict) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def display_width(text: str) -> int:
    """Columns a string takes on a terminal (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print rows aligned by display width, so Chinese columns line up."""
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows])
              for i, h in enumerate(headers)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Path(path_type=Path), envvar="RECORDKEEP_STORE",
              default="evidence", show_default=True, help="The store's folder ($RECORDKEEP_STORE).")
@click.option("--actor", envvar="RECORDKEEP_ACTOR", help="Who acts, for the journal (default user@host).")
@click.version_option(package_name="recordkeep")
@click.pass_context
def main(ctx: click.Context, store: Path, actor: str | None) -> None:
    """recordkeep: keep law-enforcement evidence honest (执法全过程记录)."""
    ctx.obj = {"store": store, "actor": actor}


def open_archive(ctx: click.Context):
    from recordkeep import Archive

    archive = Archive.open(ctx.obj["store"], actor=ctx.obj["actor"])
    ctx.call_on_close(archive.close)
    return archive


# -- init ------------------------------------------------------------------------
@main.command()
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              help="Timezone assumed for camera clocks that carry no offset.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def init(ctx: click.Context, timezone: str, as_json: bool) -> None:
    """Create a new store."""
    from recordkeep import Archive

    with Archive.init(ctx.obj["store"], actor=ctx.obj["actor"], timezone=timezone) as archive:
        data = {"store": str(archive.root), "store_id": archive.settings.store_id,
                "timezone": archive.settings.timezone}
    if as_json:
        emit(data)
    else:
        click.echo(f"created store {data['store']} (id {data['store_id']}, timezone {timezone})")


# -- add / import -----------------------------------------------------------------
class ProgressLine:
    """A one-line progress display on a terminal's stderr; silent elsewhere."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, tally) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        total = f"/{tally.files_total}" if tally.files_total else ""
        pct = f" {100 * tally.bytes_done // tally.bytes_total}%" if tally.bytes_total else ""
        click.echo(f"\r{tally.files_done}{total} files, {human_size(tally.bytes_done)}{pct}  ",
                   err=True, nl=False)

    def close(self) -> None:
        if self.enabled and self.last:
            click.echo("\r\033[K", err=True, nl=False)


def receipt_json(receipt) -> dict:
    data = {"batch": receipt.batch, **receipt.as_data(), "may_wipe": receipt.may_wipe}
    data.pop("not_stored_files")
    data["files"] = [{**o.as_data(), "new": o.new_record} for o in receipt.outcomes]
    return data


def print_receipt(receipt, *, heading: str) -> None:
    from recordkeep.ingest import display_path

    for o in receipt.outcomes:
        digest = (o.digest or "")[:12] or "-" * 12
        detail = o.kind or ""
        if o.reason:
            detail = f"{o.code}: {o.reason}"
        click.echo(f"{o.status:<8} {digest}  {human_size(o.size):>9}  {display_path(o.path)}  {detail}")
    d = receipt.as_data()
    secs = receipt.elapsed_ms / 1000
    click.echo(f"\n{heading}: {d['seen']} seen, {d['stored']} stored, {d['present']} already present, "
               f"{d['not_stored']} not stored, {d['skipped']} skipped (not regular files)")
    click.echo(f"{human_size(d['bytes'])} in {secs:.1f} s ({human_size(d['throughput_bps'])}/s)")
    if receipt.dry_run:
        click.echo("dry run: nothing was stored")
    elif receipt.may_wipe:
        click.echo("VERDICT: every file is stored and read back equal: the recorder may be wiped.")
    elif receipt.complete:
        click.echo("VERDICT: every file is stored but was not re-read from disk: "
                   "run 'recordkeep verify' before wiping the recorder.")
    else:
        click.echo("VERDICT: INCOMPLETE: some files were not stored: DO NOT wipe the recorder.")


def finish_receipt(ctx: click.Context, receipt, as_json: bool, heading: str) -> None:
    if as_json:
        emit(receipt_json(receipt))
    else:
        print_receipt(receipt, heading=heading)
    if not receipt.complete:
        ctx.exit(EXIT_INCOMPLETE)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--doc-type", help="Document type, e.g. 询问笔录.")
@click.option("--officer", help="Officer's certificate number (执法证号).")
@click.option("--no-readback", is_flag=True, help="Skip re-reading each stored copy from disk.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def add(ctx: click.Context, files: tuple[Path, ...], doc_type: str | None, officer: str | None,
        no_readback: bool, as_json: bool) -> None:
    """Store files (scans, single clips) as records."""
    from recordkeep import Options, add_files

    archive = open_archive(ctx)
    progress = ProgressLine()
    options = Options(officer=officer, doc_type=doc_type, readback=not no_readback)
    receipt = add_files(archive, list(files), options=options, progress=progress)
    progress.close()
    finish_receipt(ctx, receipt, as_json, "add")


@main.command(name="import")
@click.argument("dump", type=click.Path(path_type=Path))
@click.option("--device", help="Device id of the recorder, when the names do not carry it.")
@click.option("--officer", help="Officer's certificate number (执法证号) for every file.")
@click.option("--dry-run", is_flag=True, help="Read and hash, store nothing.")
@click.option("--no-readback", is_flag=True, help="Skip re-reading each stored copy from disk.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_(ctx: click.Context, dump: Path, device: str | None, officer: str | None, dry_run: bool,
            no_readback: bool, as_json: bool) -> None:
    """Import a recorder dump (a mounted card or a copied folder)."""
    from recordkeep import Options, import_dump

    archive = open_archive(ctx)
    progress = ProgressLine()
    options = Options(officer=officer, device=device, readback=not no_readback, dry_run=dry_run)
    receipt = import_dump(archive, dump, options=options, progress=progress)
    progress.close()
    finish_receipt(ctx, receipt, as_json, "import")


# -- officers and devices -----------------------------------------------------------
@main.group(cls=Group)
def officer() -> None:
    """Officers (执法证号)."""


@officer.command(name="add")
@click.argument("cert_no")
@click.option("--name", required=True, help="The officer's name.")
@click.option("--unit", help="The officer's unit (中队).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def officer_add(ctx: click.Context, cert_no: str, name: str, unit: str | None, as_json: bool) -> None:
    """Register (or rename) an officer."""
    from recordkeep import registry

    registry.register_officer(open_archive(ctx), cert_no, name=name, unit=unit)
    if as_json:
        emit({"cert_no": cert_no, "name": name, "unit": unit})
    else:
        click.echo(f"officer {cert_no} {name}" + (f" ({unit})" if unit else ""))


@officer.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def officer_list(ctx: click.Context, as_json: bool) -> None:
    """Every officer, registered or only seen in files."""
    from recordkeep import registry

    officers = registry.list_officers(open_archive(ctx))
    if as_json:
        emit({"officers": [{"cert_no": o.cert_no, "name": o.name, "unit": o.unit,
                            "registered": o.registered, "records": o.records,
                            "devices": list(o.devices)} for o in officers]})
        return
    rows = [(o.cert_no, o.name or "(unregistered)", o.unit or "", str(o.records), " ".join(o.devices))
            for o in officers]
    print_table(("执法证号", "姓名", "单位", "records", "devices"), rows)


@main.group(cls=Group)
def device() -> None:
    """Recorders (执法记录仪) and who carries them."""


@device.command(name="add")
@click.argument("device_id")
@click.option("--officer", required=True, help="The officer's certificate number (执法证号).")
@click.option("--from", "valid_from", help="Start of the assignment (T).")
@click.option("--until", "valid_until", help="End of the assignment (T; a bare date includes the day).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_add(ctx: click.Context, device_id: str, officer: str, valid_from: str | None,
               valid_until: str | None, as_json: bool) -> None:
    """Assign a device to an officer for a period."""
    from recordkeep import registry

    registry.assign_device(open_archive(ctx), device_id, officer, valid_from=valid_from,
                           valid_until=valid_until)
    if as_json:
        emit({"device": device_id, "officer": officer})
    else:
        click.echo(f"device {device_id} -> officer {officer}")


@device.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(ctx: click.Context, as_json: bool) -> None:
    """Every device assignment, oldest first."""
    from recordkeep import registry

    rows = registry.list_devices(open_archive(ctx))
    if as_json:
        emit({"devices": [{"device": a.device, "officer": a.officer, "from": a.valid_from,
                           "until": a.valid_until, "records": a.records} for a in rows]})
        return
    print_table(("device", "执法证号", "from", "until", "records"),
                [(a.device, a.officer, a.valid_from or "", a.valid_until or "", str(a.records))
                 for a in rows])


# -- verify ----------------------------------------------------------------------
@main.command(name="verify")
@click.option("--fast", "mode", flag_value="fast", help="Presence and size only.")
@click.option("--full", "mode", flag_value="full", default=True, help="Re-hash every blob (default).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_cmd(ctx: click.Context, mode: str, as_json: bool) -> None:
    """Check every stored byte against its digest."""
    from recordkeep import verify

    archive = open_archive(ctx)
    report = verify(archive, mode=mode)
    if as_json:
        emit({"ok": report.ok, "mode": report.mode, "scope": report.scope, "checked": report.checked,
              "bytes": report.bytes, "problems": [f.as_data() for f in report.problems],
              "notices": [f.as_data() for f in report.notices],
              "journaled_seq": report.journaled_seq, "journal_error": report.journal_error})
    else:
        for f in report.problems:
            click.echo(f"PROBLEM {f.code} {f.what}: {f.digest or ''} {f.path or ''}: {f.message}")
        for f in report.notices:
            click.echo(f"notice  {f.code} {f.what}: {f.digest or ''} {f.path or ''}")
        verdict = "OK" if report.ok else f"{len(report.problems)} PROBLEM(S)"
        click.echo(f"verify --{mode}: {report.checked} records, {human_size(report.bytes)}: {verdict}"
                   + (f", {len(report.notices)} notice(s)" if report.notices else ""))
        if report.journal_error:
            click.echo(report.journal_error)
    if not report.ok:
        ctx.exit(EXIT_INTEGRITY)


# -- log ---------------------------------------------------------------------------
@main.group(cls=Group, invoke_without_command=True)
@click.pass_context
def log(ctx: click.Context) -> None:
    """The journal: the audit trail of who did what, when."""
    if ctx.invoked_subcommand is None:
        archive = open_archive(ctx)
        for event in archive.journal.read():
            click.echo(f"{event.seq:>6}  {event.at}  {event.actor}  {event.type}")


@log.command(name="head")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log_head(ctx: click.Context, as_json: bool) -> None:
    """The last line's seq and hash."""
    archive = open_archive(ctx)
    head = archive.journal.head()
    if as_json:
        emit({"seq": head.seq, "hash": head.hash})
    else:
        click.echo(f"{head.seq} {head.hash}")


@log.command(name="verify")
@click.option("--head", "head_hash", help="A head hash noted earlier: prove the journal still holds it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log_verify(ctx: click.Context, head_hash: str | None, as_json: bool) -> None:
    """Walk the hash chain; name the first bad line."""
    archive = open_archive(ctx)
    report = archive.journal.verify_chain(head=head_hash.lower() if head_hash else None)
    ok = report.problem is None and report.found_head is not False
    if as_json:
        emit({"ok": ok, "lines": report.lines, "head": {"seq": report.head.seq, "hash": report.head.hash},
              "problem": None if report.problem is None else vars(report.problem),
              "head_found": report.found_head,
              "torn_tail_bytes": len(report.torn.data) if report.torn else 0})
    else:
        if report.problem:
            p = report.problem
            click.echo(f"PROBLEM {p.code} line {p.line}: {p.message}")
        if report.torn:
            click.echo(f"notice: torn last line ({len(report.torn.data)} bytes, never acknowledged); "
                       "the next writer sets it aside into journal/torn/")
        if head_hash and report.found_head is False:
            click.echo(f"PROBLEM RK224: the journal does not hold head {head_hash} "
                       "with an intact history before it")
        click.echo(f"journal: {report.lines} lines, head seq {report.head.seq} {report.head.hash}: "
                   + ("OK" if ok else "BROKEN"))
    if not ok:
        ctx.exit(EXIT_INTEGRITY)


# -- rebuild-index ------------------------------------------------------------------
@main.command(name="rebuild-index")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rebuild_index(ctx: click.Context, as_json: bool) -> None:
    """Rebuild index.sqlite from the journal."""
    archive = open_archive(ctx)
    t0 = time.monotonic()
    count = archive.rebuild_index()
    seconds = time.monotonic() - t0
    if as_json:
        emit({"events": count, "elapsed_ms": int(seconds * 1000)})
    else:
        click.echo(f"rebuilt index.sqlite from {count} journal events in {seconds:.1f} s")


if __name__ == "__main__":
    main(prog_name=os.path.basename(sys.argv[0]))
