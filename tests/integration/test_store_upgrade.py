"""Upgrade: a machine file built with the schema SDI had before migrations opens with this code, migrates, keeps every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdi.errors import SdiError
from sdi.store import SCHEMA_VERSION, MachineFile
from sdi.store.duck import connect
from sdi.store import machine_file
from sdi.models import ENTITIES
from sdi.store.entities import ROWS_TABLES
from sdi.store.migrations import MIGRATIONS, migrate

FROZEN = Path(__file__).resolve().parents[1] / "fixtures" / "schema_v0.sql"
ROWS = 3
TABLES_SQL = "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
# Tables and views: since m004 `telemetry` is a view over `telemetry_rows` that adds source_id.
RELATIONS_SQL = ("SELECT table_name, sql FROM duckdb_tables() WHERE NOT temporary AND table_name <> 'schema_version' "
                 "UNION ALL SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND NOT temporary ORDER BY 1")


def _literal(data_type: str, table: str, column: str, i: int) -> str:
    """A distinct, typed value for row i of a column."""
    if data_type.endswith("[]"):
        return f"['{table}-{column}-{i}', 'second']"
    return {
        "BIGINT": f"{i}",
        "DOUBLE": f"{i}.5",
        "DATE": f"DATE '2020-01-{i:02d}'",
        "TIMESTAMP": f"TIMESTAMP '2020-01-{i:02d} 12:34:56'",
        "BOOLEAN": "true" if i % 2 else "false",
        "JSON": f"'{{\"row\": {i}, \"table\": \"{table}\"}}'",
    }.get(data_type, f"'{table}-{column}-{i} ü'")


def _fill(con: Any) -> None:
    """Rows in every table and a few values drawn from every sequence."""
    for (table,) in con.execute(TABLES_SQL).fetchall():
        columns = con.execute(
            "SELECT c.column_name, c.data_type FROM duckdb_columns() c WHERE c.table_name = ? AND c.column_name NOT IN "
            "(SELECT column_name FROM information_schema.columns WHERE table_name = ? AND is_generated = 'ALWAYS') "
            "ORDER BY c.column_index", [table, table]).fetchall()
        for i in range(1, ROWS + 1):
            values = ", ".join(_literal(t, table, c, i) for c, t in columns)
            con.execute(f"INSERT INTO {table} ({', '.join(c for c, _ in columns)}) VALUES ({values})")
    for (sequence,) in con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall():
        con.execute(f"SELECT nextval('{sequence}') FROM range({ROWS})").fetchall()


def _snapshot(db: MachineFile) -> dict[str, Any]:
    """Every table's and view's rows (sorted), its DDL, and every sequence's position."""
    relations = db.sql(RELATIONS_SQL)
    return {
        "rows": {t: db.sql(f"SELECT * FROM {t} ORDER BY ALL") for t, _ in relations},
        "ddl": relations,
        "sequences": db.sql("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1"),
    }


@pytest.fixture()
def old_file(tmp_path: Path) -> Path:
    """A machine file with the frozen pre-migration schema and rows in every table."""
    path = tmp_path / "home" / "machine-file.duckdb"
    path.parent.mkdir(parents=True)
    con = connect(path, {})
    con.execute(FROZEN.read_text(encoding="utf-8"))
    _fill(con)
    con.close()
    return path


def test_frozen_schema_covers_every_table(old_file: Path) -> None:
    with MachineFile(old_file) as db:
        tables = {t for t, _ in db.sql(RELATIONS_SQL)} | {"schema_version"}
    assert {"machines", "telemetry", "imports", "meta", "rejections", "users", "user_serials", "leads", "outcomes",
            "opportunities", "conversations", "trigger_runs", "schema_version"} <= tables


def test_old_file_migrates_and_keeps_every_row(old_file: Path) -> None:
    con = connect(old_file, {})
    before_rows = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for (t,) in con.execute(TABLES_SQL).fetchall()}
    con.close()
    assert all(len(rows) == ROWS for rows in before_rows.values())

    with MachineFile(old_file) as db:
        assert db.schema_version() == SCHEMA_VERSION
        versions = db.sql("SELECT version, name, applied_at FROM schema_version ORDER BY version")
        after = _snapshot(db)
        assert db.scalar("SELECT nextval('lead_seq')") == ROWS + 1  # sequences continue where they were
    assert [v[:2] for v in versions] == [(m.version, m.name) for m in MIGRATIONS] and versions[-1][0] == SCHEMA_VERSION
    assert {t: after["rows"][t] for t in before_rows} == before_rows  # count and content per table (or its view)
    moved = set(ROWS_TABLES.values()) | {"source_files"}  # the rows behind such a view, and the files they name
    files = dict(after["rows"]["source_files"])  # the old rows' source_file, each named once, by number
    assert sorted(files.values()) == sorted({row[4] for row in before_rows["telemetry"]})
    names = {v: k for k, v in files.items()}  # (serial, timestamp, metric, value, source_line, file number)
    assert after["rows"]["telemetry_rows"] == sorted((*row[:4], row[5], names[row[4]]) for row in before_rows["telemetry"])
    assert not any(rows for t, rows in after["rows"].items() if t not in before_rows.keys() | moved)  # later migrations' tables start empty

    with MachineFile(old_file) as db:  # a second open is a no-op
        assert db.sql("SELECT version, name, applied_at FROM schema_version ORDER BY version") == versions
        again = _snapshot(db)
    assert again["rows"] == after["rows"] and again["ddl"] == after["ddl"]


