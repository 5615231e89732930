"""The machine file as the API shows it: facts, contracts, history, telemetry summary, and single source records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sdi.api.machine_due import SORTS, due_ctes, machine_dues, shape
from sdi.api.opportunity_view import CURRENT
from sdi.api.telemetry_view import chart_extras, label, unit
from sdi.api.scope import machine_clause, opportunity_clause, redact_customer
from sdi.store import MachineFile
from sdi.models import ENTITIES
from sdi.access.users import User
from sdi.triggers.rules import RulesFile

HIDDEN = ("source_file", "source_line")
EVENTS_SHOWN = 100
PARTS_SHOWN = 50


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def rows(db: MachineFile, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Query result as JSON-ready dicts (provenance columns dropped)."""
    return [{k: _plain(v) for k, v in row.items() if k not in HIDDEN} for row in db.rows_as_dicts(query, params)]


def list_machines(
    db: MachineFile, user: User, q: str | None, limit: int, offset: int, rules: RulesFile, sort: str = "urgency",
) -> dict[str, Any]:
    """Machines in scope with customer, territory, their best open opportunity and next due date, in `sort` order
    (urgency: best open opportunity first, then the next due date; next_due; serial)."""
    clause, params = machine_clause(user)
    opp_scope, opp_params = opportunity_clause(user)
    where = clause
    if q:
        where += " AND contains(lower(concat_ws(' ', m.serial, m.model, m.site, c.name)), lower(?))"
        params = [*params, q]
    as_of = db.data_as_of()
    found = rows(
        db,
        f"WITH scope AS (SELECT m.serial, m.model, m.site, m.customer_id, c.name AS customer, c.territory, "
        f"m.lifecycle_status FROM machines m LEFT JOIN customers c USING (customer_id) WHERE {where}), "
        f"{due_ctes(rules, as_of, opp_scope)} "
        f"SELECT scope.*, coalesce(opp.open_opportunities, 0) AS open_opportunities, opp.top_priority, opp.top_id, "
        f"opp.top_campaign, opp.top_rules, due.contract_end, due.contract_type, due.maintenance_due, due.hours_left, "
        f"due.next_due, count(*) OVER () AS _total FROM scope LEFT JOIN opp USING (serial) LEFT JOIN due USING (serial) "
        f"ORDER BY {SORTS.get(sort, SORTS['urgency'])} LIMIT ? OFFSET ?",
        [*params, *opp_params, limit, offset],
    )
    total = found[0]["_total"] if found else db.scalar(
        f"SELECT count(*) FROM machines m LEFT JOIN customers c USING (customer_id) WHERE {where}", params)
    items = [shape({k: v for k, v in item.items() if k not in ("_total", "next_due")}) for item in found]
    return {"total": total, "limit": limit, "offset": offset, "sort": sort, "as_of": as_of.isoformat(), "items": items}


def telemetry_summary(db: MachineFile, serial: str, days: int = 365) -> list[dict[str, Any]]:
    """Per metric: count, min, max, mean, last value, unit and label, and a daily-mean series over the last `days` days."""
    stats = rows(
        db,
        "SELECT metric, count(*) AS points, min(value) AS min, max(value) AS max, round(avg(value), 3) AS mean, "
        "arg_max(value, timestamp) AS last, max(timestamp) AS last_at, min(timestamp) AS first_at "
        "FROM telemetry WHERE serial = ? GROUP BY metric ORDER BY metric",
        [serial],
    )
    series = db.sql(
        "WITH t AS (SELECT max(timestamp) AS hi FROM telemetry WHERE serial = ?) "
        "SELECT metric, CAST(timestamp AS DATE) AS day, round(avg(value), 3) FROM telemetry, t "
        "WHERE serial = ? AND timestamp > t.hi - to_days(CAST(? AS INTEGER)) GROUP BY ALL ORDER BY metric, day",
        [serial, serial, days],
    )
    by_metric: dict[str, list[list[Any]]] = {}
    for metric, day, value in series:
        by_metric.setdefault(metric, []).append([day.isoformat(), value])
    for item in stats:
        item["series"] = by_metric.get(item["metric"], [])
        item["unit"], item["label"] = unit(item["metric"]), label(item["metric"])
    return stats


