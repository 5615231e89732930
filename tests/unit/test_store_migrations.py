"""Migrations apply in order, each in one transaction; a failing one leaves the file as it was and names itself."""

from __future__ import annotations

import pytest

from sdi.errors import SdiError
from sdi.store import SCHEMA_VERSION, MachineFile
from sdi.store.migrations import MIGRATIONS, Migration, migrate


def _half_done(db: MachineFile) -> None:
    db.execute("CREATE TABLE half (x BIGINT)")
    db.execute("INSERT INTO half VALUES (1)")
    db.execute("INSERT INTO users (name, role, token_sha256) VALUES ('ghost', 'admin', 'x')")
    db.execute("SELECT no_such_column FROM half")


def _tables(db: MachineFile) -> set[str]:
    return {t for (t,) in db.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")}


def test_failing_migration_rolls_back_and_names_itself(db: MachineFile) -> None:
    broken = Migration(SCHEMA_VERSION + 1, "half_done", _half_done)
    with pytest.raises(SdiError, match=rf"schema migration {SCHEMA_VERSION + 1} \(half_done\) failed"):
        migrate(db, (*MIGRATIONS, broken))
    assert "half" not in _tables(db)
    assert db.scalar("SELECT count(*) FROM users") == 0
    assert db.schema_version() == SCHEMA_VERSION


def test_later_migrations_apply_once_in_order(db: MachineFile) -> None:
    extra = (Migration(SCHEMA_VERSION + 1, "add_a", lambda d: d.execute("CREATE TABLE a (x BIGINT)")),
             Migration(SCHEMA_VERSION + 2, "add_b", lambda d: d.execute("CREATE TABLE b (x BIGINT)")))
    assert [m.name for m in migrate(db, (*MIGRATIONS, *extra))] == ["add_a", "add_b"]
    assert migrate(db, (*MIGRATIONS, *extra)) == []
    assert db.sql("SELECT version, name FROM schema_version ORDER BY version")[-2:] == [
        (SCHEMA_VERSION + 1, "add_a"), (SCHEMA_VERSION + 2, "add_b")]


def test_transaction_commits_or_rolls_back_and_nests(db: MachineFile) -> None:
    with db.transaction():
        db.set_meta("a", "1")
        with db.transaction():  # joins the outer one
            db.set_meta("b", "2")
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.set_meta("c", "3")
            with db.transaction():
                db.set_meta("d", "4")
            raise RuntimeError("stop")
    assert db.sql("SELECT key FROM meta ORDER BY key") == [("a",), ("b",)]
