"""DuckDB's memory limit: a share of the RAM capped at 3 GB unless set, and what the machine file opens with."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdi.config import load_settings
from sdi.store import MachineFile


def test_memory_limit_defaults_to_half_the_ram_at_most_3_gb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDI_DB_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 2 * 2**30 // 4096}[name])
    assert load_settings(home=tmp_path).db_memory_limit == "1024MB"  # a 2 GB machine: half of it
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 64 * 2**30 // 4096}[name])
    settings = load_settings(home=tmp_path)
    assert settings.db_memory_limit == "3000MB"  # a 64 GB machine: the cap
    with MachineFile.for_settings(settings) as db:
        assert db.scalar("SELECT current_setting('memory_limit')") == "2.7 GiB"
        assert db.scalar("SELECT current_setting('temp_directory')") == str(tmp_path / "machine-file.duckdb.tmp")


def test_a_set_memory_limit_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDI_DB_MEMORY_LIMIT", "5GB")
    assert load_settings(home=tmp_path).db_memory_limit == "5GB"
