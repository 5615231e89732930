"""maintenance_due: operating hours since the last maintenance record >= the maintenance interval (rules file,
else the model catalog)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond, model_join, suppressed_by

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class MaintenanceParams(RuleParams):
    interval_hours: float | None = Field(None, gt=0)
    metric: str
    covered_by: list[str] = Field(default_factory=lambda: ["maintenance", "full_service"])


def _cover(p: Params, as_of: date) -> str:
    """Per machine: the active contract of a covered_by type that runs longest (maintenance is then a service task)."""
    return f"""
    cover AS (
        SELECT b.serial, arg_max(c.contract_id, (c.end_date, c.contract_id)) AS contract_id,
               arg_max(c.start_date, (c.end_date, c.contract_id)) AS start_date, max(c.end_date) AS end_date
        FROM _base b JOIN contracts c ON c.serial = b.serial
        WHERE list_contains({p('covered_by')}, c.type) AND coalesce(c.start_date, {d(as_of)}) <= {d(as_of)}
          AND c.end_date >= {d(as_of)} AND coalesce(c.status, '') <> 'cancelled'
        GROUP BY b.serial)"""


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "maintenance_due")
    pt = Params(rules, "maintenance_due", "bm.model")
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return f"""
    WITH lm AS (
        SELECT b.serial, arg_max(s.record_id, (s.date, s.record_id)) AS record_id, max(s.date) AS mdate
        FROM _base b JOIN service_records s ON s.serial = b.serial
        WHERE s.type = 'maintenance' AND s.date <= {d(as_of)} GROUP BY b.serial),
    hours AS (
        SELECT t.serial,
               max(t.timestamp) AS now_ts, arg_max(t.value, t.timestamp) AS now_hours,
               max(t.timestamp) FILTER (WHERE t.timestamp < lm.mdate + INTERVAL 1 DAY) AS at_ts,
               arg_max(t.value, t.timestamp) FILTER (WHERE t.timestamp < lm.mdate + INTERVAL 1 DAY) AS at_hours,
               min(t.timestamp) FILTER (WHERE t.timestamp >= lm.mdate + INTERVAL 1 DAY) AS after_ts,
               arg_min(t.value, t.timestamp) FILTER (WHERE t.timestamp >= lm.mdate + INTERVAL 1 DAY) AS after_hours
        FROM telemetry t {model_join(rules, 'maintenance_due', 'metric')} LEFT JOIN lm ON lm.serial = t.serial
        WHERE t.metric = {pt('metric')} AND t.timestamp < {end}
        GROUP BY t.serial),
    x AS (
        SELECT b.serial, b.model, lm.record_id, lm.mdate, hours.now_ts, hours.now_hours,
               coalesce(hours.at_ts, hours.after_ts) AS ref_ts, coalesce(hours.at_hours, hours.after_hours) AS ref_hours,
               hours.at_ts IS NULL AS lower_bound,
               coalesce({p('interval_hours')}, md.maintenance_interval_hours) AS interval_hours,
               {p('metric')} AS metric
        FROM _base b LEFT JOIN lm USING (serial) LEFT JOIN hours USING (serial)
        LEFT JOIN models md ON md.model = b.model),
    due AS (
        SELECT x.*,
               list_value('service_record:' || record_id, 'model:' || model,
                          'telemetry:' || serial || '/' || metric || '@' || strftime(ref_ts, '%Y-%m-%dT%H:%M:%S'),
                          'telemetry:' || serial || '/' || metric || '@' || strftime(now_ts, '%Y-%m-%dT%H:%M:%S')) AS ids,
               json_object('last_maintenance', mdate, 'hours_at_reference', ref_hours, 'hours_at_as_of', now_hours,
                           'reference_is_first_reading_after_maintenance', lower_bound) AS found
        FROM x WHERE record_id IS NOT NULL AND now_hours IS NOT NULL AND ref_hours IS NOT NULL
          AND interval_hours IS NOT NULL AND now_hours - ref_hours >= interval_hours),
    {_cover(p, as_of)}
    SELECT due.serial, CASE WHEN cover.contract_id IS NULL THEN 'fired' ELSE 'covered' END,
           to_json(list_value({cond('operating_hours(as_of) - operating_hours(last maintenance)', '>=', 'interval_hours', 'round(now_hours - ref_hours, 1)', 'hours')})),
           CAST([] AS VARCHAR[]),
           CASE WHEN cover.contract_id IS NULL THEN ids ELSE list_append(ids, 'contract:' || cover.contract_id) END,
           CASE WHEN cover.contract_id IS NULL THEN found
                ELSE json_merge_patch(found, json_object('suppressed_by', list_value({suppressed_by(
                    "'contract:' || cover.contract_id", 'cover.start_date',
                    "'active contract ' || cover.contract_id || ' until ' || cover.end_date")})))
           END
    FROM due LEFT JOIN cover USING (serial)
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS},
           list_filter(list_value(
               CASE WHEN record_id IS NULL THEN 'service_record (type maintenance)' END,
               CASE WHEN now_hours IS NULL THEN 'telemetry.' || metric END,
               CASE WHEN record_id IS NOT NULL AND now_hours IS NOT NULL AND ref_hours IS NULL THEN 'telemetry.' || metric || ' after last maintenance' END,
               CASE WHEN interval_hours IS NULL THEN 'model.maintenance_interval_hours' END), lambda v: v IS NOT NULL),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM x WHERE record_id IS NULL OR now_hours IS NULL OR ref_hours IS NULL OR interval_hours IS NULL
    """


def urgency(trigger: Trigger) -> float:
    """Half-pressing when just due, fully when overdue by half an interval."""
    c = trigger["condition"]
    return round(min(1.0, 0.5 + (c["value"] / c["threshold"] - 1)), 3)


def finding(t: Trigger, ref: str) -> str:
    f, c = facts(t), t["condition"]
    return cite(f"It has run {fmt(c['value'])} operating hours since the last maintenance on {f.get('last_maintenance')}, "
                f"at or above the {fmt(c['threshold'])}-hour interval", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    c = t["condition"]
    return cite(f"Plan the {fmt(c['threshold'])}-hour maintenance: {fmt(c['value'])} hours have run since the last one", ref)


def talking_point(t: Trigger, ref: str) -> str:
    f, c = facts(t), t["condition"]
    return cite(f"Your machine has run {fmt(c['value'])} hours since its last maintenance on {f.get('last_maintenance')}; "
                "planning the next service now avoids an unplanned stop", ref)


def contract_case(as_of: date) -> Case:
    """Interval 500 h (model catalog). POS ran 600 h since its maintenance 80 days ago, NEAR 400 h; MISS has hours
    but no maintenance record. COV ran as long as POS but is under maintenance contract K1 (POS's K2 ended
    yesterday, its K3 starts tomorrow)."""

    def at(days: int) -> datetime:
        return datetime.combine(as_of - timedelta(days=days), time())

    readings = [(POSITIVE, 90, 1000), (POSITIVE, 80, 1100), (POSITIVE, 1, 1700),
                (NEAR_MISS, 60, 1000), (NEAR_MISS, 1, 1400), (MISSING, 1, 2000),
                ("COV", 90, 1000), ("COV", 80, 1100), ("COV", 1, 1700)]

    def contract(contract_id: str, serial: str, start: int, end: int) -> dict[str, object]:
        return {"contract_id": contract_id, "serial": serial, "type": "maintenance",
                "start_date": as_of + timedelta(days=start), "end_date": as_of + timedelta(days=end)}

    return Case(
        rows={
            "model": [{"model": "TL", "maintenance_interval_hours": 500}],
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING, "COV")],
            "contract": [contract("K1", "COV", -200, 165), contract("K2", POSITIVE, -300, -1),
                         contract("K3", POSITIVE, 1, 365)],
            "telemetry": [{"serial": s, "timestamp": at(days), "metric": "operating_hours", "value": v}
                          for s, days, v in readings],
            "service_record": [
                {"record_id": "R1", "serial": POSITIVE, "date": as_of - timedelta(days=80), "type": "maintenance",
                 "text": "Scheduled maintenance"},
                {"record_id": "R2", "serial": NEAR_MISS, "date": as_of - timedelta(days=60), "type": "maintenance",
                 "text": "Scheduled maintenance"},
                {"record_id": "R3", "serial": "COV", "date": as_of - timedelta(days=80), "type": "maintenance",
                 "text": "Scheduled maintenance"}],
        },
        field="operating_hours(as_of) - operating_hours(last maintenance)", value=600.0,
        source_ids=["service_record:R1", "model:TL", f"telemetry:POS/operating_hours@{at(80).isoformat()}",
                    f"telemetry:POS/operating_hours@{at(1).isoformat()}"],
        missing=["service_record (type maintenance)"], suppressed={"COV": ("covered", "contract:K1")})


RULE = Rule(
    rule_id="maintenance_due", order=50, params=MaintenanceParams, sql=sql, urgency=urgency,
    describe=sentences({
        'operating_hours': '{value} operating hours since the last maintenance on {last_maintenance} — the interval is {threshold} hours',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("a later maintenance record resolves it by construction: hours count from the last maintenance "
                "dated on or before as-of. Under an active contract of a covered_by type it is 'covered': a "
                "scheduling task for the service team, not a package sale"),
    query_words="maintenance service interval hours", contract_case=contract_case,
)
