"""SDI's retriever as a LangChain `BaseRetriever` (the only retrieval module that imports LangChain)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any, Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.catalog import Filters
from retrieval.protocol import Retriever
from retrieval.retriever import Source
from retrieval.search import Mode
from sdi.config import Settings


def scope_of(filters: Filters) -> dict[str, str]:
    """The filters a search ran with, as JSON-ready metadata (only those that were set)."""
    return {name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in asdict(filters).items() if value is not None}


def to_document(source: Source, scope: dict[str, str]) -> Document:
    """A LangChain Document for one SDI source: the chunk text, cited by its chunk id and span."""
    return Document(id=source.source_id, page_content=source.text, metadata={
        "source_id": source.source_id, "record_id": source.record_id, "span": list(source.span),
        "score": source.score, "serial": source.serial, "model": source.model, "date": source.date,
        "record_type": source.record_type, "matched_by": source.matched_by, "scope": scope,
    })


def format_docs(docs: Sequence[Document]) -> str:
    """Documents as prompt context, one `[source_id] text` block each, so a model can cite them."""
    return "\n\n".join(f"[{d.metadata['source_id']}] {d.page_content}" for d in docs)


class SdiRetriever(BaseRetriever):
    """SDI's hybrid search in a LangChain chain; `invoke(query, filters=..., k=..., mode=...)` overrides per call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    filters: Filters = Filters()
    k: int = 5
    mode: Mode = "hybrid"

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **fields: Any) -> SdiRetriever:
        """Over the index the settings describe (`sdi index` builds it)."""
        from retrieval.retriever import open_retriever

        return cls(retriever=open_retriever(settings), **fields)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                filters: Filters | None = None, k: int | None = None,
                                mode: Mode | None = None) -> list[Document]:
        applied = self.filters if filters is None else filters
        sources = self.retriever.retrieve(query, applied, k or self.k, mode or self.mode)
        scope = scope_of(applied)
        return [to_document(s, scope) for s in sources]
