"""The digital machine file: an embedded DuckDB database with one typed table per entity; the only holder of its connection."""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sdi.errors import SdiError
from sdi.models import ENTITIES, ENTITY_ORDER, EntitySpec
from sdi.store import duck
from sdi.store.entities import PROVENANCE_COLUMNS, ROWS_TABLES, stored_table, written_columns
from sdi.store.migrations import SCHEMA_VERSION, current_version, migrate

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from sdi.config import Settings


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did to the stored rows."""

    inserted: int
    updated: int
    unchanged: int


# DuckDB's message when another process holds the file: "... Conflicting lock is held in /usr/bin/python3 (PID 42) ..."
_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class MachineFileBusy(SdiError):
    """Another process holds the machine file: DuckDB then lets no other process open it, not even read-only."""

    def __init__(self, path: Path, pid: int, program: str) -> None:
        super().__init__(f"cannot open the machine file {path}: process {pid} ({program}) holds it open",
                         "another SDI process may hold it open (DuckDB then lets no other process in, not even to "
                         "read): wait for it to end, or stop it")
        self.path, self.pid, self.program = path, pid, program

    @classmethod
    def parse(cls, path: Path, error: BaseException) -> "MachineFileBusy | None":
        """The lock conflict an open error reports, or None for any other error."""
        found = _LOCK_HELD.search(str(error.__cause__ or error))
        return cls(path, int(found["pid"]), found["program"]) if found else None


class MachineFile:
    """Owns the database connection, the schema (migrated on open) and every write to the entity tables."""

    def __init__(self, path: Path, threads: int | None = None, memory_limit: str | None = None,
                 read_only: bool = False, temp_dir: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        config: dict[str, Any] = {"access_mode": "READ_ONLY"} if read_only else {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_dir:
            config["temp_directory"] = str(temp_dir)
        try:
            self.con: Any = duck.connect(path, config)
        except SdiError as exc:
            busy = MachineFileBusy.parse(path, exc)
            if busy is None:
                raise
            raise busy from exc
        if path.exists() and not read_only:
            os.chmod(path, 0o600)
        self.path = path
        self._depth = 0
        try:
            if read_only:
                self._check_version()
            else:
                migrate(self)
        except BaseException:
            self.con.close()
            raise

    @classmethod
    def for_settings(cls, settings: Settings, *, read_only: bool = False, path: Path | None = None) -> "MachineFile":
        """The home's machine file (or `path`) opened with the settings' threads, memory limit and spill folder."""
        return cls(path or settings.db_path, settings.db_threads, settings.db_memory_limit, read_only=read_only,
                   temp_dir=settings.db_spill_dir)

    def _check_version(self) -> None:
        """A read-only file cannot be migrated: it must already be at this SDI's schema version."""
        found = current_version(self)
        if found != SCHEMA_VERSION:
            raise SdiError(f"the machine file {self.path} has schema version {found}; this SDI reads version "
                           f"{SCHEMA_VERSION}", "run the same SDI version as the server that wrote it")

    def __enter__(self) -> "MachineFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def child(self) -> "MachineFile":
        """A handle for another thread: same database, its own DuckDB cursor."""
        other = object.__new__(MachineFile)
        other.con = self.con.cursor()
        other.path = self.path
        other._depth = 0
        return other

    @contextmanager
    def transaction(self) -> Iterator["MachineFile"]:
        """All statements inside commit together or not at all; a nested block joins the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.con.execute("ROLLBACK")
            raise
        self._depth = 0
        self.execute("COMMIT")

    def execute(self, query: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT, UPDATE, DELETE)."""
        with duck.translated():
            self.con.execute(query, params or [])

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per parameter row."""
        with duck.translated():
            self.con.executemany(query, rows)

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch all rows."""
        with duck.translated():
            return self.con.execute(query, params or []).fetchall()

    def one(self, query: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """Run a query and fetch its first row (None if there is none)."""
        with duck.translated():
            return self.con.execute(query, params or []).fetchone()

    def scalar(self, query: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query that returns one value."""
        row = self.one(query, params)
        return row[0] if row else None

    def rows_as_dicts(self, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and fetch all rows as {column: value}."""
        with duck.translated():
            cur = self.con.execute(query, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def fetch_df(self, query: str, params: Sequence[Any] | None = None) -> "pd.DataFrame":
        """Run a query and fetch the result as a pandas DataFrame."""
        with duck.translated():
            return self.con.execute(query, params or []).df()

    @contextmanager
    def registered(self, name: str, table: "pa.Table") -> Iterator[None]:
        """An Arrow table visible to SQL as the view `name` for the duration of the block."""
        with duck.translated():
            self.con.register(name, table)
        try:
            yield
        finally:
            self.con.unregister(name)

    def checkpoint(self) -> None:
        """Write everything to the database file (e.g. before copying it)."""
        self.execute("CHECKPOINT")

    def schema_version(self) -> int:
        """The schema version this file is at."""
        return current_version(self)

    def get_meta(self, key: str) -> str | None:
        """A stored setting of the data, e.g. `data_as_of`."""
        return self.scalar("SELECT value FROM meta WHERE key = ?", [key])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the data."""
        self.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def data_as_of(self) -> date:
        """The reference date of the data: the last mapping's `as_of`, else today."""
        stored = self.get_meta("data_as_of")
        return date.fromisoformat(stored) if stored else date.today()

    def counts(self) -> dict[str, int]:
        """Rows per entity table."""
        return {name: self.scalar(f"SELECT count(*) FROM {ENTITIES[name].table}") for name in ENTITY_ORDER}

    def file_provenance(self, spec: EntitySpec, path: str) -> str:
        """SQL naming the file rows come from, as the entity's stored table keeps it (its name, or its number in
        `source_files`, added there on first use)."""
        if spec.name not in ROWS_TABLES:
            return f"{duck.sql_literal(path)} AS source_file"
        self.execute("INSERT INTO source_files SELECT (SELECT coalesce(max(id), 0) + 1 FROM source_files), ? "
                     "WHERE ? NOT IN (SELECT path FROM source_files)", [path, path])
        return f"{self.scalar('SELECT id FROM source_files WHERE path = ?', [path])} AS source_file_id"

    def upsert(self, spec: EntitySpec, staged: str) -> UpsertCounts:
        """Merge a staged relation (the columns of the entity's stored table, `written_columns`) by natural key."""
        cols = [name for name, _ in written_columns(spec)]
        col_list = ", ".join(cols)
        table = stored_table(spec)
        if self.scalar(f"SELECT count(*) FROM {table}") == 0:  # DuckDB answers an INSERT with its row count
            return UpsertCounts(self.scalar(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {staged}"), 0, 0)
        total = self.scalar(f"SELECT count(*) FROM {staged}")
        on = " AND ".join(f"t.{k} = n.{k}" for k in spec.key)
        payload = [name for name, _ in written_columns(spec) if name not in spec.key and name not in PROVENANCE_COLUMNS]
        differs = " OR ".join(f"t.{c} IS DISTINCT FROM n.{c}" for c in payload) or "FALSE"
        self.execute(
            f"CREATE OR REPLACE TEMP TABLE _changed AS SELECT {', '.join('n.' + k for k in spec.key)} "
            f"FROM {staged} n JOIN {table} t ON {on} WHERE {differs}"
        )
        updated = self.scalar("SELECT count(*) FROM _changed")
        if updated:
            match = " AND ".join(f"{table}.{k} = c.{k}" for k in spec.key)
            self.execute(f"DELETE FROM {table} USING _changed c WHERE {match}")
        before = self.scalar(f"SELECT count(*) FROM {table}")
        self.execute(
            f"INSERT INTO {table} ({col_list}) SELECT {', '.join('n.' + c for c in cols)} FROM {staged} n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
        )
        added = self.scalar(f"SELECT count(*) FROM {table}") - before
        self.execute("DROP TABLE IF EXISTS _changed")
        return UpsertCounts(added - updated, updated, total - added)


class LazyCursor(MachineFile):
    """A handle whose DuckDB cursor is opened on first use, in the thread that uses it (one per API request)."""

    def __init__(self, parent: MachineFile, lock: threading.Lock) -> None:  # noqa: D107 - no schema work here
        self._parent, self._lock, self._con = parent, lock, None
        self.path = parent.path
        self._depth = 0

    @property
    def con(self) -> Any:  # type: ignore[override]
        """The cursor (opened now if needed)."""
        if self._con is None:
            with self._lock:
                self._con = self._parent.con.cursor()
        return self._con

    def close(self) -> None:
        """Close the cursor if it was opened."""
        if self._con is not None:
            self._con.close()