def machine_file(db: MachineFile, user: User, serial: str, rules: RulesFile) -> dict[str, Any] | None:
    """Everything the machine file holds about one machine in the user's scope, else None; telemetry with units and
    the rules' threshold lines, `chart_markers` with the error events and service visits on its time axis, and
    `dues` (contract end, maintenance) soonest first."""
    clause, params = machine_clause(user)
    found = rows(db, f"SELECT * FROM machines m WHERE m.serial = ? AND {clause}", [serial, *params])
    if not found:
        return None
    machine = found[0]
    model = rows(db, "SELECT * FROM models WHERE model = ?", [machine["model"]])
    customer = rows(db, "SELECT * FROM customers WHERE customer_id = ?", [machine.get("customer_id")])
    telemetry = telemetry_summary(db, serial)
    fired = {r for (r,) in db.sql(
        f"SELECT DISTINCT unnest(from_json(o.data->'$.rules', '[\"VARCHAR\"]')) FROM opportunities o "
        f"WHERE o.serial = ? AND {CURRENT}", [serial])}
    markers = chart_extras(db, rules, machine, telemetry, fired)
    return {
        "machine": machine,
        "model": model[0] if model else None,
        "customer": redact_customer(user, customer[0] if customer else None),
        "contracts": rows(db, "SELECT * FROM contracts WHERE serial = ? ORDER BY end_date DESC NULLS LAST", [serial]),
        "events": rows(db, f"SELECT * FROM events WHERE serial = ? ORDER BY timestamp DESC LIMIT {EVENTS_SHOWN}", [serial]),
        "events_total": db.scalar("SELECT count(*) FROM events WHERE serial = ?", [serial]),
        "service_records": rows(db, "SELECT * FROM service_records WHERE serial = ? ORDER BY date DESC, record_id DESC", [serial]),
        "parts_orders": rows(db, f"SELECT * FROM parts_orders WHERE serial = ? ORDER BY date DESC LIMIT {PARTS_SHOWN}", [serial]),
        "telemetry": telemetry,
        "chart_markers": markers,
        "dues": machine_dues(db, rules, serial),
    }


def _record_text(entity: str, record: dict[str, Any]) -> str:
    """The text a source span indexes: a note's text, an event's description, else the fields in order."""
    if entity == "service_record":
        return record.get("text") or ""
    if entity == "event":
        head = f"{record.get('timestamp')} {record.get('kind')} {record.get('code')} ({record.get('severity') or 'no severity'})"
        return head + (f": {record['description']}" if record.get("description") else "")
    return "; ".join(f"{k}: {v}" for k, v in record.items() if v is not None and k != "source_id")


def parse_source_id(source_id: str) -> tuple[str, str, str | None]:
    """Split 'service_record:SR-1#c2' into (entity, key, chunk)."""
    entity, _, rest = source_id.partition(":")
    key, _, chunk = rest.partition("#")
    return entity, key, chunk or None


def source_record(db: MachineFile, user: User, source_id: str) -> dict[str, Any] | None:
    """One stored record by its source id, with the text citation spans point into; None if unknown or out of scope."""
    entity, key, chunk = parse_source_id(source_id)
    spec = ENTITIES.get(entity)
    if spec is None or not key:
        return None
    if entity == "telemetry":
        serial, _, rest = key.partition("/")
        metric, _, stamp = rest.partition("@")
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        found = rows(db, "SELECT * FROM telemetry WHERE serial = ? AND metric = ? AND timestamp = ?", [serial, metric, when])
    elif len(spec.key) == 1:
        found = rows(db, f"SELECT * FROM {spec.table} WHERE {spec.key[0]} = ?", [key])
    else:
        return None
    if not found:
        return None
    record = found[0]
    if entity == "customer":
        record = redact_customer(user, record) or record
    serial = record.get("serial") if entity != "machine" else record.get("serial")
    if serial is not None:
        clause, params = machine_clause(user)
        if not db.scalar(f"SELECT count(*) FROM machines m WHERE m.serial = ? AND {clause}", [serial, *params]):
            return None
    elif entity == "customer" and user.role == "sales_rep" and record.get("territory") != user.territory:
        return None
    elif entity == "customer" and user.role == "technician":
        clause, params = machine_clause(user)
        if not db.scalar(f"SELECT count(*) FROM machines m WHERE m.customer_id = ? AND {clause}", [key, *params]):
            return None
    return {"source_id": source_id, "entity": entity, "key": key, "chunk": chunk, "serial": serial,
            "text": _record_text(entity, record), "record": record}
