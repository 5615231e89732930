"""A consistent read-only copy of the machine file, for commands run while another process (`sdi serve`) holds it."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sdi.store.duck import sql_literal
from sdi.store.machine_file import MachineFile

TAKEN_AT = "snapshot_taken_at"  # meta key stamped into the copy: when the copy's transaction began (UTC)
_lock = threading.Lock()  # one copy at a time: each one is a full pass over the file
_copies: dict[Path, tuple[tuple[object, ...], datetime]] = {}  # target -> (files' state it was taken at, its time)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files_state(path: Path) -> tuple[object, ...]:
    """Size and mtime of the database file and its write-ahead log: every committed write changes one of them."""
    state: list[object] = []
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            stat = file.stat()
            state.append((stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            state.append(None)
    return tuple(state)


def write_snapshot(db: MachineFile, target: Path) -> tuple[datetime, bool]:
    """A copy of every table, taken in one transaction, at `target`; returns its time and whether the previous
    copy was kept because nothing was committed since."""
    with _lock:
        state = _files_state(db.path)  # read before the copy: a write after it makes the next call copy again
        kept = _copies.get(target)
        if kept and kept[0] == state and target.is_file():
            return kept[1], True
        taken = _copy(db, target)
        _copies[target] = (state, taken)
        return taken, False


def _copy(db: MachineFile, target: Path) -> datetime:
    """Write the copy beside `target`, then swap it in (readers of the previous copy keep their open file)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    alias = f"snapshot_{uuid.uuid4().hex}"
    path_literal = sql_literal(scratch)
    try:
        source = db.scalar("SELECT current_database()")
        taken = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        db.execute("SET enable_progress_bar = false")  # this cursor only: no bar in the server's log
        db.execute(f"ATTACH {path_literal} AS {alias}")
        try:
            with db.transaction():  # MVCC: writes committed meanwhile by other cursors are not in the copy
                db.execute(f"COPY FROM DATABASE {_ident(source)} TO {alias}")
                db.execute(f"INSERT OR REPLACE INTO {alias}.meta VALUES (?, ?)", [TAKEN_AT, taken.isoformat()])
            db.execute(f"CHECKPOINT {alias}")
        finally:
            db.execute(f"DETACH {alias}")
        os.chmod(scratch, 0o600)
        os.replace(scratch, target)
    finally:
        for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return taken


def forget_snapshot(target: Path) -> None:
    """Remove a copy and its folder if that is left empty (when the server stops)."""
    with _lock:
        _copies.pop(target, None)
        target.unlink(missing_ok=True)
        if target.parent.is_dir() and not any(target.parent.iterdir()):
            target.parent.rmdir()
