"""error_pattern: a critical event, or the same code at least `min_count` times, within the window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, condition, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond, suppressed_by

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class ErrorPatternParams(RuleParams):
    window_days: int = Field(gt=0, le=3650)
    min_count: int = Field(ge=2)
    critical_severities: list[str]
    event_kinds: list[str] = Field(min_length=1)
    resolving_record_types: list[str] = Field(default_factory=lambda: ["repair", "replacement"])


# Words of an event description too generic to tell which part a repair note is about.
GENERIC_WORDS = ("failure", "fault", "error", "detected", "position", "pressure", "signal", "exceeded", "timeout",
                 "during", "cycle", "deviation", "interrupted", "released", "stopped", "pressed")


def _component_words(description: str) -> str:
    """The description's words that can name a part: five letters or more, not generic."""
    generic = "list_value(" + ", ".join(f"'{w}'" for w in GENERIC_WORDS) + ")"
    return (f"list_filter(regexp_split_to_array(lower(coalesce({description}, '')), '[^a-z0-9]+'), "
            f"lambda x: length(x) >= 5 AND NOT list_contains({generic}, x))")


def _fixes(p: Params, as_of: date) -> str:
    """Per fired code: the repair/replacement on or after the day of its last event (same day only when it names
    the code or a part), preferring one whose text names the code, then a part; then the earliest."""
    return f"""
    cand AS (
        SELECT h.serial, h.code, s.record_id, s.date, CAST(h.last_ts AS DATE) AS event_day,
               contains(upper(s.text), upper(h.code)) AS names_code,
               list_filter({_component_words('h.description')}, lambda x: contains(lower(s.text), x)) AS words
        FROM hits h JOIN service_records s ON s.serial = h.serial
        WHERE list_contains({p('resolving_record_types')}, s.type) AND s.date <= {d(as_of)}
          AND s.date >= CAST(h.last_ts AS DATE)),
    fix AS (
        SELECT serial, code, record_id, date,
               CASE WHEN names_code THEN 'names ' || code
                    WHEN len(words) > 0 THEN 'names the component (' || words[1] || ')'
                    ELSE 'any repair after the last event' END AS reason
        FROM cand WHERE date > event_day OR names_code OR len(words) > 0
        QUALIFY row_number() OVER (PARTITION BY serial, code
                                   ORDER BY NOT names_code, len(words) = 0, date, record_id) = 1)"""


def _conditions() -> str:
    return f"""to_json(list(CASE WHEN n >= min_count
                   THEN {cond("count(events with code) in window", '>=', 'min_count', 'n', 'events')}
                   ELSE {cond('event.severity', 'in', 'crit', "'critical'")} END ORDER BY code))"""


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "error_pattern")
    by = suppressed_by("'service_record:' || fix_id", "fix_date", "reason")
    return f"""
    WITH w AS (
        SELECT b.serial, b.model, e.event_id, e.code, e.severity, e.timestamp, e.description,
               {p('min_count')} AS min_count, {p('critical_severities')} AS crit, {p('window_days')} AS win
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE list_contains({p('event_kinds')}, e.kind) AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY
          AND e.timestamp >= {d(as_of)} + INTERVAL 1 DAY - INTERVAL ({p('window_days')}) DAY),
    per_code AS (
        SELECT serial, code, count(*) AS n, any_value(min_count) AS min_count, any_value(crit) AS crit,
               any_value(win) AS win, bool_or(list_contains(crit, severity)) AS critical,
               max(timestamp) AS last_ts, arg_max(description, (timestamp, event_id)) AS description,
               list_sort(list('event:' || event_id)) AS ids
        FROM w GROUP BY serial, code),
    hits AS (SELECT * FROM per_code WHERE critical OR n >= min_count),
    {_fixes(p, as_of)},
    coded AS (
        SELECT hits.*, fix.record_id AS fix_id, fix.date AS fix_date, fix.reason
        FROM hits LEFT JOIN fix USING (serial, code))
    SELECT serial, 'fired', {_conditions()},
           CAST([] AS VARCHAR[]), list_sort(flatten(list(ids))),
           json_object('codes', list(code ORDER BY code), 'window_days', any_value(win))
    FROM coded WHERE fix_id IS NULL GROUP BY serial
    UNION ALL
    SELECT serial, 'resolved', {_conditions()},
           CAST([] AS VARCHAR[]), list_sort(list_distinct(flatten(list(list_append(ids, 'service_record:' || fix_id))))),
           json_object('codes', list(code ORDER BY code), 'window_days', any_value(win),
                       'suppressed_by', list(json_merge_patch({by}, json_object('code', code)) ORDER BY code))
    FROM coded WHERE fix_id IS NOT NULL GROUP BY serial
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('events / telemetry (no connection)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b WHERE b.serial NOT IN (SELECT serial FROM _conn)
    """


