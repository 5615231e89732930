"""Who did what to which part: the machine is not the part, the doer, the advisee or the cause; each object of a
deed and each kind of upkeep must be the source's; garbled fragments are not claims."""

from __future__ import annotations

from sdi.drafting.checker import check_sentence
from sdi.drafting.claims import recipients, scrub_dates, stem

NOTES = {  # one service record per name, cited as [H1]
    "light": "2004-03-02 repair on excavator B: R/H WORK LIGHT NOT WORKING",
    "crane": "2006-05-01 repair on excavator C: REPLACE SWING BRAKE VALVE",
    "battery": "2005-12-06 repair on excavator A: REPLACE BATTERY",
    "steps": "2005-02-19 repair on excavator C: REPAIR ACCESS STEPS / HANDRAILS",
    "pm": "2026-03-04 maintenance on PB1100-000292: preventive maint as per schedule, greased ram guides, "
          "calibrated y1/y2, checked gripper fingers, checked light curtain",
    "advice": "2026-07-10 maintenance on TL3030-001001: cleaned dust extraction. advised operator to clean daily. "
              "cust asks if retrofit of control is possible. customer wants offer for maint contract",
    "spoke": "2026-02-07 repair on PB1100-000279: spoke with maintenance manager and advised to keep the "
             "hydraulic oil level above min.",
    "fitted": "2006-11-03 repair on excavator C: FIT MODIFIED A/COND MOUNTING BRACKET",
    "lens": "2026-10-27 repair on TL2510-000411: LENS CONTAMINATED. REPLACE LENS P/N 1210-020",
    "nil": "2023-10-01 inspection on PB2300-000567: SAFETY CHK LIGHT CURTAINS AND E-STOPS. NO FINDINGS.",
    "checked": "2026-10-02 maintenance on PM500-000980: PM service, checked turret alignment, sharpened punches",
    "sign": "2009-03-26 repair on excavator D: Repair JSA sign",
    "lamps": "2009-05-02 repair on excavator D: R/H Rear worklight & revolving light",
    "check_pin": "2008-04-09 repair on excavator E: CHECK BUCKET PIN / LINK BOLT TENSIONS",
}


def ok(sentence: str, name: str) -> bool:
    return check_sentence(sentence, {"H1": NOTES[name]}).ok


def test_a_part_failure_is_not_the_whole_machine_failing() -> None:
    assert not ok("The excavator B was not working [H1].", "light")
    assert ok("The right-hand work light on excavator B was not working [H1].", "light")


def test_the_machine_is_neither_the_part_nor_its_doer() -> None:
    assert not ok("The excavator A was replaced with a new battery [H1].", "battery")
    assert not ok("The excavator C was repaired on May 1, 2006, and replaced its swing brake valve [H1].", "crane")
    assert ok("The swing brake valve of excavator C was replaced [H1].", "crane")
    assert not ok("The excavator A was repaired and it was cleaned [H1].", "battery")


def test_replaced_with_another_part_needs_a_source_that_says_so() -> None:
    assert not ok("The swing brake was replaced with a valve [H1].", "crane")
    assert ok("The swing brake valve was replaced with a new one [H1].", "crane")


def test_a_date_between_a_deed_and_its_with_does_not_hide_it() -> None:
    assert "with handrails" in scrub_dates("repaired on February 19, 2005, with handrails")
    assert not ok("The excavator C was repaired on February 19, 2005, with handrails [H1].", "steps")
    assert ok("The handrails of excavator C were repaired on February 19, 2005 [H1].", "steps")


def test_each_kind_of_upkeep_and_each_object_is_the_sources() -> None:
    assert ok("The ram guides were greased and y1/y2 calibrated [H1].", "pm")
    assert not ok("The ram guides were calibrated [H1].", "pm")
    assert not ok("The ram guides and gripper fingers were checked [H1].", "pm")
    assert ok("The gripper fingers and light curtain were checked [H1].", "pm")


def test_the_advisee_and_the_direction_of_a_request_hold() -> None:
    assert recipients(NOTES["spoke"]) == {"manager"}
    assert recipients(NOTES["advice"]) == {"operator"}
    assert not ok("The technician advised the customer to clean daily [H1].", "advice")
    assert ok("The technician advised the operator to clean daily [H1].", "advice")
    assert not ok("The customer should ask if a retrofit of the control is possible [H1].", "advice")
    assert not ok("The customer wants to offer a maintenance contract [H1].", "advice")
    assert ok("The customer wants an offer for a maintenance contract [H1].", "advice")


def test_a_fitted_part_is_not_a_finding_and_a_part_not_a_cause() -> None:
    assert not ok("The visit found a modified bracket [H1].", "fitted")
    assert ok("A modified mounting bracket was fitted [H1].", "fitted")
    assert not ok("The excavator D was repaired due to a JSA sign [H1].", "sign")
    assert ok("The JSA sign on excavator D was repaired [H1].", "sign")


def test_fragments_and_prompt_echoes_are_not_claims() -> None:
    for garbled in ("was found on excavator C [H1].", "[Service record of 2005-07-12 repair on excavator C] [H1].",
                    "Service record of 2005-07-12 repair on excavator C: [H1].",
                    "The excavator C was repaired, and a bracket was replaced mounting [H1]."):
        assert not ok(garbled, "fitted"), garbled


def test_results_findings_and_plurals_read_as_written() -> None:
    assert stem("lenses") == stem("lens") and stem("glass") == "glass"
    assert ok("The visit found that the lenses were contaminated [H1].", "lens")
    assert ok("The safety check found no issues with the light curtains and e-stops [H1].", "nil")
    assert not ok("The visit found that the turret alignment was correct [H1].", "checked")
    assert ok("The turret alignment was checked to ensure it was correct [H1].", "checked")


def test_a_header_deed_covers_a_note_without_one_but_not_another_deed() -> None:
    assert ok("The excavator D has a repair on its rear worklight and revolving light [H1].", "lamps")
    assert not ok("The excavator E has a repair on its bucket pin and link bolts [H1].", "check_pin")
