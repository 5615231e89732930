"""Priority score and routing of an opportunity (documented in README, configured in rules.yaml)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sdi.store import MachineFile
from sdi.triggers.facts import d
from sdi.triggers.rules import RulesFile
from sdi.triggers.types import Trigger


def machine_context(db: MachineFile, as_of: date) -> dict[str, dict[str, Any]]:
    """Per machine in `_base`: customer, territory, account manager, last technician, contract value, faults, history."""
    query = f"""
    WITH ev AS (
        SELECT b.serial, count(e.serial) AS n
        FROM _base b LEFT JOIN events e ON e.serial = b.serial
             AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY AND e.timestamp >= {d(as_of)} - INTERVAL 364 DAY
        GROUP BY b.serial),
    sr AS (
        SELECT serial, count(*) FILTER (WHERE date > {d(as_of)} - INTERVAL 3 YEAR) AS recent,
               arg_max(technician, (date, record_id)) FILTER (WHERE technician IS NOT NULL) AS technician
        FROM service_records WHERE date <= {d(as_of)} GROUP BY serial),
    cv AS (
        SELECT serial, max(value) AS value FROM contracts
        WHERE coalesce(start_date, {d(as_of)}) <= {d(as_of)} AND value IS NOT NULL GROUP BY serial)
    SELECT b.serial, b.model, b.customer_id, c.name, c.territory, c.account_manager, b.age_years,
           coalesce(cv.value, 0), ev.n, avg(ev.n) OVER (PARTITION BY b.model), coalesce(sr.recent, 0), sr.technician
    FROM _base b LEFT JOIN customers c USING (customer_id) LEFT JOIN ev USING (serial)
    LEFT JOIN sr USING (serial) LEFT JOIN cv USING (serial)
    """
    keys = ("model", "customer_id", "customer", "territory", "account_manager", "age_years", "contract_value",
            "faults", "model_faults", "service_records_3y", "technician")
    return {row[0]: dict(zip(keys, row[1:])) for row in db.sql(query)}


def score(rules: RulesFile, ctx: dict[str, Any], primary: Trigger) -> tuple[float, dict[str, float]]:
    """Priority 0..100 and its factors (each 0..1) so the number can be explained; urgency is the primary
    trigger's rule's own measure of how pressing it is."""
    p = rules.priority
    fault_ratio = (ctx["faults"] or 0) / ctx["model_faults"] if ctx["model_faults"] else 0.0
    factors = {
        "contract_value": min(1.0, (ctx["contract_value"] or 0) / p.contract_value_cap),
        "age": min(1.0, (ctx["age_years"] or 0) / p.age_cap_years),
        "fault_rate": min(1.0, fault_ratio / p.fault_ratio_cap),
        "service_history": min(1.0, ctx["service_records_3y"] / p.service_records_cap),
        "urgency": rules.rule(primary.rule_id).urgency(primary),
    }
    factors = {k: round(v, 3) for k, v in factors.items()}
    return round(sum(p.weights[k] * v for k, v in factors.items()), 1), factors


def route(rules: RulesFile, ctx: dict[str, Any], priority: float, offer_price: float | None) -> dict[str, Any]:
    """Owner (technician for standard offers under the price limit, else the account's sales rep) and channel."""
    r = rules.routing
    territory = ctx["territory"] or "unknown territory"
    if offer_price is not None and offer_price < r.technician_price_limit:
        role, owner = "technician", ctx["technician"] or f"unassigned technician ({territory})"
    else:
        role, owner = "sales_rep", ctx["account_manager"] or f"unassigned sales rep ({territory})"
    visit = priority >= r.visit_min_priority or (ctx["contract_value"] or 0) >= r.visit_min_contract_value
    return {"owner_role": role, "owner": owner, "channel": "field_visit" if visit else "email_sequence"}
