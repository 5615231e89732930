"""An in-memory retriever for unit tests: a few service records, BM25 only, no embedding model and no vector store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from retrieval.catalog import Catalog, Filters, date_int, sorted_rows
from retrieval.chunking import chunk_text, error_codes, part_numbers
from retrieval.retriever import Retriever
from retrieval.search import Hit, Mode, depth_for, row_hit
from sdi.errors import SdiError

CHUNK_CHARS = 120  # small chunks, so a record gives several spans


@dataclass(frozen=True)
class FakeRecord:
    """One service record of the fake base."""

    record_id: str
    serial: str
    model: str
    text: str
    date: str | None = None  # ISO
    record_type: str = "repair"
    customer: str = ""

    @property
    def source_id(self) -> str:
        return f"service_record:{self.record_id}"


class FakeSearcher:
    """Searcher-shaped keyword search over records in memory; `mode` is accepted and ignored."""

    def __init__(self, records: Iterable[FakeRecord]) -> None:
        records = list(records)
        self.texts = {r.source_id: r.text for r in records}
        rows = []
        for rec in records:
            day = date_int(date.fromisoformat(rec.date)) if rec.date else 0
            for chunk in chunk_text(rec.source_id, rec.text, CHUNK_CHARS):
                rows.append({"id": chunk.chunk_id, "text": chunk.text, "source_id": rec.source_id, "start": chunk.start,
                             "end": chunk.end, "serial": rec.serial, "customer": rec.customer, "model": rec.model,
                             "type": rec.record_type, "date": day, "codes": ",".join(error_codes(chunk.text)),
                             "parts": ",".join(part_numbers(chunk.text))})
        self._catalog = Catalog(sorted_rows(rows))

    def catalog(self) -> Catalog:
        """The in-memory chunk catalog (the real searcher's is loaded from the index)."""
        return self._catalog

    def search(self, queries: str | Sequence[str], filters: Filters | None = None, k: int = 5,
               mode: Mode = "hybrid") -> list[Hit]:
        """Best k chunks by summed BM25 score over the queries, within the filters."""
        texts = [q for q in (t.strip() for t in ([queries] if isinstance(queries, str) else queries)) if q]
        if not texts:
            raise SdiError("the search query is empty", "give some words, a code or a part number")
        if k < 1:
            raise SdiError("k must be at least 1", "e.g. -k 5")
        catalog = self._catalog
        mask = catalog.mask(filters or Filters())
        scores: dict[int, float] = {}
        for query in texts:
            for row, score in catalog.keyword.top(query, depth_for(k), mask):
                scores[row] = scores.get(row, 0.0) + score
        order = sorted(scores, key=lambda r: (-scores[r], catalog.ids[r]))[:k]
        return [row_hit(catalog, row, round(scores[row], 6), "keyword", texts) for row in order]


def fake_retriever(records: Iterable[FakeRecord]) -> Retriever:
    """The drafting step's retriever over a fake in-memory base."""
    return Retriever(FakeSearcher(records))  # type: ignore[arg-type]  # Searcher-shaped, not a Searcher
