"""Telemetry's source id computed when read, not on insert: the rows move to `telemetry_rows` without the generated
column, and the view `telemetry` adds source_id, so every reader sees the same columns as before."""

from __future__ import annotations

from sdi.models import ENTITIES
from sdi.store.entities import ROWS_TABLES, source_view_sql, stored_table
from sdi.store.migrations.base import Db

NAME = "telemetry source id by view"


def apply(db: Db) -> None:
    """Rename each such entity's table, drop its generated source_id (the rows stay) and put the view in its place."""
    for name in ROWS_TABLES:
        spec = ENTITIES[name]
        db.execute(f"ALTER TABLE {spec.table} RENAME TO {stored_table(spec)}")
        db.execute(f"ALTER TABLE {stored_table(spec)} DROP COLUMN source_id")
        db.execute(source_view_sql(spec))
