"""The reader's language: English or Chinese, through gettext (docs/glossary.md fixes the terms).

``choose`` settles the language from ``--lang``, ``$RECORDKEEP_LANG`` and the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh_*`` gives Chinese), else English; ``install``
makes it the one ``_`` and click's own strings ("Usage:", "Options") answer in. The
compiled catalogs live in ``recordkeep/locale/<lang>/LC_MESSAGES/recordkeep.mo`` (built
from the ``.po`` beside them by ``./tasks.sh catalog``). Codes, JSON keys and enum values
are never translated.

Text kept in the journal (a finding's message, a reason on an import's receipt) is stored in
English whatever the language, with its message id and parameters beside it: ``_`` returns
a ``Message`` (a ``str`` in the reader's language that remembers its msgid, its parameters
once ``format``-ted, and its English text); ``parts`` gives what to store, ``render`` shows a
stored message in the reader's language.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "recordkeep"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")

_state = {"language": "en", "catalog": gettext.NullTranslations()}


def _language_of(value: str | None) -> str | None:
    """``zh``/``en`` for a language or locale name (``zh_CN.UTF-8``, ``en_US``, ``C``), else None."""
    if not value:
        return None
    head = value.split(":")[0].split(".")[0].replace("-", "_").lower()
    if head.startswith("zh"):
        return "zh"
    if head.startswith("en") or head in ("c", "posix"):
        return "en"
    return None


def choose(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language asked for: ``--lang zh|en`` in ``argv``, else ``$RECORDKEEP_LANG``, else
    the first locale variable set (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return _language_of(argv[i + 1]) or "en"
        if arg.startswith("--lang="):
            return _language_of(arg.split("=", 1)[1]) or "en"
        if arg == "--":
            break
    if environ.get("RECORDKEEP_LANG"):
        return _language_of(environ["RECORDKEEP_LANG"]) or "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return _language_of(environ[name]) or "en"
    return "en"


def install(language: str) -> None:
    """Answer in ``language`` from now on: ``_`` here and click's strings, which click looks
    up through the global gettext domain (bound to this catalog; ``$LANGUAGE`` picks it)."""
    language = language if language in LANGUAGES else "en"
    _state["language"] = language
    _state["catalog"] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = language


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """``_`` answers in ``language`` inside the block (click's strings stay as they were), as
    before after it: to render a text as it was written in another language."""
    before = dict(_state)
    _state.update(language=language, catalog=gettext.translation(DOMAIN, LOCALE_DIR, languages=[language],
                                                                  fallback=True))
    try:
        yield
    finally:
        _state.update(before)


def language() -> str:
    """The language installed: ``en`` or ``zh``."""
    return _state["language"]


class Message(str):
    """A message in the reader's language that remembers where it came from: ``msgid`` (the
    English text of the catalog, None when unknown), ``params`` (the JSON-safe parameters it
    was formatted with, None before ``format``) and ``english`` (the same message in English).
    ``format`` keeps all three; other string operations give a plain ``str``."""

    msgid: str | None
    params: dict | None
    english: str

    def __new__(cls, text: str = "", msgid: str | None = None, params: dict | None = None,
                english: str | None = None) -> Message:
        self = super().__new__(cls, text)
        self.msgid, self.params = msgid, params
        self.english = str.__str__(self) if english is None else english
        return self

    def __reduce__(self):
        return (Message, (str.__str__(self), self.msgid, self.params, self.english))

    def format(self, *args, **kwargs) -> str:
        text = str.format(self, *args, **kwargs)
        if args or self.msgid is None or self.params is not None:
            return text  # positional or formatted twice: nothing that can be rendered again
        try:
            english = self.msgid.format(**{k: english_of(v) for k, v in kwargs.items()})
        except (KeyError, IndexError, ValueError):
            english = text
        return Message(text, self.msgid, {k: _safe(v) for k, v in kwargs.items()}, english)


def _safe(value):
    """A parameter as the journal keeps it: a message as ``{"id", "params"}`` (rendered again
    in the reader's language), a number as itself, anything else as its text."""
    if isinstance(value, Message) and value.msgid is not None:
        return {"id": value.msgid, "params": value.params or {}}
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return value
    return str(english_of(value))


def english_of(value):
    """The English of a message; any other value as it is."""
    return value.english if isinstance(value, Message) else value


def parts(text: str) -> tuple[str, str | None, dict | None]:
    """What the journal keeps of ``text``: its English, its msgid and its parameters (the
    last two None when ``text`` is not a message of the catalog)."""
    if isinstance(text, Message) and text.msgid is not None:
        return text.english, text.msgid, dict(text.params or {})
    return str.__str__(text) if isinstance(text, str) else text, None, None


def render(msgid: str | None, params: dict | None, fallback: str) -> str:
    """A message kept as ``msgid`` and ``params``, in the installed language; ``fallback``
    (the stored English) when there is no msgid or it cannot be formatted."""
    if not msgid or not isinstance(msgid, str):
        return fallback
    try:
        if params is None:
            return str(_(msgid))
        values = {k: render(v.get("id"), v.get("params"), "") if isinstance(v, dict) else v
                  for k, v in params.items()}
        return str(_(msgid).format(**values))
    except (AttributeError, KeyError, IndexError, ValueError, TypeError):
        return fallback


def stored(data: dict, field: str) -> dict:
    """The journal's form of ``data[field]`` (English) with ``<field>_id`` and
    ``<field>_params`` beside it when it is a message of the catalog."""
    english, msgid, params = parts(data[field])
    data[field] = english
    if msgid is not None:
        data[f"{field}_id"], data[f"{field}_params"] = msgid, params
    return data


def shown(data: dict, field: str) -> str:
    """``data[field]`` of a stored event in the reader's language (from ``<field>_id`` and
    ``<field>_params`` when kept, else as stored)."""
    return render(data.get(f"{field}_id"), data.get(f"{field}_params"), data.get(field) or "")


def _(message: str) -> str:
    """``message`` in the installed language (itself when the catalog lacks it), as a
    ``Message`` that remembers ``message`` as its msgid. A ``Message`` translated already is
    returned as it is: translating its translation would lose its English."""
    if not message or (isinstance(message, Message) and message.msgid is not None):
        return message
    return Message(_state["catalog"].gettext(message), message, None, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n``, in the installed language."""
    return _state["catalog"].ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here (class attributes, tables:
    translated with ``_`` where shown)."""
    return message
