"""Duplicate keys: the order of an export proves most files free of them in one pass; any other order is checked exactly."""

from __future__ import annotations

import duckdb
import pytest

from connectors.ingest import FileReport, _ordered_unique_sql
from tests.conftest import Exports

COMPOUND = {
    "sorted by machine and time": ([("A", 1), ("A", 2), ("B", 1), ("B", 3)], True),
    "the same key twice": ([("A", 1), ("A", 1)], False),
    "a machine in two runs": ([("A", 1), ("B", 1), ("A", 2)], False),  # unique, but not provably so in one pass
    "a machine in two runs, same time": ([("A", 1), ("B", 1), ("A", 1)], False),
    "time going back": ([("A", 2), ("A", 1)], False),
    "no time": ([("A", None), ("A", None)], False),
    "no machine": ([(None, 1), (None, 1)], False),
    "no rows": ([], True),
}
SINGLE = {"rising": ([1, 2, 3], True), "repeated": ([1, 1], False), "falling": ([2, 3, 1], False),
          "a NULL": ([1, None, 2], False)}


@pytest.mark.parametrize("rows,proven", COMPOUND.values(), ids=COMPOUND.keys())
def test_compound_key_is_proven_unique_only_by_runs_that_rise(rows: list[tuple], proven: bool) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (serial VARCHAR, ts INT)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    assert con.execute(_ordered_unique_sql("t", ["serial", "ts"])).fetchone() == (proven,)


@pytest.mark.parametrize("rows,proven", SINGLE.values(), ids=SINGLE.keys())
def test_single_key_is_proven_unique_only_when_rising(rows: list, proven: bool) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (k INT)")
    con.executemany("INSERT INTO t VALUES (?)", [[r] for r in rows])
    assert con.execute(_ordered_unique_sql("t", ["k"])).fetchone() == (proven,)


def _import_hours(exports: Exports, rows: str) -> FileReport:
    """Import a wide telemetry file of operating hours (serial, day, hours) and return its report."""
    exports.write("tel.csv", "serial,day,hours\n" + rows)
    return exports.ingest([{"path": "tel.csv", "entity": "telemetry", "columns": {"serial": "serial", "timestamp": "day"},
                            "metrics": {"operating_hours": "hours"}}]).files[0]


def test_a_duplicate_across_runs_is_still_found_and_superseded(with_machines: Exports) -> None:
    """Not sorted by machine: the one-pass proof fails and the exact check finds the repeated reading."""
    f = _import_hours(with_machines, "M1,2024-01-01,1\nM2,2024-01-01,2\nM1,2024-01-02,3\nM1,2024-01-01,4\n")
    assert (f.rows_read, f.rows_stored, f.values_stored) == (4, 4, 3)
    assert [(r.line, r.reason) for r in f.rejections] == [(2, "operating_hours: superseded by line 5 (same machine and time)")]
    assert with_machines.db.sql("SELECT serial, value FROM telemetry ORDER BY serial, timestamp") == [
        ("M1", 4.0), ("M1", 3.0), ("M2", 2.0)]


def test_an_unknown_serial_is_rejected_when_the_others_are_known(with_machines: Exports) -> None:
    f = _import_hours(with_machines, "M1,2024-01-01,1\nX9,2024-01-01,2\nM1,2024-01-02,3\n")
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (3, 2, 1)
    assert [(r.line, r.reason) for r in f.rejections] == [(3, "unknown machine serial 'X9' (not in the machine file)")]
