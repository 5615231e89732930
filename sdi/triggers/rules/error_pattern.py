"""error_pattern: a critical event, or the same code at least `min_count` times, within the window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, condition, facts
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class ErrorPatternParams(RuleParams):
    window_days: int = Field(gt=0, le=3650)
    min_count: int = Field(ge=2)
    critical_severities: list[str]
    event_kinds: list[str] = Field(min_length=1)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "error_pattern")
    return f"""
    WITH w AS (
        SELECT b.serial, b.model, e.event_id, e.code, e.severity, e.timestamp,
               {p('min_count')} AS min_count, {p('critical_severities')} AS crit, {p('window_days')} AS win
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE list_contains({p('event_kinds')}, e.kind) AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY
          AND e.timestamp >= {d(as_of)} + INTERVAL 1 DAY - INTERVAL ({p('window_days')}) DAY),
    per_code AS (
        SELECT serial, code, count(*) AS n, any_value(min_count) AS min_count, any_value(crit) AS crit,
               any_value(win) AS win, bool_or(list_contains(crit, severity)) AS critical,
               list_sort(list('event:' || event_id)) AS ids
        FROM w GROUP BY serial, code),
    hits AS (SELECT * FROM per_code WHERE critical OR n >= min_count)
    SELECT serial, 'fired',
           to_json(list(CASE WHEN n >= min_count
                   THEN {cond("count(events with code) in window", '>=', 'min_count', 'n', 'events')}
                   ELSE {cond('event.severity', 'in', 'crit', "'critical'")} END ORDER BY code)),
           CAST([] AS VARCHAR[]), list_sort(flatten(list(ids))),
           json_object('codes', list(code ORDER BY code), 'window_days', any_value(win))
    FROM hits GROUP BY serial
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
    connection at all."""
    events = [("E1", POSITIVE, 1), ("E2", POSITIVE, 10), ("E3", POSITIVE, 20),
              ("N1", NEAR_MISS, 5), ("N2", NEAR_MISS, 25), ("N3", NEAR_MISS, 40)]
    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING)],
            "event": [{"event_id": i, "serial": s, "timestamp": datetime.combine(as_of - timedelta(days=days), time(10)),
                       "kind": "error", "code": "E-417", "severity": "warning"} for i, s, days in events],
        },
        field="count(events with code) in window", value=3, source_ids=["event:E1", "event:E2", "event:E3"],
        missing=["events / telemetry (no connection)"])


RULE = Rule(
    rule_id="error_pattern", order=60, params=ErrorPatternParams, sql=sql, urgency=urgency,
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    query_words="alarm error repair fault found", contract_case=contract_case,
)
