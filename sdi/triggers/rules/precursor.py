"""precursor: a signal that, in this fleet's own history, came before a failure — an event code at least `min_count`
times, or a telemetry metric above a level at least `min_count` times, within `window_days`. The signals are fitted
by `sdi rules suggest` (sdi/triggers/calibrate.py), each with the precision it measured as evidence; the shipped
rules file has none, so the rule fires nothing until an administrator applies a fitted rules file."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.phrases import Phrase, phrase
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, facts
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, literal, suppressed_by

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class Signal(BaseModel):
    """One fitted signal: an event code, or a telemetry metric above a level; `fitted` is what calibration measured."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(None, min_length=1)
    metric: str | None = Field(None, min_length=1)
    above: float | None = None
    min_count: int = Field(1, ge=1, le=100)
    window_days: int = Field(7, gt=0, le=365)
    fitted: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> "Signal":
        if (self.code is None) == (self.metric is None):
            raise ValueError("a signal names either an event `code` or a telemetry `metric` (with `above`)")
        if self.metric is not None and self.above is None:
            raise ValueError(f"signal on metric {self.metric!r} needs `above`, the level a reading must exceed")
        return self

    def field(self) -> str:
        """The condition's field in words."""
        what = f"event code {self.code}" if self.code else f"{self.metric} > {fmt(self.above)}"
        return f"count({what}) in {self.window_days} days"


class PrecursorParams(RuleParams):
    target: str = "failure"  # what the signals were fitted to precede (words for the evidence)
    signals: list[Signal] = Field(default_factory=list, max_length=20)
    resolving_record_types: list[str] = Field(default_factory=lambda: ["repair", "replacement"])


def _window(column: str, days: int, as_of: date) -> str:
    return (f"{column} < {d(as_of)} + INTERVAL 1 DAY "
            f"AND {column} >= {d(as_of)} + INTERVAL 1 DAY - INTERVAL ({days}) DAY")


def _signal_sql(k: int, s: Signal, as_of: date) -> str:
    """serial, k, count, last_ts, source ids of one signal where it holds."""
    if s.code is not None:
        return f"""
        SELECT e.serial, {k} AS k, count(*) AS n, max(e.timestamp) AS last_ts,
               list_sort(list('event:' || e.event_id)) AS ids
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE e.code = {literal(s.code)} AND {_window('e.timestamp', s.window_days, as_of)}
        GROUP BY e.serial HAVING count(*) >= {s.min_count}"""
    return f"""
        SELECT t.serial, {k} AS k, count(*) AS n, max(t.timestamp) AS last_ts,
               list_value('telemetry:' || t.serial || '/' || any_value(t.metric) || '@'
                          || strftime(min(t.timestamp), '%Y-%m-%dT%H:%M:%S') || '..'
                          || strftime(max(t.timestamp), '%Y-%m-%dT%H:%M:%S')) AS ids
        FROM telemetry t
        WHERE t.metric = {literal(s.metric)} AND t.value > {literal(float(s.above or 0))}
          AND {_window('t.timestamp', s.window_days, as_of)} AND t.serial IN (SELECT serial FROM _base)
        GROUP BY t.serial HAVING count(*) >= {s.min_count}"""


def sql(rules: RulesFile, as_of: date) -> str:
    p = PrecursorParams(**rules.params("precursor"))
    if not p.signals:
        return ("SELECT CAST(NULL AS VARCHAR), 'fired', " + NO_CONDITIONS + ", CAST([] AS VARCHAR[]), "
                "CAST([] AS VARCHAR[]), " + NO_FACTS + " WHERE FALSE")
    spec = " UNION ALL ".join(f"SELECT {k} AS k, {literal(s.field())} AS field, {s.min_count} AS min_count, "
                              f"{literal(s.model_dump_json(include={'code', 'metric', 'above', 'window_days', 'min_count', 'fitted'}))} AS signal"
                              for k, s in enumerate(p.signals))
    held = " UNION ALL ".join(_signal_sql(k, s, as_of) for k, s in enumerate(p.signals))
    by = suppressed_by("'service_record:' || fix_id", "fix_date", "'a repair after the last signal'")
    return f"""
    WITH spec AS ({spec}),
    held AS ({held}),
    m AS (
        SELECT h.serial, list(json_object('field', s.field, 'operator', '>=', 'threshold', s.min_count, 'value', h.n)
                    ORDER BY h.k) AS conds,
               list_sort(list_distinct(flatten(list(h.ids)))) AS ids, max(h.last_ts) AS last_ts,
               list(json_merge_patch(CAST(s.signal AS JSON), json_object('count', h.n)) ORDER BY h.k) AS signals
        FROM held h JOIN spec s USING (k) GROUP BY h.serial),
    fix AS (
        SELECT m.serial, arg_min(r.record_id, (r.date, r.record_id)) AS fix_id, min(r.date) AS fix_date
        FROM m JOIN service_records r ON r.serial = m.serial
        WHERE list_contains({literal(p.resolving_record_types)}, r.type) AND r.date <= {d(as_of)}
          AND r.date >= CAST(m.last_ts AS DATE)
        GROUP BY m.serial)
    SELECT serial, CASE WHEN fix_id IS NULL THEN 'fired' ELSE 'resolved' END, to_json(conds), CAST([] AS VARCHAR[]),
           CASE WHEN fix_id IS NULL THEN ids ELSE list_append(ids, 'service_record:' || fix_id) END,
           CASE WHEN fix_id IS NULL THEN json_object('target', {literal(p.target)}, 'signals', signals)
                ELSE json_object('target', {literal(p.target)}, 'signals', signals, 'suppressed_by', list_value({by}))
           END
    FROM m LEFT JOIN fix USING (serial)
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('events / telemetry (no connection)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b WHERE b.serial NOT IN (SELECT serial FROM _conn)
    """


