"""The entity tables' columns and DDL, derived from sdi.models so the two can never drift."""

from __future__ import annotations

from sdi.models import EntitySpec, source_id_sql

PROVENANCE = (("source_file", "VARCHAR"), ("source_line", "BIGINT"))

# Entities stored in a table of their own behind a view that adds source_id (migration m004): DuckDB computes a
# generated column on every insert, which doubled the cost of storing millions of telemetry values.
ROWS_TABLES = {"telemetry": "telemetry_rows"}


def stored_columns(spec: EntitySpec) -> list[tuple[str, str]]:
    """(column, SQL type) of an entity's table, excluding the derived source id."""
    return [(f.name, f.sql_type) for f in spec.fields] + list(spec.extra_columns) + list(PROVENANCE)


def stored_table(spec: EntitySpec) -> str:
    """The table an entity's rows are written to; reads go through `spec.table` (the same table, or its view)."""
    return ROWS_TABLES.get(spec.name, spec.table)


def create_table_sql(spec: EntitySpec) -> str:
    """DDL for one entity table as m001 made it; source_id is derived from the key so it can never drift."""
    cols = ", ".join(f"{name} {sql_type}" for name, sql_type in stored_columns(spec))
    return (
        f"CREATE TABLE IF NOT EXISTS {spec.table} ({cols}, "
        f"source_id VARCHAR GENERATED ALWAYS AS ({source_id_sql(spec)}) VIRTUAL)"
    )


def source_view_sql(spec: EntitySpec) -> str:
    """DDL for the view named after an entity's table: its stored rows and their source id, computed when read."""
    return f"CREATE VIEW {spec.table} AS SELECT *, {source_id_sql(spec)} AS source_id FROM {stored_table(spec)}"
