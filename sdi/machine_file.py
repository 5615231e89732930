"""The digital machine file: an embedded DuckDB database with one typed table per entity."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from sdi.errors import SdiError
from sdi.models import ENTITIES, ENTITY_ORDER, EntitySpec, source_id_sql

PROVENANCE = (("source_file", "VARCHAR"), ("source_line", "BIGINT"))

LOG_TABLES = """
CREATE SEQUENCE IF NOT EXISTS import_seq START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id BIGINT PRIMARY KEY, mapping VARCHAR, file VARCHAR, entity VARCHAR, sha256 VARCHAR,
    started_at TIMESTAMP, rows_read BIGINT, rows_stored BIGINT, rows_rejected BIGINT,
    inserted BIGINT, updated BIGINT, unchanged BIGINT);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS rejections (
    import_id BIGINT, file VARCHAR, line BIGINT, location VARCHAR, scope VARCHAR, reason VARCHAR, raw VARCHAR);
"""


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did to the stored rows."""

    inserted: int
    updated: int
    unchanged: int


def stored_columns(spec: EntitySpec) -> list[tuple[str, str]]:
    """(column, SQL type) of an entity's table, excluding the virtual source id."""
    return [(f.name, f.sql_type) for f in spec.fields] + list(spec.extra_columns) + list(PROVENANCE)


def create_table_sql(spec: EntitySpec) -> str:
    """DDL for one entity table; source_id is derived from the key so it can never drift."""
    cols = ", ".join(f"{name} {sql_type}" for name, sql_type in stored_columns(spec))
    return (
        f"CREATE TABLE IF NOT EXISTS {spec.table} ({cols}, "
        f"source_id VARCHAR GENERATED ALWAYS AS ({source_id_sql(spec)}) VIRTUAL)"
    )


class MachineFile:
    """Owns the database connection and every write to the entity tables."""

    def __init__(self, path: Path, threads: int | None = None, memory_limit: str | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        try:
            self.con = duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:
            raise SdiError(
                f"cannot open the machine file {path}: {exc}",
                "another SDI process may hold it open; stop it or point SDI_HOME elsewhere",
            ) from exc
        if path.exists():
            os.chmod(path, 0o600)
        self.path = path
        self.ensure_schema()

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
        return other

    def ensure_schema(self) -> None:
        """Create every entity table and the import log if missing."""
        for name in ENTITY_ORDER:
            self.con.execute(create_table_sql(ENTITIES[name]))
        self.con.execute(LOG_TABLES)

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch all rows."""
        return self.con.execute(query, params or []).fetchall()

    def scalar(self, query: str, params: list[Any] | None = None) -> Any:
        """Run a query that returns one value."""
        row = self.con.execute(query, params or []).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        """A stored setting of the data, e.g. `data_as_of`."""
        return self.scalar("SELECT value FROM meta WHERE key = ?", [key])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the data."""
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def data_as_of(self) -> date:
        """The reference date of the data: the last mapping's `as_of`, else today."""
        stored = self.get_meta("data_as_of")
        return date.fromisoformat(stored) if stored else date.today()

    def counts(self) -> dict[str, int]:
        """Rows per entity table."""
        return {name: self.scalar(f"SELECT count(*) FROM {ENTITIES[name].table}") for name in ENTITY_ORDER}

    def upsert(self, spec: EntitySpec, staged: str) -> UpsertCounts:
        """Merge a staged relation (entity columns + provenance) into the entity table by natural key."""
        cols = [name for name, _ in stored_columns(spec)]
        col_list = ", ".join(cols)
        table = spec.table
        total = self.scalar(f"SELECT count(*) FROM {staged}")
        if self.scalar(f"SELECT count(*) FROM {table}") == 0:
            self.con.execute(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {staged}")
            return UpsertCounts(total, 0, 0)
        on = " AND ".join(f"t.{k} = n.{k}" for k in spec.key)
        payload = [name for name, _ in stored_columns(spec) if name not in spec.key and name not in dict(PROVENANCE)]
        differs = " OR ".join(f"t.{c} IS DISTINCT FROM n.{c}" for c in payload) or "FALSE"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _changed AS SELECT {', '.join('n.' + k for k in spec.key)} "
            f"FROM {staged} n JOIN {table} t ON {on} WHERE {differs}"
        )
        updated = self.scalar("SELECT count(*) FROM _changed")
        if updated:
            match = " AND ".join(f"{table}.{k} = c.{k}" for k in spec.key)
            self.con.execute(f"DELETE FROM {table} USING _changed c WHERE {match}")
        before = self.scalar(f"SELECT count(*) FROM {table}")
        self.con.execute(
            f"INSERT INTO {table} ({col_list}) SELECT {', '.join('n.' + c for c in cols)} FROM {staged} n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
        )
        added = self.scalar(f"SELECT count(*) FROM {table}") - before
        self.con.execute("DROP TABLE IF EXISTS _changed")
        return UpsertCounts(added - updated, updated, total - added)