def _first(t: Trigger) -> dict[str, Any]:
    return (facts(t).get("signals") or [{}])[0]


def _what(s: dict[str, Any]) -> str:
    if s.get("code"):
        return f"code {s['code']}"
    return f"{s.get('metric')} above {fmt(s.get('above'))}"


def _record(s: dict[str, Any], target: str) -> str:
    """What calibration measured for the signal, in words ('' when it was not fitted)."""
    fit = s.get("fitted") or {}
    train, base = fit.get("precision"), fit.get("base_rate")
    if train is None or base is None:
        return ""
    after = fit.get("validation_precision")
    later = f", {100 * after:.0f} % after it" if after is not None else ""
    return (f"; in this fleet's history it was followed by a {target} within {fmt(fit.get('target_window_days'))} "
            f"days in {100 * train:.0f} % of cases on the training period{later}, against {100 * base:.1f} % at random")


COUNTED = re.compile(r"count\((?:event )?(.*)\) in (\d+) days")


def describe(cond: dict[str, Any], t: Trigger) -> Phrase | None:
    """'code E-640 came 2 times in 7 days — 2 or more came before a failure in this fleet's history'."""
    m = COUNTED.fullmatch(str(cond.get("field", "")))
    if m is None:
        return None
    what = m.group(1)
    if " > " in what:  # a telemetry signal: "vibration > 9.5"
        metric, level = what.split(" > ", 1)
        what = f"a {metric} reading above {level}"
    return phrase("{what} came {value} times in {days} days — {threshold} or more came before a {target} in this "
                  "fleet's history", what=what, value=cond.get("value"), days=int(m.group(2)),
                  threshold=cond.get("threshold"), target=facts(t).get("target") or "failure")


def urgency(trigger: Trigger) -> float:
    """A signal that came before failures in this fleet presses."""
    return 0.9


def finding(t: Trigger, ref: str) -> str:
    s = _first(t)
    return cite(f"{_what(s).capitalize()} came {fmt(s.get('count'))} times within {fmt(s.get('window_days'))} days"
                f"{_record(s, facts(t).get('target') or 'failure')}", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite(f"Check what {_what(_first(t))} points to before it turns into a {facts(t).get('target') or 'failure'}",
                ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite(f"Your machine shows {_what(_first(t))}, which on machines like it came before breakdowns; "
                "a visit now is cheaper than a stop", ref)


def contract_case(as_of: date) -> Case:
    """POS logged E-640 twice in the 7-day window; NEAR once in it and once before; MISS has no connection; RES had
    the same two, then a repair."""
    def event(eid: str, serial: str, days: int) -> dict[str, Any]:
        return {"event_id": eid, "serial": serial, "timestamp": datetime.combine(as_of - timedelta(days=days), time(9)),
                "kind": "alarm", "code": "E-640", "severity": "warning"}

    return Case(
        rows={
            "machine": [{"serial": s, "model": "TP"} for s in (POSITIVE, NEAR_MISS, MISSING, "RES")],
            "event": [event("P1", POSITIVE, 1), event("P2", POSITIVE, 5), event("N1", NEAR_MISS, 2),
                      event("N2", NEAR_MISS, 9), event("R1", "RES", 4), event("R2", "RES", 6)],
            "service_record": [{"record_id": "S1", "serial": "RES", "date": as_of - timedelta(days=2),
                                "type": "repair", "text": "hydraulic unit: replaced accumulator"}],
        },
        field="count(event code E-640) in 7 days", value=2, source_ids=["event:P1", "event:P2"],
        missing=["events / telemetry (no connection)"], suppressed={"RES": ("resolved", "service_record:S1")},
        params={"signals": [{"code": "E-640", "min_count": 2, "window_days": 7}]})


RULE = Rule(
    rule_id="precursor", order=97, params=PrecursorParams, sql=sql, urgency=urgency, describe=describe,
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    query_words="warning alarm pressure temperature before failure breakdown",
    resolution=("a repair or replacement record on or after the day of the last signal reading, dated on or "
                "before as-of (resolved)"),
    contract_case=contract_case,
)
