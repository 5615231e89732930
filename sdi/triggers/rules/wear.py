"""wear: the recent mean of a wear signal is above threshold, or the signal rises steadily (slope and fit)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, condition, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond, model_join

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class WearParams(RuleParams):
    metric: str
    threshold: float = Field(gt=0)
    recent_days: int = Field(gt=0, le=365)
    trend_days: int = Field(ge=14, le=3650)
    min_slope_per_30d: float = Field(gt=0)
    min_r2: float = Field(ge=0, le=1)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "wear")
    pt = Params(rules, "wear", "bm.model")  # params inside the telemetry scan, before machines are joined
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return f"""
    WITH v AS (
        SELECT t.serial, t.timestamp, t.value, {pt('metric')} AS metric,
               {pt('threshold')} AS thr,
               t.timestamp >= {end} - INTERVAL ({pt('recent_days')}) DAY AS is_recent,
               {pt('min_slope_per_30d')} AS min_slope, {pt('min_r2')} AS min_r2
        FROM telemetry t {model_join(rules, 'wear', 'metric', 'threshold', 'recent_days', 'trend_days', 'min_slope_per_30d', 'min_r2')}
        WHERE t.metric = {pt('metric')} AND t.timestamp < {end}
          AND t.timestamp >= {end} - INTERVAL ({pt('trend_days')}) DAY),
    s AS (
        SELECT serial, any_value(metric) AS metric, any_value(thr) AS thr, any_value(min_slope) AS min_slope,
               any_value(min_r2) AS min_r2, count(*) AS n, min(timestamp) AS first_ts, max(timestamp) AS last_ts,
               round(avg(value) FILTER (WHERE is_recent), 3) AS recent_mean,
               count(*) FILTER (WHERE is_recent) AS recent_n,
               round(regr_slope(value, epoch(timestamp) / 86400.0) * 30, 3) AS slope30,
               round(regr_r2(value, epoch(timestamp) / 86400.0), 3) AS r2
        FROM v WHERE serial IN (SELECT serial FROM _base) GROUP BY serial),
    f AS (
        SELECT *, recent_mean > thr AS over, (n >= 14 AND slope30 >= min_slope AND r2 >= min_r2) AS rising FROM s)
    SELECT serial, 'fired',
           to_json(list_filter(list_value(
               CASE WHEN over THEN {cond('mean(vibration) over recent days', '>', 'thr', 'recent_mean', 'mm/s')} END,
               CASE WHEN rising THEN {cond('slope(vibration) per 30 days', '>=', 'min_slope', 'slope30', 'mm/s per 30 days')} END),
               lambda x: x IS NOT NULL)),
           CAST([] AS VARCHAR[]),
           list_value('telemetry:' || serial || '/' || metric || '@' || strftime(first_ts, '%Y-%m-%dT%H:%M:%S')
                      || '..' || strftime(last_ts, '%Y-%m-%dT%H:%M:%S')),
           json_object('readings', n, 'recent_readings', recent_n, 'recent_mean', recent_mean, 'slope_per_30d', slope30,
                       'r2', r2, 'window_start', first_ts, 'window_end', last_ts)
    FROM f WHERE over OR rising
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('telemetry.' || {p('metric')} || ' (trend window)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b WHERE b.serial NOT IN (SELECT serial FROM s)
    """


def urgency(trigger: Trigger) -> float:
    return 0.6


def finding(t: Trigger, ref: str) -> str:
    over, rising = condition(t, "mean("), condition(t, "slope(")
    bits = []
    if over:
        bits.append(f"vibration averaged {fmt(over['value'])} mm/s recently, above the {fmt(over['threshold'])} mm/s limit")
    if rising:
        bits.append(f"vibration is rising by {fmt(rising['value'])} mm/s per 30 days")
    return cite(" and ".join(bits).capitalize(), ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite("Measure vibration on site and inspect bearings and spindle for wear", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite("The vibration readings point to wear; a quick inspection shows which parts are due", ref)


def contract_case(as_of: date) -> Case:
    """120 daily vibration readings around 2 mm/s; the last 7 are 7.5 on POS (limit 7.1) and 6.9 on NEAR.
    MISS reports operating hours only."""

    def at(days: int) -> datetime:
        return datetime.combine(as_of - timedelta(days=days), time())

    readings = []
    for serial, last_week in ((POSITIVE, 7.5), (NEAR_MISS, 6.9)):
        for i in range(120):
            value = last_week if i >= 113 else 2.0 + (0.1 if i % 2 else -0.1)
            readings.append({"serial": serial, "timestamp": at(119 - i), "metric": "vibration", "value": round(value, 3)})
    readings.append({"serial": MISSING, "timestamp": at(1), "metric": "operating_hours", "value": 1000})
    return Case(
        rows={"machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING)], "telemetry": readings},
        field="mean(vibration) over recent days", value=7.5,
        source_ids=[f"telemetry:POS/vibration@{at(89).isoformat()}..{at(0).isoformat()}"],
        missing=["telemetry.vibration (trend window)"])


RULE = Rule(
    rule_id="wear", order=70, params=WearParams, sql=sql, urgency=urgency,
    describe=sentences({
        'mean(': 'mean vibration of {value} mm/s over the most recent readings — above the limit of {threshold} mm/s',
        'slope(': 'vibration rising by {value} mm/s per 30 days — {threshold} mm/s per 30 days or more is a steady rise',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("none: the wear signal itself shows the fix (after a replacement the recent mean falls and the trend "
                "breaks); a record saying a part was swapped does not prove the vibration is gone"),
    query_words="vibration bearing noise wear", contract_case=contract_case,
)
