"""Opportunities as the API shows them: filtered and paged in SQL, scoped to the user, leads included."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sdi.api.scope import opportunity_clause
from sdi.store import MachineFile
from sdi.triggers.explain import priority_explained, routing_explained, with_sentences
from sdi.triggers.opportunities import SCHEDULING
from sdi.triggers.rules import RulesFile
from sdi.access.users import User

CURRENT = "(o.trigger_state IN ('active', 'lead') OR o.status = 'in_progress') AND o.status NOT IN ('won', 'lost', 'dismissed')"
SUMMARY_KEYS = (
    "id", "serial", "model", "customer_id", "customer", "territory", "campaign", "primary_rule", "rules",
    "linked_campaigns", "priority", "owner", "owner_role", "channel", "status", "trigger_state", "first_seen",
    "last_seen", "resolved_on",
)
SORTS = {"priority": "o.priority DESC, o.id", "first_seen": "o.first_seen DESC, o.priority DESC, o.id", "id": "o.id"}


@dataclass
class OpportunityFilter:
    """Query options of the opportunity list."""

    state: str = "current"  # current | all
    status: str | None = None
    territory: str | None = None
    owner: str | None = None
    owner_role: str | None = None
    rule: str | None = None
    serial: str | None = None
    q: str | None = None
    min_priority: float | None = None
    source: str | None = None  # trigger | lead
    sort: str = "priority"
    limit: int = 50
    offset: int = 0
    channel: str | None = None  # None: the sales pipeline (every channel but scheduling)


def _where(user: User, f: OpportunityFilter) -> tuple[str, list[Any]]:
    scope, params = opportunity_clause(user)
    parts = [scope]
    if f.state == "current" and not f.status:
        parts.append(CURRENT)
    for column, value in (("status", f.status), ("territory", f.territory), ("owner", f.owner),
                          ("owner_role", f.owner_role), ("serial", f.serial)):
        if value:
            parts.append(f"o.{column} = ?")
            params.append(value)
    if f.rule:
        parts.append("list_contains(from_json(o.data->'$.rules', '[\"VARCHAR\"]'), ?)")
        params.append(f.rule)
    if f.channel:
        parts.append("o.channel = ?")
        params.append(f.channel)
    else:
        parts.append(f"coalesce(o.channel, '') <> '{SCHEDULING}'")
    if f.min_priority is not None:
        parts.append("o.priority >= ?")
        params.append(f.min_priority)
    if f.source == "lead":
        parts.append("o.trigger_state = 'lead'")
    elif f.source == "trigger":
        parts.append("o.trigger_state <> 'lead'")
    if f.q:
        parts.append("contains(lower(concat_ws(' ', o.serial, o.campaign, o.data->>'$.customer', o.owner)), lower(?))")
        params.append(f.q)
    return " AND ".join(parts), params


def _record(data: str, status: str, state: str, resolved_on: Any) -> dict[str, Any]:
    record = json.loads(data)
    record.update(status=status, trigger_state=state, resolved_on=resolved_on.isoformat() if resolved_on else None)
    record["source"] = "lead" if state == "lead" else "trigger"
    return record


def summary(record: dict[str, Any], rules: RulesFile, contract: tuple[float, str | None] | None = None) -> dict[str, Any]:
    """The list view of an opportunity: no trigger evidence, offers by name and price, the priority explained."""
    out = {k: record.get(k) for k in SUMMARY_KEYS}
    out["source"] = record.get("source", "trigger")
    out["offers"] = [{"name": o.get("name"), "price": o.get("price"), "currency": o.get("currency")}
                     for o in record.get("offers") or []]
    out["priority_factors"] = record.get("priority_factors") or {}
    out["priority_explained"] = priority_explained(record, rules, contract)
    return out


def explained(db: MachineFile, record: dict[str, Any], rules: RulesFile) -> dict[str, Any]:
    """The full opportunity with every condition as a sentence, its priority and its routing explained."""
    for trig in record.get("triggers") or []:
        with_sentences(trig)
    record["priority_explained"] = priority_explained(record, rules, contract_values(db, [record]).get(record["serial"]))
    record["routing"] = routing_explained(record, rules)
    return record


def contract_values(db: MachineFile, records: list[dict[str, Any]]) -> dict[str, tuple[float, str | None]]:
    """Per serial, the contract value the priority counted (the largest valued contract started by the record's
    as-of day) and its currency."""
    pairs = [(r["serial"], r.get("as_of") or r.get("last_seen")) for r in records if r.get("serial")]
    if not pairs:
        return {}
    values = ", ".join("(?, CAST(? AS DATE))" for _ in pairs)
    rows = db.sql(
        f"SELECT v.serial, max(c.value), arg_max(c.currency, c.value) FROM (VALUES {values}) v(serial, as_of) "
        "JOIN contracts c ON c.serial = v.serial AND c.value IS NOT NULL "
        "AND coalesce(c.start_date, v.as_of) <= coalesce(v.as_of, current_date) GROUP BY v.serial",
        [x for pair in pairs for x in pair])
    return {serial: (float(value), currency) for serial, value, currency in rows if value}


def list_visible(db: MachineFile, user: User, f: OpportunityFilter, rules: RulesFile) -> dict[str, Any]:
    """One page of the opportunities the user may see, with the total count and per-rule counts."""
    where, params = _where(user, f)
    rows = db.sql(
        f"SELECT o.data, o.status, o.trigger_state, o.resolved_on, count(*) OVER () FROM opportunities o WHERE {where} "
        f"ORDER BY {SORTS.get(f.sort, SORTS['priority'])} LIMIT ? OFFSET ?",
        [*params, f.limit, f.offset],
    )
    total = rows[0][4] if rows else db.scalar(f"SELECT count(*) FROM opportunities o WHERE {where}", params)
    records = [_record(*r[:4]) for r in rows]
    contracts = contract_values(db, records)
    items = [summary(r, rules, contracts.get(r["serial"])) for r in records]
    return {"total": total, "limit": f.limit, "offset": f.offset, "items": items}


def get_visible(db: MachineFile, user: User, opportunity_id: str) -> dict[str, Any] | None:
    """The full opportunity (triggers, conditions, evidence ids) if the user may see it, else None."""
    scope, params = opportunity_clause(user)
    row = db.one(
        f"SELECT o.data, o.status, o.trigger_state, o.resolved_on FROM opportunities o WHERE o.id = ? AND {scope}",
        [opportunity_id, *params],
    )
    return _record(*row) if row else None


def facets(db: MachineFile, user: User) -> dict[str, Any]:
    """Values the list can be filtered by, within the user's scope."""
    scope, params = opportunity_clause(user)
    territories = [r[0] for r in db.sql(f"SELECT DISTINCT territory FROM opportunities o WHERE {scope} AND territory IS NOT NULL ORDER BY 1", params)]
    rules = [r[0] for r in db.sql(
        f"SELECT DISTINCT unnest(from_json(o.data->'$.rules', '[\"VARCHAR\"]')) FROM opportunities o WHERE {scope} ORDER BY 1", params)]
    return {"territories": territories, "rules": rules}
