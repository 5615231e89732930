"""The vector store seam: the only module that imports chromadb.

Two implementations of one Protocol: an embedded persistent Chroma under SDI_HOME (the default) and a Chroma
server reached over HTTP (`SDI_VECTOR_STORE=http://host:port`), so several app instances can share one index.
Embeddings are always passed in (the collection has no embedding function, so Chroma never downloads its default
model) and Chroma's anonymised telemetry is switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence
from urllib.parse import urlparse

import numpy as np

from sdi.errors import SdiError

COLLECTION = "sdi_chunks"
Metadata = dict[str, Any]
Where = dict[str, Any]


class VectorStore(Protocol):
    """Chunks with their embedding, document text and scalar metadata, queried by cosine similarity."""

    description: str

    def count(self) -> int: ...

    def upsert(
        self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[Metadata], documents: Sequence[str]
    ) -> None: ...

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def metadata(self, ids: Sequence[str] | None = None) -> dict[str, Metadata]:
        """id -> metadata of the given chunks (all chunks when ids is None)."""
        ...

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def scan(self, page: int = 5000) -> Iterator[tuple[list[str], list[str], list[Metadata]]]:
        """Every chunk as pages of (ids, documents, metadatas)."""
        ...

    def query(
        self, embedding: np.ndarray, k: int, where: Where | None = None, ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best k (id, cosine similarity), optionally restricted by a metadata filter or to a set of ids."""
        ...

    def state(self) -> dict[str, Any]:
        """Collection-level facts (embedding model, generation)."""
        ...

    def set_state(self, state: dict[str, Any]) -> None: ...

    def drop(self) -> None:
        """Delete every chunk and the collection's state."""
        ...


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class ChromaStore:
    """Shared behaviour of both Chroma stores: one collection, cosine space, embeddings passed in."""

    description = "chroma"

    def __init__(self, client: Any, name: str = COLLECTION) -> None:
        if len(name) < 3:
            raise ValueError("Chroma collection names need at least 3 characters")
        self.client = client
        self.name = name
        self._collection: Any = None
        self._batch = max(1, min(5000, int(client.get_max_batch_size())))

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self.client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._collection

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(
        self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[Metadata], documents: Sequence[str]
    ) -> None:
        for s in range(0, len(ids), self._batch):
            e = s + self._batch
            self.collection.upsert(
                ids=list(ids[s:e]), embeddings=np.asarray(embeddings[s:e], dtype=np.float32),
                metadatas=list(metadatas[s:e]), documents=list(documents[s:e]),
            )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        for s in range(0, len(ids), self._batch):
            self.collection.update(ids=list(ids[s : s + self._batch]), metadatas=list(metadatas[s : s + self._batch]))

    def delete(self, ids: Sequence[str]) -> None:
        for s in range(0, len(ids), self._batch):
            self.collection.delete(ids=list(ids[s : s + self._batch]))

    def metadata(self, ids: Sequence[str] | None = None) -> dict[str, Metadata]:
        out: dict[str, Metadata] = {}
        if ids is None:
            for page_ids, _, metas in self._pages(["metadatas"]):
                out.update(zip(page_ids, metas))
            return out
        for s in range(0, len(ids), self._batch):
            got = self.collection.get(ids=list(ids[s : s + self._batch]), include=["metadatas"])
            out.update(zip(got["ids"], got["metadatas"]))
        return out

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for s in range(0, len(ids), self._batch):
            got = self.collection.get(ids=list(ids[s : s + self._batch]), include=["embeddings"])
            out.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return out

    def scan(self, page: int = 5000) -> Iterator[tuple[list[str], list[str], list[Metadata]]]:
        yield from self._pages(["documents", "metadatas"], page)

    def _pages(self, include: list[str], page: int = 5000) -> Iterator[tuple[list[str], list[str], list[Metadata]]]:
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            docs = got.get("documents") or [""] * len(got["ids"])
            yield list(got["ids"]), list(docs), list(got.get("metadatas") or [{}] * len(got["ids"]))
            offset += len(got["ids"])

    def query(
        self, embedding: np.ndarray, k: int, where: Where | None = None, ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        if k <= 0 or (ids is not None and not ids):
            return []
        got = self.collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, where=where or None,
            ids=list(ids) if ids is not None else None, include=["distances"],
        )
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    def state(self) -> dict[str, Any]:
        fresh = self.client.get_or_create_collection(  # re-read: another instance may have re-indexed meanwhile
            self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._collection = fresh
        return dict(fresh.metadata or {})

    def set_state(self, state: dict[str, Any]) -> None:
        self.collection.modify(metadata={k: v for k, v in state.items() if v is not None})
        self._collection = None

    def drop(self) -> None:
        try:
            self.client.delete_collection(self.name)
        except Exception:  # noqa: BLE001 - Chroma raises NotFoundError (or ValueError in older versions) when absent
            pass
        self._collection = None


class EmbeddedChromaStore(ChromaStore):
    """Persistent Chroma in a local folder (SDI_HOME/vector-store)."""

    def __init__(self, path: Path, name: str = COLLECTION) -> None:
        import chromadb

        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        except Exception as exc:  # noqa: BLE001
            raise SdiError(f"cannot open the vector store in {path}: {exc}", "check the folder, or delete it and run sdi index") from exc
        super().__init__(client, name)
        self.description = f"embedded Chroma in {path}"


class ServerChromaStore(ChromaStore):
    """A Chroma server (`chroma run`) shared by several SDI instances."""

    def __init__(self, url: str, name: str = COLLECTION) -> None:
        import chromadb

        parsed = urlparse(url)
        if not parsed.hostname:
            raise SdiError(f"SDI_VECTOR_STORE={url} has no host", "use http://host:port, e.g. http://127.0.0.1:8001")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        try:
            client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=_chroma_settings())
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise SdiError(
                f"cannot reach the Chroma server at {url}: {exc}",
                "start it (chroma run --path DIR --host 127.0.0.1 --port PORT) or set SDI_VECTOR_STORE=embedded",
            ) from exc
        super().__init__(client, name)
        self.description = f"Chroma server at {url}"


def open_store(vector_store: str, vector_dir: Path, name: str = COLLECTION) -> ChromaStore:
    """The store the settings name: 'embedded' (under vector_dir) or a server URL."""
    if vector_store == "embedded":
        return EmbeddedChromaStore(vector_dir / "chroma", name)
    return ServerChromaStore(vector_store, name)
