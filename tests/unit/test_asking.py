"""What an `ask` hands the model for one record, and the record's own words when the model's sentence fails."""

from __future__ import annotations

import pytest

from retrieval.questions import plan_question as plan
from sdi.drafting.asking import covers, focus, latest_only, quote, task_question

NOTE = ("pm service, also checked turret index pin, worn, to be replaced next visit, recommend wear parts kit on "
        "stock at customer, spoke with operator and advised to regrind punches before they get blunt")


@pytest.mark.parametrize("question, restated", [
    ("Wann war der letzte Besuch?", "When was this visit, and what was done?"),
    ("Was hat der Techniker empfohlen?", "What does the record say was recommended?"),
    ("Was hat der Kunde angefragt?", "What does the record say about a customer request, a quote or an offer?"),
    ("Was the nozzle ever replaced?", "What does the record say about the nozzle?"),
    ("Any history of E-920 on this machine?", "What does the record say about E-920?"),
])
def test_known_questions_reach_the_model_in_plain_english_without_presupposing(question: str, restated: str) -> None:
    assert task_question(plan(question)) == restated


def test_other_questions_reach_the_model_as_asked() -> None:
    assert task_question(plan("How much did the last repair cost?")) == "How much did the last repair cost?"
    assert task_question(plan("Is the customer happy?")) == "Is the customer happy?"


def test_focus_keeps_the_clauses_that_say_what_was_recommended_or_asked() -> None:
    assert focus(NOTE, plan("What did the technician recommend?")) == (
        "recommend wear parts kit on stock at customer. spoke with operator and advised to regrind punches before "
        "they get blunt.")
    assert focus("SWAPPED LUBE PUMP PN 6640-120. QUOTE TO FOLLOW", plan("cust asked for what?")) == "QUOTE TO FOLLOW."
    assert focus(NOTE, plan("Was the punch ever replaced?")) == NOTE  # other questions see the whole record
    assert focus("replaced filter", plan("What did the customer ask for?")) == "replaced filter"  # nothing to focus on


def test_a_record_covers_a_question_only_when_it_names_its_subject() -> None:
    assert covers("gas valve leaking. changed out gas valve.", plan("Was the cutting gas valve ever replaced?"))
    assert not covers("changed out gas valve.", plan("Was the nozzle ever replaced?"))
    assert covers("E-448 proportional valve fault", plan("Any history of E-448 on this machine?"))
    assert not covers("cust asked about price of wear parts kit", plan("What price did we offer for the maintenance contract?"))
    assert not covers("customer asks if retrofit of control is possible", plan("Did the customer ask about financing?"))
    assert covers("500h service, changed nozzle set", plan("When was the machine last serviced?"))
    assert covers("anything", plan("What did the customer ask for?"))


def test_quote_gives_the_answering_words_with_the_record_date_or_nothing() -> None:
    when = "2026-09-12 repair on TC1200-000660"
    assert quote("SWAPPED LUBE PUMP. QUOTE TO FOLLOW", when, plan("Was hat der Kunde angefragt?")) == (
        "The record of 2026-09-12 repair on TC1200-000660 says: “QUOTE TO FOLLOW”")
    assert quote("SWAPPED LUBE PUMP", when, plan("Did the customer request anything?")) is None
    assert "SWAPPED LUBE PUMP" in (quote("SWAPPED LUBE PUMP", when, plan("When was the last service visit?")) or "")
    assert quote("SWAPPED LUBE PUMP", when, plan("Is the customer happy?")) is None  # no known kind: no quote
    assert len(quote("x " * 400, when, plan("When was the last visit?")) or "") < 320


def test_only_a_last_visit_question_is_answered_by_the_newest_record_alone() -> None:
    assert latest_only(plan("Wann war der letzte Besuch?"))
    assert not latest_only(plan("What did the customer ask for?"))
