"""Data loads: upload names and limits, uploaded mappings kept to their folder, import runs and their rejected rows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest

from sdi.api import uploads
from sdi.errors import SdiError
from sdi.store.imports import get_run, list_runs, run_rejections
from tests.conftest import MACHINE_MAP, MACHINES_CSV, Exports


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _save(home: Path, upload: str, name: str, *parts: bytes) -> dict:
    return asyncio.run(uploads.save(home, upload, name, _chunks(*parts)))


def test_upload_names_are_sanitised_and_kept_in_their_folder(tmp_path: Path) -> None:
    assert uploads.safe_name("../../etc/Wartung März 2024.csv") == "Wartung_M_rz_2024.csv"
    assert uploads.safe_name("C:\\exports\\.hidden.yaml") == "hidden.yaml"
    for bad in ("run.sh", "noextension", ".csv", "../"):
        with pytest.raises(SdiError):
            uploads.safe_name(bad)
    upload = uploads.new_upload(tmp_path)
    assert uploads.new_upload(tmp_path) != upload  # two in one second get two folders
    saved = _save(tmp_path, upload, "../records.csv", b"a,b\n", b"1,2\n")
    assert saved["name"] == "records.csv" and saved["size"] == 8 and not saved["mapping"]
    assert (tmp_path / "uploads" / upload / "records.csv").read_bytes() == b"a,b\n1,2\n"
    assert oct((tmp_path / "uploads" / upload / "records.csv").stat().st_mode & 0o777) == "0o600"
    for folder in ("..", "../uploads", "20260101T000000Z"):
        with pytest.raises(SdiError, match="no upload"):
            _save(tmp_path, folder, "x.csv", b"1")


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 10)
    upload = uploads.new_upload(tmp_path)
    with pytest.raises(SdiError, match="larger than the upload limit"):
        _save(tmp_path, upload, "big.csv", b"123456", b"789012")
    assert list((tmp_path / "uploads" / upload).iterdir()) == []


def test_an_uploaded_mapping_may_name_only_its_own_files(tmp_path: Path) -> None:
    upload = uploads.new_upload(tmp_path)
    folder = tmp_path / "uploads" / upload
    (tmp_path / "secret.csv").write_text("serial\nM1\n")
    (folder / "m.yaml").write_text("files:\n  - {path: ../../secret.csv, entity: machine, columns: {serial: serial, model: serial}}\n")
    with pytest.raises(SdiError, match="not a file of its upload"):
        uploads.check_upload_mapping(tmp_path, folder / "m.yaml")
    (folder / "ok.yaml").write_text("files:\n  - {path: m.csv, entity: machine, columns: {serial: serial, model: serial}}\n")
    uploads.check_upload_mapping(tmp_path, folder / "ok.yaml")
    listed = uploads.list_mappings(tmp_path, tmp_path / "demo-data")
    assert {(m["name"], m["where"]) for m in listed} == {("m.yaml", "upload"), ("ok.yaml", "upload")}


def test_an_import_is_one_run_with_its_files_counts_and_rejected_rows(exports: Exports) -> None:
    exports.write("machines.csv", MACHINES_CSV + "M1,TL-3030,C1\n")
    exports.write("records.csv", "machine,when,note\nM1,2024-01-05,ok\nM1,31.02.2024,bad day\nM9,2024-01-06,who\n")
    report = exports.ingest([MACHINE_MAP, {"path": "records.csv", "entity": "service_record",
                                           "columns": {"serial": "machine", "date": "when", "text": "note"}}])
    db = exports.db
    run = get_run(db, report.run_id)
    assert run is not None and run["state"] == "done" and run["finished_at"].endswith("+00:00")
    assert [(f["file"], f["rows_read"], f["rows_stored"], f["rows_rejected"]) for f in run["files"]] == [
        ("machines.csv", 4, 4, 0), ("records.csv", 3, 1, 2)]
    assert run["totals"]["duplicates_merged"] == report.files[0].duplicates_merged == 1
    total, rows = run_rejections(db, report.run_id, limit=1, offset=1)
    assert total == 2 and [(r["file"], r["line"]) for r in rows] == [("records.csv", 4)]
    assert "unknown machine serial 'M9'" in rows[0]["reason"]
    assert run_rejections(db, report.run_id, file="machines.csv")[0] == 0

    # a mapping that fails is a failed run with its message; imports from before runs were recorded still list
    exports.write("records.csv", "machine,when\nM1,2024-01-05\n")
    with pytest.raises(SdiError):
        exports.ingest([{"path": "records.csv", "entity": "service_record", "columns": {"serial": "machine", "date": "when", "text": "note"}}])
    db.execute("INSERT INTO imports VALUES (nextval('import_seq'), 'old.yaml', 'a.csv', 'machine', 'x', now()::TIMESTAMP, 2, 2, 0, 2, 0, 0)")
    total, runs = list_runs(db)
    [failed] = [r for r in runs if r["state"] == "failed"]
    assert total == 3 and "'note'" in failed["error"] and failed["files"] == []
    assert {r["run_id"] for r in runs} >= {report.run_id} and any(r["run_id"] < 0 and r["mapping"] == "old.yaml" for r in runs)
