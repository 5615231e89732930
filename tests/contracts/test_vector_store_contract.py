"""One contract every vector store passes: the embedded persistent Chroma and a real `chroma run` server."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from retrieval.vector_store import ChromaStore, EmbeddedChromaStore, ServerChromaStore, open_store
from sdi.errors import SdiError
from tests.contracts.chroma_server import chroma_server  # noqa: F401 - the session fixture

DIM = 16
Factory = Callable[[str], ChromaStore]


@pytest.fixture(params=["embedded", "server"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Opens a store on a collection by name; the same name reopens the same collection through a new client."""
    if request.param == "embedded":
        yield lambda name: EmbeddedChromaStore(tmp_path / "chroma", name)
    else:
        url = request.getfixturevalue("chroma_server")
        yield lambda name: ServerChromaStore(url, name)


@pytest.fixture()
def name() -> str:
    return f"contract_{uuid.uuid4().hex[:10]}"


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _fill(store: ChromaStore, n: int = 40) -> tuple[list[str], np.ndarray, list[dict]]:
    rng = np.random.default_rng(7)
    ids = [f"service_record:SR-{i:04d}#c0" for i in range(n)]
    vectors = _unit(rng, n)
    metas = [{"serial": f"M{i % 4}", "model": "TL-3030" if i % 2 else "PB-1100", "date": 20200101 + i,
              "codes": "E-417" if i % 5 == 0 else "", "start": 0, "end": 10 + i, "source_id": ids[i][:-3]}
             for i in range(n)]
    store.upsert(ids, vectors, metas, [f"note {i}" for i in range(n)])
    return ids, vectors, metas


def test_telemetry_is_off_and_no_embedding_function_is_attached(make_store: Factory, name: str) -> None:
    store = make_store(name)
    assert store.client.get_settings().anonymized_telemetry is False
    assert store.collection._embedding_function is None  # Chroma never embeds (its default would download)
    assert store.count() == 0


def test_upsert_round_trips_metadata_documents_and_embeddings_exactly(make_store: Factory, name: str) -> None:
    store = make_store(name)
    ids, vectors, metas = _fill(store)
    assert store.count() == len(ids)
    assert store.metadata() == dict(zip(ids, metas))  # exact: ints stay ints, empty strings stay
    assert store.metadata([ids[3], "unknown#c0"]) == {ids[3]: metas[3]}
    got = store.embeddings([ids[0], ids[9]])
    assert np.allclose(got[ids[0]], vectors[0], atol=1e-6) and np.allclose(got[ids[9]], vectors[9], atol=1e-6)
    pages = list(store.scan(page=7))
    assert len(pages) == 6 and sorted(i for p in pages for i in p[0]) == sorted(ids)
    assert {i: d for p in pages for i, d in zip(p[0], p[1])}[ids[5]] == "note 5"


def test_query_ranks_by_cosine_similarity(make_store: Factory, name: str) -> None:
    store = make_store(name)
    ids, vectors, _ = _fill(store)
    probe = vectors[12] + 0.05 * vectors[30]
    hits = store.query(probe / np.linalg.norm(probe), 5)
    assert hits[0][0] == ids[12] and hits[0][1] > 0.99
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    exact = vectors @ (probe / np.linalg.norm(probe))
    assert [h for h, _ in hits] == [ids[i] for i in np.argsort(-exact)[:5]]


def test_where_filters_and_id_restrictions_exclude_everything_else(make_store: Factory, name: str) -> None:
    store = make_store(name)
    ids, vectors, metas = _fill(store)
    q = vectors[12]  # serial M0, PB-1100
    only_m1 = store.query(q, 50, where={"serial": "M1"})
    assert only_m1 and all(metas[ids.index(i)]["serial"] == "M1" for i, _ in only_m1) and len(only_m1) == 10
    others = store.query(q, 50, where={"$and": [{"model": "PB-1100"}, {"serial": {"$ne": "M0"}}]})
    assert {metas[ids.index(i)]["serial"] for i, _ in others} == {"M2"}
    window = store.query(q, 50, where={"$and": [{"date": {"$gte": 20200105}}, {"date": {"$lte": 20200108}}]})
    assert sorted(i for i, _ in window) == ids[4:8]
    restricted = store.query(q, 3, ids=[ids[1], ids[2], ids[12]])
    assert restricted[0][0] == ids[12] and {i for i, _ in restricted} == {ids[1], ids[2], ids[12]}
    assert store.query(q, 5, ids=[]) == []


def test_update_changes_metadata_only_and_delete_removes(make_store: Factory, name: str) -> None:
    store = make_store(name)
    ids, vectors, metas = _fill(store)
    store.update_metadata([ids[0]], [{**metas[0], "serial": "M9"}])
    assert store.metadata([ids[0]])[ids[0]]["serial"] == "M9"
    assert np.allclose(store.embeddings([ids[0]])[ids[0]], vectors[0], atol=1e-6)
    store.delete(ids[:10])
    assert store.count() == 30 and store.metadata(ids[:10]) == {}
    assert all(i not in ids[:10] for i, _ in store.query(vectors[0], 40))


def test_state_and_data_persist_for_a_new_client(make_store: Factory, name: str, tmp_path: Path) -> None:
    store = make_store(name)
    ids, _, metas = _fill(store, 12)
    store.set_state({"embedding_model": "all-MiniLM-L6-v2", "generation": "g1", "dim": DIM})
    assert store.state() == {"embedding_model": "all-MiniLM-L6-v2", "generation": "g1", "dim": DIM}
    again = make_store(name)
    assert again.count() == 12 and again.state()["generation"] == "g1" and again.metadata() == dict(zip(ids, metas))
    if isinstance(store, EmbeddedChromaStore):  # a fresh process, not the client cache, reads the folder
        code = (
            "import json, sys; from pathlib import Path; from retrieval.vector_store import EmbeddedChromaStore as S; "
            f"s = S(Path({str(tmp_path / 'chroma')!r}), {name!r}); print(json.dumps([s.count(), s.state()]))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
        assert json.loads(out.stdout.strip().splitlines()[-1]) == [12, store.state()]


def test_drop_forgets_everything(make_store: Factory, name: str) -> None:
    store = make_store(name)
    _fill(store, 5)
    store.set_state({"generation": "g1"})
    store.drop()
    assert store.count() == 0 and store.state().get("generation") is None


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SdiError) as err:
        open_store("http://127.0.0.1:9", tmp_path)
    assert "cannot reach the Chroma server at http://127.0.0.1:9" in str(err.value) and "chroma run" in str(err.value)
