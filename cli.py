"""recordkeep's command line: parse, call the library, format, map errors to exit codes.

Exit codes: 0 ok, 1 error, 2 usage, 3 integrity problem, 4 compliance rule
broken, 5 incomplete (a regular file left unstored). Heavy imports are lazy so
``recordkeep --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import click

from recordkeep import i18n
from recordkeep.i18n import N_, _

i18n.install(i18n.choose(sys.argv[1:], os.environ))  # before click can print a usage error

EXIT_ERROR, EXIT_USAGE, EXIT_INTEGRITY, EXIT_COMPLIANCE, EXIT_INCOMPLETE = 1, 2, 3, 4, 5


class Group(click.Group):
    """Maps every RecordkeepError to one line on stderr and its class's exit code."""

    def invoke(self, ctx: click.Context):
        from recordkeep import RecordkeepError

        try:
            return super().invoke(ctx)
        except RecordkeepError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a broken pipe is click's to end quietly
            if isinstance(exc, BrokenPipeError) or not _writing_output(exc):
                raise
            from recordkeep.errors import OutputUnwritten

            failed = OutputUnwritten(_("could not write the output: {error}").format(error=exc.strerror))
            click.echo(str(failed), err=True)
            ctx.exit(failed.exit_code)


def _writing_output(exc: OSError) -> bool:
    """Whether ``exc`` was raised by click writing the command's output."""
    import traceback

    return any(frame.f_code.co_name == "echo" and "click" in frame.f_code.co_filename
               for frame, _line in traceback.walk_tb(exc.__traceback__))


class Whole(click.types.IntParamType):
    """click's integer, named in the reader's language in click's "... is not a valid integer"
    (click's name is English only); help keeps click's placeholder, as every other one."""

    english = N_("integer")

    @property
    def name(self) -> str:
        return _(self.english)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        return None if param.param_type_name == "argument" else self.english.upper()


class WholeRange(Whole, click.IntRange):
    """click's IntRange, named as Whole is."""

    english = N_("integer range")


def emit(data: dict) -> None:
    """Print one JSON document on stdout, UTF-8; text holding bytes that are not (a path, as
    the system gave it) is written with escapes, so the document stays valid JSON."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, indent=2)
    click.echo(text)


def display_width(text: str) -> int:
    """Columns a string takes on a terminal (CJK characters take two)."""
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def padded(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (as ``f"{text:<width}"`` for ASCII)."""
    return text + " " * max(0, width - display_width(text))


def struck(text: str) -> str:
    """``text`` struck through on a terminal (U+0336 after each character)."""
    return "".join(c + "\u0336" for c in text)


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print rows aligned by display width, so Chinese columns line up; a cell's control
    characters (a file name's terminal escapes, line breaks) shown as escapes."""
    from recordkeep.validate import printable

    rows = [tuple(printable(cell) for cell in row) for row in rows]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows])
              for i, h in enumerate(headers)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(padded(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))


def label(value: str | None) -> str:
    """A stage, kind, penalty kind or status in the reader's language (``refs.label``; refs is
    imported on first use, so ``--help`` stays fast)."""
    from recordkeep.refs import label as shown

    return shown(value)


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--lang`` (eager: settled before any help or output): install it and translate the help."""
    i18n.install(i18n.choose(["--lang", value] if value else [], os.environ))
    localise(ctx.find_root().command)


def key_given(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A public key given on the command line (a verifier key, or base64 of the raw key): a
    value that is no key is a usage error (exit 2), as a malformed option is."""
    if value is not None:
        from recordkeep import errors
        from recordkeep.trust.keys import public_from_text

        try:
            public_from_text(value)
        except errors.InvalidValue as exc:
            raise click.BadParameter(exc.message, ctx=ctx, param=param) from exc
    return value


#: words click translates through a variable, so no call of its names them for the catalog
CLICK_WORDS = (N_("required"),)


def localise(command: click.Command) -> None:
    """Every help text of ``command`` and its subcommands in the installed language; the
    English text stays the catalog's key (``_msgid``). A translated help's short form, for
    command lists, is its first sentence (click cuts at spaces, which Chinese has none of)."""
    for item in (command, *command.params):
        if not hasattr(item, "_msgid"):
            item._msgid = (item.help, getattr(item, "short_help", None))
        item.help = _(item._msgid[0]) if item._msgid[0] else item._msgid[0]
        if isinstance(item, click.Command):
            short = _(item._msgid[1]) if item._msgid[1] else None
            if short is None and item.help and item.help != item._msgid[0]:
                first = re.split("[。：]", item.help.split("\n\n")[0])[0]
                short = re.sub("（[^）]*）", "", first) + "。"
            item.short_help = short
    for sub in getattr(command, "commands", {}).values():
        localise(sub)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), is_eager=True, expose_value=False,
              callback=choose_language,
              help="Language of the output: zh or en (else $RECORDKEEP_LANG, else the locale).")
@click.option("--store", type=click.Path(), envvar="RECORDKEEP_STORE",
              default="evidence", show_default=True, help="The store's folder ($RECORDKEEP_STORE).")
@click.option("--actor", envvar="RECORDKEEP_ACTOR", help="Who acts, for the journal (default user@host).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress bars on stderr, or never (default: on a terminal, without --json).")
@click.version_option(package_name="recordkeep")
@click.pass_context
def main(ctx: click.Context, store: str, actor: str | None, progress: bool | None) -> None:
    """recordkeep: keep law-enforcement evidence honest (执法全过程记录)."""
    if os.environ.get("RECORDKEEP_STORE") == "" and \
            ctx.get_parameter_source("store") is click.core.ParameterSource.DEFAULT:
        store = ""  # set but empty (an unset variable's value in a script): refused, never ./evidence
    ctx.obj = {"store": store, "actor": actor, "progress": progress}


class Bars:
    """Progress bars on stderr, one per task the library reports (recordkeep.progress); tqdm is
    imported with the first bar, so commands that show none start without it. A catch-up of
    the index shows only once it has taken a second (it is most often over at once)."""

    DELAY: ClassVar[dict[str, float]] = {"catch-up": 1.0}

    def __init__(self) -> None:
        self.bar = None
        self.task: str | None = None

    def __call__(self, progress) -> None:
        from recordkeep.progress import label

        if (self.finished(progress) and (self.bar is None or progress.task != self.task)
                and (progress.task == self.task or progress.task in self.DELAY)):
            return  # cleared when it was done, or done before its bar would show: tqdm not loaded
        if self.bar is None or progress.task != self.task:
            self.close()
            from tqdm import tqdm

            in_bytes = progress.unit == "bytes"
            self.task = progress.task
            self.bar = tqdm(total=progress.total, desc=label(progress.task), file=sys.stderr, leave=False,
                            unit="B" if in_bytes else f" {label(progress.unit)}", unit_scale=in_bytes,
                            delay=self.DELAY.get(progress.task, 0), dynamic_ncols=True, mininterval=0.2)
        if progress.items:
            of = f"/{progress.items_total}" if progress.items_total is not None else ""
            self.bar.set_postfix_str(f"{progress.items_done}{of} {label(progress.items)}", refresh=False)
        self.bar.update(progress.done - self.bar.n)
        if self.finished(progress):  # cleared at once: a command prints its result right after
            self.close()

    @staticmethod
    def finished(progress) -> bool:
        """Whether the task has done all it said it would (never when it did not say)."""
        return (progress.total is not None and progress.done >= progress.total
                and (progress.items_total is None or progress.items_done >= progress.items_total))

    def close(self) -> None:
        """Draw the last state (when the bar was shown at all), then clear the bar."""
        if self.bar is not None:
            if self.bar.last_print_t >= self.bar.start_t + self.bar.delay:
                self.bar.refresh()
            self.bar.close()
            self.bar = None


def progress_wanted(ctx: click.Context) -> bool:
    """``--progress``/``--no-progress`` when given; else bars on a terminal's stderr, unless the
    command prints JSON."""
    forced = ctx.find_root().obj["progress"]
    if forced is not None:
        return forced
    return sys.stderr.isatty() and not ctx.params.get("as_json")


def open_archive(ctx: click.Context):
    from recordkeep import Archive

    archive = Archive.open(ctx.obj["store"], actor=ctx.obj["actor"])
    if progress_wanted(ctx):
        archive.watch = Bars()
    ctx.call_on_close(lambda: close_archive(archive))
    return archive


def end_progress(archive) -> None:
    """Clear the progress bars before the command prints its result."""
    if archive.watch is not None:
        archive.watch.close()


def close_archive(archive) -> None:
    """Close the store; when the command ran, say on stderr if the journal's chain is broken
    or the index answered from before an event it cannot fold (a command stopped by either
    has said it already)."""
    end_progress(archive)
    if sys.exc_info()[0] is None:
        if archive.chain_problem is not None:
            p = archive.chain_problem
            click.echo(_("WARNING: the journal's chain is broken at line {line}: {code} {message}; "
                         "run 'recordkeep log verify'").format(line=p.line, code=p.code, message=p.message),
                       err=True)
        if archive.fold_error is not None:
            click.echo(_("notice: {message}").format(message=archive.fold_error), err=True)
    archive.close()


# -- init ------------------------------------------------------------------------
@main.command()
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              help="Timezone assumed for camera clocks that carry no offset.")
@click.option("--backend", metavar="s3://BUCKET/PREFIX",
              help="Keep blobs and journal in this S3 bucket prefix; the store folder keeps the "
                   "settings and this workstation's index. A prefix that holds a store is joined.")
@click.option("--endpoint", metavar="URL", help="The S3 endpoint (SeaweedFS, MinIO, Ceph); default AWS.")
@click.option("--region", help="The S3 region (default: AWS config, else us-east-1).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def init(ctx: click.Context, timezone: str, backend: str | None, endpoint: str | None, region: str | None,
         as_json: bool) -> None:
    """Create a new store (or join one kept in an S3 bucket)."""
    from recordkeep import Archive

    if backend is None and (endpoint or region):
        raise click.UsageError(_("--endpoint and --region go with --backend s3://BUCKET/PREFIX"))
    with Archive.init(ctx.obj["store"], actor=ctx.obj["actor"], timezone=timezone, backend=backend,
                      endpoint=endpoint, region=region) as archive:
        data = {"store": str(archive.root), "store_id": archive.settings.store_id,
                "timezone": archive.settings.timezone}
        if backend is not None:
            data.update(backend=backend, endpoint=endpoint, joined=archive.joined,
                        journal_seq=archive.index.head.seq)
    if as_json:
        emit(data)
    elif backend is None:
        click.echo(_("created store {store} (id {store_id}, timezone {timezone})").format(
            store=data["store"], store_id=data["store_id"], timezone=timezone))
    else:
        said = (_("joined store {store_id} in {backend} (timezone {timezone}, journal at seq {seq}); "
                  "local folder {store}") if data["joined"]
                else _("created store {store_id} in {backend} (timezone {timezone}, journal at seq {seq}); "
                       "local folder {store}"))
        click.echo(said.format(store_id=data["store_id"], backend=backend, timezone=data["timezone"],
                               seq=data["journal_seq"], store=data["store"]))


# -- add / import -----------------------------------------------------------------
def receipt_json(receipt) -> dict:
    data = {"batch": receipt.batch, **receipt.as_data(), "may_wipe": receipt.may_wipe,
            "lock_error": receipt.lock_error, "checkpoint": receipt.checkpoint,
            "checkpoint_error": receipt.checkpoint_error}
    data.pop("not_stored_files")
    data["files"] = [{**o.as_data(), **({"reason": str(o.reason)} if o.reason else {}),
                      **({"damage": str(o.damage)} if o.damage else {}), "new": o.new_record}
                     for o in receipt.outcomes]
    return data


#: an outcome's status as the receipt shows it (the JSON and the journal keep the English word)
STATUS_WORDS = frozenset({N_("stored"), N_("present"), N_("failed"), N_("skipped")})
#: the receipt's heading: its command
HEADINGS = frozenset({N_("add"), N_("import")})


