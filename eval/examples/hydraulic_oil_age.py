"""hydraulic_oil_age: operating hours since the last hydraulic oil change >= `max_hours`.

An example rule plug-in, not shipped: copy it to SDI_HOME/rules/ and add its entry to SDI_HOME/rules.yaml
(README "Adding a rule"). An oil change is the last service record whose text or parts mention an oil change,
or a maintenance record whose text mentions oil.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules import RulesFile
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond


class OilParams(RuleParams):
    max_hours: float = Field(gt=0)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "hydraulic_oil_age")
    stamp = "'telemetry:' || serial || '/operating_hours@' || strftime({}, '%Y-%m-%dT%H:%M:%S')"
    return f"""
    WITH oil AS (
        SELECT b.serial, arg_max(s.record_id, (s.date, s.record_id)) AS record_id, max(s.date) AS oil_date
        FROM _base b JOIN service_records s ON s.serial = b.serial
        WHERE s.date <= {d(as_of)} AND (lower(s.text || ' ' || coalesce(s.parts, '')) LIKE '%oil chang%'
                                        OR (s.type = 'maintenance' AND lower(s.text) LIKE '%oil%'))
        GROUP BY b.serial),
    hours AS (
        SELECT t.serial, max(t.timestamp) AS now_ts, arg_max(t.value, t.timestamp) AS now_h,
               max(t.timestamp) FILTER (WHERE t.timestamp < oil.oil_date + INTERVAL 1 DAY) AS at_ts,
               arg_max(t.value, t.timestamp) FILTER (WHERE t.timestamp < oil.oil_date + INTERVAL 1 DAY) AS at_h
        FROM telemetry t LEFT JOIN oil ON oil.serial = t.serial
        WHERE t.metric = 'operating_hours' AND t.timestamp < {d(as_of)} + INTERVAL 1 DAY GROUP BY t.serial),
    x AS (
        SELECT b.serial, oil.record_id, oil.oil_date, h.now_ts, h.now_h, h.at_ts, h.at_h, {p('max_hours')} AS max_h
        FROM _base b LEFT JOIN oil USING (serial) LEFT JOIN hours h USING (serial))
    SELECT serial, 'fired',
           to_json(list_value({cond('operating_hours(as_of) - operating_hours(last oil change)', '>=', 'max_h',
                                    'round(now_h - at_h, 1)', 'hours')})),
           CAST([] AS VARCHAR[]),
           list_value('service_record:' || record_id, {stamp.format('at_ts')}, {stamp.format('now_ts')}),
           json_object('last_oil_change', oil_date, 'hours_at_oil_change', at_h, 'hours_at_as_of', now_h)
    FROM x WHERE at_h IS NOT NULL AND now_h - at_h >= max_h
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS},
           list_value(CASE WHEN record_id IS NULL THEN 'service_record (oil change)'
                           WHEN now_h IS NULL THEN 'telemetry.operating_hours'
                           ELSE 'telemetry.operating_hours at the oil change' END),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM x WHERE at_h IS NULL
    """


def urgency(t: Trigger) -> float:
    c = t["condition"]
    return round(min(1.0, 0.5 + (c["value"] / c["threshold"] - 1)), 3)


def finding(t: Trigger, ref: str) -> str:
    c = t["condition"]
    return cite(f"The hydraulic oil has run {fmt(c['value'])} operating hours since the last oil change on "
                f"{facts(t).get('last_oil_change')}, at or above the {fmt(c['threshold'])}-hour limit", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite(f"Take an oil sample and check the hydraulic filters: {fmt(t['condition']['value'])} hours since the "
                "last oil change", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite(f"The hydraulic oil was last changed on {facts(t).get('last_oil_change')}; changing it now protects "
                "pumps and valves", ref)


def contract_case(as_of: date) -> Case:
    """POS ran 2,100 h since its oil change, NEAR 1,900 h (a later maintenance without oil does not count);
    MISS has hours and a maintenance record, but no oil change."""

    def at(days: int) -> datetime:
        return datetime.combine(as_of - timedelta(days=days), time())

    def record(rid: str, serial: str, days: int, kind: str, text: str) -> dict[str, object]:
        return {"record_id": rid, "serial": serial, "date": as_of - timedelta(days=days), "type": kind, "text": text}

    readings = [(POSITIVE, 210, 900), (POSITIVE, 200, 1000), (POSITIVE, 1, 3100),
                (NEAR_MISS, 150, 1000), (NEAR_MISS, 1, 2900), (MISSING, 1, 2000)]
    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING)],
            "telemetry": [{"serial": s, "timestamp": at(n), "metric": "operating_hours", "value": v} for s, n, v in readings],
            "service_record": [record("R1", POSITIVE, 200, "maintenance", "Hydraulic oil and filters replaced"),
                               record("R2", NEAR_MISS, 150, "repair", "Leak fixed, oil change done"),
                               record("R3", NEAR_MISS, 20, "maintenance", "Door seal replaced"),
                               record("R4", MISSING, 30, "maintenance", "Scheduled maintenance")],
        },
        field="operating_hours(as_of) - operating_hours(last oil change)", value=2100.0,
        source_ids=["service_record:R1", f"telemetry:POS/operating_hours@{at(200).isoformat()}",
                    f"telemetry:POS/operating_hours@{at(1).isoformat()}"],
        missing=["service_record (oil change)"])


RULE = Rule(
    rule_id="hydraulic_oil_age", params=OilParams, sql=sql, urgency=urgency,
    describe=sentences({  # the condition in words, {value} and {threshold} formatted for the reader
        "operating_hours(": "{value} operating hours since the last hydraulic oil change — the interval is {threshold} h",
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    query_words="hydraulic oil change filter leak", contract_case=contract_case,
)
