"""The server's background index: started with the app when it serves, reported by /health and the status page."""

from __future__ import annotations

from typing import Any, Callable

from sdi.api.queue import WorkQueue
from sdi.config import Settings
from sdi.store import MachineFile


def background_indexer(settings: Settings, db: MachineFile, queue: WorkQueue,
                       say: Callable[[str], None] | None = None) -> Any:
    """An indexer of the home's service histories that pauses while a draft runs (not started yet)."""
    from retrieval.background import BackgroundIndexer
    from retrieval.embedder import LazyEmbedder
    from retrieval.retriever import catalog_dir
    from retrieval.vector_store import open_store

    return BackgroundIndexer(db.child(), open_store(settings.vector_store, settings.vector_dir),
                             LazyEmbedder(settings.embedding_model), catalog_dir(settings), settings.documents_dir,
                             busy=lambda: queue.running, say=say)


def index_progress(indexer: Any) -> dict[str, Any]:
    """The background index's counters, or idle when this app does not index."""
    return indexer.progress() if indexer is not None else {"state": "idle"}
