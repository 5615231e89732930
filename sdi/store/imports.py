"""The import log: runs (one per import), one row per imported file and one per rejected input row."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from sdi.store.machine_file import MachineFile

FILE_COLUMNS = ("import_id", "file", "entity", "sha256", "started_at", "finished_at", "rows_read", "rows_stored",
                "rows_rejected", "inserted", "updated", "unchanged", "duplicates_merged", "values_stored")
# Imports made before runs were recorded: consecutive files of one mapping count as one run, numbered -first_import_id.
_LEGACY = """
SELECT i.*, -min(i.import_id) OVER (PARTITION BY i.mapping, grp) AS run_id FROM (
    SELECT i.*, i.import_id - row_number() OVER (PARTITION BY i.mapping ORDER BY i.import_id) AS grp
    FROM imports i LEFT JOIN import_run_files f USING (import_id) WHERE f.import_id IS NULL) i
"""
_FILES = f"""
SELECT i.import_id, i.file, i.entity, i.sha256, i.started_at, f.finished_at, i.rows_read, i.rows_stored,
       i.rows_rejected, i.inserted, i.updated, i.unchanged, f.duplicates_merged, f.values_stored, f.run_id
FROM imports i JOIN import_run_files f USING (import_id)
UNION ALL
SELECT import_id, file, entity, sha256, started_at, NULL, rows_read, rows_stored, rows_rejected, inserted, updated,
       unchanged, NULL, NULL, run_id FROM ({_LEGACY})
"""
_RUNS = f"""
SELECT r.run_id, r.mapping, r.started_by, r.source, r.started_at, r.finished_at, r.state, r.error
FROM import_runs r
UNION ALL
SELECT run_id, any_value(mapping), NULL, NULL, min(started_at), NULL, 'done', NULL FROM ({_LEGACY}) GROUP BY run_id
"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def start_run(db: MachineFile, mapping: str, started_by: str | None, source: str) -> int:
    """Record an import that is about to start (state 'running'); returns its run id."""
    run_id: int = db.scalar("SELECT nextval('import_run_seq')")
    db.execute("INSERT INTO import_runs VALUES (?, ?, ?, ?, ?, NULL, 'running', NULL)",
               [run_id, mapping, started_by, source, _now()])
    return run_id


def finish_run(db: MachineFile, run_id: int, error: str | None = None) -> None:
    """Mark a run done, or failed with the error a person reads."""
    db.execute("UPDATE import_runs SET finished_at = ?, state = ?, error = ? WHERE run_id = ?",
               [_now(), "failed" if error else "done", error, run_id])


def log_import(
    db: MachineFile, *, mapping: str, file: str, entity: str, sha256: str, started: datetime, rows_read: int,
    rows_stored: int, rows_rejected: int, inserted: int, updated: int, unchanged: int,
    rejections: Sequence[tuple[str, int | None, str, str, str, str | None]] = (),
    run_id: int | None = None, duplicates_merged: int = 0, values_stored: int = 0,
) -> int:
    """Record one imported file and its rejections (file, line, location, scope, reason, raw); returns the import id."""
    import_id: int = db.scalar("SELECT nextval('import_seq')")
    db.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [import_id, mapping, file, entity, sha256, started, rows_read, rows_stored, rows_rejected, inserted, updated,
         unchanged],
    )
    if run_id is not None:
        db.execute("INSERT INTO import_run_files VALUES (?, ?, ?, ?, ?)",
                   [import_id, run_id, duplicates_merged, values_stored, _now()])
    if rejections:
        db.executemany("INSERT INTO rejections VALUES (?, ?, ?, ?, ?, ?, ?)", [[import_id, *r] for r in rejections])
    return import_id


def _iso(value: Any) -> Any:
    """Stored times are UTC without a zone: say so, or a browser reads them as local time."""
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds") if isinstance(value, datetime) else value


def _files(db: MachineFile, run_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {r: [] for r in run_ids}
    if not run_ids:
        return out
    marks = ", ".join("?" for _ in run_ids)
    for row in db.sql(f"SELECT * FROM ({_FILES}) WHERE run_id IN ({marks}) ORDER BY import_id", run_ids):
        out[row[-1]].append({k: _iso(v) for k, v in zip(FILE_COLUMNS, row[:-1])})
    return out


def _run_dicts(db: MachineFile, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    keys = ("run_id", "mapping", "started_by", "source", "started_at", "finished_at", "state", "error")
    runs = [{k: _iso(v) for k, v in zip(keys, row)} for row in rows]
    files = _files(db, [r["run_id"] for r in runs])
    for run in runs:
        run["files"] = files[run["run_id"]]
        run["totals"] = {k: sum(f[k] or 0 for f in run["files"]) for k in
                         ("rows_read", "rows_stored", "rows_rejected", "duplicates_merged")}
    return runs


def list_runs(db: MachineFile, limit: int = 20, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """(total, runs newest first), each with its files' counts."""
    total = db.scalar(f"SELECT count(*) FROM ({_RUNS})")
    rows = db.sql(f"SELECT * FROM ({_RUNS}) ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT ? OFFSET ?",
                  [limit, offset])
    return total, _run_dicts(db, rows)


def get_run(db: MachineFile, run_id: int) -> dict[str, Any] | None:
    """One run with its files' counts, or None."""
    rows = db.sql(f"SELECT * FROM ({_RUNS}) WHERE run_id = ?", [run_id])
    return _run_dicts(db, rows)[0] if rows else None


def run_rejections(
    db: MachineFile, run_id: int, file: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total, rejected rows of a run's files: file, line, location, scope, reason, raw), by file and line."""
    where = "j.import_id IN (SELECT import_id FROM ({files}) WHERE run_id = ?)".format(files=_FILES)
    params: list[Any] = [run_id]
    if file:
        where += " AND j.file = ?"
        params.append(file)
    total = db.scalar(f"SELECT count(*) FROM rejections j WHERE {where}", params)
    rows = db.sql(f"SELECT j.import_id, j.file, j.line, j.location, j.scope, j.reason, j.raw FROM rejections j "
                  f"WHERE {where} ORDER BY j.import_id, j.line, j.scope LIMIT ? OFFSET ?", [*params, limit, offset])
    keys = ("import_id", "file", "line", "location", "scope", "reason", "raw")
    return total, [dict(zip(keys, r)) for r in rows]


def last_run(db: MachineFile) -> dict[str, Any] | None:
    """The newest import run with its files' counts, or None."""
    _, runs = list_runs(db, 1, 0)
    return runs[0] if runs else None
