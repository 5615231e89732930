"""The store owns the machine file: no code outside sdi/store/ touches the raw connection, creates tables or imports duckdb."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("sdi", "connectors", "retrieval", "eval")
STORE = REPO / "sdi" / "store"
BASELINE = REPO / "sdi" / "bench" / "ingest.py"  # times a bare DuckDB next to SDI's import, on its own file
EMBED_CACHE = REPO / "retrieval" / "embed_cache.py"  # its own SQLite file of derived vectors, not the machine file

RAW_CONNECTION = re.compile(r"\.con\b")
# TEMP tables are query-time scratch space; CREATE TEMP / CREATE OR REPLACE TEMP do not match.
PERSISTENT_DDL = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|SEQUENCE)\b", re.IGNORECASE)
IMPORTS_DUCKDB = re.compile(r"^\s*(?:import duckdb|from duckdb\b)", re.MULTILINE)


def _sources() -> list[Path]:
    files = [p for root in ROOTS for p in sorted((REPO / root).rglob("*.py"))]
    return [p for p in files if STORE not in p.parents and ".venv" not in p.parts]


def _offences(pattern: re.Pattern[str], allowed: tuple[Path, ...] = ()) -> list[str]:
    out = []
    for path in _sources():
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.append(f"{path.relative_to(REPO)}:{line}: {text.splitlines()[line - 1].strip()}")
    return out


def test_sources_are_found() -> None:
    assert len(_sources()) > 50


@pytest.mark.parametrize(
    ("what", "pattern", "allowed"),
    [
        ("the raw DuckDB connection (use db.execute / db.sql / db.one / db.transaction())", RAW_CONNECTION, ()),
        ("a persistent table or sequence (add a migration in sdi/store/migrations/)", PERSISTENT_DDL, (BASELINE, EMBED_CACHE)),
        ("duckdb itself (go through sdi.store)", IMPORTS_DUCKDB, (BASELINE,)),
    ],
)
def test_only_the_store_touches_the_database(what: str, pattern: re.Pattern[str], allowed: tuple[Path, ...]) -> None:
    offences = _offences(pattern, allowed)
    assert not offences, f"outside sdi/store/, code uses {what}:\n" + "\n".join(offences)
