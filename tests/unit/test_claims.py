"""The claim check: actor, action, object, side, negation and number/date formats must match the cited record."""

from __future__ import annotations

from sdi.drafting.checker import check_sentence
from sdi.drafting.claims import date_mentions, degenerate, extract, normalise

CYL = {"H1": "2005-03-20 repair on excavator A: L/H BUCKET CYL LEAKING."}
MAINT = {"H1": "2025-12-14 maintenance on PB1100-000861: 2000h maint; checked light curtain, checked hyd oil level; "
               "no leaks found; customer asked about price of wear parts kit"}
INSP = {"H1": "2026-08-25 inspection on PB2300-000474: condition check. low output on hyd pump, recommend repl. "
              "all other axes ok."}
REQ = {"H1": "2015-07-10 repair on PB800-000494: oil leak on r/h main cyl; c/o r/h main cyl; "
             "cust wants offer for maint contract"}


def ok(sentence: str, sources: dict[str, str]) -> bool:
    return check_sentence(sentence, sources).ok


def test_abbreviations_are_read_as_written_out() -> None:
    assert normalise("L/H BUCKET CYL u/s, c/o R/H hyd pump") == "left bucket cylinder broken, replace right hydraulic pump"
    assert ok("The left-hand bucket cylinder was leaking [H1].", CYL)


def test_the_invented_upgrade_of_the_issue_is_rejected() -> None:
    verdict = check_sentence("The technician recommended a new light curtain upgrade [H1].", CYL)
    assert not verdict.ok and "recommend" in verdict.reason


def test_side_must_match() -> None:
    assert "side 'right'" in check_sentence("The right-hand bucket cylinder was leaking [H1].", CYL).reason
    assert ok("The right-hand main cylinder was changed out after an oil leak [H1].", REQ)
    assert not ok("The left-hand main cylinder was changed out [H1].", REQ)


def test_actor_must_match() -> None:
    assert ok("The customer asked about the price of a wear parts kit [H1].", MAINT)
    assert "actor 'customer'" in check_sentence("The customer asked for a new hydraulic pump [H1].", INSP).reason
    verdict = check_sentence("The technician asked about the price of a wear parts kit [H1].", MAINT)
    assert not verdict.ok and "technician" in verdict.reason


def test_action_must_match() -> None:
    assert ok("The hydraulic pump had low output and its replacement was recommended [H1].", INSP)
    assert "only planned or recommended" in check_sentence("The hydraulic pump was replaced [H1].", INSP).reason
    assert "action 'replace'" in check_sentence("The technician replaced the bucket cylinder [H1].", CYL).reason
    assert "action 'recommend'" in check_sentence("The technician recommended a maintenance contract [H1].", REQ).reason


def test_object_must_match() -> None:
    assert not ok("The left-hand boom cylinder was leaking [H1].", CYL)
    assert not ok("The customer asked for a maintenance contract [H1].", MAINT)


def test_negation_must_match() -> None:
    assert ok("At the 2000 h maintenance no leaks were found [H1].", MAINT)
    assert "dropped negation" in check_sentence("The 2000 h maintenance found a hydraulic oil leak [H1].", MAINT).reason
    assert not ok("The condition check found a worn axis [H1].", INSP)
    assert "negation" in check_sentence("No leaks were found on the bucket cylinder [H1].", CYL).reason


def test_numbers_and_dates_in_other_formats_are_accepted() -> None:
    assert ok("The 2000 h maintenance checked the light curtain [H1].", MAINT)
    assert ok("On August 25, 2026 the hydraulic pump showed low output [H1].", INSP)
    assert ok("On 25.08.2026 the hydraulic pump showed low output [H1].", INSP)
    assert ok("In March 2005 the left bucket cylinder was leaking [H1].", CYL)
    assert "date August 26, 2026" in check_sentence("On August 26, 2026 the pump showed low output [H1].", INSP).reason
    assert "number 3000" in check_sentence("The 3000 h maintenance checked the light curtain [H1].", MAINT).reason
    assert date_mentions("25 Aug 2026")[0][1] == {"2026-08-25"}
    assert ok("On August 25 the hydraulic pump showed low output [H1].", INSP)
    assert not ok("On August 24 the hydraulic pump showed low output [H1].", INSP)


def test_degenerate_text_is_rejected() -> None:
    assert degenerate("a request for a request for a request for a request") == "repeats itself"
    assert degenerate("The source: The machine is 8.46 years old (rule modernization v1, machine") is not None
    assert not ok("Fact: 2005-03-20 repair on excavator A: L/H BUCKET CYL LEAKING. [H1]", CYL)
    assert not ok("The technician found a record that said the excavator A: L/H BUCKET CYL LEAKING [H1].", CYL)


def test_extract_binds_actor_and_object() -> None:
    claims = extract("The customer wants an offer for a maintenance contract")
    assert ("ask", "customer") in [(a[0], a[1]) for a in claims.actions]
    assert {"offer", "contract"} <= set(next(a[3] for a in claims.actions if a[0] == "ask"))


def test_a_deed_said_not_to_have_happened_needs_a_source_that_says_so() -> None:
    nozzle = {"H1": "2026-09-01 maintenance on X: PM service. chk gas pressures, cleaned slats, changed nozzle set."}
    assert "did not happen" in check_sentence("The nozzle was never replaced [H1].", nozzle).reason
    assert ok("The nozzle set was changed during the PM service [H1].", nozzle)
    hose = {"H1": "2026-09-01 repair on X: hose leaking, not replaced, quote to follow."}
    assert ok("The leaking hose was not replaced [H1].", hose)


def test_last_visit_answers_may_say_last() -> None:
    assert ok("The last service visit was on 2026-09-01 [H1].",
              {"H1": "2026-09-01 maintenance on X: PM service. chk gas pressures, cleaned slats, changed nozzle set."})
