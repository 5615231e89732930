"""`sdi index`: service records and customer documents -> chunks -> embeddings -> vector store + keyword catalog.

Incremental and idempotent: each chunk's metadata carries a hash of its text and the embedding model, so
unchanged chunks are never embedded again; changed metadata is updated in place; chunks of records that vanished
or got shorter are removed. The store's generation is bumped whenever anything changed, which tells every SDI
instance sharing the store to refresh its local keyword catalog.

A server indexes in parts (retrieval.background): machine by machine in priority order, adding chunks without
removing any, publishing a catalog of what is stored now and then. Before a part is stored the store's state is
marked `catalog_behind`; a catalog saved before the state names its generation, and the mark cleared, so a part
killed half-way only leaves chunks the next run lists, never a catalog naming chunks the store lacks.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from retrieval import documents as docs
from retrieval.catalog import Catalog, date_int, row_from, sorted_rows
from retrieval.chunking import Chunk, chunk_text, content_hash, error_codes, part_numbers
from retrieval.embedder import Embedder
from retrieval.vector_store import VectorStore
from sdi.errors import SdiError
from sdi.store import MachineFile

Progress = Callable[[str], None]
EMBED_BATCH = 256

RECORDS_SQL = """
SELECT r.record_id, r.serial, r.date, coalesce(r.type, ''), r.text, coalesce(r.parts, ''),
       coalesce(m.model, ''), coalesce(m.customer_id, '')
FROM service_records r LEFT JOIN machines m ON m.serial = r.serial
WHERE r.text IS NOT NULL AND r.record_id IS NOT NULL
ORDER BY r.record_id
"""
# Machines with open opportunities first (highest priority first), then the rest: the order a server indexes in.
PRIORITY_SQL = """
SELECT m.serial, o.priority IS NOT NULL FROM machines m
LEFT JOIN (SELECT serial, max(priority) AS priority FROM opportunities
           WHERE status NOT IN ('won', 'lost', 'dismissed', 'resolved') GROUP BY serial) o ON o.serial = m.serial
