"""Customer documents to index: SDI_HOME/documents/<SERIAL>/<file>.txt|.md|.pdf, each linked to its machine.

A document that cannot be used (empty, binary, unreadable PDF, unknown machine, unsupported type) is refused with a
reason and reported; it never stops the indexing of everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

SUPPORTED = (".txt", ".md", ".pdf")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Document:
    """A document's extracted text; spans of its chunks point into `text`."""

    serial: str
    filename: str
    path: Path
    text: str
    date: date

    @property
    def source_id(self) -> str:
        return f"document:{self.serial}/{self.filename}"


@dataclass(frozen=True)
class Refusal:
    """A file that was not indexed, and why."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as exported by older Windows tools."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover - an install problem
        raise ValueError("PDF support is not installed (package pypdf)") from exc
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for broken files
        raise ValueError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def read_text(path: Path) -> str:
    """The document's text; ValueError with a user-facing reason when it has none."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ValueError(f"unsupported file type {suffix or '(none)'}: use .txt, .md or .pdf")
    if suffix == ".pdf":
        text = _pdf_text(path)
        if not text.strip():
            raise ValueError("the PDF has no extractable text (a scanned image? run OCR first)")
        return text
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("empty document")
    if b"\x00" in data[:8192]:
        raise ValueError("not a text file (binary content)")
    text = _decode(data)
    if len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        raise ValueError("not a text file (control characters)")
    if not text.strip():
        raise ValueError("empty document")
    return text


def _document_date(path: Path) -> date:
    """A date in the file name (YYYY-MM-DD) if any, else the file's modification day."""
    found = _DATE_IN_NAME.search(path.name)
    if found:
        try:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime).date()


def scan(root: Path, known_serials: set[str]) -> tuple[list[Document], list[Refusal]]:
    """Every usable document under root, and every refused file with its reason (sorted by path)."""
    documents: list[Document] = []
    refused: list[Refusal] = []
    if not root.is_dir():
        return documents, refused
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(root)
        if len(rel.parts) != 2:
            refused.append(Refusal(str(rel), "not in a serial folder: put documents in documents/<SERIAL>/<file> so they link to a machine"))
            continue
        serial = rel.parts[0]
        if serial not in known_serials:
            refused.append(Refusal(str(rel), f"serial {serial} is not in the machine file"))
            continue
        try:
            text = read_text(path)
        except (ValueError, OSError) as exc:
            refused.append(Refusal(str(rel), str(exc)))
            continue
        documents.append(Document(serial, path.name, path, text, _document_date(path)))
    return documents, refused
