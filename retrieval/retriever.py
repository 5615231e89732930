"""The retriever the drafting step uses: sources for an opportunity, the machine's own first, then similar cases.

Queries come from the opportunity's triggers: the error codes and part numbers in their evidence facts and
conditions (each its own query, most specific first), then each rule's campaign and situation words. The machine's own records are searched with a serial
filter; similar cases come from other machines of the same model and are marked `scope = "similar"`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from retrieval.catalog import Filters
from retrieval.chunking import error_codes, part_numbers
from retrieval.questions import answer_hits, plan_question
from retrieval.search import Hit, Mode, Searcher
from sdi.config import Settings, get_settings
from sdi.errors import SdiError
from sdi.triggers.rules import lookup

MAX_QUERIES = 8


@dataclass
class Source:
    """One retrieved chunk, citable by `source_id`, with the record it belongs to and the exact span."""

    source_id: str  # chunk id: service_record:SR-5531#c0
    record_id: str  # record or document source id: service_record:SR-5531
    serial: str
    model: str
    date: str | None
    record_type: str
    span: tuple[int, int]
    text: str
    score: float
    matched_by: str
    scope: str  # own | similar | query
    matched_terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["span"] = list(self.span)
        return data


@dataclass
class RetrievedSources:
    """Sources for one opportunity: the machine's own history and, marked apart, similar cases."""

    opportunity_id: str | None
    serial: str
    model: str | None
    queries: list[str]
    own: list[Source]
    similar: list[Source]

    @property
    def sources(self) -> list[Source]:
        """Own sources first, then similar cases."""
        return self.own + self.similar

    def to_dict(self) -> dict[str, Any]:
        return {
            "opportunity_id": self.opportunity_id, "serial": self.serial, "model": self.model,
            "queries": self.queries, "own": [s.to_dict() for s in self.own],
            "similar": [s.to_dict() for s in self.similar],
        }


def _strings(value: Any) -> Iterable[str]:
    """Every string (and number) inside a JSON-like value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif value is not None:
        yield str(value)


def _keyed(facts: dict[str, Any], word: str) -> list[Any]:
    """Values of the facts whose key names `word` (codes, code, part_number, parts ...)."""
    return [v for k, v in facts.items() if word in k.lower()]


def opportunity_queries(opportunity: dict[str, Any]) -> list[str]:
    """Search queries for an opportunity: codes and parts first (most specific), then each rule's words."""
    codes: list[str] = []
    parts: list[str] = []
    words: list[str] = []
    for trig in opportunity.get("triggers") or []:
        facts = (trig.get("evidence") or {}).get("facts") or {}
        conditions = [trig.get("condition") or {}, *(trig.get("conditions") or [])]
        code_text = " ".join(_strings(_keyed(facts, "code") + [c.get("value") for c in conditions if "code" in str(c.get("field"))]))
        part_text = " ".join(_strings(_keyed(facts, "part")))
        codes += [c for c in error_codes(code_text) if c not in codes]
        parts += [p for p in part_numbers(part_text) if p not in parts]
        rule = lookup(str(trig.get("rule_id", "")))  # its query words: what a technician would have written
        phrase = " ".join(x for x in (trig.get("campaign") or "", rule.query_words if rule else "") if x)
        if phrase and phrase not in words:
            words.append(phrase.strip())
    queries = codes + [f"P/N {p}" for p in parts] + words
    if not queries and opportunity.get("campaign"):
        queries = [str(opportunity["campaign"])]
    return queries[:MAX_QUERIES]


def _source(hit: Hit, scope: str) -> Source:
    return Source(hit.chunk_id, hit.source_id, hit.serial, hit.model, hit.date, hit.record_type, hit.span, hit.text,
                  hit.score, hit.matched_by, scope, hit.matched_terms)


class Retriever:
    """Retrieval for the drafting step, over one searcher."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher

    def retrieve(self, query: str | list[str], filters: Filters | None = None, k: int = 5,
                 mode: Mode = "hybrid") -> list[Source]:
        """Best k sources for a free query within the filters."""
        return [_source(h, "query") for h in self.searcher.search(query, filters, k, mode)]

    def retrieve_for_question(self, question: str, filters: Filters | None = None, k: int = 5) -> list[Source]:
        """Best k sources to answer a rep's question, by its intent (request, last visit, code ...: retrieval.questions)."""
        if not question.strip():
            raise SdiError("the question is empty", "ask something, e.g. 'what did the customer ask for?'")
        if k < 1:
            raise SdiError("k must be at least 1", "e.g. k=3")
        return [_source(h, "query") for h in answer_hits(self.searcher, plan_question(question), filters, k)]

    def retrieve_for_opportunity(self, opportunity: dict[str, Any], k_own: int = 5,
                                 k_similar: int = 3) -> RetrievedSources:
        """Top sources for the opportunity's machine, and similar cases from other machines of its model."""
        serial = str(opportunity["serial"])
        model = opportunity.get("model")
        queries = opportunity_queries(opportunity)
        own: list[Source] = []
        similar: list[Source] = []
        if queries:
            if k_own > 0:
                own = [_source(h, "own") for h in self.searcher.search(queries, Filters(serial=serial), k_own)]
            if k_similar > 0 and model:
                hits = self.searcher.search(queries, Filters(model=str(model), exclude_serial=serial), k_similar)
                similar = [_source(h, "similar") for h in hits]
        return RetrievedSources(opportunity.get("id"), serial, model, queries, own, similar)


def open_searcher(settings: Settings | None = None, progress: Any = None) -> Searcher:
    """The searcher the settings describe (vector store, embedding model, catalog under SDI_HOME)."""
    from retrieval.embedder import LazyEmbedder
    from retrieval.vector_store import open_store

    s = settings or get_settings()
    store = open_store(s.vector_store, s.vector_dir)
    return Searcher(store, LazyEmbedder(s.embedding_model), catalog_dir(s), progress)


def catalog_dir(settings: Settings) -> Any:
    """Where the local keyword catalog lives (per SDI instance, also with a shared Chroma server)."""
    return settings.vector_dir / "catalog"


def open_retriever(settings: Settings | None = None) -> Retriever:
    """A retriever over the configured index (`sdi index` builds it)."""
    return Retriever(open_searcher(settings))