ORDER BY o.priority DESC NULLS LAST, m.serial
"""
BEHIND = "catalog_behind"  # store-state mark: chunks are stored that the saved catalog does not list yet


@dataclass
class IndexReport:
    """What an index run did."""

    store: str
    records: int = 0
    chunks: int = 0
    embedded: int = 0
    unchanged: int = 0
    metadata_updated: int = 0
    removed: int = 0
    documents_indexed: list[str] = field(default_factory=list)
    documents_refused: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    generation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Planned:
    """A chunk to store: its document text and metadata."""

    chunk: Chunk
    meta: dict[str, Any]


def _meta(chunk: Chunk, model_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "source_id": chunk.source_id,
        "n": chunk.n,
        "start": chunk.start,
        "end": chunk.end,
        "codes": ",".join(error_codes(chunk.text)),
        "parts": ",".join(part_numbers(chunk.text)),
        "hash": content_hash(chunk.text, model_id),
        **fields,
    }


def plan_records(db: MachineFile, model_id: str) -> tuple[int, list[Planned]]:
    """Chunks of every service record in the machine file."""
    planned: list[Planned] = []
    rows = db.sql(RECORDS_SQL)
    for record_id, serial, day, rtype, text, parts, model, customer in rows:
        for chunk in chunk_text(f"service_record:{record_id}", text):
            meta = _meta(chunk, model_id, kind="service_record", serial=serial, model=model, customer=customer,
                         type=rtype, date=date_int(day), record_parts=parts)
            planned.append(Planned(chunk, meta))
    return len(rows), planned


def plan_documents(
    db: MachineFile, root: Path, model_id: str
) -> tuple[list[str], list[docs.Refusal], list[Planned]]:
    """Chunks of every usable customer document, and the refused files."""
    machines = {s: (m, c) for s, m, c in db.sql("SELECT serial, model, coalesce(customer_id, '') FROM machines")}
    found, refused = docs.scan(root, set(machines))
    planned: list[Planned] = []
    indexed: list[str] = []
    for doc in found:
        model, customer = machines[doc.serial]
        chunks = chunk_text(doc.source_id, doc.text)
        if not chunks:
            refused.append(docs.Refusal(f"{doc.serial}/{doc.filename}", "empty document"))
            continue
        indexed.append(doc.source_id)
        for chunk in chunks:
            meta = _meta(chunk, model_id, kind="document", serial=doc.serial, model=model, customer=customer,
                         type="document", date=date_int(doc.date), record_parts="")
            planned.append(Planned(chunk, meta))
    return indexed, refused, planned


def _batches(items: list[Planned], size: int) -> Iterable[list[Planned]]:
    for s in range(0, len(items), size):
        yield items[s : s + size]


def _diff(planned: list[Planned], existing: dict[str, dict[str, Any]]) -> tuple[list[Planned], list[Planned]]:
    """(chunks to embed: new or with other text, chunks whose metadata alone changed)."""
    to_embed = [p for p in planned if existing.get(p.chunk.chunk_id, {}).get("hash") != p.meta["hash"]]
    to_update = [p for p in planned if p.chunk.chunk_id in existing
                 and existing[p.chunk.chunk_id].get("hash") == p.meta["hash"] and existing[p.chunk.chunk_id] != p.meta]
    return to_embed, to_update


def sync_store(
    store: VectorStore, embedder: Embedder, planned: list[Planned], report: IndexReport, progress: Progress,
    existing: dict[str, dict[str, Any]] | None = None,
) -> bool:
    """Make the store hold exactly the planned chunks; True when anything changed.

    `existing` (id -> metadata of every stored chunk) saves a scan when the caller already holds it.
    """
    wanted = {p.chunk.chunk_id: p for p in planned}
    existing = store.metadata() if existing is None else existing
    to_embed, to_update = _diff(list(wanted.values()), existing)
    to_remove = sorted(cid for cid in existing if cid not in wanted)
    report.unchanged = len(wanted) - len(to_embed) - len(to_update)
    if not (to_embed or to_update or to_remove):
        return False
    state = store.state()
    store.set_state({**state, "generation": f"dirty-{uuid.uuid4().hex}"})  # readers refresh if we stop half-way
    if to_remove:
        store.delete(to_remove)
        report.removed = len(to_remove)
    if to_update:
        store.update_metadata([p.chunk.chunk_id for p in to_update], [p.meta for p in to_update])
        report.metadata_updated = len(to_update)
    if to_embed:
        progress(f"embedding {len(to_embed):,} chunks ({len(wanted) - len(to_embed):,} already embedded)")
        # Similar lengths in one batch pad less: sort globally, as SentenceTransformer.encode does per call.
        to_embed.sort(key=lambda p: len(p.chunk.text), reverse=True)
        started = time.perf_counter()
        stored = 0

        def landed(count: int) -> None:  # progress counts chunks already in the store, never ones in flight
            nonlocal stored
            before, stored = stored, stored + count
            if stored // (EMBED_BATCH * 8) > before // (EMBED_BATCH * 8) or stored == len(to_embed):
                rate = stored / max(time.perf_counter() - started, 1e-9)
                progress(f"  {stored:,}/{len(to_embed):,} chunks embedded ({rate:,.0f}/s)")

        # The store writes one batch while the model embeds the next (one write in flight at a time).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdi-upsert") as writer:
            pending: tuple[Future[None], int] | None = None
            for batch in _batches(to_embed, EMBED_BATCH):
                vectors = embedder.encode([p.chunk.text for p in batch])
                if pending is not None:
                    pending[0].result()
                    landed(pending[1])
                future = writer.submit(store.upsert, [p.chunk.chunk_id for p in batch], vectors,
                                       [p.meta for p in batch], [p.chunk.text for p in batch])
                pending = (future, len(batch))
            if pending is not None:
                pending[0].result()
                landed(pending[1])
        report.embed_seconds = time.perf_counter() - started
        report.embedded = len(to_embed)
    return True


def store_part(store: VectorStore, embedder: Embedder, planned: list[Planned], existing: dict[str, dict[str, Any]],
               batch: int, interrupted: Callable[[], bool] = lambda: False) -> int:
    """Store the planned chunks the store lacks or holds with other text or metadata, removing none, longest first
    (less padding) in batches, until `interrupted` says so between two batches; `existing` follows each batch.
    Marks the store's catalog as behind first. Returns the number of chunks embedded."""
    to_embed, to_update = _diff(planned, existing)
    if not (to_embed or to_update):
        return 0
    state = store.state()
    if not state.get(BEHIND):
        store.set_state({**state, BEHIND: 1})
    if to_update:
        store.update_metadata([p.chunk.chunk_id for p in to_update], [p.meta for p in to_update])
        existing.update((p.chunk.chunk_id, p.meta) for p in to_update)
    embedded = 0
    for part in _batches(sorted(to_embed, key=lambda p: len(p.chunk.text), reverse=True), batch):
        if embedded and interrupted():
            break
        store.upsert([p.chunk.chunk_id for p in part], embedder.encode([p.chunk.text for p in part]),
                     [p.meta for p in part], [p.chunk.text for p in part])
        existing.update((p.chunk.chunk_id, p.meta) for p in part)
        embedded += len(part)
    return embedded