def urgency(trigger: Trigger) -> float:
    """A fault pattern always presses."""
    return 1.0


def _codes(t: Trigger) -> str:
    return ", ".join(facts(t).get("codes") or [])


def finding(t: Trigger, ref: str) -> str:
    f = facts(t)
    count = condition(t, "count")
    if count:
        text = (f"Error code(s) {_codes(t)} recurred {fmt(count['value'])} times within {fmt(f.get('window_days'))} days "
                f"(threshold {fmt(count['threshold'])})")
    else:
        text = f"A critical event with code {_codes(t)} was logged within the last {fmt(f.get('window_days'))} days"
    return cite(text, ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite(f"Read out the fault log for code(s) {_codes(t)} and look for the cause", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite(f"Code(s) {_codes(t)} came up recently; we can find the cause before it stops production", ref)


def contract_case(as_of: date) -> Case:
    """POS logged E-417 three times in 30 days, NEAR twice in the window (a third is older); MISS has no
    connection at all. RES had the same three, then a repair naming E-417; ANY a repair naming nothing after its
    last event. POS's own repair is older than its last event, and its repair naming E-417 is dated after as-of."""
    events = [("E1", POSITIVE, 1), ("E2", POSITIVE, 10), ("E3", POSITIVE, 20),
              ("N1", NEAR_MISS, 5), ("N2", NEAR_MISS, 25), ("N3", NEAR_MISS, 40),
              ("R1", "RES", 5), ("R2", "RES", 10), ("R3", "RES", 20),
              ("A1", "ANY", 5), ("A2", "ANY", 10), ("A3", "ANY", 20)]
    repairs = [("S1", "RES", 3, "Replaced pressure sensor after E-417, pressure ok"), ("S2", "RES", 2, "E-417 again"),
               ("S3", "ANY", 2, "Tightened fittings, test run ok"), ("S4", POSITIVE, 5, "Repaired E-417 leak"),
               ("S5", POSITIVE, -3, "Repaired E-417 leak")]
    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING, "RES", "ANY")],
            "event": [{"event_id": i, "serial": s, "timestamp": datetime.combine(as_of - timedelta(days=days), time(10)),
                       "kind": "error", "code": "E-417", "severity": "warning"} for i, s, days in events],
            "service_record": [{"record_id": i, "serial": s, "date": as_of - timedelta(days=days), "type": "repair",
                                "text": text} for i, s, days, text in repairs],
        },
        field="count(events with code) in window", value=3, source_ids=["event:E1", "event:E2", "event:E3"],
        missing=["events / telemetry (no connection)"],
        suppressed={"RES": ("resolved", "service_record:S1"), "ANY": ("resolved", "service_record:S3")})


RULE = Rule(
    rule_id="error_pattern", order=60, params=ErrorPatternParams, sql=sql, urgency=urgency,
    describe=sentences({
        'count(': '{value} error events with the same code ({codes}) in the last {window_days} days — {threshold} or more make a pattern',
        'event.severity': 'a critical event ({codes}) in the last {window_days} days — critical events always count',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("a repair or replacement record on or after the day of the code's last event, dated on or before "
                "as-of, preferring one that names the code, then one that names a part from the event's "
                "description; failing those, any repair after the last event's day (resolved, per code)"),
    query_words="alarm error repair fault found", contract_case=contract_case,
)
