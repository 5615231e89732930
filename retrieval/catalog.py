"""The chunk catalog: every indexed chunk's text, span and filter fields in memory, with the BM25 index over it.

It is a local cache of what the vector store holds, stamped with the store's generation: when another SDI instance
re-indexes a shared Chroma server the stamp no longer matches and the catalog is rebuilt from the store.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from retrieval.keyword import KeywordIndex

FILTER_FIELDS = ("serial", "customer", "model", "type")
FORMAT = 1


@dataclass(frozen=True)
class Filters:
    """Which chunks a search may return. Dates are inclusive; exclude_serial drops one machine."""

    serial: str | None = None
    customer: str | None = None
    model: str | None = None
    record_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    exclude_serial: str | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in self.__dict__.values())

    def to_where(self) -> dict[str, Any] | None:
        """The same filter as a Chroma `where` clause."""
        clauses: list[dict[str, Any]] = []
        for field, value in (("serial", self.serial), ("customer", self.customer), ("model", self.model),
                             ("type", self.record_type)):
            if value is not None:
                clauses.append({field: value})
        if self.exclude_serial is not None:
            clauses.append({"serial": {"$ne": self.exclude_serial}})
        if self.date_from is not None:
            clauses.append({"date": {"$gte": date_int(self.date_from)}})
        if self.date_to is not None:
            clauses.append({"date": {"$lte": date_int(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def date_int(day: date | None) -> int:
    """YYYYMMDD as an int (0 for no date), the form stored in chunk metadata for range filters."""
    return day.year * 10000 + day.month * 100 + day.day if day else 0


def int_date(value: int) -> str | None:
    """ISO date from YYYYMMDD (None for 0)."""
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}" if value else None


class _Column:
    """A string column stored as integer codes, for fast equality masks."""

    def __init__(self, values: Iterable[str]) -> None:
        self.labels: list[str] = []
        index: dict[str, int] = {}
        codes = []
        for v in values:
            code = index.get(v)
            if code is None:
                code = index[v] = len(self.labels)
                self.labels.append(v)
            codes.append(code)
        self.index = index
        self.codes = np.asarray(codes, dtype=np.int32)

    def equals(self, value: str) -> np.ndarray:
        code = self.index.get(value)
        return self.codes == code if code is not None else np.zeros(len(self.codes), dtype=bool)

    def __getitem__(self, row: int) -> str:
        return self.labels[self.codes[row]]


class Catalog:
    """Chunks in a fixed order (row = position), with filter columns and a BM25 index over their texts."""

    def __init__(self, rows: list[dict[str, Any]], keyword: KeywordIndex | None = None, generation: str = "") -> None:
        self.rows = rows
        self.ids = [r["id"] for r in rows]
        self.row_of = {cid: i for i, cid in enumerate(self.ids)}
        self.columns = {f: _Column(str(r.get(f) or "") for r in rows) for f in FILTER_FIELDS}
        self.dates = np.asarray([int(r.get("date") or 0) for r in rows], dtype=np.int64)
        self.keyword = keyword if keyword is not None else KeywordIndex.build([r["text"] for r in rows])
        self.generation = generation

    def __len__(self) -> int:
        return len(self.rows)

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Rows the filters allow (None when there is no filter)."""
        if filters.is_empty():
            return None
        keep = np.ones(len(self.rows), dtype=bool)
        for field, value in (("serial", filters.serial), ("customer", filters.customer), ("model", filters.model),
                             ("type", filters.record_type)):
            if value is not None:
                keep &= self.columns[field].equals(value)
        if filters.exclude_serial is not None:
            keep &= ~self.columns["serial"].equals(filters.exclude_serial)
        if filters.date_from is not None:
            keep &= self.dates >= date_int(filters.date_from)
        if filters.date_to is not None:
            keep &= self.dates <= date_int(filters.date_to)
        return keep

    # ------------------------------------------------------------------ persistence

    def save(self, folder: Path) -> None:
        """Write atomically: a reader sees the old catalog or the new one, never half of one."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        with open(tmp / "chunks.json", "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT, "generation": self.generation, "rows": self.rows}, fh, ensure_ascii=False)
        self.keyword.save(tmp / "keyword")
        old = folder.parent / f".{folder.name}.old.{uuid.uuid4().hex[:8]}"
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "Catalog | None":
        """The saved catalog, or None when there is none (or it is unreadable)."""
        try:
            with open(folder / "chunks.json", encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("format") != FORMAT:
                return None
            return cls(data["rows"], KeywordIndex.load(folder / "keyword"), data.get("generation", ""))
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def stamp(folder: Path) -> str | None:
        """The generation a saved catalog was built for, read without loading it."""
        try:
            with open(folder / "chunks.json", encoding="utf-8") as fh:
                head = fh.read(200)
            start = head.index('"generation": "') + len('"generation": "')
            return head[start : head.index('"', start)]
        except (OSError, ValueError):
            return None


def row_from(chunk_id: str, text: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A catalog row from a stored chunk (its document text and metadata)."""
    return {
        "id": chunk_id,
        "text": text,
        "source_id": meta.get("source_id", chunk_id.split("#", 1)[0]),
        "start": int(meta.get("start", 0)),
        "end": int(meta.get("end", len(text))),
        "serial": meta.get("serial", ""),
        "customer": meta.get("customer", ""),
        "model": meta.get("model", ""),
        "type": meta.get("type", ""),
        "date": int(meta.get("date", 0)),
        "codes": meta.get("codes", ""),
        "parts": meta.get("parts", ""),
    }


def sorted_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in a canonical order (by id), so every instance builds the same catalog."""
    return sorted(rows, key=lambda r: r["id"])
