"""Staging a CSV with DuckDB's reader gives every row the same line, text and problem as the Python reader."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from connectors.readers import open_source
from connectors.staging import Staged, stage
from sdi.config import load_settings
from sdi.store import MachineFile
from tests.conftest import Exports


def _staged(db: MachineFile, path: Path, duck: bool) -> tuple[Staged, list[tuple]]:
    """Rows and problems as staging gives them, or (duck=False) as the Python reader's batches give them."""
    source = open_source(path)
    if not duck:
        batches = list(source.batches())
        rows = [tuple(r.values()) for b in batches for r in b.table.to_pylist()]
        return Staged(len(rows), [p for b in batches for p in b.problems]), rows
    with db.transaction():  # as the import does: inside a transaction DuckDB numbers rows differently
        staged = stage(db, source)
        rows = db.sql("SELECT * FROM stage ORDER BY _line")
    return staged, [tuple("" if v is None else v for v in row) for row in rows]  # DuckDB reads an empty cell as NULL


def _messy_csv(rows: int) -> str:
    lines = ["serial,model,hours"]
    for i in range(rows):
        if i % 997 == 5:
            lines.append(f"M{i},TL,{i},surplus")  # too many fields
        elif i % 1009 == 7:
            lines.append(f"M{i},TL")  # too few
        elif i % 1013 == 9:
            lines.append(f"M{i},TL,{i},,")  # trailing empty fields: still a row
        elif i % 1019 == 11:
            lines.append("   ")  # whitespace only: not a row
        else:
            lines.append(f"M{i},{'' if i % 7 == 0 else 'TL'},{i}")
    return "\n".join(lines) + "\n"


def test_duckdb_staging_matches_the_python_reader_line_for_line(db: MachineFile, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(_messy_csv(20_000))
    fast, fast_rows = _staged(db, path, duck=True)
    slow, slow_rows = _staged(db, path, duck=False)
    assert fast.notes == [] and fast_rows == slow_rows
    assert fast.rows == slow.rows == len(fast_rows)
    assert [dataclasses.astuple(p) for p in fast.problems] == [dataclasses.astuple(p) for p in slow.problems]
    assert {p.reason for p in fast.problems} == {"row has 4 fields, the header has 3", "row has 2 fields, the header has 3"}
    assert fast_rows[-1][0] == 20_001  # header + 20,000 lines, the whitespace ones included in the count


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("a,b\n1,2\n\n3,4\n", "blank lines inside the file"),
        ('a,b\n1,"two\nlines"\n3,4\n', "quoted values span lines"),
    ],
)
def test_files_duckdb_cannot_number_exactly_are_read_row_by_row(db: MachineFile, tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(content)
    staged, rows = _staged(db, path, duck=True)
    assert staged.notes == [f"read row by row ({why})"]
    assert rows[-1] == (len(content.splitlines()), "3", "4")


def test_windows_1252_is_read_by_duckdb_from_a_utf8_copy(db: MachineFile, tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes("serial,text\nM1,Ölwechsel – 5 €\n".encode("cp1252"))
    staged, rows = _staged(db, path, duck=True)
    assert staged.notes == [] and rows == [(2, "M1", "Ölwechsel – 5 €")]


def test_wide_telemetry_duplicates_merge_identical_values_and_report_differing_ones(with_machines: Exports) -> None:
    with_machines.write("tel.csv", "serial,day,hours,vib\nM1,2024-01-01,100,2.5\nM1,2024-01-01,100,3.0\nM2,2024-01-01,7,\n")
    report = with_machines.ingest(
        [{"path": "tel.csv", "entity": "telemetry", "columns": {"serial": "serial", "timestamp": "day"},
          "metrics": {"operating_hours": "hours", "vibration": "vib"}}]
    )
    f = report.files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected, f.duplicates_merged, f.values_stored) == (3, 3, 0, 1, 3)
    assert [(r.line, r.scope, r.reason) for r in f.rejections] == [
        (2, "value", "vibration: superseded by line 3 (same machine and time)")
    ]
    stored = with_machines.db.sql("SELECT serial, metric, value, source_line FROM telemetry ORDER BY 1, 2")
    assert stored == [("M1", "operating_hours", 100.0, 3), ("M1", "vibration", 3.0, 3), ("M2", "operating_hours", 7.0, 4)]


def test_duckdb_spills_to_the_configured_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(home=tmp_path).db_spill_dir == tmp_path / "machine-file.duckdb.tmp"
    monkeypatch.setenv("SDI_DB_TEMP_DIR", str(tmp_path / "spill"))
    monkeypatch.setenv("SDI_DB_MEMORY_LIMIT", "300MB")
    settings = load_settings(home=tmp_path)
    with MachineFile(tmp_path / "m.duckdb", memory_limit=settings.db_memory_limit, temp_dir=settings.db_spill_dir) as db:
        assert db.scalar("SELECT current_setting('temp_directory')") == str(tmp_path / "spill")
        assert db.scalar("SELECT current_setting('memory_limit')") == "286.1 MiB"


def test_parquet_is_staged_by_duckdb_with_the_python_readers_text(db: MachineFile, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datetime import date, datetime

    table = pa.table({
        "sn": ["M1", None, "M3"], "n": [1, 2, None], "x": [490.0, 2.5, float("nan")], "ok": [True, False, None],
        "day": [date(2024, 1, 2), None, date(2024, 3, 4)],
        "ts": [datetime(2024, 1, 1), datetime(2024, 1, 2, 9, 30), datetime(2024, 1, 2, 9, 30, 0, 250)],
    })
    pq.write_table(table, tmp_path / "p.parquet")
    fast, fast_rows = _staged(db, tmp_path / "p.parquet", duck=True)
    slow, slow_rows = _staged(db, tmp_path / "p.parquet", duck=False)
    assert fast.notes == [] and fast.rows == slow.rows == 3
    assert fast_rows == slow_rows
    assert fast_rows[0] == (1, "M1", "1", "490", "true", "2024-01-02", "2024-01-01")


def test_parquet_with_list_columns_is_read_in_python(db: MachineFile, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["O1"], "models": [["A", "B"]]}), tmp_path / "l.parquet")
    staged, rows = _staged(db, tmp_path / "l.parquet", duck=True)
    assert staged.notes == ["read row by row (column types read in Python: VARCHAR[])"] and rows == [(1, "O1", "A;B")]


def test_rejected_rows_keep_their_text_as_read_superseded_ones_too(exports: Exports) -> None:
    exports.write("machines.csv", "serial,model,customer\nM2,A,C1\nM2,B,C1\nM3,,C1\nM4,X,C1,extra\n")
    report = exports.ingest([{"path": "machines.csv", "entity": "machine", "columns": {"serial": "serial", "model": "model", "customer_id": "customer"}}])
    assert [(r.line, r.raw) for r in report.files[0].rejections] == [(2, "M2 | A | C1"), (4, "M3 |  | C1"), (5, "M4,X,C1,extra")]
