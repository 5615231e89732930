"""The entity tables' columns and DDL, derived from sdi.models so the two can never drift."""

from __future__ import annotations

from sdi.models import EntitySpec, source_id_sql

PROVENANCE = (("source_file", "VARCHAR"), ("source_line", "BIGINT"))


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
