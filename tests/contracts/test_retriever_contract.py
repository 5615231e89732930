"""One contract every retriever passes: the hybrid, dense and keyword searches over real Chroma and the in-memory fake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from retrieval.catalog import Filters
from retrieval.fake import FakeRecord, fake_retriever
from retrieval.protocol import Retriever
from retrieval.retriever import Retriever as HybridRetriever
from tests.integration.test_retrieval import MACHINES, RECORDS, Env, embedder, env  # noqa: F401 - fixtures

QUERIES: list[str | list[str]] = ["E-417", "hydraulic pressure sensor replaced", ["P/N 4471-220", "oil leak"]]
OPPORTUNITY = {"id": "OPP-1", "serial": "M1", "model": "PB-1100",
               "triggers": [{"rule_id": "error_pattern", "evidence": {"facts": {"codes": ["E-417"]}}}]}


@dataclass
class Case:
    retriever: Retriever
    mode: str
    text: Callable[[str], str]  # the full text of a record, by its source id


def _fake() -> Case:
    models = dict(line.split(",")[:2] for line in MACHINES.splitlines()[1:])
    records = [FakeRecord(rid, serial, models[serial], text, day, kind) for rid, serial, day, kind, text, _ in RECORDS]
    retriever = fake_retriever(records)
    return Case(retriever, "hybrid", retriever.searcher.texts.__getitem__)


def _real(request: pytest.FixtureRequest, mode: str) -> Case:
    e: Env = request.getfixturevalue("env")
    return Case(HybridRetriever(e.searcher()), mode, lambda source_id: e.text(source_id.split(":", 1)[1]))


@pytest.fixture(params=["hybrid", "dense", "keyword", "fake"])
def case(request: pytest.FixtureRequest) -> Case:
    return _fake() if request.param == "fake" else _real(request, request.param)


@pytest.fixture(params=["hybrid", "fake"])
def implementation(request: pytest.FixtureRequest) -> Case:
    """Implementations as objects (the modes are a parameter of the same object)."""
    return _fake() if request.param == "fake" else _real(request, "hybrid")


def test_results_are_ranked_bounded_and_cite_exact_spans(case: Case) -> None:
    assert isinstance(case.retriever, Retriever)
    for query in QUERIES:
        for k in (1, 3):
            found = case.retriever.retrieve(query, None, k, case.mode)
            assert 1 <= len(found) <= k
            scores = [s.score for s in found]
            assert scores == sorted(scores, reverse=True)
            assert len({s.source_id for s in found}) == len(found)
            for src in found:
                assert src.source_id.startswith(src.record_id + "#") and src.scope == "query"
                start, end = src.span
                assert case.text(src.record_id)[start:end] == src.text


def test_filters_are_respected(case: Case) -> None:
    own = case.retriever.retrieve("hydraulic pressure sensor", Filters(serial="M2"), 5, case.mode)
    assert own and {s.serial for s in own} == {"M2"}
    others = case.retriever.retrieve("hydraulic pressure sensor", Filters(model="PB-1100", exclude_serial="M1"), 5,
                                     case.mode)
    assert others and all(s.serial != "M1" and s.model == "PB-1100" for s in others)
    assert not case.retriever.retrieve("E-417", Filters(serial="M9"), 5, case.mode)


def test_same_query_same_answer(case: Case) -> None:
    first = [s.to_dict() for s in case.retriever.retrieve(["E-417", "pressure sensor"], None, 4, case.mode)]
    assert first == [s.to_dict() for s in case.retriever.retrieve(["E-417", "pressure sensor"], None, 4, case.mode)]


def test_opportunity_sources_are_own_then_similar(implementation: Case) -> None:
    found = implementation.retriever.retrieve_for_opportunity(OPPORTUNITY, k_own=3, k_similar=2)
    assert found.queries[0] == "E-417" and found.serial == "M1"
    assert 1 <= len(found.own) <= 3 and all(s.serial == "M1" and s.scope == "own" for s in found.own)
    assert "E-417" in found.own[0].text
    assert 1 <= len(found.similar) <= 2
    assert all(s.serial != "M1" and s.model == "PB-1100" and s.scope == "similar" for s in found.similar)
    assert found.sources == found.own + found.similar


def test_question_sources_cite_exact_spans_within_the_filters(implementation: Case) -> None:
    assert isinstance(implementation.retriever, Retriever)
    for question in ("What did the customer ask for?", "When was the last service visit?", "Any history of E-417?",
                     "Was the pressure sensor replaced?", "How is the machine doing?"):
        found = implementation.retriever.retrieve_for_question(question, Filters(serial="M1"), 3)
        assert len(found) <= 3 and {s.serial for s in found} <= {"M1"}
        assert found or question.startswith(("What did", "How"))  # no request on M1; the fake has no embeddings
        assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
        for src in found:
            start, end = src.span
            assert implementation.text(src.record_id)[start:end] == src.text and src.scope == "query"
    latest = implementation.retriever.retrieve_for_question("When was the last visit?", Filters(serial="M1"), 2)
    assert [s.date for s in latest] == ["2023-01-15", "2022-05-10"] and latest[0].matched_by == "date"
    [code] = implementation.retriever.retrieve_for_question("Any history of E-417?", Filters(serial="M1"), 1)
    assert "E-417" in code.text
    assert not implementation.retriever.retrieve_for_question("When was the last visit?", Filters(serial="M9"), 3)
