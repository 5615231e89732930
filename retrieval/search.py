"""Hybrid search: dense (vector store) and keyword (BM25) candidates, filtered alike, fused by normalised score.

Fusion: each side's scores are divided by that side's best score for the query, then combined as
0.35 * dense + 0.65 * keyword, plus 0.5 * the normalised BM25 score of an exact code / part-number list when the query
names one; several queries add up. Chosen on the dev half of the demo query set (eval/retrieval_eval.py) over plain
and weighted reciprocal-rank fusion and min-max normalisation (rank fusion ignores how far apart the scores are; on
the demo set it let the embedding's guesses outrank exact keyword matches, so hybrid trailed BM25's MRR).

Filters are evaluated once on the in-memory catalog and applied to both sides. The dense side picks the cheapest
plan for the filter's selectivity (Chroma's own filtered HNSW search is slow for selective filters):
no filter -> HNSW top-k; few allowed chunks -> their stored embeddings scored exactly; a broad filter -> HNSW over-fetch
then post-filter (growing the fetch once or twice); otherwise -> Chroma restricted to the allowed ids (its `where`
clause only for very large id sets). Measured at 100,000 chunks: `where` costs 150-250 ms, an id list 3-20 ms.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from retrieval.chunking import error_codes, part_numbers
from retrieval.catalog import Catalog, Filters, int_date, row_from, sorted_rows
from retrieval.embedder import Embedder
from retrieval.keyword import matched_terms
from retrieval.vector_store import VectorStore
from sdi.errors import SdiError

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[str, ...] = ("hybrid", "dense", "keyword")
DENSE_WEIGHT = 0.35  # the keyword side gets 1 - DENSE_WEIGHT
EXACT_MAX = 256  # allowed chunks up to which the dense side scores stored embeddings exactly
OVERFETCH_MIN_SHARE = 0.2  # filters keeping at least this share of chunks: over-fetch and post-filter
OVERFETCH_MAX = 2000
IDS_MAX = 200_000  # above this many allowed ids, use Chroma's where clause instead of an id list
RECHECK_SECONDS = 2.0
IDENTIFIER_WEIGHT = 0.5  # weight of the extra exact-identifier list for queries naming a code or part number


@dataclass
class Hit:
    """One search result: a chunk, where it comes from, and why it matched."""

    chunk_id: str
    source_id: str
    serial: str
    model: str
    customer: str
    date: str | None
    record_type: str
    span: tuple[int, int]
    text: str
    score: float
    matched_by: str  # dense | keyword | both
    dense_rank: int | None = None
    keyword_rank: int | None = None
    dense_score: float | None = None
    keyword_score: float | None = None
    matched_terms: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["span"] = list(self.span)
        return data


def row_hit(catalog: Catalog, row: int, score: float, matched_by: str, queries: Sequence[str] = (),
            **ranks: Any) -> Hit:
    """A hit for one catalog row; `queries` name the terms it matched, `ranks` the per-side ranks and scores."""
    r = catalog.rows[row]
    return Hit(
        chunk_id=r["id"], source_id=r["source_id"], serial=r["serial"], model=r["model"], customer=r["customer"],
        date=int_date(r["date"]), record_type=r["type"], span=(r["start"], r["end"]), text=r["text"], score=score,
        matched_by=matched_by, matched_terms=sorted({t for q in queries for t in matched_terms(q, r["text"])}),
        codes=[c for c in r.get("codes", "").split(",") if c], parts=[p for p in r.get("parts", "").split(",") if p],
        **ranks,
    )


def identifiers(query: str) -> str:
    """The error codes and part numbers a query names (empty when none), e.g. 'alarm e417' -> 'E-417'."""
    return " ".join(error_codes(query.upper()) + part_numbers(query))


def depth_for(k: int) -> int:
    """Candidates each side contributes to the fusion."""
    return max(30, 3 * k)


class Searcher:
    """Searches one vector store with one embedder; keeps the keyword catalog in step with the store."""

    def __init__(self, store: VectorStore, embedder: Embedder, catalog_dir: Path,
                 progress: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.catalog_dir = catalog_dir
        self.progress = progress or (lambda _m: None)
        self._catalog: Catalog | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.dense_weight = DENSE_WEIGHT
        self.identifier_weight = IDENTIFIER_WEIGHT

    # ------------------------------------------------------------------ catalog

    def catalog(self) -> Catalog:
        """The catalog matching the store's current generation (reloaded or rebuilt when it moved on)."""
        with self._lock:
            now = time.monotonic()
            if self._catalog is not None and now - self._checked < RECHECK_SECONDS:
                return self._catalog
            state = self.store.state()
            generation = state.get("generation", "")
            self._checked = now
            if self._catalog is not None and self._catalog.generation == generation:
                return self._catalog
            if state.get("embedding_model") and state["embedding_model"] != self.embedder.model_id:
                raise SdiError(
                    f"the index was built with embedding model {state['embedding_model']}, not {self.embedder.model_id}",
                    "run sdi index --rebuild",
                )
            catalog = Catalog.load(self.catalog_dir)
            if catalog is None or catalog.generation != generation:
                catalog = self._rebuild(generation)
            self._catalog = catalog
            return catalog

    def refresh(self) -> None:
        """Check the store's generation at the next search (this process just published a new catalog)."""
        self._checked = 0.0

    def _rebuild(self, generation: str) -> Catalog:
        """The catalog from the store's own contents (another instance indexed it, or the cache is gone)."""
        self.progress(f"refreshing the keyword index from {self.store.description}")
        rows = []
        for ids, documents, metadatas in self.store.scan():
            rows += [row_from(i, d or "", m or {}) for i, d, m in zip(ids, documents, metadatas)]
        catalog = Catalog(sorted_rows(rows), generation=generation)
        if generation and not generation.startswith("dirty-"):
            catalog.save(self.catalog_dir)
        return catalog

    # ------------------------------------------------------------------ the two sides

    def dense(self, vector: np.ndarray, catalog: Catalog, mask: np.ndarray | None, depth: int,
              filters: Filters) -> list[tuple[int, float]]:
        """(row, cosine similarity) of the best `depth` allowed chunks."""
        n = len(catalog)
        if n == 0:
            return []
        if mask is None:
            return self._rows(catalog, self.store.query(vector, min(depth, n)), None)
        allowed = np.flatnonzero(mask)
        m = len(allowed)
        if m == 0:
            return []
        if m <= EXACT_MAX:
            ids = [catalog.ids[i] for i in allowed]
            stored = self.store.embeddings(ids)
            rows = [catalog.row_of[i] for i in ids if i in stored]
            if not rows:
                return []
            sims = np.stack([stored[catalog.ids[r]] for r in rows]) @ vector
            order = np.argsort(-sims, kind="stable")[:depth]
            return [(rows[j], float(sims[j])) for j in order]
        want = min(depth, m)
        if m >= OVERFETCH_MIN_SHARE * n:
            fetch = math.ceil(want * n / m * 3)
            while True:
                fetch = min(n, OVERFETCH_MAX, fetch)
                got = self._rows(catalog, self.store.query(vector, fetch), mask)
                if len(got) >= want or fetch >= n:
                    return got[:want]
                if fetch >= OVERFETCH_MAX:
                    break
                fetch *= 4
        if m <= IDS_MAX:
            return self._rows(catalog, self.store.query(vector, want, ids=[catalog.ids[i] for i in allowed]), mask)
        return self._rows(catalog, self.store.query(vector, want, where=filters.to_where()), mask)

    @staticmethod
    def _rows(catalog: Catalog, hits: list[tuple[str, float]], mask: np.ndarray | None) -> list[tuple[int, float]]:
        out = []
        for cid, sim in hits:
            row = catalog.row_of.get(cid)
            if row is not None and (mask is None or mask[row]):
                out.append((row, sim))
        return out

    # ------------------------------------------------------------------ search

    def search(self, queries: str | Sequence[str], filters: Filters | None = None, k: int = 5,
               mode: Mode = "hybrid") -> list[Hit]:
        """Best k chunks for one query (or several, fused), within the filters."""
        if mode not in MODES:
            raise SdiError(f"unknown search mode {mode!r}", f"use one of: {', '.join(MODES)}")
        if k < 1:
            raise SdiError("k must be at least 1", "e.g. -k 5")
        texts = [queries] if isinstance(queries, str) else list(queries)
        texts = [q for q in (t.strip() for t in texts) if q]
        if not texts:
            raise SdiError("the search query is empty", 'give some words, a code or a part number: sdi search "E-417"')
        filters = filters or Filters()
        catalog = self.catalog()
        if len(catalog) == 0:
            raise SdiError("the search index is empty", "run sdi index first")
        mask = catalog.mask(filters)
        depth = depth_for(k)
        dense_lists: list[list[tuple[int, float]]] = []
        keyword_lists: list[list[tuple[int, float]]] = []
        if mode in ("hybrid", "dense"):
            vectors = self.embedder.encode(texts)
            dense_lists = [self.dense(v, catalog, mask, depth, filters) for v in vectors]
        extra: list[list[tuple[int, float]]] = []
        if mode in ("hybrid", "keyword"):
            keyword_lists = [catalog.keyword.top(q, depth, mask) for q in texts]
        if mode == "hybrid":
            # An exact code or part number is the signal embeddings miss: chunks containing it get a list of their own.
            extra = [catalog.keyword.top(ids, depth, mask) for ids in filter(None, map(identifiers, texts))]
        return self._fuse(catalog, texts, dense_lists, keyword_lists, extra, k)

    def _fuse(self, catalog: Catalog, texts: list[str], dense_lists: list[list[tuple[int, float]]],
              keyword_lists: list[list[tuple[int, float]]], extra: list[list[tuple[int, float]]], k: int) -> list[Hit]:
        fused: dict[int, float] = {}
        best: dict[int, dict[str, Any]] = {}
        weights = {"dense": self.dense_weight, "keyword": 1.0 - self.dense_weight, "identifier": self.identifier_weight}
        for side, lists in (("dense", dense_lists), ("keyword", keyword_lists), ("identifier", extra)):
            for ranked in lists:
                top = max((score for _, score in ranked), default=0.0)
                for rank, (row, score) in enumerate(ranked, start=1):
                    share = score / top if top > 0 else 0.0
                    fused[row] = fused.get(row, 0.0) + weights[side] * share
                    info = best.setdefault(row, {})
                    if side == "identifier":
                        info["identifier"] = True
                    elif info.get(f"{side}_rank") is None or rank < info[f"{side}_rank"]:
                        info[f"{side}_rank"], info[f"{side}_score"] = rank, score
        single = bool(dense_lists) != bool(keyword_lists) and len(texts) == 1
        if single:  # one side, one query: its own score and order
            fused = {row: info.get("dense_score", info.get("keyword_score", 0.0)) for row, info in best.items()}
        order = sorted(fused, key=lambda r: (-fused[r], best[r].get("dense_rank") or 10**9, catalog.ids[r]))[:k]
        hits = []
        for row in order:
            info = best[row]
            by_dense = info.get("dense_rank") is not None
            by_kw = info.get("keyword_rank") is not None or bool(info.get("identifier"))
            hits.append(row_hit(
                catalog, row, round(fused[row], 6), "both" if by_dense and by_kw else "dense" if by_dense else "keyword",
                texts if by_kw else (), dense_rank=info.get("dense_rank"), keyword_rank=info.get("keyword_rank"),
                dense_score=round(info["dense_score"], 4) if by_dense else None,
                keyword_score=round(info["keyword_score"], 4) if "keyword_score" in info else None,
            ))
        return hits
