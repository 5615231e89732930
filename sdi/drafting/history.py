"""[H] sources: service-history chunks from the retriever, recent records from the machine file, contact names."""

from __future__ import annotations

from datetime import date
from typing import Any

from sdi.config import Settings
from sdi.drafting.sources import MAX_H_CHARS, SourceBook
from sdi.drafting.types import Source
from sdi.errors import SdiError
from sdi.store import MachineFile



class History:
    """Opens the retriever on first use; a missing index means drafts without [H] sources, said in a note."""

    def __init__(self, settings: Settings, retriever: Any | None = None) -> None:
        self.settings = settings
        self._retriever = retriever
        self.problem: str | None = None

    def retriever(self) -> Any | None:
        """The retrieval stage, or None if it cannot be opened (no index yet)."""
        if self._retriever is None and self.problem is None:
            try:
                from retrieval.retriever import open_retriever

                self._retriever = open_retriever(self.settings)
            except SdiError as exc:
                self.problem = f"service history not searchable: {exc.message}"
        return self._retriever

    def searchable(self, serial: str) -> Any | None:
        """The retriever, once the machine's records are searchable (a server still indexing indexes them now)."""
        retriever = self.retriever()
        if retriever is not None:
            from retrieval.background import ensure_indexed
            from retrieval.retriever import catalog_dir

            ensure_indexed(catalog_dir(self.settings), serial, retriever)
        return retriever

    def add_for_opportunity(self, book: SourceBook, opp: dict[str, Any], k_own: int, k_similar: int) -> None:
        """The machine's own most relevant records, then similar cases from its model."""
        retriever = self.searchable(str(opp["serial"]))
        if retriever is None:
            return
        try:
            found = retriever.retrieve_for_opportunity(opp, k_own=k_own, k_similar=k_similar)
        except SdiError as exc:
            self.problem = f"service history not searchable: {exc.message} ({exc.hint})"
            return
        for src in found.own + found.similar:
            _add(book, src)

    def add_for_question(self, book: SourceBook, opp: dict[str, Any], question: str, k: int) -> None:
        """Records of this machine that answer a rep's question (a request, the last visit, a code ...)."""
        retriever = self.searchable(str(opp["serial"]))
        if retriever is None:
            return
        from retrieval.catalog import Filters

        try:
            hits = retriever.retrieve_for_question(question, Filters(serial=str(opp["serial"])), k)
        except SdiError as exc:
            self.problem = f"service history not searchable: {exc.message} ({exc.hint})"
            return
        for src in hits:
            _add(book, src)


def _add(book: SourceBook, src: Any) -> None:
    scope = "similar" if src.scope == "similar" else "own"
    where = f"{src.serial}, another machine of the same model" if scope == "similar" else src.serial
    book.add_history(src.source_id, f"{src.date} {src.record_type} on {where}", src.text, tuple(src.span), scope)


def recent_records(db: MachineFile, book: SourceBook, serial: str, as_of: date, limit: int,
                   skip: int = 0) -> list[tuple[Source, str]]:
    """The machine's latest service records (after the `skip` latest) as [H] sources, with a one-line summary each."""
    rows = db.sql(
        "SELECT record_id, date, type, text FROM service_records WHERE serial = ? AND date <= ? "
        "ORDER BY date DESC, record_id DESC LIMIT ? OFFSET ?", [serial, as_of, limit, skip]
    )
    out = []
    for record_id, day, kind, text in rows:
        src = book.add_history(f"service_record:{record_id}", f"{day.isoformat()} {kind or 'service'} on {serial}",
                               text, (0, min(len(text), MAX_H_CHARS)), "own")
        out.append((src, src.text))
    return out


def contact_names(db: MachineFile, customer_id: str | None) -> list[str]:
    """The customer's contact details that must not reach a prompt."""
    if not customer_id:
        return []
    row = db.one("SELECT contact_name, contact_email, contact_phone FROM customers WHERE customer_id = ?", [customer_id])
    names = [v for v in (row or ()) if v]
    if row and row[0] and len(row[0].split()) > 1 and len(row[0].split()[-1]) > 3:
        names.append(row[0].split()[-1])  # a surname alone still names the person; a first name alone is too common
    return names


