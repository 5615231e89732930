"""The import log (imports, rejections): one row per imported file and one per rejected input row."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sdi.store.machine_file import MachineFile


def log_import(
    db: MachineFile, *, mapping: str, file: str, entity: str, sha256: str, started: datetime, rows_read: int,
    rows_stored: int, rows_rejected: int, inserted: int, updated: int, unchanged: int,
    rejections: Sequence[tuple[str, int | None, str, str, str, str | None]] = (),
) -> int:
    """Record one imported file and its rejections (file, line, location, scope, reason, raw); returns the import id."""
    import_id: int = db.scalar("SELECT nextval('import_seq')")
    db.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [import_id, mapping, file, entity, sha256, started, rows_read, rows_stored, rows_rejected, inserted, updated,
         unchanged],
    )
    if rejections:
        db.executemany("INSERT INTO rejections VALUES (?, ?, ?, ?, ?, ?, ?)", [[import_id, *r] for r in rejections])
    return import_id
