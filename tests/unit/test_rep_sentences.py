"""Conditions, priority and routing in words (sdi/triggers/explain.py): each rule's own sentence with units, numbers
and dates as typed slots, the reasons behind a priority, and who owns an opportunity and why."""

from __future__ import annotations

from typing import Any

import pytest

from sdi.triggers.explain import condition_phrase, priority_explained, routing_explained, with_sentences
from sdi.triggers.phrases import Phrase, join, money, num, phrase
from sdi.triggers.rules import SHIPPED, load_rules


def trigger(rule_id: str, conditions: list[dict[str, Any]], facts: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"rule_id": rule_id, "campaign": rule_id, "condition": conditions[0], "conditions": conditions,
            "evidence": {"source_ids": [], "facts": facts or {}}, "as_of": "2026-11-01"}


def cond(field: str, operator: str, threshold: Any, value: Any, unit: str | None = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "threshold": threshold, "value": value, "unit": unit}


def said(t: dict[str, Any], i: int = 0) -> str:
    return condition_phrase(t["conditions"][i], t).plain()


def test_every_shipped_rule_words_its_own_conditions() -> None:
    assert all(rule.describe is not None for rule in SHIPPED), [r.rule_id for r in SHIPPED if r.describe is None]


def test_conditions_read_as_sentences_with_units_not_code() -> None:
    modern = trigger("modernization", [cond("age_years", "between", [8, 12], 9.0, "years"),
                                       cond("error_events_in_window", ">", 14.44, 44, "events")], {"window_days": 365})
    assert said(modern, 1) == "44 error events in the last 365 days — more than the model's average of 14.4"
    assert said(modern, 0) == "the machine is 9 years old — within the modernization age band of 8 to 12 years"
    renewal = trigger("contract_renewal", [cond("contract.end_date - as_of", "<", 90, 21, "days")],
                      {"contract_id": "CT-1", "end_date": "2026-11-22"})
    assert said(renewal) == "the maintenance contract CT-1 ends in 21 days, on 22 Nov 2026 — inside the 90-day renewal window"
    wear = trigger("wear", [cond("mean(vibration) over recent days", ">", 7.1, 9.333, "mm/s")])
    assert said(wear) == "mean vibration of 9.3 mm/s over the most recent readings — above the limit of 7.1 mm/s"
    hours = trigger("maintenance_due", [cond("operating_hours(as_of) - operating_hours(last maintenance)", ">=", 2000.0,
                                             2299.4, "hours")], {"last_maintenance": "2025-01-28"})
    assert said(hours) == "2,299 operating hours since the last maintenance on 28 Jan 2025 — the interval is 2,000 hours"
    precursor = trigger("precursor", [cond("count(event code E-640) in 7 days", ">=", 2, 3)], {"target": "failure"})
    assert said(precursor).startswith("code E-640 came 3 times in 7 days — 2 or more came before a failure")
    lead = trigger("technician_lead", [cond("technician report", "reported", None, "wants a new light curtain")])
    assert said(lead) == "a technician reported: wants a new light curtain"
    unknown = trigger("no_such_rule", [cond("x_per_day", ">", 3, 5, "parts")])
    assert said(unknown) == "x_per_day > 3 (value 5 parts)"  # a rule no longer installed: as the rule stated it


def test_sentences_carry_typed_slots_for_the_browser_and_keep_the_raw_condition() -> None:
    t = with_sentences(trigger("contract_renewal", [cond("contract.end_date - as_of", "<", 90, 21, "days")],
                               {"contract_id": "CT-1", "end_date": "2026-11-22"}))
    sentence = t["conditions"][0]["sentence"]
    assert sentence["args"]["value"] == {"num": 21, "digits": 0} and sentence["args"]["end_date"] == {"date": "2026-11-22"}
    assert "{value}" in sentence["text"] and t["condition"]["sentence"] == sentence
    assert (t["condition"]["field"], t["condition"]["operator"], t["condition"]["threshold"]) == ("contract.end_date - as_of", "<", 90)


def test_phrases_format_join_and_shorten() -> None:
    assert Phrase("{a} and {b}", {"a": num(38000.0), "b": money(1500, "EUR")}).plain() == "38,000 and 1,500 EUR"
    assert num(14.44)["digits"] == 1 and num(0.527)["digits"] == 2 and num(2299.4)["digits"] == 0
    both = join([phrase("{n} days", n=3), phrase("{n} years — old", n=9)], before="x: ")
    assert both.plain() == "x: 3 days, 9 years — old" and set(both.args) == {"p0_n", "p1_n"}
    assert phrase("{n} years — more than {m}", n=9, m=8).short().args == {"n": num(9)}


@pytest.fixture(scope="module")
def rules() -> Any:
    return load_rules()


def opportunity(**kw: Any) -> dict[str, Any]:
    t = trigger("contract_renewal", [cond("contract.end_date - as_of", "<", 90, 21, "days")],
                {"contract_id": "CT-9", "end_date": "2026-11-22"})
    base = {"id": "OPP-1", "serial": "S1", "priority": 57.0, "primary_rule": "contract_renewal", "triggers": [t],
            "priority_factors": {"contract_value": 0.633, "age": 0.1, "fault_rate": 1.0, "service_history": 0.0,
                                 "urgency": 0.767},
            "owner": "Anna Rep", "owner_role": "sales_rep", "territory": "North", "offers": []}
    return base | kw


def test_priority_is_explained_by_its_largest_factors(rules: Any) -> None:
    out = priority_explained(opportunity(), rules, contract=(38000.0, "EUR"))
    assert out["level"] == "high"
    assert Phrase(**{k: out["sentence"][k] for k in ("text", "args")}).plain() == out["sentence"]["plain"] == (
        "high because: at least 3× the model's fault rate, a contract worth 38,000 EUR, "
        "the maintenance contract CT-9 ends in 21 days, on 22 Nov 2026")
    assert [f["factor"] for f in out["factors"]][:2] == ["fault_rate", "contract_value"]
    assert sum(f["points"] for f in out["factors"]) == pytest.approx(57.0, abs=0.3)
    low = priority_explained(opportunity(priority=12.0, priority_factors={"age": 0.1, "urgency": 0.1}), rules)
    assert low["sentence"]["plain"] == "low: no factor stands out"


def test_routing_says_who_and_why(rules: Any) -> None:
    rep = routing_explained(opportunity(offers=[{"rule_id": "contract_renewal", "name": "Renewal", "price": 3900,
                                                 "currency": "EUR"}]), rules)["sentence"]["plain"]
    assert rep.startswith("Routed to Anna Rep, the customer's account manager (territory North)")
    assert "3,900 EUR, not under the 1,500 EUR limit" in rep
    tech = routing_explained(opportunity(owner="Tom Tech", owner_role="technician", primary_rule="technician_lead",
                                         offers=[{"rule_id": "technician_lead", "name": "Safety check", "price": 390,
                                                  "currency": "EUR"}]), rules)["sentence"]["plain"]
    assert tech == ("The offer Safety check costs 390 EUR, under the 1,500 EUR limit, so it stays with Tom Tech, "
                    "the technician who reported it")
    stored = routing_explained(opportunity(routing_reason="routed to the admins"), rules)
    assert stored["stored"] and stored["sentence"]["plain"] == "Routed to the admins"
