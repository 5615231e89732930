"""The retrieval seam the drafting step calls: a Protocol every retriever implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from retrieval.catalog import Filters
    from retrieval.retriever import RetrievedSources, Source
    from retrieval.search import Mode


@runtime_checkable
class Retriever(Protocol):
    """Citable sources for a free query, or for an opportunity (its machine's own records, then similar cases)."""

    def retrieve(self, query: str | list[str], filters: Filters | None = None, k: int = 5,
                 mode: Mode = "hybrid") -> list[Source]:
        """Best k sources within the filters, best first."""
        ...

    def retrieve_for_question(self, question: str, filters: Filters | None = None, k: int = 5) -> list[Source]:
        """Best k sources to answer a rep's question (its intent decides how: see retrieval.questions)."""
        ...

    def retrieve_for_opportunity(self, opportunity: dict[str, Any], k_own: int = 5,
                                 k_similar: int = 3) -> RetrievedSources:
        """The opportunity machine's own sources (scope 'own') and other machines' of its model ('similar')."""
        ...