def publish_catalog(store: VectorStore, embedder: Embedder, rows: list[dict[str, Any]], catalog_dir: Path) -> str:
    """Save a catalog of these rows under a new generation, then make it the store's (clearing the behind mark)."""
    generation = uuid.uuid4().hex
    Catalog(sorted_rows(rows), generation=generation).save(catalog_dir)
    store.set_state({"embedding_model": embedder.model_id, "dim": embedder.dim, "generation": generation,
                     "chunks": len(rows)})
    return generation


def catalog_rows(planned: Iterable[Planned]) -> list[dict[str, Any]]:
    """Catalog rows of planned chunks."""
    return [row_from(p.chunk.chunk_id, p.chunk.text, p.meta) for p in planned]


def priority_order(db: MachineFile) -> tuple[list[str], int]:
    """Every machine's serial, those with open opportunities first; and how many those are."""
    rows = db.sql(PRIORITY_SQL)
    return [serial for serial, _ in rows], sum(1 for _, first in rows if first)


def check_model(store: VectorStore, embedder: Embedder, rebuild: bool) -> None:
    """Refuse to mix embeddings of two models in one collection (unless rebuilding)."""
    built_with = store.state().get("embedding_model")
    if rebuild:
        store.drop()
    elif built_with and built_with != embedder.model_id:
        raise SdiError(
            f"the index was built with embedding model {built_with}, not {embedder.model_id}",
            "run sdi index --rebuild to re-embed everything with the configured model",
        )


def plan_all(db: MachineFile, model_id: str, documents_dir: Path | None, report: IndexReport) -> list[Planned]:
    """Chunks of every service record and usable document; the report gets the counts."""
    report.records, planned = plan_records(db, model_id)
    if documents_dir is not None:
        indexed, refused, doc_chunks = plan_documents(db, documents_dir, model_id)
        report.documents_indexed = indexed
        report.documents_refused = [r.to_dict() for r in refused]
        planned += doc_chunks
    report.chunks = len(planned)
    return planned


def run_index(
    db: MachineFile,
    store: VectorStore,
    embedder: Embedder,
    catalog_dir: Path,
    documents_dir: Path | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Index service records (and documents) incrementally; refresh the local keyword catalog."""
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    report = IndexReport(store=store.description)
    check_model(store, embedder, rebuild)
    planned = plan_all(db, embedder.model_id, documents_dir, report)
    docs_n = len(report.documents_indexed)
    say(f"{report.records:,} service records and {docs_n:,} document{'' if docs_n == 1 else 's'} -> {len(planned):,} chunks")
    finish_index(store, embedder, planned, catalog_dir, report, say)
    report.seconds = time.perf_counter() - started
    return report


def finish_index(store: VectorStore, embedder: Embedder, planned: list[Planned], catalog_dir: Path,
                 report: IndexReport, say: Progress, existing: dict[str, dict[str, Any]] | None = None) -> None:
    """Make the store hold exactly the planned chunks, under a settled generation, with the catalog to match."""
    changed = sync_store(store, embedder, planned, report, say, existing)
    state = store.state()
    generation = state.get("generation", "")
    if (changed or not generation or generation.startswith("dirty-") or state.get(BEHIND)
            or state.get("embedding_model") != embedder.model_id):
        generation = uuid.uuid4().hex
        store.set_state({"embedding_model": embedder.model_id, "dim": embedder.dim, "generation": generation,
                         "chunks": len(planned)})
    report.generation = generation
    if Catalog.stamp(catalog_dir) != generation:
        Catalog(sorted_rows(catalog_rows(planned)), generation=generation).save(catalog_dir)
