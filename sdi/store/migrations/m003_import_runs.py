"""Import runs: one row per import (a mapping's files together, who started it, when it ended) and per-file extras."""

from __future__ import annotations

from sdi.store.migrations.base import Db

NAME = "import runs"

RUNS = """
CREATE SEQUENCE IF NOT EXISTS import_run_seq START 1;
CREATE TABLE IF NOT EXISTS import_runs (
    run_id BIGINT PRIMARY KEY, mapping VARCHAR, started_by VARCHAR, source VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP, state VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS import_run_files (
    import_id BIGINT PRIMARY KEY, run_id BIGINT, duplicates_merged BIGINT, values_stored BIGINT, finished_at TIMESTAMP);
"""


def apply(db: Db) -> None:
    """Create the import-run tables (imports before this migration have no run: they are listed one per mapping)."""
    db.execute(RUNS)
