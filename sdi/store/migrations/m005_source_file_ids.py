"""Telemetry's source file as a number: `source_files` names each file once, the rows keep its id, and the view
`telemetry` gives the name back, so every reader sees the same columns as before."""

from __future__ import annotations

from sdi.models import ENTITIES
from sdi.store.entities import ROWS_TABLES, SOURCE_FILES, source_file_view_sql, stored_table
from sdi.store.migrations.base import Db

NAME = "source files by id"


def apply(db: Db) -> None:
    """Number the files the rows name, give each row its file's number, drop the text and redo the view."""
    db.execute(SOURCE_FILES)
    for name in ROWS_TABLES:
        spec = ENTITIES[name]
        rows = stored_table(spec)
        db.execute(f"DROP VIEW {spec.table}")
        db.execute(
            "INSERT INTO source_files SELECT (SELECT coalesce(max(id), 0) FROM source_files) + row_number() OVER "
            f"(ORDER BY path), path FROM (SELECT DISTINCT source_file AS path FROM {rows} WHERE source_file IS NOT NULL "
            "EXCEPT SELECT path FROM source_files)"
        )
        db.execute(f"ALTER TABLE {rows} ADD COLUMN source_file_id INTEGER")
        db.execute(f"UPDATE {rows} SET source_file_id = f.id FROM source_files f WHERE f.path = {rows}.source_file")
        db.execute(f"ALTER TABLE {rows} DROP COLUMN source_file")
        db.execute(source_file_view_sql(spec))
