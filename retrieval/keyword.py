"""BM25 keyword search: the only module that imports bm25s.

Tokenisation keeps codes whole and also splits them, so `E-417`, `e417`, `P/N 4471-220` and `4471-220` all meet:
`E-417` -> e-417, 417;  `E417` -> e417, e-417, 417;  `4471-220` -> 4471-220, 4471, 220.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"[^\W_]+(?:[-/.][^\W_]+)*")
_JOINERS = re.compile(r"[-/.]")
_GLUED_CODE = re.compile(r"^([a-z]{1,3})(\d{2,4})$")
STOPWORDS = frozenset(
    "a an and are as at be been but by for from had has have he in into is it its no not of on or our s so "
    "that the their then there these they this to was we were will with".split()
)


def _norm(word: str) -> str:
    """A light plural fold (filters -> filter, leaks -> leak) that leaves codes and short words alone."""
    if len(word) > 4 and word.isalpha() and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case tokens of text for BM25 (codes whole and in parts; stop words dropped)."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if _JOINERS.search(tok):
            out.append(tok)
            out.extend(p for p in _JOINERS.split(tok) if len(p) > 1 and p not in STOPWORDS)
            continue
        glued = _GLUED_CODE.match(tok)
        if glued:
            out += [tok, f"{glued.group(1)}-{glued.group(2)}", glued.group(2)]
        elif tok not in STOPWORDS and (len(tok) > 1 or tok.isdigit()):
            out.append(_norm(tok))
    return out


class KeywordIndex:
    """A BM25 index over a fixed list of texts; rows are positions in that list."""

    def __init__(self, retriever: object, size: int) -> None:
        self._bm25 = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "KeywordIndex":
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            retriever.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for query (zeros where no query token occurs)."""
        tokens = tokenize(query)
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best k rows with a positive score, optionally only rows where mask is True."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = int(np.count_nonzero(scores > 0))
        k = min(k, positive)
        if k <= 0:
            return []
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.lexsort((idx, -scores[idx]))]
        return [(int(i), float(scores[i])) for i in idx]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size.json").write_text(json.dumps({"size": self.size}))
        if self.size:
            self._bm25.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        size = json.loads((folder / "size.json").read_text())["size"]
        retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if size else bm25s.BM25()
        return cls(retriever, size)


def matched_terms(query: str, text: str) -> list[str]:
    """Query tokens that occur in text (why a keyword hit matched)."""
    have = set(tokenize(text))
    seen: list[str] = []
    for tok in tokenize(query):
        if tok in have and tok not in seen:
            seen.append(tok)
    return seen