def test_new_file_has_exactly_the_frozen_schema(old_file: Path, tmp_path: Path) -> None:
    with MachineFile(old_file) as db:
        frozen = _snapshot(db)
    with MachineFile(tmp_path / "fresh" / "machine-file.duckdb") as db:
        fresh = _snapshot(db)
        assert db.schema_version() == SCHEMA_VERSION
    assert fresh["ddl"] == frozen["ddl"]
    assert [s for s, _ in fresh["sequences"]] == [s for s, _ in frozen["sequences"]]


def test_file_from_a_newer_sdi_is_refused(old_file: Path) -> None:
    with MachineFile(old_file) as db:
        db.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [SCHEMA_VERSION + 1])
    with pytest.raises(SdiError, match=f"schema version {SCHEMA_VERSION + 1}") as err:
        MachineFile(old_file)
    assert "upgrade SDI" in (err.value.hint or "")
    con = connect(old_file, {})  # refused, not changed: the file is free again and its rows are there
    assert con.execute("SELECT count(*) FROM leads").fetchone() == (ROWS,)
    con.close()


READINGS = ("SELECT 'M' || (i % 7), TIMESTAMP '2024-01-01 06:30:00' + to_hours(i), "
            "['vibration', 'temperature'][i % 2 + 1], i / 4, {file}, i + 2 FROM range({n}) r(i)")


def _file_at(version: int, path: Path, monkeypatch: pytest.MonkeyPatch, table: str, readings: str) -> Path:
    """A machine file as SDI with schema `version` left it, with telemetry readings written to `table`."""
    with monkeypatch.context() as patch:
        patch.setattr(machine_file, "migrate", lambda db: migrate(db, MIGRATIONS[:version]))
        with MachineFile(path) as db:
            assert db.schema_version() == version
            db.execute(f"INSERT INTO {table} (serial, timestamp, metric, value, source_file, source_line) {readings}")
    return path


@pytest.fixture()
def v3_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Schema version 3: telemetry's source_id a generated column."""
    return _file_at(3, tmp_path / "v3" / "machine-file.duckdb", monkeypatch, "telemetry",
                    READINGS.format(file="'tel.csv'", n=500))


def _telemetry(path: Path) -> list[tuple[Any, ...]]:
    """The file's telemetry as read by DuckDB alone (no migration runs)."""
    con = connect(path, {})
    rows = con.execute("SELECT * FROM telemetry ORDER BY ALL").fetchall()
    con.close()
    return rows


def _fresh_ddl(tmp_path: Path) -> list[tuple[str, str]]:
    """The tables and views of a new machine file."""
    with MachineFile(tmp_path / "fresh" / "machine-file.duckdb") as db:
        return _snapshot(db)["ddl"]


def test_v3_telemetry_keeps_its_rows_and_source_ids(v3_file: Path, tmp_path: Path) -> None:
    before = _telemetry(v3_file)
    assert len(before) == 500 and before[0][-1].startswith("telemetry:M0/")

    with MachineFile(v3_file) as db:
        assert db.schema_version() == SCHEMA_VERSION
        assert db.sql("SELECT * FROM telemetry ORDER BY ALL") == before  # same columns, rows and source ids
        assert db.scalar("SELECT count(*) FROM telemetry WHERE source_id = 'telemetry:M3/temperature@2024-01-01T09:30:00'") == 1
        assert "source_id" not in [c for (c,) in db.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'telemetry_rows'")]
        upgraded = _snapshot(db)
    assert _fresh_ddl(tmp_path) == upgraded["ddl"]  # a new file gets exactly the upgraded schema


@pytest.fixture()
def v4_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Schema version 4: telemetry_rows naming its source file as text (two files, and rows with none)."""
    return _file_at(4, tmp_path / "v4" / "machine-file.duckdb", monkeypatch, "telemetry_rows",
                    READINGS.format(file="['tel.csv', 'wide/tel-2.csv', NULL][i % 3 + 1]", n=600))


def test_v4_telemetry_keeps_its_rows_and_names_each_file_once(v4_file: Path, tmp_path: Path) -> None:
    before = _telemetry(v4_file)
    assert len(before) == 600 and {row[4] for row in before} == {"tel.csv", "wide/tel-2.csv", None}

    with MachineFile(v4_file) as db:
        assert db.schema_version() == SCHEMA_VERSION
        assert db.sql("SELECT * FROM telemetry ORDER BY ALL") == before  # same columns, rows, files and source ids
        assert db.sql("SELECT path FROM source_files ORDER BY id") == [("tel.csv",), ("wide/tel-2.csv",)]
        assert db.file_provenance(ENTITIES["telemetry"], "wide/tel-2.csv") == "2 AS source_file_id"  # known: its number
        assert db.file_provenance(ENTITIES["telemetry"], "new.csv") == "3 AS source_file_id"  # new: the next number
        upgraded = _snapshot(db)
    assert _fresh_ddl(tmp_path) == upgraded["ddl"]  # a new file gets exactly the upgraded schema
