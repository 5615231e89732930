"""A content-addressed store of embeddings shared by every SDI home: a text is embedded once per model and backend.

Key: sha256(cache id + NUL + text), where the cache id names the model's weights and the backend (ONNX and torch
vectors differ in the last bits). Value: the float32 vector's bytes and a digest of key and bytes, so a damaged row
reads as missing. One SQLite file in WAL mode, safe for several processes at once. A file that cannot be read is
set aside and replaced; any other failure turns the cache off for the process. The cache never fails an embedding.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

FILE_NAME = "embeddings.sqlite"
SCHEMA = 1
_BATCH = 500  # keys per SELECT (well under SQLite's bound variables limit)


class Encoder(Protocol):
    """What the cache wraps: an embedder that names its exact vectors."""

    model_id: str
    dim: int
    cache_id: str

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


def text_key(cache_id: str, text: str) -> bytes:
    """The row key of one text under one embedder."""
    return hashlib.sha256(f"{cache_id}\0{text}".encode("utf-8", "surrogatepass")).digest()


def _check(key: bytes, blob: bytes) -> bytes:
    return hashlib.blake2b(key + blob, digest_size=16).digest()


class EmbedCache:
    """Vectors by text key in one SQLite file under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        try:
            self._db = self._open()
        except (sqlite3.Error, OSError) as exc:
            self._set_aside(exc)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # vectors of customer notes: owner only
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        os.chmod(self.path, 0o600)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", [str(SCHEMA)])
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL, "
                       "check_ BLOB NOT NULL) WITHOUT ROWID")
            (schema,) = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if schema != str(SCHEMA):
                raise sqlite3.DatabaseError(f"cache schema {schema}, expected {SCHEMA}")
            db.execute("SELECT count(*) FROM (SELECT 1 FROM vectors LIMIT 1)").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, exc: BaseException) -> None:
        """A file SQLite cannot read is moved aside (kept for inspection) and a fresh one started."""
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
        log.warning("embedding cache %s is unreadable (%s); moving it to %s", self.path, exc, aside.name)
        try:
            for suffix in ("", "-wal", "-shm"):
                src = self.path.with_name(self.path.name + suffix)
                if src.exists():
                    src.replace(aside.with_name(aside.name + suffix))
            self._db = self._open()
        except (sqlite3.Error, OSError) as again:
            log.warning("embedding cache off for this process: %s", again)
            self._db = None

    def _off(self, exc: BaseException) -> None:
        log.warning("embedding cache %s failed (%s); off for this process", self.path, exc)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    @property
    def enabled(self) -> bool:
        """False once the cache has given up (the embedder then simply embeds)."""
        return self._db is not None

    def get(self, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """The intact vectors stored under these keys (damaged or missing rows are left out)."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            if self._db is None:
                return found
            try:
                for s in range(0, len(keys), _BATCH):
                    part = list(keys[s : s + _BATCH])
                    marks = ",".join("?" * len(part))
                    for key, blob, check in self._db.execute(
                        f"SELECT key, vec, check_ FROM vectors WHERE key IN ({marks})", part
                    ):
                        if len(blob) == dim * 4 and check == _check(key, blob):
                            found[key] = np.frombuffer(blob, dtype=np.float32)
            except sqlite3.Error as exc:
                self._off(exc)
                return {}
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors (float32 rows) under their keys; a failure only turns the cache off."""
        rows = []
        for key, vec in zip(keys, np.ascontiguousarray(vectors, dtype=np.float32)):
            blob = vec.tobytes()
            rows.append((key, blob, _check(key, blob)))
        with self._lock:
            if self._db is None or not rows:
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._off(exc)

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class CachedEmbedder:
    """An embedder that takes known vectors from the cache and embeds (then stores) only the texts it lacks.

    Calls of up to `min_texts` texts (search queries) skip the cache: they are fast already and a search should not
    wait on a disk write.
    """

    def __init__(self, inner: Encoder, cache: EmbedCache, min_texts: int = 8) -> None:
        self.inner = inner
        self.cache = cache
        self.min_texts = min_texts
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.cache_id = inner.cache_id

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One L2-normalised float32 row per text; byte-identical to what the inner embedder gave the first time."""
        if len(texts) <= self.min_texts or not self.cache.enabled:
            return self.inner.encode(texts, batch_size)
        keys = [text_key(self.cache_id, t) for t in texts]
        known = self.cache.get(list(dict.fromkeys(keys)), self.dim)
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in known:
                todo.setdefault(key, text)  # a text repeated in one call is embedded once
        self.cache.hits += len(texts) - sum(1 for k in keys if k in todo)
        self.cache.misses += len(todo)
        if todo:
            fresh = np.asarray(self.inner.encode(list(todo.values()), batch_size), dtype=np.float32)
            self.cache.put(list(todo), fresh)
            known.update(zip(todo, fresh))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = known[key]
        return out