def print_receipt(receipt) -> None:
    from recordkeep import errors

    for o in receipt.outcomes:
        digest = (o.digest or "")[:12] or "-" * 12
        detail = label(o.kind)
        if o.reason:
            detail = f"{o.code}: {o.reason}"
        status = _(o.status) if o.status in STATUS_WORDS else o.status
        if receipt.dry_run and o.status == "stored":
            status = _("new")  # would be stored: a dry run stores nothing
        click.echo(f"{padded(status, 8)} {digest}  {human_size(o.size):>9}  "
                   f"{o.shown_path}  {detail}")
    d = receipt.as_data()
    secs = receipt.elapsed_ms / 1000
    click.echo("\n" + _("{heading}: {seen} seen, {stored} stored, {present} already present, "
                        "{not_stored} not stored, {skipped} skipped (not regular files)").format(
        heading=_(receipt.command) if receipt.command in HEADINGS else receipt.command, seen=d["seen"],
        stored=d["stored"], present=d["present"], not_stored=d["not_stored"], skipped=d["skipped"]))
    click.echo(_("{size} in {seconds:.1f} s ({rate}/s)").format(
        size=human_size(d["bytes"]), seconds=secs, rate=human_size(d["throughput_bps"])))
    if receipt.dry_run:
        click.echo(_("dry run: nothing was stored"))
    elif receipt.may_wipe:
        click.echo(_("VERDICT: every file is stored and read back equal: the recorder may be wiped."))
    elif receipt.complete:
        click.echo(_("VERDICT: every file is stored but was not re-read from disk: "
                     "run 'recordkeep verify' before wiping the recorder."))
    else:
        click.echo(_("VERDICT: INCOMPLETE: some files were not stored: DO NOT wipe the recorder."))
    if receipt.damaged:
        click.echo(_("{n} file(s) damaged: stored exactly as on the card; the file itself is damaged "
                     "(keep the card's copy for the record):").format(n=len(receipt.damaged)))
        for o in receipt.damaged:
            click.echo(f"  {errors.MediaDamaged.code} {o.shown_path}: {o.damage}")
    if receipt.unprobed:
        click.echo(_("{n} file(s) stored but not read: ffprobe was not found ({code}), so their duration, "
                     "codecs and embedded time are unknown; this says nothing of the files themselves: "
                     "install ffmpeg for the next import").format(n=len(receipt.unprobed),
                                                                  code=errors.ToolMissing.code))
    if receipt.lock_error:
        click.echo(_("notice: {message}").format(message=receipt.lock_error))
    if receipt.checkpoint:
        c = receipt.checkpoint
        click.echo(_("checkpoint of {size} lines kept: {checkpoint}").format(size=c["size"],
                                                                           checkpoint=c["checkpoint"])
                   + (" " + _("(timestamped {time})").format(time=c["token_time"]) if c["token"] else ""))
    if receipt.checkpoint_error:
        click.echo(_("notice: {message}").format(message=receipt.checkpoint_error))


@contextmanager
def said_if_interrupted(ctx: click.Context):
    """Ctrl-C during an import or add: say that nothing is confirmed and the recorder must not
    be wiped (what was stored is kept; the same command run again copies only the rest), exit 5."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(_("INTERRUPTED: the receipt was not made: DO NOT wipe the recorder. Run the same "
                     "command again: what was stored is kept and not copied twice."), err=True)
        ctx.exit(EXIT_INCOMPLETE)


def finish_receipt(ctx: click.Context, receipt, as_json: bool) -> None:
    if as_json:
        emit(receipt_json(receipt))
    else:
        print_receipt(receipt)
    if not receipt.complete:
        ctx.exit(EXIT_INCOMPLETE)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--case", "case_no", help="Link the files to this case (needs --stage).")
@click.option("--stage", help="start|investigate|decide|serve or 启动|调查取证|审核决定|送达执行, "
              "or an act's name (告知).")
@click.option("--party", help="Link the files to this party (key, identity number or name).")
@click.option("--doc-type", help="Document type, e.g. 询问笔录, 现场检查笔录, 送达回证.")
@click.option("--officer", help="Officer's certificate number (执法证号).")
@click.option("--readback/--no-readback", default=False, show_default=True,
              help="Re-read each stored copy from the disk itself, as import does by default.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def add(ctx: click.Context, files: tuple[str, ...], case_no: str | None, stage: str | None,
        party: str | None, doc_type: str | None, officer: str | None, readback: bool,
        as_json: bool) -> None:
    """Store files (scans, single clips) as records, optionally linked to a case."""
    import recordkeep as rk
    from recordkeep import Options

    if stage is not None and case_no is None:
        raise click.UsageError(_("--stage goes with --case NO"))
    archive = open_archive(ctx)
    options = Options(officer=officer, doc_type=doc_type, readback=readback)
    with said_if_interrupted(ctx):
        receipt = rk.add_and_link(archive, list(files), case_ref=case_no, stage=stage, party=party,
                                  options=options)
    end_progress(archive)
    finish_receipt(ctx, receipt, as_json)


@main.command(name="import")
@click.argument("dump", type=click.Path())
@click.option("--device", help="Device id of the recorder, when the names do not carry it.")
@click.option("--officer", help="Officer's certificate number (执法证号) for every file.")
@click.option("--dry-run", is_flag=True, help="Read and hash, store nothing.")
@click.option("--no-readback", is_flag=True, help="Skip re-reading each stored copy from disk.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_(ctx: click.Context, dump: str, device: str | None, officer: str | None, dry_run: bool,
            no_readback: bool, as_json: bool) -> None:
    """Import a recorder dump (a mounted card or a copied folder)."""
    from recordkeep import Options, import_dump

    archive = open_archive(ctx)
    options = Options(officer=officer, device=device, readback=not no_readback, dry_run=dry_run)
    with said_if_interrupted(ctx):
        receipt = import_dump(archive, dump, options=options)
    end_progress(archive)
    finish_receipt(ctx, receipt, as_json)


# -- keys --------------------------------------------------------------------------
@main.group(cls=Group)
def key() -> None:
    """Keys: who acts is the enrolled owner of the key that signs (Ed25519)."""


def key_json(k) -> dict:
    return {"key": k.key, "actor": k.actor, "roles": list(k.roles), "public_key": k.public_key,
            "verifier_key": k.verifier_key, "enrolled_seq": k.enrolled_seq, "revoked_seq": k.revoked_seq,
            "reason": k.reason, "founding": k.founding}


@key.command(name="new")
@click.option("--actor", "actor", help="Whose key (its file is named so); default the global --actor.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def key_new(ctx: click.Context, actor: str | None, as_json: bool) -> None:
    """Make a private key (0600) under $XDG_CONFIG_HOME/recordkeep/keys/ (or $RECORDKEEP_KEY)."""
    from recordkeep import Archive, is_store, keyring
    from recordkeep.trust import keys

    made = keyring.new_key(actor if actor is not None else ctx.obj["actor"])
    store_id = None
    if is_store(ctx.obj["store"]):
        with Archive.open(ctx.obj["store"]) as archive:
            store_id = archive.settings.store_id
    verifier = keys.verifier_key(keyring.origin(store_id), made.public_raw) if store_id else None
    if as_json:
        emit({"key": made.id, "public_key": made.public_b64, "verifier_key": verifier,
              "path": str(made.path)})
        return
    click.echo(_("key {key} written to {path} (mode 600)").format(key=made.id, path=made.path))
    click.echo(_("public key:   {public_key}").format(public_key=made.public_b64))
    if verifier:
        click.echo(_("verifier key: {verifier_key}").format(verifier_key=verifier))
    click.echo(_("an admin enrols it: recordkeep key enrol PUBLIC_KEY --actor NAME --role ROLE"))


@key.command(name="enrol")
@click.argument("public_key", metavar="PUBKEY")
@click.option("--actor", "actor", required=True, help="The person the key belongs to (user@station).")
@click.option("--role", "role_names", multiple=True, required=True,
              help="admin, clerk, records, auditor or reviewer (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def key_enrol(ctx: click.Context, public_key: str, actor: str, role_names: tuple[str, ...],
              as_json: bool) -> None:
    """Enrol a public key for an actor with roles (admin)."""
    from recordkeep import keyring

    enrolled = keyring.enrol(open_archive(ctx), public_key, actor=actor, role_names=list(role_names))
    if as_json:
        emit(key_json(enrolled))
    else:
        click.echo(_("enrolled key {key} for {actor}: {roles}").format(
            key=enrolled.key, actor=enrolled.actor, roles=", ".join(enrolled.roles)))


@key.command(name="revoke")
@click.argument("key_id", metavar="KEY_ID")
@click.option("--reason", required=True, help="Why (journaled).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def key_revoke(ctx: click.Context, key_id: str, reason: str, as_json: bool) -> None:
    """Revoke an enrolled key: its later batches are refused (admin)."""
    from recordkeep import keyring

    revoked = keyring.revoke(open_archive(ctx), key_id, reason=reason)
    if as_json:
        emit(key_json(revoked))
    else:
        click.echo(_("revoked key {key} of {actor} (seq {seq})").format(
            key=revoked.key, actor=revoked.actor, seq=revoked.revoked_seq))


@key.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def key_list(ctx: click.Context, as_json: bool) -> None:
    """Every key the journal names, with its roles and verifier key."""
    from recordkeep import keyring

    listed = keyring.list_keys(open_archive(ctx))
    if as_json:
        emit({"keys": [key_json(k) for k in listed]})
        return
    print_table((_("key"), _("actor"), _("roles"), _("enrolled"), _("revoked")),
                [(k.key, k.actor, ",".join(k.roles), str(k.enrolled_seq),
                  f"{k.revoked_seq} {k.reason or ''}".strip() if k.revoked_seq else "") for k in listed])
    for k in listed:
        click.echo(_("verifier key {key}: {verifier_key}").format(key=k.key, verifier_key=k.verifier_key))
    for k in listed:
        if k.founding:
            click.echo(_("founding key {key}: keep its verifier key outside the store, for "
                         "'log verify --founding-key'").format(key=k.key))


# -- officers and devices -----------------------------------------------------------
@main.group(cls=Group)
def officer() -> None:
    """Officers (执法证号)."""


@officer.command(name="add")
@click.argument("cert_no")
@click.option("--name", required=True, help="The officer's name.")
@click.option("--unit", help="The officer's unit (股室, 中队).")
@click.option("--post", help="The officer's post, e.g. 法制审核 (counted by stats).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def officer_add(ctx: click.Context, cert_no: str, name: str, unit: str | None, post: str | None,
                as_json: bool) -> None:
    """Register (or rename) an officer; a unit or post not given is kept, one given empty cleared."""
    import recordkeep as rk

    data = rk.register_officer(open_archive(ctx), cert_no, name=name, unit=unit, post=post)
    if as_json:
        emit({"cert_no": data["cert_no"], "name": data["name"], "unit": data.get("unit"),
              "post": data.get("post")})
    else:
        click.echo(_("officer {cert_no} {name}").format(cert_no=data["cert_no"], name=data["name"])
                   + "".join(f" ({x})" for x in (data.get("unit"), data.get("post")) if x))


@officer.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def officer_list(ctx: click.Context, as_json: bool) -> None:
    """Every officer, registered or only seen in files."""
    import recordkeep as rk

    officers = rk.list_officers(open_archive(ctx))
    if as_json:
        emit({"officers": [{"cert_no": o.cert_no, "name": o.name, "unit": o.unit, "post": o.post,
                            "registered": o.registered, "records": o.records,
                            "devices": list(o.devices)} for o in officers]})
        return
    rows = [(o.cert_no, o.name or _("(unregistered)"), o.unit or "", o.post or "", str(o.records),
             " ".join(o.devices)) for o in officers]
    print_table(("执法证号", "姓名", "单位", "岗位", _("records"), _("devices")), rows)


@main.group(cls=Group)
def device() -> None:
    """Recorders (执法记录仪) and who carries them."""


@device.command(name="add")
@click.argument("device_id")
@click.option("--officer", help="The officer who carries it (执法证号).")
@click.option("--unit", help="The unit that keeps it (股室, 中队), instead of an officer.")
@click.option("--from", "valid_from", help="Start of the assignment (T).")
@click.option("--until", "valid_until", help="End of the assignment (T; a bare date includes the day).")
@click.option("--reattribute", is_flag=True,
              help="Confirm a late or backdated handover: records made with the device in the period move "
                   "from the officer its earlier assignment gave them (each record's custody shows it).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_add(ctx: click.Context, device_id: str, officer: str | None, unit: str | None,
               valid_from: str | None, valid_until: str | None, reattribute: bool, as_json: bool) -> None:
    """Assign a device to an officer, or to a unit that keeps it, for a period."""
    import recordkeep as rk

    if (officer is None) == (unit is None):
        raise click.UsageError(_("give --officer or --unit (one of the two)"))
    moved = rk.assign_device(open_archive(ctx), device_id, officer, unit=unit, valid_from=valid_from,
                             valid_until=valid_until, reattribute=reattribute)
    if as_json:
        emit({"device": device_id, "officer": officer, "unit": unit, "records_attributed": moved})
        return
    click.echo(_("device {device} -> officer {officer}").format(device=device_id, officer=officer)
               if officer else _("device {device} -> unit {unit}").format(device=device_id, unit=unit))
    if moved:
        click.echo(_("{n} record(s) made with it in the period attributed anew (each record's custody "
                     "shows it)").format(n=moved))


@device.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(ctx: click.Context, as_json: bool) -> None:
    """Every device assignment, oldest first."""
    import recordkeep as rk

    rows = rk.list_devices(open_archive(ctx))
    if as_json:
        emit({"devices": [{"device": a.device, "officer": a.officer, "unit": a.unit, "from": a.valid_from,
                           "until": a.valid_until, "records": a.records} for a in rows]})
        return
    print_table((_("device"), "执法证号", "单位", _("from"), _("until"), _("records")),
                [(a.device, a.officer or "", a.unit or "", a.valid_from or "", a.valid_until or "",
                  str(a.records)) for a in rows])


# -- parties ----------------------------------------------------------------------------
@main.group(cls=Group)
def party() -> None:
    """Parties (当事人): persons and organisations, each with its 一户式 dossier."""


@party.command(name="add")
@click.option("--name", required=True, help="The person's or organisation's name.")
@click.option("--id-number", help="身份证号 (a person).")
@click.option("--credit-code", help="统一社会信用代码 (an organisation).")
@click.option("--address")
@click.option("--phone")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def party_add(ctx: click.Context, name: str, id_number: str | None, credit_code: str | None,
              address: str | None, phone: str | None, as_json: bool) -> None:
    """Register a party; prints its key (P1, P2, ...)."""
    import recordkeep as rk

    if (id_number is None) == (credit_code is None):
        raise click.UsageError(_("give exactly one of --id-number or --credit-code"))
    key = rk.add_party(open_archive(ctx), name=name, id_number=id_number,
                            credit_code=credit_code, address=address, phone=phone)
    if as_json:
        emit({"key": key})
    else:
        click.echo(key)


@party.command(name="unlink")
@click.argument("party")
@click.argument("digests", nargs=-1, required=True, metavar="DIGEST...")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def party_unlink(ctx: click.Context, party: str, digests: tuple[str, ...], as_json: bool) -> None:
    """Unlink records linked to a party in no case (add --party P with a wrong P); the records stay."""
    import recordkeep as rk

    removed = rk.unlink_party(open_archive(ctx), party, list(digests))
    emit({"unlinked": removed}) if as_json else click.echo(
        _("unlinked {n} record(s)").format(n=len(removed)))


@party.command(name="list")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def party_list(ctx: click.Context, text: str | None, as_json: bool) -> None:
    """Parties whose name, number or address contains TEXT."""
    import recordkeep as rk

    parties = rk.find_parties(open_archive(ctx), text)
    if as_json:
        emit({"parties": [p.as_data() for p in parties]})
        return
    print_table((_("key"), _("name"), _("identity"), _("address")),
                [(p.key, p.name, p.masked_identity(), p.address or "") for p in parties])


@party.command(name="show")
@click.argument("party_ref", metavar="P")
@click.option("--show-pii", is_flag=True,
              help="Show identity and phone numbers unmasked (journaled first; role auditor).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def party_show(ctx: click.Context, party_ref: str, show_pii: bool, as_json: bool) -> None:
    """The party's 一户式 dossier: every case and record."""
    import recordkeep as rk

    archive = open_archive(ctx)
    values = rk.show_pii(archive, party_ref)[1] if show_pii else None
    view = rk.party_view(archive, party_ref, values=values)
    if as_json:
        emit(view)
        return
    p = view["party"]
    identity = p.get("id_number") or p.get("credit_code") or ""
    click.echo(f"{p['key']}  {p['name']}  ({'个人' if p['kind'] == 'person' else '单位'} {identity})")
    if p.get("address"):
        click.echo("  " + _("address: {address}").format(address=p["address"]))
    if p.get("phone"):
        click.echo("  " + _("phone: {phone}").format(phone=p["phone"]))
    if p.get("pii_erased_seq"):
        click.echo("  " + _("personal numbers erased (seq {seq})").format(seq=p["pii_erased_seq"]))
    for case in view["cases"]:
        click.echo("")
        print_case(case)
    if view["records_outside_cases"]:
        click.echo("\n" + _("records linked to the party outside any case:"))
        print_items(view["records_outside_cases"])


