"""What a telemetry chart needs besides the series: units, the rules' thresholds on each signal, and the error
events and service visits to mark on the time axis."""

from __future__ import annotations

from typing import Any

from sdi.api.machine_due import due_ctes
from sdi.store import MachineFile
from sdi.triggers.rules import RulesFile

# The exports carry no units; these are the usual ones for the signals machine makers log (unknown: no unit shown).
UNITS = {
    "vibration": "mm/s", "temperature": "°C", "oil_temperature": "°C", "spindle_temperature": "°C",
    "operating_hours": "h", "pressure": "bar", "hydraulic_pressure": "bar", "current": "A", "power": "kW",
    "speed": "rpm", "spindle_speed": "rpm", "humidity": "%", "load": "%",
}
MARKED_EVENTS = ("error", "failure")  # alarms and info messages are too many to read as markers


def unit(metric: str) -> str | None:
    """The unit a metric is shown in, if known."""
    return UNITS.get(metric.lower())


def label(metric: str) -> str:
    """A metric's name as a heading ("operating_hours" -> "Operating hours")."""
    return metric.replace("_", " ").strip().capitalize()


def rule_thresholds(rules: RulesFile, model: str | None, fired: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Per metric: each enabled rule's level on it (wear's threshold, a precursor signal's `above`), with whether
    that rule holds on the machine now."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rule_id in rules.rule_ids:
        if rule_id not in rules.rules or not rules.rules[rule_id].enabled:
            continue
        params = rules.params(rule_id, model)
        levels = []
        if isinstance(params.get("metric"), str) and isinstance(params.get("threshold"), (int, float)):
            levels.append((params["metric"], float(params["threshold"])))
        for signal in params.get("signals") or []:
            if isinstance(signal, dict) and signal.get("metric") and isinstance(signal.get("above"), (int, float)):
                levels.append((signal["metric"], float(signal["above"])))
        for metric, value in levels:
            out.setdefault(metric, []).append({"rule_id": rule_id, "value": value, "fired": rule_id in fired})
    return out


def maintenance_line(db: MachineFile, rules: RulesFile, serial: str) -> dict[str, Any] | None:
    """The operating-hours reading at which maintenance falls due (reading at the last maintenance + interval)."""
    row = db.one(
        f"WITH scope AS (SELECT serial, model FROM machines WHERE serial = ?), {due_ctes(rules, db.data_as_of(), 'TRUE')} "
        "SELECT ms.metric, hrs.ref_hours + hrs.interval_hours, ms.mdate, hrs.interval_hours FROM hrs JOIN ms USING (serial)",
        [serial])
    if row is None or row[1] is None:
        return None
    return {"metric": row[0], "rule_id": "maintenance_due", "value": round(row[1], 1), "last_maintenance": row[2].isoformat(),
            "interval_hours": row[3]}


def markers(db: MachineFile, serial: str, start: Any, end: Any) -> dict[str, list[dict[str, Any]]]:
    """Error and failure events and service visits between two dates (the chart's time axis)."""
    kinds = ", ".join(f"'{k}'" for k in MARKED_EVENTS)
    events = db.sql(
        f"SELECT CAST(timestamp AS DATE), kind, code, severity, description FROM events WHERE serial = ? AND kind IN ({kinds}) "
        "AND timestamp >= ? AND timestamp < CAST(? AS DATE) + INTERVAL 1 DAY ORDER BY timestamp", [serial, start, end])
    visits = db.sql(
        "SELECT date, type, technician FROM service_records WHERE serial = ? AND date >= ? AND date <= ? ORDER BY date",
        [serial, start, end])
    return {
        "events": [{"date": day.isoformat(), "kind": kind, "code": code, "severity": sev, "description": desc}
                   for day, kind, code, sev, desc in events],
        "visits": [{"date": day.isoformat(), "type": kind, "technician": tech} for day, kind, tech in visits],
    }


def chart_extras(db: MachineFile, rules: RulesFile, machine: dict[str, Any], telemetry: list[dict[str, Any]],
                 fired: set[str]) -> dict[str, Any]:
    """Add the threshold lines to each metric summary; return the time axis's markers."""
    lines = rule_thresholds(rules, machine.get("model"), fired)
    due = maintenance_line(db, rules, machine["serial"])
    if due:
        lines.setdefault(due.pop("metric"), []).append(due | {"fired": "maintenance_due" in fired})
    for item in telemetry:
        item["thresholds"] = lines.get(item["metric"], [])
    days = [p[0] for t in telemetry for p in t["series"][:1] + t["series"][-1:]]
    if not days:
        return {"start": None, "end": None, "events": [], "visits": []}
    start, end = min(days), max(days)
    return {"start": start, "end": end, **markers(db, machine["serial"], start, end)}
