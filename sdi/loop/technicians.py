"""Technician recognition: leads reported and won, their value, turnaround; and what became of each lead."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

from sdi.store import MachineFile
from sdi.triggers.outcomes import LATEST

LEAD_COLUMNS = ("id", "serial", "observed", "customer_wants", "reporter", "reported_at", "opportunity_id", "owner",
                "owner_role", "first_action_at", "first_action_by", "first_action", "status", "result", "value",
                "currency", "discount_pct", "partner", "reason", "closed_at")


def _iso(x: Any) -> Any:
    return x.isoformat() if isinstance(x, datetime) else x


def lead_rows(db: MachineFile, where: str = "TRUE", params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Every lead (alias l; its opportunity o, latest outcome oc) with its routing, first action and outcome."""
    rows = db.sql(
        "SELECT l.id, l.serial, l.observed, l.customer_wants, l.reporter, l.reported_at, l.opportunity_id, l.owner, "
        "l.owner_role, l.first_action_at, l.first_action_by, l.first_action, o.status, oc.result, oc.value, "
        "oc.currency, oc.discount_pct, oc.partner, oc.reason, oc.recorded_at "
        f"FROM leads l LEFT JOIN opportunities o ON o.id = l.opportunity_id LEFT JOIN {LATEST} oc "
        f"ON oc.opportunity_id = l.opportunity_id WHERE {where} ORDER BY l.reported_at DESC, l.id DESC", params or [])
    out = []
    for r in rows:
        lead = dict(zip(LEAD_COLUMNS, r))
        lead["hours_to_first_action"] = _hours(lead["reported_at"], lead["first_action_at"])
        lead["days_to_outcome"] = (round(_hours(lead["reported_at"], lead["closed_at"]) / 24, 1)
                                   if lead["closed_at"] else None)
        lead["routed_to"] = f"{lead['owner']} ({(lead['owner_role'] or '').replace('_', ' ')})"
        out.append({k: _iso(v) for k, v in lead.items()})
    return out


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if not start or not end:
        return None
    return round(max(0.0, (end - start).total_seconds()) / 3600, 2)


def _money(amounts: dict[str, float]) -> str:
    return " + ".join(f"{v:,.0f} {c}" for c, v in sorted(amounts.items())) or "0"


def ranking(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per reporting technician: leads reported, won, their value, median turnaround, a line that credits them."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lead in leads:
        by[lead["reporter"]].append(lead)
    out = []
    for name, own in by.items():
        won = [x for x in own if x["result"] == "won"]
        value: dict[str, float] = defaultdict(float)
        for x in won:
            if x["value"] is not None:
                value[x["currency"] or "EUR"] += x["value"]
        days = [x["days_to_outcome"] for x in own if x["days_to_outcome"] is not None]
        hours = [x["hours_to_first_action"] for x in own if x["hours_to_first_action"] is not None]
        open_ = sum(1 for x in own if x["result"] is None)
        out.append({"technician": name, "reported": len(own), "won": len(won), "open": open_,
                    "closed": sum(1 for x in own if x["result"] is not None), "won_value": dict(value),
                    "median_days_to_outcome": round(median(days), 1) if days else None,
                    "median_hours_to_first_action": round(median(hours), 1) if hours else None,
                    "credit": _credit(len(own), len(won), value, open_)})
    out.sort(key=lambda t: (-sum(t["won_value"].values()), -t["won"], -t["reported"], t["technician"]))
    for i, t in enumerate(out, 1):
        t["rank"] = i
    return out


def _credit(reported: int, won: int, value: dict[str, float], open_: int) -> str:
    """Wording that credits the technician, e.g. '3 leads won, 12,400 EUR — from 5 reported'."""
    plural = "s" if reported != 1 else ""
    if won:
        head = f"{won} lead{'s' if won != 1 else ''} won, {_money(value)}" if value else f"{won} lead{'s' if won != 1 else ''} won"
        return f"{head} — from {reported} reported"
    return f"{reported} lead{plural} reported" + (f", {open_} still being worked on" if open_ else "")


def technician_recognition(db: MachineFile, where: str = "TRUE", params: list[Any] | None = None,
                           mine: str | None = None) -> dict[str, Any]:
    """The team ranking (all leads), the leads in scope (`where` over l, o, oc) and, for `mine`, that technician's own."""
    everything = lead_rows(db)
    shown = everything if where == "TRUE" else lead_rows(db, where, params)
    out: dict[str, Any] = {"ranking": ranking(everything), "leads": shown,
                           "definitions": {"won": "the lead's opportunity has the outcome won (latest outcome)",
                                           "turnaround": "days from the report to its recorded outcome (median over closed leads)",
                                           "first action": "hours from the report to the owner's first status change or outcome"}}
    if mine is not None:
        out["your_leads"] = [x for x in everything if x["reporter"] == mine]
        out["you"] = next((t for t in out["ranking"] if t["technician"] == mine), None)
    return out
