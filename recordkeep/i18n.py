"""The reader's language: English or Chinese, through gettext (docs/glossary.md fixes the terms).

``choose`` settles the language from ``--lang``, ``$RECORDKEEP_LANG`` and the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh_*`` gives Chinese), else English; ``install``
makes it the one ``_`` and click's own strings ("Usage:", "Options") answer in. The
compiled catalogs live in ``recordkeep/locale/<lang>/LC_MESSAGES/recordkeep.mo`` (built
from the ``.po`` beside them by ``./tasks.sh catalog``). Codes, JSON keys and enum values
are never translated.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping, Sequence
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


def language() -> str:
    """The language installed: ``en`` or ``zh``."""
    return _state["language"]


def _(message: str) -> str:
    """``message`` in the installed language (itself when the catalog lacks it)."""
    return _state["catalog"].gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n``, in the installed language."""
    return _state["catalog"].ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here (class attributes, tables:
    translated with ``_`` where shown)."""
    return message
