"""Serve first, index in the background: a server on a home without a search index answers at once, reports the
index's progress, drafts for a machine not yet indexed by indexing it on the spot, and ends with the index
`sdi index` would have built (real DuckDB, Chroma, MiniLM and the bundled LLM)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import httpx

from retrieval.catalog import Catalog
from retrieval.embedder import get_embedder
from retrieval.indexer import IndexReport, catalog_rows, plan_all, run_index
from retrieval.retriever import catalog_dir
from retrieval.vector_store import open_store
from sdi.api.app import create_app
from sdi.store import MachineFile
from tests.integration.api_base import LiveServer, fresh_home, make_people, settings_for

KEEP_MACHINES = 40  # machines whose service history stays in the test's copy of the demo base


def _health_until(url: str, ok: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{url}/health", timeout=10).json()
        if ok(health) or time.monotonic() > deadline:
            return health
        time.sleep(0.5)


def test_a_fresh_home_is_served_at_once_and_indexed_in_the_background() -> None:
    home = fresh_home("serve-first")
    settings = settings_for(home)
    db = MachineFile(settings.db_path)
    people = make_people(db)
    # The lowest-priority open opportunity whose machine has a service history: the last the background order reaches.
    opp_id, serial = db.one(
        "SELECT id, serial FROM opportunities WHERE status = 'open' AND trigger_state = 'active' AND serial IN "
        "(SELECT serial FROM service_records) ORDER BY priority, id LIMIT 1")
    db.execute("DELETE FROM service_records WHERE serial <> ? AND serial NOT IN (SELECT serial FROM service_records "
               "GROUP BY serial ORDER BY serial LIMIT ?)", [serial, KEEP_MACHINES])  # fewer chunks to embed on 2 cores
    records = {r for (r,) in db.sql("SELECT record_id FROM service_records WHERE serial = ?", [serial])}
    lines: list[str] = []
    app = create_app(settings, db, index=lines.append)
    indexer = app.state.sdi.indexer
    release = threading.Event()
    indexer.busy = lambda: not release.is_set()  # hold the background order: only a draft's machine is indexed
    server = LiveServer(app).start()
    try:
        health = _health_until(server.url, lambda h: h["index"]["records_total"] or h["index"]["state"] != "indexing", 120)
        health = health["index"]
        assert health["state"] == "indexing" and health["records_indexed"] == 0, health
        assert health["machines_waiting"] > health["open_opportunity_machines_waiting"] > 0, health

        drafted = httpx.post(f"{server.url}/api/opportunities/{opp_id}/why", headers=people.headers("admin"), timeout=600)
        assert drafted.status_code == 200, drafted.text
        draft = drafted.json()
        # Its sources are the machine's own history, indexed for it on the spot (chunk ids come from the index).
        own = [s["source_id"] for s in draft["sources"] if s["id"].startswith("H") and s["scope"] == "own"]
        assert own and all("#c" in sid for sid in own), draft["sources"]
        assert {sid.split(":", 1)[1].split("#")[0] for sid in own} <= records, draft["sources"]
        assert not any("not searchable" in note for note in draft.get("notes", [])), draft.get("notes")
        during = httpx.get(f"{server.url}/health", timeout=10).json()["index"]
        assert during["state"] == "indexing" and 0 < during["records_indexed"] < during["records_total"], during

        release.set()
        done = _health_until(server.url, lambda h: h["index"]["state"] != "indexing", 900)["index"]
        assert done["state"] == "done" and done["records_indexed"] == done["records_total"], done
        assert done["machines_waiting"] == 0 and any("search index complete" in line for line in lines)
    finally:
        server.stop()
        db.close()

    # The same index a foreground `sdi index` builds: it finds nothing to do, and the catalog lists every chunk.
    store = open_store(settings.vector_store, settings.vector_dir)
    generation = store.state()["generation"]
    embedder = get_embedder(settings.embedding_model)
    with MachineFile(settings.db_path) as check:
        report = run_index(check, store, embedder, catalog_dir(settings), settings.documents_dir)
        planned = plan_all(check, embedder.model_id, settings.documents_dir, IndexReport(store="plan"))
    assert (report.embedded, report.removed, report.metadata_updated) == (0, 0, 0), report
    assert report.generation == generation and report.chunks == len(planned) == store.count()
    catalog = Catalog.load(catalog_dir(settings))
    assert catalog is not None and catalog.rows == sorted(catalog_rows(planned), key=lambda r: r["id"])

