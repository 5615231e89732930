"""Question intents for ask retrieval: English, German and technicians' shorthand."""

from __future__ import annotations

import pytest

from retrieval.questions import REQUEST_CUE, RECOMMEND_CUE, classify, plan_question


@pytest.mark.parametrize(("question", "intent"), [
    ("What did the customer ask for?", "request"),
    ("cust asked for what?", "request"),
    ("Did the customer want an offer?", "request"),
    ("Any quote requested for the bearing kit?", "request"),
    ("Was hat der Kunde angefragt?", "request"),
    ("Kunde wünscht Angebot?", "request"),
    ("What did the technician recommend?", "recommendation"),
    ("Any suggestions from service?", "recommendation"),
    ("Was hat der Techniker empfohlen?", "recommendation"),
    ("When was the last service visit?", "last_visit"),
    ("What was done most recently?", "last_visit"),
    ("Wann war der letzte Besuch?", "last_visit"),
    ("Any history of E-417?", "code"),
    ("alarm e417?", "code"),
    ("Was P/N 4471-220 fitted?", "code"),
    ("Was the hydraulic pump ever replaced?", "component"),
    ("Wurde der Zylinder getauscht?", "component"),
    ("How is the machine doing?", "general"),
])
def test_intents(question: str, intent: str) -> None:
    assert classify(question) == intent


def test_plans_carry_request_phrasing_topic_and_exact_tokens() -> None:
    request = plan_question("Did the cust want an offer for the bearing kit?")
    assert request.intent == "request" and request.topic == "bearing kit" and "bearing" in request.exact
    assert any("Kunde wünscht Angebot" in q for q in request.queries) and request.queries[0].startswith("Did")
    assert plan_question("What did the customer ask for?").topic == ""
    assert plan_question("Any history of E-417?").exact == ["E-417"]
    assert "cyl" in plan_question("Was the cylinder replaced?").exact


@pytest.mark.parametrize("note", [
    "cust asked about price of wear parts kit", "CUSTOMER WANTS OFFER FOR MAINTENANCE CONTRACT", "quote to follow",
    "customer unhappy about downtime, wants faster response", "Kd. wünscht Angebot für Wartungsvertrag",
    "production manager asked for operator training", "c/o die 30.5, customer requested",
])
def test_request_language_in_notes(note: str) -> None:
    assert REQUEST_CUE.search(note)


@pytest.mark.parametrize("note", ["replaced pressure sensor, test run ok", "operator says machine is getting louder",
                                  "hyd oil temp 45 C, no leaks found"])
def test_no_request_language(note: str) -> None:
    assert not REQUEST_CUE.search(note) and not RECOMMEND_CUE.search(note)


def test_recommendation_language_in_notes() -> None:
    assert RECOMMEND_CUE.search("too high - recommend repl of spindle bearing")
    assert RECOMMEND_CUE.search("Empfehlung: Lager tauschen") and RECOMMEND_CUE.search("advised operator to clean daily")
