"""The schema as ordered, numbered migrations, recorded in `schema_version` and applied when a machine file opens.

Add a change as the next file `mNNN_<name>.py` with NAME and `apply(db)`, list it in MIGRATIONS, and never edit a
released one. m001 builds the entity tables from sdi.models, so a later migration that adds an entity column must
be idempotent (`ALTER TABLE ... ADD COLUMN IF NOT EXISTS`): on a fresh file m001 already created it. Telemetry's
rows live in `telemetry_rows` since m004 (see sdi.store.entities.stored_table), with their source file as a number
from `source_files` since m005 (sdi.store.entities.written_columns).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sdi.errors import SdiError
from sdi.store.migrations import (
    m001_initial, m002_webhooks, m003_import_runs, m004_telemetry_view, m005_source_file_ids,
)
from sdi.store.migrations.base import Db, Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, m001_initial.NAME, m001_initial.apply),
    Migration(2, m002_webhooks.NAME, m002_webhooks.apply),
    Migration(3, m003_import_runs.NAME, m003_import_runs.apply),
    Migration(4, m004_telemetry_view.NAME, m004_telemetry_view.apply),
    Migration(5, m005_source_file_ids.NAME, m005_source_file_ids.apply),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"


def current_version(db: Db) -> int:
    """The highest migration applied to this file (0 for a new file or one made before schema versions)."""
    return db.scalar("SELECT coalesce(max(version), 0) FROM schema_version")


def migrate(db: Db, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """Apply the migrations this file lacks, each in its own transaction; returns those applied."""
    db.execute(VERSION_TABLE)
    known = migrations[-1].version if migrations else 0
    found = current_version(db)
    if found > known:
        raise SdiError(
            f"the machine file {db.path} has schema version {found}; this SDI knows up to version {known}",
            "upgrade SDI to the version that wrote this file (or open a backup made with this version)",
        )
    applied = []
    for migration in migrations:
        if migration.version <= found:
            continue
        try:
            with db.transaction():
                migration.apply(db)
                db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                           [migration.version, migration.name, datetime.now(timezone.utc).replace(tzinfo=None)])
        except Exception as exc:
            raise SdiError(
                f"schema migration {migration.version} ({migration.name}) failed: {exc}",
                "the machine file was left at the previous version; restore a backup or report this with the message",
            ) from exc
        applied.append(migration)
    return applied
