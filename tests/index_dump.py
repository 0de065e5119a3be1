"""Compare indexes by content: every table's rows, sorted (the migration log and the chain
checks' marks, which say what this workstation verified, excluded)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name != '_sqlite_migrations' AND name NOT LIKE '%_fts%' ORDER BY name")]
        out = {t: sorted(map(tuple, conn.execute(f"SELECT * FROM [{t}]")), key=repr) for t in tables}
        if "meta" in out:
            out["meta"] = [row for row in out["meta"] if not str(row[0]).startswith("chain_")]
        return out
    finally:
        conn.close()
