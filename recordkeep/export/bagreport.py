"""What checking a bag found (export/bagcheck.py checks the package and the store, and
export/proofs.py the checkpoint and proofs it carries)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors, validate


@dataclass
class BagReport:
    """What checking a bag found: problems and notices, each (code, what); whether its
    journal head is in the store's chain (None: no store compared); whether it holds its whole
    case or party as an export of its payload in the store's journal planned it (``complete``,
    None: not checked) and those exports (``exports``: seq, the seq planned through, scope, and
    whether the bag is whole as of that plan). ``strict``: a notice fails it too."""

    HEAD_CODE = errors.HeadNotFound.code

    lines: int = 0
    head_seq: int | None = None
    head_found: bool | None = None
    store_compared: bool = False
    checkpoint_size: int | None = None
    signer: str | None = None
    token: str = "none"
    token_time: str | None = None
    proved: int = 0
    not_covered: list[int] = field(default_factory=list)
    complete: bool | None = None
    exports: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    strict: bool = False  # every notice fails too

    @property
    def ok(self) -> bool:
        return not self.problems and self.head_found is not False and not (self.strict and self.notices)

    def as_data(self) -> dict:
        return {"ok": self.ok, "lines": self.lines, "head_seq": self.head_seq, "head_found": self.head_found,
                "store_compared": self.store_compared, "checkpoint_size": self.checkpoint_size,
                "signer": self.signer, "token": self.token, "token_time": self.token_time,
                "proved": self.proved, "not_covered": self.not_covered,
                "complete": self.complete, "exports": self.exports,
                "problems": [{"code": c, "message": m} for c, m in self.problems],
                "notices": [{"code": c, "message": m} for c, m in self.notices]}


def from_bag(value: object, limit: int = 200) -> str:
    """Text read from a bag as a finding shows it: each character that is not printable (a line
    end, a terminal escape, a lone surrogate) as its escape, cut to ``limit`` characters."""
    try:
        text = str(value)
    except (RecursionError, ValueError):  # nested past the limit; an integer past str's digits
        return "?"
    text = validate.printable(text)
    return text if len(text) <= limit else text[:limit] + "…"