@party.command(name="erase-pii")
@click.argument("party_ref", metavar="P")
@click.option("--reason", required=True, help="Why (journaled): the request, the purpose ended.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def party_erase_pii(ctx: click.Context, party_ref: str, reason: str, as_json: bool) -> None:
    """Erase the party's identity and phone numbers from the vault (个人信息保护法 arts. 19, 47);
    the party, its cases and its records stay (masked)."""
    import recordkeep as rk

    done = rk.erase_pii(open_archive(ctx), party_ref, reason=reason)
    if as_json:
        emit(done.as_data())
        return
    fields = ", ".join(label(f) for f in done.fields) or _("nothing was in the vault")
    click.echo(_("{party}: erased {fields}; journaled at seq {seq}").format(
        party=done.party, fields=fields, seq=done.seq))
    if done.legacy_seq is not None:
        click.echo(_("notice: journal line {seq} (written before the vault) still holds the "
                     "numbers plain; outputs mask them and bags carry it as a leaf hash "
                     "('recordkeep pii status')").format(seq=done.legacy_seq))


# -- pii ---------------------------------------------------------------------------------
@main.group(cls=Group)
def pii() -> None:
    """Personal data (个人信息): where identity and phone numbers are kept."""


@pii.command(name="status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def pii_status(ctx: click.Context, as_json: bool) -> None:
    """Count the parties with personal numbers, those in the vault, erased, and from before it."""
    import recordkeep as rk

    status = rk.pii_status(open_archive(ctx))
    if as_json:
        emit(status.as_data())
        return
    click.echo(_("parties: {parties}, with an identity or phone number: {with_numbers}").format(
        parties=status.parties, with_numbers=status.with_numbers))
    click.echo(_("in the vault (erasable): {in_vault}; erased: {erased}").format(
        in_vault=status.in_vault, erased=status.erased))
    click.echo(_("added before the vault (numbers plain in the journal): {legacy} "
                 "({not_erased} not erased)").format(legacy=status.legacy,
                                                      not_erased=status.legacy_not_erased))
    click.echo(status.reach())


# -- cases ------------------------------------------------------------------------------
@main.group(cls=Group)
def case() -> None:
    """Cases and their full-process record (执法全过程记录)."""


@case.command(name="open")
@click.argument("case_no", metavar="NO")
@click.option("--party", "parties", multiple=True, required=True, help="A party (repeatable).")
@click.option("--title")
@click.option("--officer", "officers", multiple=True, help="An officer (repeatable).")
@click.option("--at", help="When the case was opened (立案), T.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_open(ctx: click.Context, case_no: str, parties: tuple[str, ...], title: str | None,
              officers: tuple[str, ...], at: str | None, as_json: bool) -> None:
    """Open (立案) a case."""
    import recordkeep as rk

    number = rk.open_case(open_archive(ctx), case_no, parties=list(parties), title=title,
                               officers=officers, at=at)
    emit({"case_no": number}) if as_json else click.echo(_("opened case {case_no}").format(case_no=number))


@case.command(name="stage")
@click.argument("case_no", metavar="NO")
@click.argument("stage", metavar="STAGE")  # a stage, or an act by name (告知): its stage, the act
@click.option("--at", help="Start of the action, T.")
@click.option("--until", help="End of the action, T.")
@click.option("--officer", "officers", multiple=True, help="An officer present (repeatable).")
@click.option("--on-site", is_flag=True, help="The action took place on site.")
@click.option("--action", help="e.g. 查封扣押, 强制拆除, 法制审核, 集体讨论.")
@click.option("--note")
@click.option("--transcribed-from", metavar="DIGEST",
              help="The paper record (linked to the case; a scan, not a clip) this act is typed from, which "
                   "carries its date.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_stage(ctx: click.Context, case_no: str, stage: str, at: str | None, until: str | None,
               officers: tuple[str, ...], on_site: bool, action: str | None, note: str | None,
               transcribed_from: str | None, as_json: bool) -> None:
    """Record a stage event of a case: STAGE is a stage, or an act by name (告知 is of 审核决定)."""
    import recordkeep as rk

    archive = open_archive(ctx)
    seq = rk.add_stage(archive, case_no, stage, at=at, until=until, officers=officers,
                       on_site=on_site, action=action, note=note, transcribed_from=transcribed_from)
    slug, act = rk.parse_stage_act(stage, archive.settings.acts)
    shown = f"{label(slug)} ({act})" if act else label(slug)
    emit({"seq": seq}) if as_json else click.echo(
        _("stage {stage} recorded (seq {seq})").format(stage=shown, seq=seq))


@case.command(name="decide")
@click.argument("case_no", metavar="NO")
@click.option("--party", help="Needed when the case has several parties.")
@click.option("--penalty-kind", required=True,
              help="warning|criticize|fine|confiscate|confiscate_income|confiscate_property|suspend_permit|"
                   "downgrade|revoke|restrict|suspend|close_down|other or 中文 (并处: decide once per kind).")
@click.option("--amount", help="Yuan, exact (e.g. 2625135.05); only on 罚款 and 没收.")
@click.option("--at", help="Decision date, T.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_decide(ctx: click.Context, case_no: str, party: str | None, penalty_kind: str,
                amount: str | None, at: str | None, as_json: bool) -> None:
    """Record a decision (行政处罚决定) for a party: one kind each time (并处: once per kind)."""
    import recordkeep as rk

    data = rk.decide(open_archive(ctx), case_no, party=party, penalty_kind=penalty_kind,
                          amount=amount, at=at)
    if as_json:
        emit(data)
    else:
        said = (_("decided {case_no} for {party}: {penalty_kind} {amount} yuan (seq {seq})")
                if data.get("amount") else _("decided {case_no} for {party}: {penalty_kind} (seq {seq})"))
        click.echo(said.format(case_no=data["case_no"], party=data["party"],
                               penalty_kind=label(data["penalty_kind"]), amount=data.get("amount"),
                               seq=data["seq"]))


@case.command(name="publish")
@click.argument("case_no", metavar="NO")
@click.option("--at", required=True, help="Publication date (公示), T.")
@click.option("--transcribed-from", metavar="DIGEST",
              help="The record of the publication (a screenshot of the 公示, linked to the case) this date "
                   "is typed from.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_publish(ctx: click.Context, case_no: str, at: str, transcribed_from: str | None,
                 as_json: bool) -> None:
    """Record when the decision was published."""
    import recordkeep as rk

    data = rk.publish(open_archive(ctx), case_no, at, transcribed_from=transcribed_from)
    if as_json:
        emit({"case_no": data["case_no"], "published_at": data["at"]})
    else:
        click.echo(_("published {case_no} at {time}").format(case_no=data["case_no"],
                                                              time=short_time(data["at"])))


@case.command(name="close")
@click.argument("case_no", metavar="NO")
@click.option("--at", help="When the case was closed (结案), T.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_close(ctx: click.Context, case_no: str, at: str | None, as_json: bool) -> None:
    """Close the case."""
    import recordkeep as rk

    data = rk.close_case(open_archive(ctx), case_no, at)
    if as_json:
        emit({"case_no": data["case_no"], "closed_at": data["at"]})
    else:
        click.echo(_("closed {case_no} at {time}").format(case_no=data["case_no"],
                                                           time=short_time(data["at"])))


@case.command(name="void")
@click.argument("case_no", metavar="NO")
@click.argument("seq", type=Whole())
@click.option("--reason", required=True, help="Why (journaled): the mistake, and what replaces it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_void(ctx: click.Context, case_no: str, seq: int, reason: str, as_json: bool) -> None:
    """Void event SEQ of the case (a stage, decision, publication, close, link, or its opening):
    it stays in the journal, shown struck through; then enter the right one."""
    import recordkeep as rk

    done = rk.void(open_archive(ctx), case_no, seq, reason=reason)
    if as_json:
        emit(done.as_data())
    else:
        click.echo(_("voided seq {voided_seq} ({voided_type}) of {case_no} at seq {seq}").format(
            voided_seq=done.voided_seq, voided_type=done.voided_type, case_no=done.case_no, seq=done.seq))


@case.command(name="reopen")
@click.argument("case_no", metavar="NO")
@click.option("--reason", required=True, help="Why the closed case is reopened (journaled).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_reopen(ctx: click.Context, case_no: str, reason: str, as_json: bool) -> None:
    """Reopen a closed case: stages, decisions and publication are accepted again."""
    import recordkeep as rk

    data = rk.reopen(open_archive(ctx), case_no, reason=reason)
    if as_json:
        emit({"case_no": data["case_no"], "reopened_at": data["at"], "reason": data["reason"]})
    else:
        click.echo(_("reopened {case_no} at {time}").format(case_no=data["case_no"],
                                                             time=short_time(data["at"])))


@case.command(name="link")
@click.argument("case_no", metavar="NO")
@click.argument("digests", nargs=-1, metavar="[DIGEST...]")
@click.option("--officer", help="With --from/--to: every record this officer recorded in the window.")
@click.option("--from", "start", help="Window start, T.")
@click.option("--to", "end", help="Window end, T (a bare date includes the day).")
@click.option("--stage", required=True)
@click.option("--party")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_link(ctx: click.Context, case_no: str, digests: tuple[str, ...], officer: str | None,
              start: str | None, end: str | None, stage: str, party: str | None, as_json: bool) -> None:
    """Link records to a case stage, by digest or by officer and time window."""
    import recordkeep as rk

    archive = open_archive(ctx)
    if officer or start or end:
        if not (officer and start and end) or digests:
            raise click.UsageError(_("window linking takes --officer, --from and --to, and no digests"))
        linked = rk.link_window(archive, case_no, officer=officer, start=start, end=end,
                                     stage=stage, party=party)
    elif digests:
        linked = rk.link(archive, case_no, list(digests), stage=stage, party=party)
    else:
        raise click.UsageError(_("give DIGEST... or --officer with --from and --to"))
    if as_json:
        emit({"linked": linked})
    else:
        click.echo(_("linked {n} record(s)").format(n=len(linked)))
        for d in linked:
            click.echo(f"  {d}")


@case.command(name="unlink")
@click.argument("case_no", metavar="NO")
@click.argument("digests", nargs=-1, required=True, metavar="DIGEST...")
@click.option("--stage")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_unlink(ctx: click.Context, case_no: str, digests: tuple[str, ...], stage: str | None,
                as_json: bool) -> None:
    """Unlink records from a case (the records stay)."""
    import recordkeep as rk

    removed = rk.unlink(open_archive(ctx), case_no, list(digests), stage=stage)
    emit({"unlinked": removed}) if as_json else click.echo(
        _("unlinked {n} record(s)").format(n=len(removed)))


@case.command(name="list")
@click.argument("text", required=False)
@click.option("--status", type=click.Choice(["open", "closed", "voided"]), help="Only cases of this status.")
@click.option("--year", type=WholeRange(1, 9998),
              help="Only the cases opened in this year (one the store's [limits] window holds).")
@click.option("--party", "party_ref", metavar="P", help="Only the cases of this party.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_list(ctx: click.Context, text: str | None, status: str | None, year: int | None,
              party_ref: str | None, as_json: bool) -> None:
    """Cases whose number or title contains TEXT (all without TEXT), as they were opened."""
    import recordkeep as rk

    cases = rk.case_list(open_archive(ctx), text, status=status, year=year, party=party_ref)
    if as_json:
        emit({"cases": cases})
        return
    print_table((_("case"), _("status"), _("opened"), _("closed"), _("parties"), _("records"), _("title")),
                [(c["case_no"], label(c["status"]), short_time(c["opened_at"])[:10],
                  short_time(c["closed_at"])[:10], " ".join(c["parties"]), str(c["records"]),
                  c["title"] or "") for c in cases])


@case.command(name="show")
@click.argument("case_no", metavar="NO")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def case_show(ctx: click.Context, case_no: str, as_json: bool) -> None:
    """The full-process record of a case, per stage in time order."""
    import recordkeep as rk

    view = rk.case_view(open_archive(ctx), case_no)
    if as_json:
        emit(view)
    else:
        print_case(view)


def short_time(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def time_span(start: str | None, end: str | None) -> str:
    """``start..end`` for people: the end's date only when it is another day than the start's."""
    first, last = short_time(start), short_time(end)
    if not last:
        return first
    return f"{first}..{last[11:] if first[:10] == last[:10] else last}"


def recorded_time(record: dict) -> str:
    """A record's recorded time for people; one known only from the file's time says so."""
    shown = short_time(record.get("recorded_at"))
    return _("{time} (file time)").format(time=shown) if record.get("time_source") == "mtime" else shown


def print_items(items: list[dict]) -> None:
    rows = []
    for it in items:
        row = _item_row(it)
        voided = it.get("voided")
        if voided:
            why = _("VOIDED (seq {seq}, {by}): {reason}").format(seq=voided["seq"], by=voided["by"],
                                                                  reason=voided["reason"])
            row = (*map(struck, row[:-1]), why)
        rows.append((str(it.get("seq") or ""), *row))
    if rows:
        print_table((_("seq"), _("time"), _("kind"), _("what"), _("officer"), _("extent"), _("doc / note"),
                     _("custody")), rows)


def _item_row(it: dict) -> tuple[str, ...]:
    """One line of a case's stage: time, kind, what, officer, extent, doc or note, custody."""
    kind = it["type"]
    if kind == "record":
        extent = (_("{duration:.0f}s").format(duration=it["duration"]) if it.get("duration") is not None
                  else _("{pages}p").format(pages=it["pages"]) if it.get("pages") else "")
        return (recorded_time(it), label(it["kind"]), it["digest"][:12], it.get("officer") or "",
                extent, it.get("doc_type") or it.get("name") or "",
                _("linked by {by} {time}").format(by=it["linked_by"], time=short_time(it["linked_at"])))
    by = _("by {by}").format(by=it.get("entered_by"))
    if it.get("entered_late") and it.get("transcribed_from"):
        by = _("by {by} (entered late, {time}, typed from {digest})").format(
            by=it["entered_by"], time=short_time(it["entered_at"]), digest=it["transcribed_from"][:12])
    elif it.get("entered_late"):
        by = _("by {by} (entered late, {time})").format(by=it["entered_by"],
                                                         time=short_time(it["entered_at"]))
    if kind == "stage_event":
        span = time_span(it["at"], it.get("until"))
        return (span, _("event"), it.get("action") or "", " ".join(it["officers"]),
                _("on site") if it["on_site"] else "", it.get("note") or "", by)
    if kind == "decision":
        return (short_time(it["at"]), _("decision"), it["party"], label(it["penalty_kind"]),
                it.get("amount") or "", "", by)
    return (short_time(it["at"]), label(kind), "", "", "", "", by)


def print_case(view: dict) -> None:
    c = view["case"]
    click.echo(f"{c['case_no']}  {c.get('title') or ''}  [{label(c['status'])}]")
    click.echo("  " + _("parties: {parties}").format(parties=", ".join(
        f"{p['key']} {p['name']} {p.get('id_number') or p.get('credit_code') or ''}" for p in c["parties"])))
    if c["officers"]:
        click.echo("  " + _("officers: {officers}").format(officers=" ".join(c["officers"])))
    click.echo("  " + _("opened {time} by {by} (seq {seq})").format(
                   time=short_time(c["opened_at"]), by=c["opened_by"], seq=c["opened_seq"])
               + (_("; published {time}").format(time=short_time(c["published_at"]))
                  if c.get("published_at") else "")
               + (_("; closed {time}").format(time=short_time(c["closed_at"])) if c.get("closed_at") else ""))
    if c.get("voided"):
        v = c["voided"]
        click.echo("  " + _("VOIDED: its opening was voided at seq {seq} by {by}: {reason}").format(
            seq=v["seq"], by=v["by"], reason=v["reason"]))
    decided: dict[str, list[str]] = {}
    for d in view["decisions"]:
        money = f" {d['amount']}" if d["amount"] else ""
        decided.setdefault(d["party"], []).append(label(d["penalty_kind"]) + money)
    for party, penalties in decided.items():
        click.echo("  " + _("decided for {party}: {penalties}").format(party=party,
                                                                       penalties=" + ".join(penalties)))
    for stage in view["stages"]:
        acts = "  " + _("acts: {acts}").format(acts=", ".join(stage["acts"])) if stage.get("acts") else ""
        empty = "" if stage["items"] else "  " + _("(nothing)")
        slug = "" if i18n.language() == "zh" else " " + stage["stage"]
        click.echo(f"\n  [{stage['name']}{slug}]{acts}{empty}")
        print_items(stage["items"])


# -- records -----------------------------------------------------------------------------
@main.group(cls=Group)
def record() -> None:
    """Records: correct what an import learned (journaled, never edited)."""


@record.command(name="set")
@click.argument("digest")
@click.option("--recorded-at", help="When it was really recorded, T (a camera clock reset, a clip undated).")
@click.option("--device", help="The recorder it came from.")
@click.option("--officer", help="The officer who recorded it (执法证号).")
@click.option("--doc-type", help="What the document is (询问笔录, 送达回证, ...).")
@click.option("--source", metavar="DIGEST",
              help="A record that carries the time (a paper log, a second camera).")
@click.option("--reason", required=True, help="Why (journaled).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def record_set(ctx: click.Context, digest: str, recorded_at: str | None, device: str | None,
               officer: str | None, doc_type: str | None, source: str | None, reason: str,
               as_json: bool) -> None:
    """Amend a record's recorded time, device, officer or doc type (record.amended): search,
    links, check and case show use the new values; log --record keeps the original."""
    import recordkeep as rk

    data = rk.amend_record(open_archive(ctx), digest, reason=reason, recorded_at=recorded_at, device=device,
                           officer=officer, doc_type=doc_type, source=source)
    if as_json:
        emit({"digest": data["digest"].removeprefix("blake3:"), "changes": data["changes"],
              "previous": data["previous"], "reason": data["reason"],
              "source": data["source"].removeprefix("blake3:") if data.get("source") else None})
        return
    for field, value in data["changes"].items():
        name = _(field) if field in FIELD_NAMES else field
        click.echo(f"{name}: {data['previous'][field] or '-'} -> {value}")


#: the fields ``record set`` changes, as people read them
FIELD_NAMES = frozenset({N_("recorded_at"), N_("device"), N_("officer"), N_("doc_type")})


# -- search -----------------------------------------------------------------------------
KINDS = ("video", "audio", "photo", "document", "other")


@main.command(name="search")
@click.argument("text", required=False)
@click.option("--case", "case_no", help="Records linked to this case.")
@click.option("--party", help="Records linked to this party (directly or through its cases).")
@click.option("--officer", help="Records of this officer (执法证号).")
@click.option("--device", help="Records of this device.")
@click.option("--since", help="Recorded at or after T.")
@click.option("--until", help="Recorded before T (a bare date includes the day).")
@click.option("--stage", help="Records linked at this stage (an act's name means its stage).")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--important", is_flag=True, help="Only files marked important on the camera.")
@click.option("--unlinked", is_flag=True, help="Only records in no case (the clerk's queue).")
@click.option("--limit", type=WholeRange(min=1, max=10**9), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search_cmd(ctx: click.Context, text: str | None, case_no: str | None, party: str | None,
               officer: str | None, device: str | None, since: str | None, until: str | None,
               stage: str | None, kind: str | None, important: bool, unlinked: bool, limit: int,
               as_json: bool) -> None:
    """Find records (newest first), and the parties and cases whose fields match TEXT."""
    from recordkeep import search

    query = search.Query(text=text, case=case_no, party=party, officer=officer, device=device,
                         since=since, until=until, stage=stage, kind=kind, important=important,
                         unlinked=unlinked, limit=limit)
    result = search.search(open_archive(ctx), query)
    if as_json:
        emit(result)
        return
    rows = [(recorded_time(r), label(r["kind"]), r["digest"][:12], r.get("officer") or "",
             r.get("device") or "", " ".join(r.get("cases", [])), " ".join(r.get("parties", [])),
             r.get("doc_type") or r.get("name") or "") for r in result["records"]]
    if rows:
        print_table((_("recorded"), _("kind"), _("digest"), _("officer"), _("device"), _("cases"),
                     _("parties"), _("doc / name")), rows)
    for p in result["parties"]:
        click.echo(_("party  {key}  {name}  {identity}  {address}").format(
            key=p["key"], name=p["name"], identity=p.get("id_number") or p.get("credit_code") or "",
            address=p.get("address") or ""))
    for c in result["cases"]:
        click.echo(_("case   {case_no}  {title}  [{status}]").format(
            case_no=c["case_no"], title=c.get("title") or "", status=label(c["status"])))
    click.echo(_("{records} record(s), {parties} party(ies), {cases} case(s)").format(
        records=len(result["records"]), parties=len(result["parties"]), cases=len(result["cases"])))
    if result["names_searched"] is False:
        click.echo(_("note: text under 3 characters is not looked for in file names; doc types, notes, "
                     "parties and cases were searched"))


# -- export -----------------------------------------------------------------------------
@main.command(name="export")
@click.argument("dest", type=click.Path())
@click.option("--case", "case_no", help="Export this case.")
@click.option("--party", help="Export this party's 一户式 dossier.")
@click.option("--format", "fmt", type=click.Choice(["bagit", "html"]), default="bagit", show_default=True)
@click.option("--with-pii", is_flag=True,
              help="Add the parties' identity and phone numbers in full as recordkeep/pii.json (bagit; role "
                   "auditor; journaled first).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_cmd(ctx: click.Context, dest: str, case_no: str | None, party: str | None, fmt: str,
               with_pii: bool, as_json: bool) -> None:
    """Write a self-verifying BagIt package (or an offline HTML dossier) of a case or party."""
    import recordkeep as rk

    if (case_no is None) == (party is None):
        raise click.UsageError(_("give exactly one of --case or --party"))
    if with_pii and fmt != "bagit":
        raise click.UsageError(_("--with-pii goes with --format bagit (a tag file beside the records)"))
    archive = open_archive(ctx)
    if fmt == "bagit":
        result = rk.export_bag(archive, dest, case=case_no, party=party, with_pii=with_pii)
    else:
        result = rk.export_html.export_html(archive, dest, case=case_no, party=party)
    end_progress(archive)
    if as_json:
        emit({"dest": str(result.dest), "format": result.format, "records": result.records,
              "files": result.files, "bytes": result.bytes, "journaled_seq": result.seq,
              "journal_error": result.journal_error, "checkpoint_size": result.checkpoint_size,
              "not_covered": result.not_covered, "checkpoint_error": result.checkpoint_error,
              "with_pii": result.with_pii, "manifest": result.manifest})
        return
    click.echo(_("exported {records} record(s), {files} file(s), {size} to {dest} ({format})").format(
        records=result.records, files=result.files, size=human_size(result.bytes), dest=result.dest,
        format=result.format))
    if result.checkpoint_size is not None:
        click.echo(_("its journal lines are proved in the checkpoint of lines 1..{size}").format(
            size=result.checkpoint_size))
    if result.with_pii:
        said = _("recordkeep/pii.json holds in full the numbers the vault keeps of {parties}: hand the bag "
                 "over only as the court or reviewing body asks")
        click.echo(said.format(parties=", ".join(result.with_pii)))
    if result.not_covered:
        click.echo(_("notice: seq {seqs} came after that checkpoint: not covered").format(
            seqs=", ".join(map(str, result.not_covered))))
    if result.checkpoint_error:
        click.echo(_("notice: {message}").format(message=result.checkpoint_error))
    if result.journal_error:
        click.echo(result.journal_error)


# -- check, stats, retention -----------------------------------------------------------
FINDING_STATUS = {"broken": N_("BROKEN"), "unknown": N_("UNKNOWN"), "notice": N_("NOTICE")}


def print_settings(rules_changed: dict, recorded: bool) -> None:
    """The rules recordkeep.toml sets otherwise than the defaults, and a line when no write has
    recorded the settings a reading command ran under (check, stats)."""
    if rules_changed:
        click.echo(_("rules recordkeep.toml sets otherwise than the defaults (docs/rules.md):"))
        for key, set_to in rules_changed.items():
            click.echo("  " + _("{key} = {value} (default {default})").format(
                key=key, value=json.dumps(set_to["value"], ensure_ascii=False),
                default=json.dumps(set_to["default"], ensure_ascii=False)))
    if not recorded:
        click.echo(_("recordkeep.toml is not as the journal last recorded it: these figures come from "
                     "settings no write has recorded yet (see 'recordkeep settings history')"))


@main.command(name="check")
@click.option("--case", "case_no", help="Check this case only.")
@click.option("--year", type=WholeRange(1, 9998),
              help="Check the cases opened in this year (one the store's [limits] window holds).")
@click.option("--strict", is_flag=True, help="Exit 4 also when a rule cannot be decided (unknown).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def check_cmd(ctx: click.Context, case_no: str | None, year: int | None, strict: bool,
              as_json: bool) -> None:
    """Prove or disprove the three enforcement systems (三项制度) case by case; exit 4 when broken."""
    from recordkeep import check

    report = check.check(open_archive(ctx), case=case_no, year=year)
    if as_json:
        emit(report.as_data())
    else:
        for case in report.cases:
            if not case.findings:
                continue
            click.echo(f"{case.case_no}  [{label(case.status)}]")
            for f in case.findings:
                where = " ".join(x for x in (label(f.stage), f.party or "") if x)
                word = _(FINDING_STATUS[f.status]) if f.status in FINDING_STATUS else f.status.upper()
                click.echo(f"  {f.code} {padded(word, 7)} {where + ': ' if where else ''}{f.message}")
                click.echo("        " + _("fix: {fix}").format(fix=f.fix))
        print_settings(report.rules_changed, report.settings_recorded)
        in_cases = sum(1 for c in report.cases if any(f.status == "broken" for f in c.findings))
        verdict = _("OK") if report.ok else _("BROKEN")
        click.echo(_("check: {cases} case(s), {broken} broken rule(s) in {in_cases} case(s), {unknown} "
                     "unknown, {notices} notice(s): {verdict}").format(
            cases=len(report.cases), broken=report.broken, in_cases=in_cases, unknown=report.unknown,
            notices=report.notices, verdict=verdict))
    if not report.ok or (strict and report.unknown):
        ctx.exit(EXIT_COMPLIANCE)


@main.group(cls=Group)
def settings() -> None:
    """The store's settings (recordkeep.toml) as the journal records them."""


@settings.command(name="record")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def settings_record_cmd(ctx: click.Context, as_json: bool) -> None:
    """Put recordkeep.toml as it reads now on record in the journal (an admin's act): writes wait for it."""
    from recordkeep import settings_history
    from recordkeep.refs import bare

    archive = open_archive(ctx)
    seq = settings_history.record(archive)
    digest = settings_history.current(archive)
    if as_json:
        emit({"seq": seq, "digest": bare(digest), "recorded": seq is not None})
    elif seq is None:
        click.echo(_("recordkeep.toml is as the journal last recorded it: nothing to record"))
    else:
        click.echo(_("settings {digest} recorded at seq {seq}").format(digest=bare(digest), seq=seq))


@settings.command(name="history")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def settings_history_cmd(ctx: click.Context, as_json: bool) -> None:
    """Each change of the settings the journal records: when, who first wrote under it, and what changed."""
    from recordkeep import settings_history
    from recordkeep.refs import bare

    found = settings_history.history(open_archive(ctx))
    if as_json:
        emit(found.as_data())
        return
    for change in found.changes:
        click.echo(_("seq {seq}  {at}  {actor}  {digest}").format(
            seq=change.seq, at=change.at, actor=change.actor, digest=bare(change.digest)))
        for name, before, after in change.changes:
            shown = ["-" if v is None else v["$float"] if settings_history.is_float(v) else
                     json.dumps(v, ensure_ascii=False) for v in (before, after)]
            click.echo(f"    {name}: {shown[0]} -> {shown[1]}")
    if not found.changes:
        click.echo(_("the journal records no settings yet: an admin records them ('recordkeep settings "
                     "record', or any write of theirs)"))
    elif found.recorded:
        click.echo(_("recordkeep.toml is as the journal last recorded it"))
    else:
        click.echo(_("recordkeep.toml is not as the journal last recorded it ({digest}): an admin records "
                     "it ('recordkeep settings record', or any write of theirs)").format(
                         digest=bare(found.current)))


@main.command(name="stats")
@click.option("--year", type=WholeRange(1, 9998),
              help="The figures of this year (one the store's [limits] window holds).")
@click.option("--from", "start", help="The figures from this time (T), instead of a year.")
@click.option("--until", help="Up to this time (T; a bare date includes the day): a year's cut-off (截至).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats_cmd(ctx: click.Context, year: int | None, start: str | None, until: str | None,
              as_json: bool) -> None:
    """The figures a yearly report quotes: cases, 罚没, reviews, publication, officers, recorders."""
    from recordkeep import stats

    data = stats.stats(open_archive(ctx), year=year, start=start, until=until)
    if as_json:
        emit(data)
        return
    period = data["period"]
    as_of = short_time(data["as_of"])
    click.echo(_("figures for {start} to {until} (as of {as_of})").format(
        start=short_time(period["from"]), until=short_time(period["until"]), as_of=as_of) if period
        else _("figures for all years (as of {as_of})").format(as_of=as_of))
    backs = data["backs"]
    c, k, d, m = data["cases"], data["concluded"], data["decisions"], data["major_decisions"]
    click.echo(_("cases opened: {opened}  {by_status}  | reached: {by_stage}").format(
        opened=c["opened"], by_status="  ".join(f"{label(s)} {n}" for s, n in c["by_status"].items()),
        by_stage="  ".join(f"{label(s)} {n}" for s, n in c["by_stage"].items())))
    click.echo(_("cases concluded (办结): {cases}, 罚没 {amount} yuan  [{backs}]").format(
        cases=k["cases"], amount=k["decisions"]["total_amount"], backs=backs["concluded"]))
    unvalued = (" " + _("({n} confiscation(s) without a value not counted)").format(n=d["unvalued"])
                if d["unvalued"] else "")
    kinds = "  ".join(f"{label(kind)} {v['count']}" + (f" ({v['amount']})" if v["amount"] else "")
                      for kind, v in d["by_kind"].items())
    click.echo(_("decisions dated in the period: {count} in {cases} case(s), 罚没 total {amount} yuan"
                 "{unvalued}  {kinds}").format(count=d["count"], cases=d["cases"], amount=d["total_amount"],
                                               unvalued=unvalued, kinds=kinds))
    click.echo(_("major decisions: {count} in {cases} case(s), reviewed before deciding: {reviewed} of "
                 "{count}  [{backs}]").format(count=m["count"], cases=m["cases"], reviewed=m["reviewed"],
                                              backs=backs["major_decisions"]))
    if m["decisions"]:
        print_table((_("case"), _("party"), _("kind"), _("amount"), "法制审核", "集体讨论"),
                    [(x["case_no"], x["party"], label(x["penalty_kind"]), x["amount"] or "",
                      label(x["legal_review"]), label(x["collective_discussion"])) for x in m["decisions"]])
    p = data["publication"]
    share = f" ({p['share_within']}%)" if p["share_within"] is not None else ""
    click.echo(_("published within {days} working days: {within} of {total}{share}; late {late}, "
                 "unpublished past the deadline {overdue}, not yet due {pending}, unknown {unknown}"
                 "  [{backs}]").format(
        days=p["within_workdays"], within=p["within"], total=p["within"] + p["late"] + p["overdue"],
        share=share, late=p["late"], overdue=p["overdue"], pending=p["pending"], unknown=p["unknown"],
        backs=backs["publication"]))
    for case_no in p["late_cases"]:
        click.echo("  " + _("not published in time: {case_no}").format(case_no=case_no))
    o = data["officers"]
    legal = o["legal_review"]
    click.echo(_("officers registered: {registered} ({unregistered} unregistered number(s) seen); "
                 "post 法制审核: {count} of {of}{percent}  [{backs}]").format(
        registered=o["registered"], unregistered=o["unregistered"], count=legal["count"], of=legal["of"],
        percent=f" ({legal['percent']}%)" if legal["percent"] is not None else "", backs=backs["officers"]))
    no_unit = _("(none)")
    click.echo("  " + _("by unit: {units}").format(
        units="  ".join(f"{x['unit'] or no_unit} {x['count']}" for x in o["by_unit"])))
    for number in o["unregistered_numbers"]:
        click.echo("  " + _("unregistered: {number}").format(number=number))
    rec = data["recorders"]
    click.echo(_("recorders in service at {as_of}: {in_service} (carried by officers {carried}, kept by "
                 "units {kept}); officers with one {with_one}, without {without}  [{backs}]").format(
        as_of=short_time(rec["as_of"]), in_service=rec["in_service"], carried=rec["carried"],
        kept=rec["kept_by_units"], with_one=rec["officers_with"], without=len(rec["officers_without"]),
        backs=backs["recorders"]))
    for x in rec["by_unit"]:
        click.echo(f"  {x['unit']}: {' '.join(x['devices'])}")
    r = data["records"]
    click.echo("\n" + _("records: {count}, {size} held, {disposed} disposed of").format(
        count=r["count"], size=human_size(r["bytes"]), disposed=r["disposed"]))
    click.echo(fixity_lines(data["fixity"])[0])
    print_table((_("kind"), _("records"), _("bytes")),
                [(label(kind), str(v["count"]), human_size(v["bytes"])) for kind, v in r["by_kind"].items()])
    click.echo("")
    print_table((_("officer"), _("name"), _("records")),
                [(x["officer"] or _("(unknown)"), x["name"] or "", str(x["records"]))
                 for x in data["records_per_officer"]])
    click.echo("")
    print_table((_("device"), _("records")), [(x["device"] or _("(unknown)"), str(x["records"]))
                                              for x in data["records_per_device"]])
    click.echo("\n" + _("devices in service in the period: {n}").format(n=len(data["devices_in_service"])))
    for x in data["officers_without_device"]:
        click.echo(_("officer without a device: {cert_no} {name}").format(cert_no=x["cert_no"],
                                                                          name=x["name"] or ""))
    for x in data["shared_devices"]:
        click.echo(_("device shared by several officers: {device}: {officers}  [{backs}]").format(
            device=x["device"], officers=" ".join(x["officers"]), backs=backs["shared_devices"]))
    print_settings(data["rules_changed"], data["settings_recorded"])


@main.group(cls=Group)
def retention() -> None:
    """Retention: what may be disposed of, and records kept permanently."""


def print_statuses(statuses) -> None:
    print_table((_("digest"), _("kind"), _("size"), _("recorded"), _("kept until"), _("why not disposable")),
                [(s.digest[:12], label(s.kind), human_size(s.size), short_time(s.recorded_at),
                  short_time(s.keep_until) or _("permanent"),
                  "; ".join(detail for _code, detail in s.refusals) or _("due")) for s in statuses])


@retention.command(name="due")
@click.option("--as-of", help="Judge at this time instead of now (T).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_due(ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    """Records that may be disposed of: ordinary, past retention, unlinked, unheld."""
    from recordkeep import retention as ret

    archive = open_archive(ctx)
    moment = ret.moment(archive, as_of)
    due = ret.due(archive, as_of=moment)
    unfinished = ret.unfinished_disposals(archive)
    if as_json:
        emit({"as_of": moment, "ordinary_months": ret.ordinary_months(archive),
              "records": [s.as_data() for s in due], "unfinished_disposals": unfinished})
        return
    if due:
        print_statuses(due)
    for digest in unfinished:
        click.echo(_("disposal of {digest} was journaled but its blob remains: run 'dispose' again").format(
            digest=digest[:12]))
    click.echo(_("{n} record(s) may be disposed of, {size}").format(
        n=len(due), size=human_size(sum(s.size for s in due))))


@retention.command(name="show")
@click.argument("digests", nargs=-1, required=True, metavar="DIGEST...")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_show(ctx: click.Context, digests: tuple[str, ...], as_json: bool) -> None:
    """Each record's retention class, holds, and whether it may be disposed of now."""
    from recordkeep import retention as ret

    archive = open_archive(ctx)
    statuses = [ret.status(archive, d) for d in digests]
    if as_json:
        emit({"records": [s.as_data() for s in statuses]})
    else:
        print_statuses(statuses)


@retention.command(name="keep")
@click.argument("digests", nargs=-1, required=True, metavar="DIGEST...")
@click.option("--reason", help="Why the records are kept permanently.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_keep(ctx: click.Context, digests: tuple[str, ...], reason: str | None, as_json: bool) -> None:
    """Mark records permanent (never due for disposal; journaled, not undone)."""
    from recordkeep import retention as ret

    kept = ret.keep(open_archive(ctx), list(digests), reason=reason)
    emit({"kept": kept}) if as_json else click.echo(_("kept {n} record(s) permanently").format(n=len(kept)))


@retention.command(name="lock")
@click.argument("digests", nargs=-1, metavar="[DIGEST...]")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_lock(ctx: click.Context, digests: tuple[str, ...], as_json: bool) -> None:
    """Lengthen the bucket's Object Lock of permanent records' blobs (all, or those named)."""
    from recordkeep import retention as ret

    locks = ret.lock_permanent(open_archive(ctx), list(digests) or None)
    if as_json:
        emit({"locked": [{"digest": d, "until": until} for d, until in locks]})
        return
    for digest, until in locks:
        click.echo(_("locked {digest} until {until}").format(digest=digest[:12], until=until))
    click.echo(_("{n} permanent record(s) locked longer").format(n=len(locks)))


@retention.command(name="holds")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_holds(ctx: click.Context, as_json: bool) -> None:
    """Legal holds in force."""
    from recordkeep import retention as ret

    holds = ret.list_holds(open_archive(ctx))
    if as_json:
        emit({"holds": holds})
        return
    print_table((_("held"), _("since"), _("by"), _("records"), _("reason")),
                [(f"{label(h['kind'])} {h['ref'][:12] if h['kind'] == 'record' else h['ref']}",
                  short_time(h["since"]), h["by"], str(h["records"]), h["reason"] or "") for h in holds])


@main.command(name="dispose")
@click.argument("digests", nargs=-1, required=True, metavar="DIGEST...")
@click.option("--reason", required=True, help="Why (journaled with the actor).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def dispose_cmd(ctx: click.Context, digests: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Dispose of due records' blobs, all or nothing; their metadata and digests stay."""
    from recordkeep import retention as ret

    archive = open_archive(ctx)
    done = ret.dispose(archive, list(digests), reason=reason)
    end_progress(archive)
    if as_json:
        emit({"disposed": done.disposed, "finished": done.finished, "bytes": done.bytes})
        return
    for digest in done.disposed:
        click.echo(_("disposed of {digest}").format(digest=digest))
    for digest in done.finished:
        click.echo(_("finished the interrupted disposal of {digest}").format(digest=digest))
    click.echo(_("{n} record(s) disposed of, {size} freed").format(n=len(done.disposed),
                                                                  size=human_size(done.bytes)))


def hold_target(digests: tuple[str, ...], case_no: str | None, party: str | None) -> dict:
    if sum(bool(x) for x in (digests, case_no, party)) != 1:
        raise click.UsageError(_("give DIGEST..., or --case NO, or --party P (one of them)"))
    return {"digests": list(digests) or None, "case": case_no, "party": party}


def hold_options(fn):
    fn = click.argument("digests", nargs=-1, metavar="[DIGEST...]")(fn)
    fn = click.option("--case", "case_no", help="Every record linked to this case.")(fn)
    fn = click.option("--party", help="Every record linked to this party or its cases.")(fn)
    return click.option("--json", "as_json", is_flag=True)(fn)


@main.command(name="hold")
@hold_options
@click.option("--reason", help="Why (e.g. the court's or the reviewing body's request).")
@click.pass_context
def hold_cmd(ctx: click.Context, digests: tuple[str, ...], case_no: str | None, party: str | None,
             reason: str | None, as_json: bool) -> None:
    """Put a legal hold on records, a case or a party: nothing it covers is disposed of."""
    from recordkeep import retention as ret

    new = ret.hold(open_archive(ctx), reason=reason, **hold_target(digests, case_no, party))
    if as_json:
        emit({"held": [{"kind": k, "ref": r} for k, r in new]})
    else:
        targets = ", ".join(f"{label(k)} {r}" for k, r in new)
        click.echo(_("held {n}: {targets}").format(n=len(new), targets=targets) if new else _("already held"))
        if not new and reason:
            click.echo(_("the reason given was not recorded: the hold keeps its own ('retention holds'); "
                         "release it and hold again to give another"))


@main.command(name="release")
@hold_options
@click.pass_context
def release_cmd(ctx: click.Context, digests: tuple[str, ...], case_no: str | None, party: str | None,
                as_json: bool) -> None:
    """Lift a legal hold from records, a case or a party."""
    from recordkeep import retention as ret

    lifted = ret.release(open_archive(ctx), **hold_target(digests, case_no, party))
    if as_json:
        emit({"released": [{"kind": k, "ref": r} for k, r in lifted]})
    else:
        click.echo(_("released {n}: {targets}").format(
            n=len(lifted), targets=", ".join(f"{label(k)} {r}" for k, r in lifted)))


# -- verify ----------------------------------------------------------------------
@main.command(name="verify")
@click.option("--fast", is_flag=True, help="Presence and size only.")
@click.option("--full", is_flag=True, help="Re-hash every blob (default).")
@click.option("--case", "case_no", help="Only the records linked to this case.")
@click.option("--party", help="Only the records of this party (directly or through its cases).")
@click.option("--since", help="Only records imported at or after T (import time).")
@click.option("--budget", metavar="DURATION",
              help="A rolling audit: re-hash the least recently verified blobs for this long (90s, 30m, "
                   "2h, 1h30m), journaling as it goes; the next run goes on from there.")
@click.option("--status", is_flag=True,
              help="How recently every record was verified, against [fixity] max_age_days (exit 3 when "
                   "records are overdue).")
@click.option("--as-of", help="With --status: judge the ages at this time instead of now.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_cmd(ctx: click.Context, fast: bool, full: bool, case_no: str | None, party: str | None,
               since: str | None, budget: str | None, status: bool, as_of: str | None, as_json: bool) -> None:
    """Check every stored byte (or a case's, a party's) against its digest."""
    if fast and full:
        raise click.UsageError(_("give --fast or --full, not both"))
    mode = "fast" if fast else "full"
    if sum(x is not None for x in (case_no, party, since)) > 1:
        raise click.UsageError(_("give one of --case, --party or --since"))
    if (budget is not None or status) and (fast or case_no or party or since):
        raise click.UsageError(_("--budget and --status are about the whole store's blobs: not with --fast, "
                                 "--case, --party or --since"))
    if budget is not None and status:
        raise click.UsageError(_("give --budget or --status, not both"))
    if as_of is not None and not status:
        raise click.UsageError(_("--as-of goes with --status"))
    if status:
        verify_status(ctx, as_of, as_json)
        return
    if budget is not None:
        verify_budget(ctx, budget, as_json)
        return
    from recordkeep import HeadStart  # before the rest of the library: its workers hash as that loads

    whole_store = case_no is None and party is None and since is None
    with HeadStart.for_verify(ctx.obj["store"], full=mode == "full", whole_store=whole_store) as head_start:
        from recordkeep import scope, verify
        from recordkeep.refs import scope_label

        archive = open_archive(ctx)
        described, digests = scope.resolve(archive, case=case_no, party=party, since=since)
        report = verify(archive, mode=mode, digests=digests, scope=described, head_start=head_start)
    end_progress(archive)
    where = scope_label(report.scope)
    print_verify(report, as_json, _("verify --{mode} ({where})").format(mode=mode, where=where))
    if not report.ok:
        ctx.exit(EXIT_INTEGRITY)


def finding_json(f) -> dict:
    """A fresh finding for ``--json``: its message in the reader's language, its id beside."""
    return {**f.as_data(), "message": str(f.message)}


def verify_json(report) -> dict:
    return {"ok": report.ok, "mode": report.mode, "scope": report.scope, "checked": report.checked,
            "bytes": report.bytes, "problems": [finding_json(f) for f in report.problems],
            "notices": [finding_json(f) for f in report.notices],
            "journaled_seq": report.journaled_seq, "journal_error": report.journal_error}


def print_verify(report, as_json: bool, heading: str, extra: dict | None = None, tail: str = "") -> None:
    if as_json:
        emit({**verify_json(report), **(extra or {})})
        return
    for f in report.problems:
        click.echo(_("PROBLEM {code} {what}: {digest} {path}: {message}").format(
            code=f.code, what=label(f.what), digest=f.digest or "", path=f.path or "", message=f.message))
    for f in report.notices:
        click.echo(_("notice  {code} {what}: {digest} {path}").format(
            code=f.code, what=label(f.what), digest=f.digest or "", path=f.path or ""))
    verdict = _("OK") if report.ok else _("{n} PROBLEM(S)").format(n=len(report.problems))
    notices = _(", {n} notice(s)").format(n=len(report.notices)) if report.notices else ""
    click.echo(_("{heading}: {checked} records, {size}: {verdict}{notices}{tail}").format(
        heading=heading, checked=report.checked, size=human_size(report.bytes), verdict=verdict,
        notices=notices, tail=tail))
    if report.journal_error:
        click.echo(report.journal_error)


def verify_budget(ctx: click.Context, budget: str, as_json: bool) -> None:
    """``verify --full --budget``: a SIGTERM (a plain kill) stops it as Ctrl-C does, so what was
    checked is journaled first."""
    import signal

    from recordkeep import fixity, refs

    seconds = refs.parse_duration(budget)
    archive = open_archive(ctx)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        done = fixity.audit(archive, seconds)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    end_progress(archive)
    left = _("every record checked once") if done.complete else _("the budget spent")
    print_verify(done.report, as_json, _("verify --full --budget {budget} (rolling)").format(budget=budget),
                 {"run": done.run, "budget_s": done.budget_s, "parts": done.parts, "complete": done.complete,
                  "elapsed_ms": done.elapsed_ms},
                 _("; {left} in {seconds:.1f} s, {parts} part(s) journaled").format(
                     left=left, seconds=done.elapsed_ms / 1000, parts=len(done.parts)))
    if not done.report.ok:
        ctx.exit(EXIT_INTEGRITY)


def verify_status(ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    from recordkeep import fixity

    found = fixity.status(open_archive(ctx), as_of=as_of).as_data()
    if as_json:
        emit({**found, "problems": [{**p, "message": i18n.shown(p, "message")} for p in found["problems"]]})
    else:
        for line in fixity_lines(found):
            click.echo(line)
    if not found["ok"]:
        ctx.exit(EXIT_INTEGRITY)


def fixity_lines(found: dict) -> list[str]:
    """``verify --status`` for people, from its JSON (the first line is also ``stats``'s)."""
    a = found["by_age"]
    lines = [_("fixity: {records} records, {size}; last verified: never {never}, under 30 days {under_30}, "
               "under 90 days {under_90}, older {older}; {overdue} overdue for a cycle of {days} days "
               "({rate}/day keeps it)").format(
        records=found["records"], size=human_size(found["bytes"]), never=a["never"],
        under_30=a["under_30_days"], under_90=a["under_90_days"], older=a["older"], overdue=found["overdue"],
        days=found["max_age_days"], rate=human_size(found["bytes_per_day"]))]
    if found["oldest"] is not None:
        o = found["oldest"]
        if o["verified_at"]:
            when = (_("last verified {time}") if o["ok"] else _("last verified {time} (FAILED)")).format(
                time=short_time(o["verified_at"]))
        else:
            when = _("never verified, imported {time}").format(time=short_time(o["imported_at"]))
        lines.append(_("next in the audit's queue: {digest} {size}, {when}").format(
            digest=o["digest"][:12], size=human_size(o["size"]), when=when))
    for f in found["problems"]:
        lines.append(_("PROBLEM {code} {what}: {message}").format(code=f["code"], what=label(f["what"]),
                                                                  message=i18n.shown(f, "message")))
    for r in found.get("failing_records", []):
        lines.append(_("  failed: {digest} {size}, verified {time} (seq {seq})").format(
            digest=r["digest"][:12], size=human_size(r["size"]), time=short_time(r["verified_at"]),
            seq=r["verified_seq"]))
    if len(found.get("failing_records", [])) < found["failing"]:
        lines.append(_("  and {n} more").format(n=found["failing"] - len(found["failing_records"])))
    lines.append(_("as of {time}: {verdict}").format(time=short_time(found["as_of"]),
                                                     verdict=_("OK") if found["ok"] else _("NOT OK")))
    return lines


# -- log ---------------------------------------------------------------------------
@main.group(cls=Group, invoke_without_command=True)
@click.option("--record", "digest", help="Every event that touched this record (chain of custody).")
@click.option("--case", "case_no", help="Every event that touched this case.")
@click.option("--party", help="Every event that touched this party.")
@click.option("--report", is_flag=True, help="A printable custody report with a signature block.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log(ctx: click.Context, digest: str | None, case_no: str | None, party: str | None, report: bool,
        as_json: bool) -> None:
    """The journal: the audit trail of who did what, when."""
    if ctx.invoked_subcommand is not None:
        return
    from recordkeep import custody
    from recordkeep.validate import printable

    archive = open_archive(ctx)
    if sum(x is not None for x in (digest, case_no, party)) > 1:
        raise click.UsageError(_("give one of --record, --case or --party"))
    if digest is not None:
        found = custody.for_record(archive, digest)
    elif case_no is not None:
        found = custody.for_case(archive, case_no)
    elif party is not None:
        found = custody.for_party(archive, party)
    else:
        events = list(archive.journal.read())
        found = custody.Custody({"all": True}, events, [])
    voided = custody.voided(archive, found.events)
    if as_json:
        signed = custody.signatures(archive, found.events)
        emit({"subject": found.subject, "events": [
            {**custody.shown(e), "summary": custody.describe(e, found.subject), "voided": voided.get(e.seq),
             "signed_by": signed[e.seq].key, "signature_holds": signed[e.seq].holds} for e in found.events]})
        return
    if report:
        print_custody_report(archive, found)
        return
    signed = custody.signatures(archive, found.events)
    for e in found.events:
        what = custody.describe(e, found.subject)
        if e.seq in voided:
            what = struck(what) + "  " + _("VOIDED at seq {seq}: {reason}").format(
                seq=voided[e.seq]["seq"], reason=voided[e.seq]["reason"])
        click.echo(printable(f"{e.seq:>6}  {e.at}  {e.actor:<20}  {e.type:<22}  {what}  "
                             f"[{signed[e.seq].label()}]"))


def print_custody_report(archive, found) -> None:
    """A chain-of-custody report a person can check and sign."""
    from recordkeep import custody
    from recordkeep.validate import printable

    subject = ", ".join(_("the whole journal") if k == "all" else f"{label(k)} {v}"
                        for k, v in found.subject.items())
    head = archive.journal.head()
    click.echo(_("CHAIN OF CUSTODY REPORT / 证据保管链报告"))
    click.echo(_("subject:      {subject}").format(subject=subject))
    click.echo(_("store:        {store_id} ({root})").format(store_id=archive.settings.store_id,
                                                          root=archive.root))
    click.echo(_("journal head: seq {seq} {hash}").format(seq=head.seq, hash=head.hash))
    click.echo(_("printed:      {now} for {actor}").format(now=archive.now(), actor=archive.actor))
    click.echo("")
    signed = custody.signatures(archive, found.events)
    voided = custody.voided(archive, found.events)
    for e in found.events:
        click.echo(_("seq {seq}  {at}  {actor}").format(seq=e.seq, at=e.at, actor=e.actor))
        click.echo(printable(f"    {e.type}: {custody.describe(e, found.subject)}"))
        if e.seq in voided:
            v = voided[e.seq]
            click.echo("    " + _("VOIDED at seq {seq} by {by} ({at}): {reason}").format(
                seq=v["seq"], by=v["by"], at=v["at"], reason=v["reason"]))
        click.echo("    " + _("event hash {hash}").format(hash=e.hash))
        click.echo("    " + _("batch: {signed}").format(signed=signed[e.seq].label()))
    click.echo("")
    click.echo(_("{n} event(s). Each event hash is BLAKE3 of the event's canonical JSON; "
                 "'recordkeep log verify --head HASH' proves the journal still holds these events "
                 "(docs/auditing.md shows how to check without recordkeep).").format(n=len(found.events)))
    click.echo("")
    click.echo(_("Checked by (name): ______________________   Signature: ______________   Date: __________"))


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


@log.command(name="checkpoint")
@click.option("--tsa", "tsa_url", metavar="URL",
              help="Ask this RFC 3161 timestamp authority for a token ([anchor] tsa_url by default).")
@click.option("--tsa-ca", type=click.Path(), metavar="FILE",
              help="The TSA's CA certificate (PEM), to verify its token ([anchor] tsa_ca by default).")
@click.option("--publish", type=click.Path(), metavar="DIR",
              help="Also copy the checkpoint and its token into DIR/<store id>/ (a second disk, a share).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log_checkpoint(ctx: click.Context, tsa_url: str | None, tsa_ca: str | None, publish: str | None,
                   as_json: bool) -> None:
    """Sign the journal's Merkle root as a checkpoint (and have it timestamped): kept under
    checkpoints/, journaled as checkpoint.made."""
    from recordkeep import anchoring

    archive = open_archive(ctx)
    made = anchoring.make_checkpoint(archive, tsa_url=tsa_url, tsa_ca=tsa_ca, publish=publish)
    if as_json:
        emit(made.as_data())
    else:
        click.echo(_("checkpoint of lines 1..{size} (root {root}) signed by key {signer}, kept at "
                     "{location}, journaled at seq {seq}").format(
            size=made.size, root=made.as_data()["root_b64"], signer=made.signer, location=made.location,
            seq=made.seq))
        if made.token:
            click.echo(_("timestamp token from {tsa}: {time}").format(tsa=made.tsa, time=made.token_time))
        for path in made.published:
            click.echo(_("published: {path}").format(path=path))
    for problem in made.problems:
        click.echo(str(problem), err=True)
    if made.problems:
        ctx.exit(max(p.exit_code for p in made.problems))


@log.command(name="verify")
@click.option("--head", "head_hash", help="A head hash noted earlier: prove the journal still holds it.")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(), metavar="FILE",
              help="A checkpoint kept outside the store (its .tsr beside it): the journal must still have "
                   "its root. Repeatable.")
@click.option("--vkey", metavar="VKEY", callback=key_given,
              help="A verifier key known outside the journal ('key list' prints it): checkpoints must be "
                   "signed by it.")
@click.option("--founding-key", metavar="VKEY", callback=key_given,
              help="The store's founding key as 'key list' printed it when the store was made, kept "
                   "outside the store: the journal must root its trust in it (a journal written again "
                   "whole, under a key of its own, agrees with itself).")
@click.option("--tsa-ca", type=click.Path(), metavar="FILE",
              help="The TSA's CA certificate, to verify timestamp tokens ([anchor] tsa_ca by default).")
@click.option("--bag", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="An exported bag: check it whole, its checkpoint and proofs (no store needed), and its "
                   "journal lines against the store when there is one.")
@click.option("--html", "dossier", type=click.Path(path_type=Path, exists=True, file_okay=False),
              metavar="DIR", help="An exported HTML dossier: every file as its manifest lists it, none "
                                  "besides, and the manifest one an export of the store vouched for.")
@click.option("--strict", is_flag=True,
              help="Also fail on what is a notice otherwise: the unsigned batches of a store written before "
                   "signatures, times that disagree (RK261, RK263), disposals under a lowered retention "
                   "(RK264); with --bag, every notice of the bag (another store's, lines not covered, a "
                   "checkpoint only its own key signs).")
@click.option("--index", "index_too", is_flag=True,
              help="Also fold the journal afresh and compare index.sqlite with it, table by table (what "
                   "check, stats and search answer from).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log_verify(ctx: click.Context, head_hash: str | None, checkpoints: tuple[str, ...], vkey: str | None,
               founding_key: str | None, tsa_ca: str | None, bag: Path | None, dossier: Path | None,
               strict: bool, index_too: bool, as_json: bool) -> None:
    """Walk the hash chain, prove every batch's signature and every checkpoint's root; name the
    first bad line."""
    from recordkeep import errors, logcheck, refs

    if bag is not None and dossier is not None:
        raise click.UsageError(_("give one of --bag and --html"))
    if founding_key is not None and (bag is not None or dossier is not None):
        raise click.UsageError(_("--founding-key checks the store's journal, not a bag or a dossier"))
    if dossier is not None:
        verify_dossier(ctx, dossier, as_json)
        return
    if bag is not None:
        verify_bag(ctx, bag, vkey, tsa_ca, strict, as_json)
        return
    if vkey is not None and not checkpoints:
        raise click.UsageError(_("--vkey goes with --checkpoint FILE"))
    archive = open_archive(ctx)
    head = refs.head_hash(head_hash) if head_hash is not None else None
    found = logcheck.verify_journal(archive, head=head, strict=strict, checkpoints=list(checkpoints),
                                    vkey=vkey, tsa_ca=tsa_ca, index_too=index_too, founding_key=founding_key)
    report = found.chain
    if as_json:
        emit({"ok": found.ok, "lines": report.lines, "index": found.index,
              "head": {"seq": report.head.seq, "hash": report.head.hash},
              "problem": None if report.problem is None else vars(report.problem),
              "head_found": report.found_head, "signed": found.signed, "batches": found.batches,
              "founding_key": found.founding,
              "findings": [f.as_data() for f in found.findings],
              "checkpoints": [v.as_data() for v in found.checkpoints],
              "torn_tail_bytes": len(report.torn.data) if report.torn and not report.torn.complete else 0})
    else:
        if report.problem:
            p = report.problem
            click.echo(_("PROBLEM {code} line {line}: {message}").format(code=p.code, line=p.line,
                                                                         message=p.message))
        for f in found.findings:
            click.echo((_("notice  {code} seq {seq}: {message}") if f.notice
                        else _("PROBLEM {code} seq {seq}: {message}")).format(
                code=f.code, seq=f.seq, message=f.message))
        for v in found.checkpoints:
            for f in v.findings:
                said = _("notice  {code} {message}") if f.notice else _("PROBLEM {code} {message}")
                click.echo(said.format(code=f.code, message=f.message))
            if v.ok and v.given:
                said = (_("checkpoint {name}: lines 1..{size} match, signed by {signer}, timestamped {time}")
                        if v.token == "verified"
                        else _("checkpoint {name}: lines 1..{size} match, signed by {signer}"))
                click.echo(said.format(name=v.name, size=v.size, signer=v.signer, time=v.token_time))
        kept = [v for v in found.checkpoints if not v.given]
        if kept:
            holding = sum(v.ok for v in kept)
            said = (_("checkpoints kept in the store: {holding} of {kept} hold, the newest of lines "
                      "1..{size}") if holding
                    else _("checkpoints kept in the store: {holding} of {kept} hold"))
            click.echo(said.format(holding=holding, kept=len(kept), size=max(v.size or 0 for v in kept)))
        if report.torn and not report.torn.complete:
            click.echo(_("notice: torn last line ({n} bytes, never acknowledged); "
                         "the next writer sets it aside into journal/torn/").format(n=len(report.torn.data)))
        if head_hash and report.found_head is False:
            click.echo(_("PROBLEM {code}: the journal does not hold head {head} "
                         "with an intact history before it").format(code=errors.HeadNotFound.code,
                                                                    head=head_hash))
        if found.index == "matches":
            click.echo(_("index.sqlite: matches a fold of the journal"))
        signed = (_(", {n} signed batches").format(n=found.batches) if found.signed
                  else _(", unsigned (written before signatures)"))
        anchored = _(", {n} checkpoints").format(n=len(found.checkpoints)) if found.checkpoints else ""
        click.echo(_("journal: {lines} lines{signed}{anchored}, head seq {seq} {hash}: {verdict}").format(
            lines=report.lines, signed=signed, anchored=anchored, seq=report.head.seq, hash=report.head.hash,
            verdict=_journal_verdict(found)))
    if not found.ok:
        ctx.exit(EXIT_INTEGRITY)


def _journal_verdict(found) -> str:
    """OK, BROKEN, or (the journal proved, only index.sqlite off a fold of it) saying so."""
    from recordkeep import errors

    if found.ok:
        return _("OK")
    failing = [f for f in found.findings if not f.notice]
    journal_proved = (found.chain.problem is None and found.chain.found_head is not False
                      and all(v.ok for v in found.checkpoints))
    if journal_proved and all(f.code == errors.IndexDiffers.code for f in failing):
        return _("OK, but index.sqlite differs from a fold of it")
    return _("BROKEN")


@log.command(name="prove")
@click.argument("digest", required=False)
@click.option("--seq", type=Whole(), help="Prove this journal line instead of a record's import line.")
@click.option("--checkpoint", type=click.Path(), metavar="FILE",
              help="Prove against this checkpoint (default: the newest the store keeps).")
@click.option("--from", "old", type=click.Path(), metavar="FILE",
              help="With --to: prove this older checkpoint's tree is a prefix of the newer one's.")
@click.option("--to", "new", type=click.Path(), metavar="FILE")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def log_prove(ctx: click.Context, digest: str | None, seq: int | None, checkpoint: str | None,
              old: str | None, new: str | None, as_json: bool) -> None:
    """Print an inclusion proof (a record's record.imported line, or --seq N) against a checkpoint,
    or a consistency proof between two checkpoints (--from A --to B), as RFC 9162 says."""
    from recordkeep import anchoring

    if (old is None) != (new is None):
        raise click.UsageError(_("--from and --to go together"))
    if old is not None and (digest is not None or seq is not None or checkpoint is not None):
        raise click.UsageError(_("--from/--to prove two checkpoints; DIGEST, --seq and --checkpoint "
                                 "prove a line"))
    if old is None and (digest is None) == (seq is None):
        raise click.UsageError(_("give a record's DIGEST or --seq N (or --from FILE --to FILE)"))
    archive = open_archive(ctx)
    if old is not None:
        proof = anchoring.consistency(archive, anchoring.read_file(old), anchoring.read_file(new))
        what = _("consistency of lines 1..{old_size} within 1..{new_size}").format(
            old_size=proof["old_size"], new_size=proof["new_size"])
    else:
        anchored = anchoring.read_file(checkpoint) if checkpoint is not None else anchoring.newest(archive)
        line = seq if seq is not None else anchoring.seq_of_record(archive, digest)
        proof = {**anchoring.inclusion(archive, line, anchored), "checkpoint": anchored.name}
        what = _("inclusion of line {line} in 1..{size} ({name})").format(
            line=line, size=proof["tree_size"], name=anchored.name)
    if as_json:
        emit(proof)
        return
    click.echo(_("proof of {what}:").format(what=what))
    if "line" in proof:
        click.echo(_("line: {line}").format(line=proof["line"]))
    for h in proof["hashes"]:
        click.echo(f"  {h}")
    click.echo(_("check it with the script in docs/auditing.md (RFC 9162 section 2.1), or "
                 "'log prove --json'"))


def verify_bag(ctx: click.Context, bag: Path, vkey: str | None, tsa_ca: str | None, strict: bool,
               as_json: bool) -> None:
    """``log verify --bag``: the bag by itself, and against the store when there is one."""
    import recordkeep as rk

    has_store = rk.is_store(ctx.obj["store"])
    archive = open_archive(ctx) if has_store else None
    report = rk.check_bag(bag, archive=archive, vkey=vkey, tsa_ca=tsa_ca, strict=strict)
    if as_json:
        emit(report.as_data())
    else:
        for code, message in report.problems:
            click.echo(_("PROBLEM {code} {message}").format(code=code, message=message))
        for code, message in report.notices:
            click.echo(_("notice {code} {message}").format(code=code, message=message))
        if report.head_found is False:
            click.echo(_("PROBLEM {code}: the bag's journal head (seq {seq}) is not in this store's "
                         "chain").format(code=report.HEAD_CODE, seq=report.head_seq))
        for export in report.exports:
            what = rk.scope_name(export["scope"])
            said = (_("the payload of export seq {seq}, {what} as of seq {through}: every record the journal "
                      "linked to it there, none other") if export["complete"]
                    else _("the payload of export seq {seq}, {what} as of seq {through}"))
            click.echo(said.format(seq=export["seq"], what=what, through=export["through"]))
        if report.checkpoint_size is not None:
            said = (_("checkpoint of {size} lines signed by {signer}, timestamped {time}; {proved} lines "
                      "proved in it") if report.token == "verified"
                    else _("checkpoint of {size} lines signed by {signer}; {proved} lines proved in it"))
            click.echo(said.format(size=report.checkpoint_size, signer=report.signer, time=report.token_time,
                                   proved=report.proved))
        said = (_("bag: manifests and {lines} journal lines checked and against the store: {verdict}")
                if report.store_compared
                else _("bag: manifests and {lines} journal lines checked by itself (no store compared): "
                       "{verdict}"))
        click.echo(said.format(lines=report.lines, verdict=_("OK") if report.ok else _("BROKEN")))
    if not report.ok:
        ctx.exit(EXIT_INTEGRITY)


def verify_dossier(ctx: click.Context, folder: Path, as_json: bool) -> None:
    """``log verify --html``: the dossier by its manifest, and against the store when there is one."""
    import recordkeep as rk
    from recordkeep.export import dossiercheck

    archive = open_archive(ctx) if rk.is_store(ctx.obj["store"]) else None
    report = dossiercheck.check_dossier(folder, archive=archive)
    if as_json:
        emit(report.as_data())
    else:
        for code, message in report.problems:
            click.echo(_("PROBLEM {code} {message}").format(code=code, message=message))
        if report.export is not None:
            click.echo(dossiercheck.exported(report))
        said = (_("HTML dossier: {files} files checked by its manifest and against the store: {verdict}")
                if report.store_compared
                else _("HTML dossier: {files} files checked by its manifest (no store compared): {verdict}"))
        click.echo(said.format(files=report.files, verdict=_("OK") if report.ok else _("BROKEN")))
    if not report.ok:
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
    end_progress(archive)
    if as_json:
        emit({"events": count, "elapsed_ms": int(seconds * 1000)})
    else:
        click.echo(_("rebuilt index.sqlite from {count} journal events in {seconds:.1f} s").format(
            count=count, seconds=seconds))


localise(main)

if __name__ == "__main__":
    main(prog_name=os.path.basename(sys.argv[0]))
