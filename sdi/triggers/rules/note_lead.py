"""note_lead: a service note within the window recommends work or records a customer's request.

What counts is decided by sdi/triggers/notelead.py (pure Python: the reference the eval measures). Its patterns
run here in SQL, set-based: each note the lead pattern matches is marked once with regexp_replace (\\x01 pre \\x03
cue \\x02 per lead) and split, and each piece's offset is the visible length before it, so spans and offsets equal
find_leads' byte for byte (tests/unit/test_notelead.py). The facts list every lead in the window, newest first.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field

from sdi.triggers.facts import d
from sdi.triggers.notelead import LEAD, NEGATED_PRE, NEGATED_SPAN, OFFER_PATTERNS, REQUEST_CUE, TRIM, WHO
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond, literal

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile

OFFER_WORDS = {"retrofit": "a retrofit", "contract": "a service contract", "overhaul": "an overhaul",
               "parts_kit": "a spare or wear parts kit", "new_machine": "a new machine",
               "training": "operator training", "inspection": "an inspection", "repair": "a repair",
               "maintenance": "maintenance work", "quote": "a quote"}
_MARKS = "chr(1) || '\\1\\3' || chr(3) || '\\2\\4' || chr(2)"


class NoteLeadParams(RuleParams):
    window_days: int = Field(gt=0, le=3650)


def _offer_case(span: str) -> str:
    whens = " ".join(f"WHEN regexp_matches({span}, {literal('(?i)(?:' + p + ')')}) THEN {literal(name)}"
                     for name, p in OFFER_PATTERNS)
    return f"CASE {whens} END"


def _leads(p: Params, as_of: date) -> str:
    """One row per lead: serial, record id, date, offset, pre, cue+rest (before the offer and negation filters)."""
    return f"""
    notes AS (
        SELECT b.serial, s.record_id, s.date, {p('window_days')} AS win,
               string_split(regexp_replace(translate(s.text, chr(1) || chr(2) || chr(3), '   '), {literal(LEAD)},
                                           {_MARKS}, 'g'), chr(1)) AS pieces
        FROM _base b JOIN service_records s ON s.serial = b.serial
        WHERE s.date <= {d(as_of)} AND s.date > {d(as_of)} - INTERVAL ({p('window_days')}) DAY
          AND regexp_matches(s.text, {literal(LEAD)})),
    pieces AS (
        SELECT serial, record_id, date, win, unnest(range(1, len(pieces) + 1)) AS i, unnest(pieces) AS piece
        FROM notes),
    placed AS (
        SELECT *, coalesce(sum(length(replace(replace(piece, chr(2), ''), chr(3), ''))) OVER (
                    PARTITION BY record_id ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS start
        FROM pieces),
    raw AS (
        SELECT serial, record_id, date, win, start, split_part(piece, chr(3), 1) AS pre,
               split_part(split_part(piece, chr(3), 2), chr(2), 1) AS cue
        FROM placed WHERE i > 1),
    spans AS (
        SELECT *, rtrim(pre || cue, {literal(TRIM)}) AS span,
               regexp_replace(pre, {literal('(?i)^' + WHO)}, '') || cue AS body  -- the subject names no offer
        FROM raw),
    leads AS (
        SELECT serial, record_id, date, win, start, start + length(span) AS stop, span, {_offer_case('body')} AS offer,
               CASE WHEN regexp_matches(pre, {literal('(?i)^' + WHO)}) OR regexp_matches(cue, {literal(REQUEST_CUE)})
                    THEN 'customer_request' ELSE 'recommendation' END AS kind
        FROM spans
        WHERE NOT regexp_matches(pre, {literal(NEGATED_PRE)}) AND NOT regexp_matches(span, {literal(NEGATED_SPAN)}))"""


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "note_lead")
    return f"""
    WITH {_leads(p, as_of)}
    SELECT serial, 'fired',
           to_json(list_value({cond('days since the latest service note with a lead', '<=', 'any_value(win)',
                                    f"date_diff('day', max(date), {d(as_of)})", 'days')})),
           CAST([] AS VARCHAR[]), list_sort(list_distinct(list('service_record:' || record_id))),
           json_object('window_days', any_value(win), 'leads', list(json_object(
               'source_id', 'service_record:' || record_id, 'date', date, 'kind', kind, 'offer', offer,
               'start', start, 'end', stop, 'span', span) ORDER BY date DESC, record_id, start))
    FROM leads WHERE offer IS NOT NULL GROUP BY serial
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('service_record.text (no service notes on file)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b ANTI JOIN (SELECT serial FROM service_records WHERE date <= {d(as_of)}) s ON s.serial = b.serial
    """


def _latest(t: Trigger) -> dict[str, Any]:
    return (facts(t).get("leads") or [{}])[0]


def urgency(trigger: Trigger) -> float:
    """A customer who asked waits for an answer; a technician's recommendation can be planned."""
    kinds = {lead.get("kind") for lead in facts(trigger).get("leads") or []}
    return 0.8 if "customer_request" in kinds else 0.5


def finding(t: Trigger, ref: str) -> str:
    lead = _latest(t)
    offer = OFFER_WORDS.get(lead.get("offer", ""), "further work")
    said = "recommends" if lead.get("kind") == "recommendation" else "records a customer request for"
    return cite(f"The service note of {lead.get('date')} {said} {offer}: \u201c{lead.get('span')}\u201d", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    lead = _latest(t)
    offer = OFFER_WORDS.get(lead.get("offer", ""), "the work")
    return cite(f"Look at what the note of {lead.get('date')} raised and what {offer} would involve here", ref)


def talking_point(t: Trigger, ref: str) -> str:
    lead = _latest(t)
    offer = OFFER_WORDS.get(lead.get("offer", ""), "further work")
    return cite(f"On {lead.get('date')} {offer} came up at your machine; we can go through the options and what each "
                "would mean for you", ref)


def contract_case(as_of: date) -> Case:
    """POS has a recommendation 10 days ago (and a request older than the window); NEAR a declined offer in the
    window, a recommendation older than the window and a request dated after as-of; MISS has no service note."""
    def note(rid: str, serial: str, days: int, text: str) -> dict[str, Any]:
        day = as_of - timedelta(days=days)
        return {"record_id": rid, "serial": serial, "date": day, "type": "repair", "text": text}

    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING)],
            "service_record": [
                note("S1", POSITIVE, 10, "changed oil filter. recommend full hydraulic overhaul within next 6 months"),
                note("S2", POSITIVE, 400, "cust asked about price of wear parts kit"),
                note("N1", NEAR_MISS, 20, "replaced seal kit, customer declined offer for maintenance contract"),
                note("N2", NEAR_MISS, 200, "recommend retrofit of control"),
                note("N3", NEAR_MISS, -5, "customer wants offer for maintenance contract")],
        },
        field="days since the latest service note with a lead", value=10, source_ids=["service_record:S1"],
        missing=["service_record.text (no service notes on file)"])


RULE = Rule(
    rule_id="note_lead", order=95, params=NoteLeadParams, sql=sql, urgency=urgency,
    describe=sentences({
        'days since': 'the latest service note with a customer request or recommended work is {value} days old — within the {threshold}-day window',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    query_words="recommend customer asked quote offer retrofit contract overhaul wear parts kit",
    resolution=("none yet: a lead holds until its note leaves the window (window_days); a later note that closes "
                "it (customer declined, work done as per quote) is itself no lead but does not cancel the earlier "
                "one, so the rep dismisses or wins the opportunity"),
    contract_case=contract_case,
)
