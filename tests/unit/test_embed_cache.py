"""The embedding cache: a text is embedded once per embedder, cached vectors are byte-identical, damage is survived."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.embed_cache import FILE_NAME, CachedEmbedder, EmbedCache, text_key

TEXTS = [f"service note {i}: replaced hydraulic filter 4432-760" for i in range(20)]


class FakeEncoder:
    """Vectors from a hash of the text (and of the call count, so a re-embedding would show); counts texts."""

    def __init__(self, cache_id: str = "fake|torch|abc", dim: int = 8) -> None:
        self.model_id = "fake"
        self.cache_id = cache_id
        self.dim = dim
        self.texts: list[str] = []
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        self.texts += list(texts)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(f"{t}|{self.calls}".encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)


def cached(folder: Path, inner: FakeEncoder | None = None) -> CachedEmbedder:
    return CachedEmbedder(inner or FakeEncoder(), EmbedCache(folder), min_texts=2)


def test_a_second_home_reuses_every_vector_byte_for_byte(tmp_path: Path) -> None:
    first = cached(tmp_path)
    a = first.encode(TEXTS)
    assert first.inner.texts == TEXTS
    second = cached(tmp_path)  # a new process / SDI home over the same cache folder
    b = second.encode(TEXTS)
    assert second.inner.texts == [] and a.dtype == b.dtype == np.float32
    assert a.tobytes() == b.tobytes()


def test_only_unknown_texts_are_embedded_and_repeats_once(tmp_path: Path) -> None:
    emb = cached(tmp_path)
    emb.encode(TEXTS[:10])
    mixed = TEXTS[5:15] + ["new note", "new note"]
    out = emb.encode(mixed)
    assert emb.inner.texts[10:] == TEXTS[10:15] + ["new note"]
    assert out.shape == (len(mixed), 8) and out[-1].tobytes() == out[-2].tobytes()
    assert (emb.cache.hits, emb.cache.misses) == (5, 10 + 6)


def test_the_backend_is_part_of_the_key(tmp_path: Path) -> None:
    cached(tmp_path).encode(TEXTS)
    onnx = cached(tmp_path, FakeEncoder("fake|onnx-fp32|abc"))
    onnx.encode(TEXTS)
    assert onnx.inner.texts == TEXTS
    assert text_key("fake|torch|abc", "x") != text_key("fake|onnx-fp32|abc", "x")


def test_queries_bypass_the_cache(tmp_path: Path) -> None:
    emb = cached(tmp_path)
    emb.encode(TEXTS[:2])
    emb.encode(TEXTS[:2])
    assert emb.inner.texts == TEXTS[:2] * 2 and emb.cache.misses == 0


def test_a_damaged_row_reads_as_missing_and_is_embedded_again(tmp_path: Path) -> None:
    cached(tmp_path).encode(TEXTS)
    key = text_key("fake|torch|abc", TEXTS[3])
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        (blob,) = db.execute("SELECT vec FROM vectors WHERE key = ?", [key]).fetchone()
        db.execute("UPDATE vectors SET vec = ? WHERE key = ?", [bytes([blob[0] ^ 1]) + blob[1:], key])
        db.execute("UPDATE vectors SET vec = x'00' WHERE key = ?", [text_key("fake|torch|abc", TEXTS[4])])
    again = cached(tmp_path)
    again.encode(TEXTS)
    assert again.inner.texts == TEXTS[3:5]
    assert cached(tmp_path).encode(TEXTS[3:6]).tobytes() == again.encode(TEXTS[3:6]).tobytes()


def test_an_unreadable_file_is_set_aside_and_a_fresh_cache_started(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a database" * 100)
    emb = cached(tmp_path)
    assert emb.encode(TEXTS).shape == (len(TEXTS), 8) and emb.cache.enabled
    assert len(list(tmp_path.glob(f"{FILE_NAME}.unreadable-*"))) == 1
    assert cached(tmp_path).encode(TEXTS).tobytes() == emb.encode(TEXTS).tobytes()


def test_a_cache_that_cannot_be_opened_turns_off_and_embedding_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    emb = cached(blocker)
    assert not emb.cache.enabled
    assert emb.encode(TEXTS).shape == (len(TEXTS), 8) and emb.inner.texts == TEXTS


def test_a_failing_write_turns_the_cache_off_without_failing(tmp_path: Path) -> None:
    emb = cached(tmp_path)
    emb.cache.close()
    emb.cache._db = sqlite3.connect(":memory:", check_same_thread=False)  # no vectors table: every query fails
    out = emb.encode(TEXTS)
    assert out.shape == (len(TEXTS), 8) and not emb.cache.enabled and emb.inner.texts == TEXTS
