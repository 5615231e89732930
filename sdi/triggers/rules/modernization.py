"""modernization: age within [min, max] years AND error events in the window above the model's average (both)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, condition, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class ModernizationParams(RuleParams):
    min_age_years: float = Field(ge=0)
    max_age_years: float = Field(gt=0)
    window_days: int = Field(gt=0, le=3650)
    event_kinds: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> "ModernizationParams":
        if self.max_age_years < self.min_age_years:
            raise ValueError("max_age_years must be at least min_age_years")
        return self


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "modernization")
    window = f"{d(as_of)} + INTERVAL 1 DAY - INTERVAL ({p('window_days')}) DAY"
    return f"""
    WITH ev AS (
        SELECT b.serial, list_sort(list('event:' || e.event_id)) AS ids, count(*) AS n
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE list_contains({p('event_kinds')}, e.kind) AND e.timestamp >= {window}
          AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY
        GROUP BY b.serial),
    rate AS (
        SELECT b.serial, b.model, b.age_years, b.age_basis, coalesce(ev.n, 0) AS n, coalesce(ev.ids, []) AS ids,
               {p('min_age_years')} AS lo, {p('max_age_years')} AS hi, {p('window_days')} AS win,
               avg(coalesce(ev.n, 0)) OVER (PARTITION BY b.model) AS model_avg,
               count(*) OVER (PARTITION BY b.model) AS model_machines
        FROM _base b JOIN _conn USING (serial) LEFT JOIN ev USING (serial))
    SELECT serial, 'fired',
           to_json(list_value(
               {cond('age_years', 'between', 'list_value(lo, hi)', 'age_years', 'years')},
               {cond('error_events_in_window', '>', 'round(model_avg, 2)', 'n', 'events')})),
           CAST([] AS VARCHAR[]), list_prepend('machine:' || serial, ids),
           json_object('age_basis', age_basis, 'window_days', win, 'model', model,
                       'model_average_events', round(model_avg, 2), 'model_machines_connected', model_machines)
    FROM rate WHERE age_years BETWEEN lo AND hi AND n > model_avg
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS},
           list_filter(list_value(CASE WHEN b.age_years IS NULL THEN 'machine.install_date' END,
                                  CASE WHEN c.serial IS NULL THEN 'telemetry (no connection)' END), lambda x: x IS NOT NULL),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b LEFT JOIN _conn c USING (serial)
    WHERE b.age_years IS NULL OR c.serial IS NULL
    """


def _errors(t: Trigger) -> dict[str, Any]:
    return condition(t, "error_events") or t["condition"]


def finding(t: Trigger, ref: str) -> str:
    f, c = facts(t), t["condition"]
    return cite(f"The machine is {fmt(c['value'])} years old and logged {fmt(_errors(t)['value'])} error events in the "
                f"last {fmt(f.get('window_days'))} days, above its model average of {fmt(f.get('model_average_events'))}", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite("Note which faults recur and which assemblies are worn, as input for a retrofit proposal", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite(f"Your machine logged {fmt(_errors(t)['value'])} error events in the last year; we can look together at "
                "whether a retrofit would pay off", ref)


def contract_case(as_of: date) -> Case:
    """POS is 9 years old with 4 errors in the year, NEAR 7.9 years with 4; two quiet machines keep the model
    average low; MISS has no install date. All are connected (one telemetry reading each)."""
    ages = {POSITIVE: 9, NEAR_MISS: 7.9, MISSING: None, "Q1": 5, "Q2": 5}
    reading = datetime.combine(as_of - timedelta(days=10), time())
    errors = [(f"{p}{i}", s, as_of - timedelta(days=days))
              for p, s in (("E", POSITIVE), ("N", NEAR_MISS)) for i, days in enumerate((300, 200, 100, 50), 1)]
    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL",
                         "install_date": as_of - timedelta(days=round(age * 365.25)) if age else None}
                        for s, age in ages.items()],
            "telemetry": [{"serial": s, "timestamp": reading, "metric": "operating_hours", "value": 1000} for s in ages],
            "event": [{"event_id": i, "serial": s, "timestamp": datetime.combine(day, time(10)), "kind": "error",
                       "code": "E-101", "severity": "warning"} for i, s, day in errors],
        },
        field="age_years", value=9.0, source_ids=["machine:POS", "event:E1", "event:E2", "event:E3", "event:E4"],
        missing=["machine.install_date"])


RULE = Rule(
    rule_id="modernization", order=30, params=ModernizationParams, sql=sql,
    describe=sentences({
        'age_years': 'the machine is {value} years old — within the modernization age band of {lo} to {hi} years',
        'error_events_in_window': "{value} error events in the last {window_days} days — more than the model's average of {threshold}",
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("none: the error rate is re-measured over the window at every run, so a machine that was fixed drops "
                "out on its own as old events leave the window; a modernisation shows in the machine file only as "
                "free text, which no record type marks reliably"),
    query_words="retrofit modernization repeated faults errors", contract_case=contract_case,
)
