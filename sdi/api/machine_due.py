"""What is next on a machine: its most urgent open opportunity and its next due date, for the technician's list.

The data has no planned visits, so "next due" is the earlier of two dates it does have: the end of the next
contract to run out, and the day maintenance falls due, estimated from the operating hours run since the last
maintenance record, the maintenance interval (the rules file's, else the model catalog's) and the last 90 days' usage.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sdi.api.opportunity_view import CURRENT
from sdi.store import MachineFile
from sdi.triggers.facts import d
from sdi.triggers.rules import RulesFile
from sdi.triggers.rules.sqlparts import Params

USAGE_DAYS = 90  # the usage rate behind the maintenance estimate: hours per day over this many days
LOOKBACK_DAYS = 45  # the reading at the last maintenance is the last one before it: look this far back for it
HORIZON_DAYS = 3 * 365  # a maintenance estimate further out than this is not "next" (and barely an estimate)
SORTS = {
    "urgency": "top_priority DESC NULLS LAST, next_due NULLS LAST, serial",
    "next_due": "next_due NULLS LAST, top_priority DESC NULLS LAST, serial",
    "serial": "serial",
}


def due_ctes(rules: RulesFile, as_of: date, opp_scope: str) -> str:
    """CTEs over `scope(serial, model, …)`: `opp` (open opportunities in the user's scope: count, best one) and
    `due` (next contract end; maintenance due: the day the hours since the last maintenance reached the interval, or
    the day they will at the recent usage rate) per machine."""
    p = Params(rules, "maintenance_due", "s.model")
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return f"""
    opp AS (
        SELECT o.serial, count(*) AS open_opportunities, max(o.priority) AS top_priority,
               arg_max(o.id, (o.priority, o.id)) AS top_id, arg_max(o.campaign, (o.priority, o.id)) AS top_campaign,
               arg_max(CAST(o.data->'$.rules' AS VARCHAR), (o.priority, o.id)) AS top_rules
        FROM opportunities o WHERE o.serial IN (SELECT serial FROM scope) AND {CURRENT} AND {opp_scope}
        GROUP BY o.serial),
    ce AS (
        SELECT serial, min(end_date) AS contract_end, arg_min(type, (end_date, contract_id)) AS contract_type
        FROM contracts WHERE serial IN (SELECT serial FROM scope) AND end_date >= {d(as_of)}
          AND coalesce(start_date, {d(as_of)}) <= {d(as_of)} AND coalesce(status, '') NOT IN ('cancelled', 'expired')
        GROUP BY serial),
    lm AS (
        SELECT serial, max(date) AS mdate FROM service_records
        WHERE type = 'maintenance' AND date <= {d(as_of)} AND serial IN (SELECT serial FROM scope) GROUP BY serial),
    ms AS (
        SELECT s.serial, lm.mdate, {p('metric')} AS metric,
               coalesce({p('interval_hours')}, md.maintenance_interval_hours) AS interval_hours
        FROM scope s JOIN lm USING (serial) LEFT JOIN models md ON md.model = s.model),
    tl AS (
        SELECT t.serial, t.timestamp, t.value, ms.mdate, ms.interval_hours
        FROM telemetry t JOIN ms ON ms.serial = t.serial AND t.metric = ms.metric
        WHERE t.timestamp < {end} AND t.timestamp >= ms.mdate - INTERVAL {LOOKBACK_DAYS} DAY),
    hrs AS (
        SELECT serial, any_value(interval_hours) AS interval_hours, max(timestamp) AS now_ts,
               arg_max(value, timestamp) AS now_hours,
               coalesce(arg_max(value, timestamp) FILTER (WHERE timestamp < mdate + INTERVAL 1 DAY),
                        arg_min(value, timestamp) FILTER (WHERE timestamp >= mdate + INTERVAL 1 DAY)) AS ref_hours,
               regr_slope(value, epoch(timestamp) / 86400.0)
                   FILTER (WHERE timestamp >= {end} - INTERVAL {USAGE_DAYS} DAY) AS per_day
        FROM tl GROUP BY serial),
    crossed AS (
        SELECT t.serial, min(t.timestamp) AS crossed_at
        FROM telemetry t JOIN (SELECT hrs.*, ms.metric, ms.mdate FROM hrs JOIN ms USING (serial)
                               WHERE now_hours - ref_hours >= hrs.interval_hours) h ON h.serial = t.serial AND h.metric = t.metric
        WHERE t.timestamp >= h.mdate AND t.timestamp < {end} AND t.value - h.ref_hours >= h.interval_hours GROUP BY t.serial),
    mt AS (
        SELECT serial, interval_hours - (now_hours - ref_hours) AS hours_left,
               CASE WHEN crossed_at IS NOT NULL THEN CAST(crossed_at AS DATE)
                    WHEN now_hours - ref_hours >= interval_hours THEN CAST(now_ts AS DATE)
                    WHEN per_day > 0 THEN CAST(now_ts AS DATE)
                         + CAST(least(ceil((interval_hours - (now_hours - ref_hours)) / per_day), {HORIZON_DAYS} + 1) AS INTEGER)
               END AS maintenance_due
        FROM hrs LEFT JOIN crossed USING (serial) WHERE interval_hours IS NOT NULL AND ref_hours IS NOT NULL),
    due AS (
        SELECT s.serial, ce.contract_end, ce.contract_type, mt.maintenance_due, mt.hours_left,
               least(ce.contract_end, mt.maintenance_due) AS next_due
        FROM scope s LEFT JOIN ce USING (serial)
        LEFT JOIN (SELECT * FROM mt WHERE maintenance_due <= {d(as_of)} + {HORIZON_DAYS}) mt USING (serial))"""


def machine_dues(db: MachineFile, rules: RulesFile, serial: str) -> list[dict[str, Any]]:
    """One machine's due dates (contract end, maintenance), soonest first."""
    found = db.rows_as_dicts(
        f"WITH scope AS (SELECT serial, model FROM machines WHERE serial = ?), {due_ctes(rules, db.data_as_of(), 'TRUE')} "
        "SELECT contract_end, contract_type, maintenance_due, hours_left FROM due", [serial])
    if not found:
        return []
    row = {k: v.isoformat() if isinstance(v, date) else v for k, v in found[0].items()}
    return shape(row | {"top_id": None, "top_campaign": None, "top_priority": None, "top_rules": None})["dues"]


def shape(item: dict[str, Any]) -> dict[str, Any]:
    """One machine row as the API shows it: `top_opportunity` and `next_due` (kind, date, what) grouped."""
    top = {"id": item.pop("top_id"), "campaign": item.pop("top_campaign"), "priority": item.pop("top_priority"),
           "rules": json.loads(item.pop("top_rules") or "[]")}
    item["top_opportunity"] = top if top["id"] else None
    contract_end, contract_type = item.pop("contract_end"), item.pop("contract_type")
    maintenance_due, hours_left = item.pop("maintenance_due"), item.pop("hours_left")
    dues = []
    if contract_end:
        dues.append({"kind": "contract_end", "date": contract_end, "contract_type": contract_type})
    if maintenance_due:
        dues.append({"kind": "maintenance_due", "date": maintenance_due, "hours_left": round(hours_left, 1),
                     "estimated": hours_left > 0})  # a date still to come is a projection; a past one is in the data
    dues.sort(key=lambda x: x["date"])
    item["dues"] = dues
    item["next_due"] = dues[0] if dues else None
    return item
