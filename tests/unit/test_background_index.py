"""The background index over a fake store and embedder: priority order, a machine indexed on request, and an index
that ends (or restarts after a stop) equal to `sdi index`'s."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pytest

from retrieval import background
from retrieval.background import BackgroundIndexer, active, ensure_indexed
from retrieval.catalog import Catalog
from retrieval.indexer import BEHIND, IndexReport, catalog_rows, plan_all, run_index, store_part
from sdi.store import MachineFile

# M3 has the best open opportunity, M1 a lesser one, M2's is won (not open); M4 and M5 have none.
MACHINES = ["M1", "M2", "M3", "M4", "M5"]
OPPORTUNITIES = [("O1", "M1", "open", 40.0), ("O2", "M2", "won", 90.0), ("O3", "M3", "in_progress", 70.0)]


class FakeEmbedder:
    """Vectors from a hash of the text."""

    model_id, dim = "fake-8", 8

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8).astype(np.float32) + 1 for t in texts]
        return np.asarray([r / np.linalg.norm(r) for r in rows], dtype=np.float32).reshape(len(texts), self.dim)


class DictStore:
    """An in-memory vector store that records the serials of every upsert, in order."""

    description = "dict store"

    def __init__(self) -> None:
        self.chunks: dict[str, tuple[np.ndarray, dict[str, Any], str]] = {}
        self.meta_state: dict[str, Any] = {}
        self.upserted: list[str] = []

    def count(self) -> int:
        return len(self.chunks)

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict[str, Any]],
               documents: Sequence[str]) -> None:
        for i, e, m, d in zip(ids, embeddings, metadatas, documents):
            self.chunks[i] = (e, dict(m), d)
            self.upserted.append(str(m["serial"]))

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        for i, m in zip(ids, metadatas):
            e, _, d = self.chunks[i]
            self.chunks[i] = (e, dict(m), d)

    def delete(self, ids: Sequence[str]) -> None:
        for i in ids:
            self.chunks.pop(i, None)

    def metadata(self, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        return {i: dict(c[1]) for i, c in self.chunks.items() if ids is None or i in ids}

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self.chunks[i][0] for i in ids if i in self.chunks}

    def scan(self, page: int = 5000) -> Iterator[tuple[list[str], list[str], list[dict[str, Any]]]]:
        ids = sorted(self.chunks)
        yield ids, [self.chunks[i][2] for i in ids], [self.chunks[i][1] for i in ids]

    def query(self, embedding: np.ndarray, k: int, where: Any = None, ids: Any = None) -> list[tuple[str, float]]:
        return []

    def state(self) -> dict[str, Any]:
        return dict(self.meta_state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.meta_state = {k: v for k, v in state.items() if v is not None}

    def drop(self) -> None:
        self.chunks.clear()
        self.meta_state = {}


@pytest.fixture()
def base(db: MachineFile) -> MachineFile:
    """Five machines with two service records each and three opportunities."""
    for n, serial in enumerate(MACHINES):
        db.execute("INSERT INTO machines (serial, model, customer_id) VALUES (?, 'PB-1100', 'C1')", [serial])
        for k in range(2):
            db.execute("INSERT INTO service_records (record_id, serial, date, type, text) VALUES (?, ?, DATE '2024-01-01', "
                       "'repair', ?)", [f"SR-{n}{k}", serial, f"Replaced the pressure sensor on {serial}, visit {k}."])
    for oid, serial, status, priority in OPPORTUNITIES:
        db.execute("INSERT INTO opportunities (id, serial, status, priority) VALUES (?, ?, ?, ?)", [oid, serial, status, priority])
    return db


def indexer(db: MachineFile, store: DictStore, folder: Path, busy: bool = False) -> BackgroundIndexer:
    return BackgroundIndexer(db.child(), store, FakeEmbedder(), folder / "catalog", None, busy=lambda: busy)


def assert_equals_sdi_index(db: MachineFile, store: DictStore, folder: Path) -> None:
    """A foreground index finds nothing to do, and the catalog lists exactly the planned chunks."""
    generation = store.state()["generation"]
    report = run_index(db, store, FakeEmbedder(), folder / "catalog")
    assert (report.embedded, report.removed, report.metadata_updated, report.generation) == (0, 0, 0, generation)
    planned = plan_all(db, FakeEmbedder.model_id, None, IndexReport(store="plan"))
    catalog = Catalog.load(folder / "catalog")
    assert catalog is not None and catalog.rows == sorted(catalog_rows(planned), key=lambda r: r["id"])


def test_machines_with_open_opportunities_are_indexed_first_and_the_end_equals_sdi_index(
        base: MachineFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "PART_CHUNKS", 2)  # one machine per step: the order shows
    store = DictStore()
    worker = indexer(base, store, tmp_path)
    worker.start()
    assert worker.wait(30)
    assert worker.progress() | {"seconds": 0} == {"state": "done", "records_indexed": 10, "records_total": 10,
                                                 "machines_waiting": 0, "open_opportunity_machines_waiting": 0,
                                                 "seconds": 0}
    order = list(dict.fromkeys(store.upserted))
    assert order == ["M3", "M1", "M2", "M4", "M5"]
    assert not store.state().get(BEHIND) and active(tmp_path / "catalog") is None
    assert_equals_sdi_index(base, store, tmp_path)


def test_a_drafts_machine_is_indexed_first_while_the_rest_waits(base: MachineFile, tmp_path: Path) -> None:
    store = DictStore()
    worker = indexer(base, store, tmp_path, busy=True)  # a draft is running: only requested machines are indexed
    worker.start()
    try:
        assert worker.ensure("M5") is True
        catalog = Catalog.load(tmp_path / "catalog")
        assert catalog is not None and {r["serial"] for r in catalog.rows} == {"M5"}
        assert set(store.upserted) == {"M5"} and store.state()["generation"] == catalog.generation
        assert not store.state().get(BEHIND)
        assert worker.ensure("M5") is False  # searchable now: no wait
        refreshed: list[bool] = []
        searcher = type("S", (), {"refresh": lambda self: refreshed.append(True)})()
        ensure_indexed(tmp_path / "catalog", "M4", type("R", (), {"searcher": searcher})())
        assert refreshed == [True] and set(store.upserted) == {"M4", "M5"}
        assert worker.progress()["records_indexed"] == 4 and worker.progress()["machines_waiting"] == 3
    finally:
        worker.stop()
    assert worker.progress()["state"] == "stopped" and active(tmp_path / "catalog") is None

    restart = indexer(base, store, tmp_path)  # the next start goes on where the stop left it
    restart.start()
    assert restart.wait(30)
    assert restart.progress()["state"] == "done" and store.upserted.count("M5") == 2  # M5: stored once per record
    assert_equals_sdi_index(base, store, tmp_path)


def test_a_part_stored_before_a_kill_is_listed_by_the_next_index(base: MachineFile, tmp_path: Path) -> None:
    store = DictStore()
    run_index(base, store, FakeEmbedder(), tmp_path / "catalog")
    base.execute("INSERT INTO service_records (record_id, serial, date, type, text) VALUES ('SR-NEW', 'M1', "
                 "DATE '2024-02-01', 'repair', 'Hydraulic leak at the main cylinder, replaced the seal kit.')")
    planned = plan_all(base, FakeEmbedder.model_id, None, IndexReport(store="plan"))
    # The process dies after storing a part and before publishing its catalog: the store is marked behind.
    assert store_part(store, FakeEmbedder(), planned, store.metadata(), 16) == 1 and store.state()[BEHIND]
    report = run_index(base, store, FakeEmbedder(), tmp_path / "catalog")
    assert report.embedded == 0 and not store.state().get(BEHIND)
    catalog = Catalog.load(tmp_path / "catalog")
    assert catalog is not None and "service_record:SR-NEW#c0" in catalog.row_of


def test_an_interrupted_part_stops_between_batches_and_keeps_what_it_stored(base: MachineFile) -> None:
    store = DictStore()
    planned = plan_all(base, FakeEmbedder.model_id, None, IndexReport(store="plan"))
    existing: dict[str, dict[str, Any]] = {}
    assert store_part(store, FakeEmbedder(), planned, existing, 3, lambda: True) == 3  # one batch, then it stops
    assert set(existing) == set(store.chunks) and len(existing) == 3
    assert store_part(store, FakeEmbedder(), planned, existing, 3) == len(planned) - 3  # the rest, nothing twice
