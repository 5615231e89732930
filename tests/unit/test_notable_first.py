"""Findings are drafted from records that ask for or recommend something first, routine records last."""

from __future__ import annotations

from sdi.drafting.kinds.common import finding_candidates, notable_first
from sdi.drafting.types import Source


def _src(ref: str, kind: str, body: str) -> Source:
    return Source(ref, f"service_record:{ref}", f"2026-05-0{ref[-1]} {kind} on PB1100-000001: {body}")


def test_leads_first_routine_last_otherwise_in_order() -> None:
    routine = _src("H1", "maintenance", "500h service as per schedule, topped up hyd oil, chk light curtain ok")
    repair = _src("H2", "repair", "found n2 valve leaking. renewed n2 valve p/n 1277-050")
    lead = _src("H3", "maintenance", "changed filters. cust wants offer for maintenance contract")
    inspection = _src("H4", "inspection", "inspected guards, no defects")
    other_repair = _src("H5", "repair", "replaced stripper plate pn 6615-330")
    ordered = notable_first([routine, repair, lead, inspection, other_repair])
    assert [s.id for s in ordered] == ["H3", "H2", "H5", "H1", "H4"]


def test_a_declined_offer_is_no_lead() -> None:
    declined = _src("H1", "maintenance", "customer declined offer for maintenance contract")
    repair = _src("H2", "repair", "replaced seal kit")
    assert [s.id for s in notable_first([declined, repair])] == ["H2", "H1"]


def test_findings_skip_routine_records_unless_there_is_nothing_else() -> None:
    routine = _src("H1", "maintenance", "500h service as per schedule, topped up hyd oil")
    lead = _src("H2", "maintenance", "changed filters. cust wants offer for maintenance contract")
    inspection = _src("H3", "inspection", "inspected guards, no defects")
    repair = _src("H4", "repair", "replaced stripper plate pn 6615-330")
    assert [s.id for s in finding_candidates([routine, lead, inspection, repair])] == ["H2", "H4"]
    assert [s.id for s in finding_candidates([routine, inspection])] == ["H1", "H3"]
