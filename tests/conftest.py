"""Shared fixtures: a fresh SDI home per test and a helper that writes exports plus a mapping."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from connectors.ingest import IngestReport, ingest
from sdi.store import MachineFile

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def db(tmp_path: Path) -> MachineFile:
    """An empty machine file in a temp folder."""
    with MachineFile(tmp_path / "home" / "machine-file.duckdb") as handle:
        yield handle


class Exports:
    """Writes export files and a mapping into one folder, then imports them."""

    def __init__(self, folder: Path, db: MachineFile) -> None:
        self.folder = folder
        self.db = db

    def write(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        """Write an export file (text or bytes)."""
        path = self.folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding=encoding)
        return path

    def mapping(self, files: list[dict[str, Any]], **top: Any) -> Path:
        """Write mapping.yaml."""
        path = self.folder / "mapping.yaml"
        path.write_text(yaml.safe_dump({**top, "files": files}, sort_keys=False), encoding="utf-8")
        return path

    def ingest(self, files: list[dict[str, Any]], **top: Any) -> IngestReport:
        """Write the mapping and import it."""
        return ingest(self.db, self.mapping(files, **top))


@pytest.fixture()
def exports(tmp_path: Path, db: MachineFile) -> Exports:
    """Export writer bound to the test's machine file."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return Exports(folder, db)


MACHINES_CSV = "serial,model,customer\nM1,TL-3030,C1\nM2,PB-1100,C1\nM3,TL-3030,C2\n"
MACHINE_MAP = {"path": "machines.csv", "entity": "machine", "columns": {"serial": "serial", "model": "model", "customer_id": "customer"}}


@pytest.fixture()
def with_machines(exports: Exports) -> Exports:
    """Exports whose machine file already holds M1..M3."""
    exports.write("machines.csv", MACHINES_CSV)
    exports.ingest([MACHINE_MAP])
    return exports


@pytest.fixture(scope="session", autouse=True)
def shared_embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One embedding cache (and ONNX export) for the whole session, subprocesses included: no text embedded twice."""
    from sdi.config import get_settings

    given = os.environ.get("SDI_EMBED_CACHE_DIR")  # a developer's own cache, kept across sessions
    folder = Path(given) if given else tmp_path_factory.mktemp("embed-cache")
    os.environ["SDI_EMBED_CACHE_DIR"] = str(folder)
    get_settings.cache_clear()
    yield folder
    if not given:
        os.environ.pop("SDI_EMBED_CACHE_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)  # ~90 MB of ONNX export per session


@pytest.fixture(scope="session")
def sdi_env() -> dict[str, str]:
    """Environment for running the real `sdi` command in a subprocess."""
    env = dict(os.environ)
    env.pop("SDI_CONFIG", None)
    return env
