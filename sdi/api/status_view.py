"""The admin's data health: model, drafting queue, search index, last trigger run, last import, machine file."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sdi.api.deps import AppState
from sdi.store import SCHEMA_VERSION, MachineFile

_catalog_cache: dict[str, Any] = {}
_catalog_lock = threading.Lock()


def _iso_mtime(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    except OSError:
        return None


def model_status(state: AppState) -> dict[str, Any]:
    """The configured model: catalog name, file, size and sha256 as checked when it loaded (or the catalog's)."""
    from sdi.llm.artifacts import model_path, record_path
    from sdi.llm.catalog import BUNDLED, BY_NAME
    from sdi.llm.registry import parse
    from sdi.errors import SdiError

    spec = state.settings.llm
    queue = state.queue.stats()
    out: dict[str, Any] = {"configured": spec, "state": queue["state"], "error": queue["error"], "name": None,
                           "backend": None, "file": None, "path": None, "size": None, "sha256": None,
                           "expected_sha256": None, "licence": None, "verified": None, "verified_at": None}
    try:
        kind, location, _ = parse(spec)
    except SdiError as exc:
        return out | {"error": exc.message}
    entry = BY_NAME.get(BUNDLED if kind == "smollm2" else location) if kind in ("smollm2", "catalog") else None
    if entry is not None:
        path, in_package = model_path(entry, state.settings.models_dir)
        out |= {"name": entry.name, "file": entry.file, "expected_sha256": entry.sha256, "licence": entry.licence,
                "path": str(path), "context": entry.context, "description": entry.description}
        try:
            record = json.loads(record_path(path).read_text(encoding="utf-8"))
            out["verified_at"] = record.get("verified_at")
        except (OSError, ValueError):
            pass
    elif kind == "gguf":
        out |= {"file": Path(location).name, "path": location}
    service = getattr(state.queue, "service", None)
    backend = getattr(service, "backend", None)
    info = getattr(backend, "info", None)
    if info is not None:  # loaded: the hash was checked (or computed) before llama.cpp opened the file
        out |= {"backend": info.backend, "sha256": info.sha256, "name": out["name"] or info.name}
        loaded = getattr(backend, "path", None)
        if loaded is not None:
            out |= {"path": str(loaded), "file": Path(loaded).name}
        if out["expected_sha256"]:
            out["verified"] = info.sha256 == out["expected_sha256"]
    if out["path"]:
        try:
            out["size"] = os.path.getsize(out["path"])
        except OSError:
            out["error"] = out["error"] or f"model file not found: {out['path']}"
    return out


def _catalog_sources(folder: Path) -> tuple[int, set[str], set[str]] | None:
    """(chunks, service-record ids, document ids) of the local keyword catalog, cached per file version."""
    path = folder / "chunks.json"
    try:
        stat = path.stat()
    except OSError:
        return None
    key = f"{path}:{stat.st_mtime_ns}:{stat.st_size}"
    with _catalog_lock:
        if _catalog_cache.get("key") != key:
            try:
                with open(path, encoding="utf-8") as fh:
                    rows = json.load(fh).get("rows", [])
            except (OSError, ValueError):
                return None
            records = {r["source_id"].split(":", 1)[1] for r in rows if r.get("source_id", "").startswith("service_record:")}
            docs = {r["source_id"] for r in rows if r.get("type") == "document"}
            _catalog_cache.update(key=key, value=(len(rows), records, docs))
        return _catalog_cache["value"]


def index_status(state: AppState, db: MachineFile) -> dict[str, Any]:
    """Search index progress: service records indexed out of those in the machine file, chunks, last change, and the
    background index's counters while the server builds it."""
    from retrieval.retriever import catalog_dir
    from sdi.api.indexing import index_progress

    folder = catalog_dir(state.settings)
    ids = {r for (r,) in db.sql("SELECT record_id FROM service_records WHERE text IS NOT NULL AND record_id IS NOT NULL")}
    found = _catalog_sources(folder)
    model = state.settings.embedding_model
    store = state.settings.vector_store
    out: dict[str, Any] = {"records_to_index": len(ids), "background": index_progress(state.indexer),
                           "embedding_model": str(model) if model else "bundled all-MiniLM-L6-v2",
                           "store": store if store.startswith("http") else f"embedded Chroma in {state.settings.vector_dir}"}
    if found is None:
        return out | {"built": False, "chunks": 0, "records_indexed": 0, "records_waiting": len(ids),
                      "documents_indexed": 0, "last_indexed_at": None}
    chunks, records, docs = found
    indexed = len(ids & records)
    return out | {"built": True, "chunks": chunks, "records_indexed": indexed, "records_waiting": len(ids) - indexed,
                  "records_gone": len(records - ids), "documents_indexed": len(docs),
                  "last_indexed_at": _iso_mtime(folder / "chunks.json")}


def trigger_status(state: AppState, db: MachineFile) -> dict[str, Any] | None:
    """The last trigger detection run: its as-of date, machines, rules fired, and when and by whom (audit log)."""
    row = db.one("SELECT as_of, rules_version, machines, counts, stored FROM trigger_runs ORDER BY rowid DESC LIMIT 1")
    if row is None:
        return None
    counts = json.loads(row[3]) if row[3] else {}
    fired = {rule: c.get("fired", 0) for rule, c in counts.items()}
    out = {"as_of": row[0].isoformat() if row[0] else None, "rules_version": row[1], "machines": row[2],
           "stored": row[4], "fired": fired, "total_fired": sum(fired.values()),
           "opportunities": db.scalar("SELECT count(*) FROM opportunities"), "when": None, "by": None, "synced": None}
    entry = state.audit.latest("triggers_run")
    if entry is not None:
        payload = entry.get("payload") or {}
        out |= {"when": entry.get("ts"), "by": entry.get("user"), "synced": payload.get("opportunities")}
    return out


def machine_file_status(state: AppState, db: MachineFile) -> dict[str, Any]:
    """The machine file: path, schema version, size on disk, the data's as-of date, rows per entity."""
    path = state.settings.db_path
    size = sum(os.path.getsize(p) for p in (path, path.with_name(path.name + ".wal")) if p.exists())
    return {"path": str(path), "schema_version": db.schema_version(), "schema_latest": SCHEMA_VERSION, "size": size,
            "data_as_of": db.get_meta("data_as_of"), "rows": db.counts()}


def status(state: AppState, db: MachineFile) -> dict[str, Any]:
    """Everything the status page shows."""
    from sdi.store.imports import last_run

    return {"model": model_status(state), "drafting": state.queue.stats(), "index": index_status(state, db),
            "triggers": trigger_status(state, db), "last_import": last_run(db),
            "machine_file": machine_file_status(state, db), "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
