"""Date parsing: Python and SQL agree on every supported format and refuse the same values."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from connectors.dates import parse_date, parse_datetime, timestamp_sql

CASES = {
    "2024-01-05": datetime(2024, 1, 5),
    "2024-01-05 13:45:10": datetime(2024, 1, 5, 13, 45, 10),
    "2024-01-05T13:45:10Z": datetime(2024, 1, 5, 13, 45, 10),
    "2024-01-05T13:45:10+02:00": datetime(2024, 1, 5, 13, 45, 10),
    "05.01.2024": datetime(2024, 1, 5),
    "5.1.2024": datetime(2024, 1, 5),
    "01/05/2024": datetime(2024, 1, 5),
    "01/05/2024 01:45:10 PM": datetime(2024, 1, 5, 13, 45, 10),
    "1/5/2024 12:00:00 AM": datetime(2024, 1, 5, 0, 0, 0),
    "45296": datetime(2024, 1, 5),  # Excel serial
    "45296.5": datetime(2024, 1, 5, 12, 0),
    " 2024/01/05 ": datetime(2024, 1, 5),
}
BAD = ["31.02.2024", "2024", "13/45/2024", "yesterday", "1234", "2024-13-01", ""]


@pytest.mark.parametrize("text,expected", CASES.items())
def test_python_parses_common_formats(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", BAD)
def test_python_refuses_non_dates(text: str) -> None:
    assert parse_datetime(text) is None


def test_sql_agrees_with_python_on_every_case() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    values = list(CASES) + BAD
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    got = dict(con.execute(f"SELECT x, {timestamp_sql('x')} FROM t").fetchall())
    assert got == {v: parse_datetime(v) for v in values}


def test_explicit_format_forces_day_first() -> None:
    assert parse_date("03/04/2024", "%d/%m/%Y").isoformat() == "2024-04-03"
    assert parse_date("03/04/2024").isoformat() == "2024-03-04"
