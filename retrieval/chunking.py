"""Split texts into chunks on sentence and line boundaries, with exact character spans and stable ids.

Every chunk satisfies `text[chunk.start:chunk.end] == chunk.text`, so a citation can point at the exact characters
of the original service note or document it came from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_CHARS = 500

# A boundary is the end of a sentence (., !, ?, ; followed by whitespace) or a line break.
_BOUNDARY = re.compile(r"(?<=[.!?;])\s+|\n\s*")
_SPACE = re.compile(r"\s+")

# Error codes like E-417, E417, ERR-12, AB-1234 (upper case letters, optional hyphen, 2-4 digits).
_CODE = re.compile(r"(?<![A-Za-z0-9-])([A-Z]{1,3})-?(\d{2,4})(?![0-9-])")
# Part numbers like 4471-220 (4 digits, hyphen, 3 digits; optional P/N prefix is not part of the number).
_PART = re.compile(r"(?<![0-9-])(\d{4}-\d{3})(?![0-9-])")


@dataclass(frozen=True)
class Span:
    """A piece of an original text: text[start:end]."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a record or document."""

    chunk_id: str  # service_record:SR-5531#c0, document:M1/report.pdf#c2
    source_id: str  # the record or document it belongs to: service_record:SR-5531
    n: int
    start: int
    end: int
    text: str

    @property
    def span(self) -> tuple[int, int]:
        """(start, end) into the original text."""
        return (self.start, self.end)


def _segments(text: str) -> list[Span]:
    """Sentences and lines of text, trimmed of surrounding whitespace (never empty)."""
    out: list[Span] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        _add_trimmed(text, pos, match.start(), out)
        pos = match.end()
    _add_trimmed(text, pos, len(text), out)
    return out


def _add_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Span(start, end))


def _split_long(text: str, seg: Span, max_chars: int) -> list[Span]:
    """A segment longer than max_chars, cut at the last whitespace before the limit (hard cut if there is none)."""
    out: list[Span] = []
    start = seg.start
    while seg.end - start > max_chars:
        limit = start + max_chars
        cut = max((m.start() for m in _SPACE.finditer(text, start, limit + 1)), default=-1)
        if cut <= start:
            cut = limit
        _add_trimmed(text, start, cut, out)
        start = cut
        while start < seg.end and text[start].isspace():
            start += 1
    _add_trimmed(text, start, seg.end, out)
    return out


def split_spans(text: str, max_chars: int = MAX_CHARS) -> list[Span]:
    """Greedy packing of whole sentences/lines into spans of at most max_chars characters."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    pieces: list[Span] = []
    for seg in _segments(text):
        pieces.extend(_split_long(text, seg, max_chars) if seg.end - seg.start > max_chars else [seg])
    spans: list[Span] = []
    current: Span | None = None
    for piece in pieces:
        if current is not None and piece.end - current.start <= max_chars:
            current = Span(current.start, piece.end)
            continue
        if current is not None:
            spans.append(current)
        current = piece
    if current is not None:
        spans.append(current)
    return spans


def chunk_text(source_id: str, text: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Chunks of one record or document, ids `<source_id>#c<n>` in text order."""
    return [
        Chunk(f"{source_id}#c{n}", source_id, n, span.start, span.end, text[span.start : span.end])
        for n, span in enumerate(split_spans(text, max_chars))
    ]


def error_codes(text: str) -> list[str]:
    """Error codes mentioned in text, normalised to `E-417` form, sorted and unique."""
    return sorted({f"{m.group(1)}-{m.group(2)}" for m in _CODE.finditer(text)})


def part_numbers(text: str) -> list[str]:
    """Part numbers (`4471-220` style) mentioned in text, sorted and unique."""
    return sorted(set(_PART.findall(text)))


def content_hash(text: str, model_id: str) -> str:
    """What an embedding depends on: the chunk text and the model that embeds it."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()[:24]
