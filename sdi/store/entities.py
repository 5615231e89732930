"""The entity tables' columns and DDL, derived from sdi.models so the two can never drift."""

from __future__ import annotations

from sdi.models import EntitySpec, source_id_sql

PROVENANCE = (("source_file", "VARCHAR"), ("source_line", "BIGINT"))

# Entities stored in a table of their own behind a view that adds source_id (migration m004): DuckDB computes a
# generated column on every insert, which doubled the cost of storing millions of telemetry values.
ROWS_TABLES = {"telemetry": "telemetry_rows"}
# Since m005 such a table keeps its source file as a number from `source_files` (a text repeated on millions of rows
# cost a quarter of the time of storing them); its view gives the file's name back as source_file.
PROVENANCE_COLUMNS = {name for name, _ in PROVENANCE} | {"source_file_id"}
SOURCE_FILES = "CREATE TABLE IF NOT EXISTS source_files (id INTEGER PRIMARY KEY, path VARCHAR NOT NULL UNIQUE)"


def stored_columns(spec: EntitySpec) -> list[tuple[str, str]]:
    """(column, SQL type) of an entity's table, excluding the derived source id."""
    return [(f.name, f.sql_type) for f in spec.fields] + list(spec.extra_columns) + list(PROVENANCE)


def written_columns(spec: EntitySpec) -> list[tuple[str, str]]:
    """(column, SQL type) as written to the entity's stored table (source_file_id in place of source_file there)."""
    numbered = spec.name in ROWS_TABLES
    return [("source_file_id", "INTEGER") if numbered and name == "source_file" else (name, sql_type)
            for name, sql_type in stored_columns(spec)]


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
    """DDL for the view named after an entity's table as m004 made it: its stored rows and their source id."""
    return f"CREATE VIEW {spec.table} AS SELECT *, {source_id_sql(spec)} AS source_id FROM {stored_table(spec)}"


def source_file_view_sql(spec: EntitySpec) -> str:
    """DDL for such a view since m005: the stored rows with their file's name, in the columns of the entity table."""
    cols = ", ".join("f.path AS source_file" if name == "source_file" else f"r.{name}" for name, _ in stored_columns(spec))
    return (
        f"CREATE VIEW {spec.table} AS SELECT {cols}, {source_id_sql(spec, 'r')} AS source_id "
        f"FROM {stored_table(spec)} r LEFT JOIN source_files f ON f.id = r.source_file_id"
    )
