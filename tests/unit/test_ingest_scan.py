"""The byte scan before DuckDB reads a CSV: blank lines, quotes and padded cells found exactly, at chunk seams too."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import staging
from connectors.staging import _scan
from tests.conftest import Exports


@pytest.fixture(params=[1 << 24, 4], ids=["one chunk", "4-byte chunks"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The scan's chunk size: whole files, and tiny chunks so every pattern straddles a seam somewhere."""
    monkeypatch.setattr(staging, "_CHUNK", request.param)
    return request.param


@pytest.mark.parametrize(
    ("content", "blank", "quoted", "padded"),
    [
        (b"a,b\n1,2\n3,4\n", False, False, False),
        (b"a,b\n1,2\n\n3,4\n", True, False, False),
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", True, False, False),
        (b"a,b\n1,2\n3,4\n\n\n", False, False, False),  # blank lines only at the end shift no row
        (b"a,b\n1,2\n \n3,4\n", False, False, True),  # a line of spaces is a row DuckDB rejects, not a blank line
        (b"a,b\n1,two words\n", False, False, False),  # spaces inside a cell need no trimming
        (b"a,b\n1, 2\n", False, False, True),
        (b"a,b\n1 ,2\n", False, False, True),
        (b"a,b\n1,2 \n", False, False, True),
        (b"a,b\n1,2 \r\n", False, False, True),
        (b'a,b\n1," 2"\n', False, True, True),
        (b'a,b\n1,"2, 3"\n', False, True, True),  # after a delimiter inside quotes: trimmed, which changes nothing
        (b"a,b\n1,2\n 3,4\n", False, False, True),
        (b"a,b\n1,2\n3,4 ", False, False, True),
    ],
)
def test_scan_finds_blank_lines_quotes_and_padded_cells(
    tmp_path: Path, chunk: int, content: bytes, blank: bool, quoted: bool, padded: bool
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    found = _scan(path, ",")
    assert (found.blank, found.quoted, found.padded) == (blank, quoted, padded)


def test_scan_of_a_semicolon_file_looks_beside_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a;b\n1, 2;3\n")
    assert not _scan(path, ";").padded
    path.write_bytes(b"a;b\n1; 2\n")
    assert _scan(path, ";").padded


def test_padded_and_unpadded_files_import_the_same_values(with_machines: Exports) -> None:
    """Trimming is skipped only where no cell can need it: both files give the same rows."""
    mapping = {"entity": "event", "columns": {"event_id": "id", "serial": "serial", "timestamp": "ts", "kind": "kind",
                                              "code": "code", "description": "text"}}
    plain = "id,serial,ts,kind,code,text\nE1,M1,2024-01-02 08:00:00,error,E-1,seal worn\nE2,M2,2024-01-03,NA,E-2,\n"
    padded = plain.replace("E1,M1,", "E1, M1 ,").replace(",error,", ", error,").replace(",NA,", ", NA ,")
    stored = []
    for name, text in (("plain.csv", plain), ("padded.csv", padded)):
        with_machines.write(name, text)
        stored.append(with_machines.ingest([{**mapping, "path": name}]).files[0])
    assert not _scan(with_machines.folder / "plain.csv", ",").padded and _scan(with_machines.folder / "padded.csv", ",").padded
    assert [(f.rows_stored, [r.reason for r in f.rejections]) for f in stored] == [
        (1, ["missing required field kind (column kind)"])] * 2
    assert (stored[1].inserted, stored[1].updated, stored[1].unchanged) == (0, 0, 1)  # the padded file's values, trimmed

