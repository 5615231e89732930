"""Opportunities: a machine's triggers merged into one, with priority, owner and channel; stable across re-runs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.store.events import OPPORTUNITY_FIELDS, now, record as record_events, watch_opportunities
from sdi.triggers.engine import TriggerRun
from sdi.triggers.priority import machine_context, route, score
from sdi.triggers.rules import RulesFile
from sdi.triggers.types import Opportunity, Trigger

STATUSES = ("open", "in_progress", "won", "lost", "dismissed", "resolved")

SCHEMA = pa.schema(
    [("id", pa.string()), ("serial", pa.string()), ("campaign", pa.string()), ("status", pa.string()),
     ("trigger_state", pa.string()), ("priority", pa.float64()), ("territory", pa.string()), ("owner", pa.string()),
     ("owner_role", pa.string()), ("channel", pa.string()), ("first_seen", pa.date32()), ("last_seen", pa.date32()),
     ("resolved_on", pa.date32()), ("data", pa.string())]
)
COLUMNS = SCHEMA.names
# Covered triggers (a machine under a maintenance or full-service contract) become tasks for the service team in
# their own channel: no offer, not in the reps' pipeline unless asked for by channel.
SCHEDULING = "scheduling"
SCHEDULING_CAMPAIGN = "maintenance under contract: schedule the visit"
SERVICE_TEAM = "service_team"


@dataclass(frozen=True)
class SyncCounts:
    """What a sync did."""

    new: int
    updated: int
    reopened: int
    resolved: int


def opportunity_id(serial: str, campaign_rule: str) -> str:
    """Stable id: same machine and campaign give the same id on every run."""
    return "OPP-" + hashlib.sha256(f"{serial}|{campaign_rule}".encode()).hexdigest()[:10]


def _offers(db: MachineFile) -> list[dict[str, Any]]:
    rows = db.sql("SELECT offer_id, name, price, currency, models, triggers FROM service_offers ORDER BY price, offer_id")
    keys = ("offer_id", "name", "price", "currency", "models", "triggers")
    return [dict(zip(keys, r)) for r in rows]


def _answers(trig: Trigger) -> tuple[str, ...]:
    """What a catalogue offer may list to answer a trigger: its rule, and for a lead from a service note also
    'note_lead:<offer kind>' of the latest lead (so a wear-parts kit answers a parts-kit lead, not every lead)."""
    leads = (trig.evidence.get("facts") or {}).get("leads") or []
    return (trig.rule_id, *(f"{trig.rule_id}:{lead.get('offer')}" for lead in leads[:1]))


def _fitting(offers: list[dict[str, Any]], trig: Trigger, model: str | None) -> dict[str, Any] | None:
    keys = _answers(trig)
    for offer in offers:
        if set(keys) & set(offer["triggers"] or []) and (not offer["models"] or model in offer["models"]):
            return {k: offer[k] for k in ("offer_id", "name", "price", "currency")} | {"rule_id": trig.rule_id}
    return None


def build(db: MachineFile, rules: RulesFile, run: TriggerRun) -> list[Opportunity]:
    """Merge each machine's triggers into one opportunity named by the first fired rule in campaign_order."""
    by_machine: dict[str, list[Trigger]] = {}
    for trig in run.triggers:
        by_machine.setdefault(trig.serial, []).append(trig)
    context = machine_context(db, run.as_of)
    offers = _offers(db)
    order = {rule: i for i, rule in enumerate(rules.campaign_order)}
    result = []
    for serial, triggers in sorted(by_machine.items()):
        triggers = sorted(triggers, key=lambda t: order[t.rule_id])
        primary = triggers[0]
        ctx = context[serial]
        fitting = [o for o in (_fitting(offers, t, ctx["model"]) for t in triggers) if o]
        lead_offer = next((o for o in fitting if o["rule_id"] == primary.rule_id), None)
        priority, factors = score(rules, ctx, primary)
        routing = route(rules, ctx, priority, lead_offer["price"] if lead_offer else None)
        result.append(Opportunity(
            opportunity_id(serial, primary.rule_id), serial, ctx["model"], ctx["customer_id"], ctx["customer"],
            ctx["territory"], primary.campaign, primary.rule_id, [t.campaign for t in triggers[1:]],
            [t.rule_id for t in triggers], priority, factors, routing["owner_role"], routing["owner"],
            routing["channel"], fitting, run.as_of.isoformat(), triggers))
    result += _scheduling(rules, run, context)
    result.sort(key=lambda o: (-o.priority, o.id))
    return result


def _scheduling(rules: RulesFile, run: TriggerRun, context: dict[str, dict[str, Any]]) -> list[Opportunity]:
    """One scheduling task per machine with covered triggers: the service team plans the visit the contract owes."""
    by_machine: dict[str, list[Trigger]] = {}
    for trig in run.suppressed:
        if trig.status == "covered":
            by_machine.setdefault(trig.serial, []).append(trig)
    order = {rule: i for i, rule in enumerate(rules.campaign_order)}
    result = []
    for serial, triggers in sorted(by_machine.items()):
        triggers = sorted(triggers, key=lambda t: order[t.rule_id])
        primary, ctx = triggers[0], context[serial]
        priority, factors = score(rules, ctx, primary)
        owner = f"service team ({ctx['territory'] or 'unknown territory'})"
        result.append(Opportunity(
            opportunity_id(serial, f"{primary.rule_id}/{SCHEDULING}"), serial, ctx["model"], ctx["customer_id"],
            ctx["customer"], ctx["territory"], SCHEDULING_CAMPAIGN, primary.rule_id, [], [t.rule_id for t in triggers],
            priority, factors, SERVICE_TEAM, owner, SCHEDULING, [], run.as_of.isoformat(), triggers))
    return result


def sync(db: MachineFile, computed: list[Opportunity], as_of: date) -> SyncCounts:
    """Store opportunities; keep people's statuses; mark (never delete) those whose triggers no longer hold."""
    existing = {r[0]: r[1:] for r in db.sql(
        "SELECT id, status, trigger_state, first_seen, data->>'$.handoff' FROM opportunities")}
    new = reopened = 0
    rows: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for opp in computed:
        status, first_seen, handoff = "open", as_of, None
        prior = existing.get(opp.id)
        if prior:
            status, _, first_seen, handoff = prior
            if status == "resolved":
                status, reopened = "open", reopened + 1
        else:
            new += 1
        record = opp.to_dict() | {"status": status, "trigger_state": "active", "first_seen": first_seen.isoformat(),
                        "last_seen": as_of.isoformat(), "resolved_on": None}
        if handoff:  # a person's hand-off to the CRM survives re-runs, like their status
            record["handoff"] = json.loads(handoff)
        values = [opp.id, opp.serial, opp.campaign, status, "active", opp.priority, opp.territory,
                  opp.owner, opp.owner_role, opp.channel, first_seen, as_of, None,
                  json.dumps(record, sort_keys=True)]
        for name, value in zip(COLUMNS, values):
            rows[name].append(value)
    current = {o.id for o in computed}
    gone = sorted(i for i, (_, state, *_) in existing.items() if state == "active" and i not in current)
    with db.transaction(), watch_opportunities(db):
        with db.registered("_opps", pa.table(rows, schema=SCHEMA)):
            db.execute("DELETE FROM opportunities WHERE id IN (SELECT id FROM _opps)")
            db.execute("INSERT INTO opportunities SELECT * FROM _opps")
        if gone:
            with db.registered("_gone", pa.table({"id": gone})):
                db.execute(
                    "UPDATE opportunities SET trigger_state = 'resolved', resolved_on = ?, "
                    "status = CASE WHEN status = 'open' THEN 'resolved' ELSE status END WHERE id IN (SELECT id FROM _gone)",
                    [as_of],
                )
    return SyncCounts(new, len(computed) - new, reopened, len(gone))


def insert_lead_opportunity(
    db: MachineFile, *, opportunity_id: str, serial: str, campaign: str, trigger_state: str, priority: float,
    territory: str | None, owner: str, owner_role: str, channel: str, seen_on: date, record: dict[str, Any],
) -> None:
    """Store the open opportunity a technician lead creates (first and last seen on the report's day)."""
    with watch_opportunities(db, "id = ?", [opportunity_id]):
        db.execute(
            f"INSERT INTO opportunities ({', '.join(COLUMNS)}) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [opportunity_id, serial, campaign, trigger_state, priority, territory, owner, owner_role, channel, seen_on,
             seen_on, json.dumps(record, sort_keys=True, default=str)],
        )


def list_opportunities(
    db: MachineFile, territory: str | None = None, owner: str | None = None, include_closed: bool = False,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """Stored opportunities, best first: the sales pipeline, or only one channel (e.g. 'scheduling') when given."""
    where = ["channel = ?" if channel else f"coalesce(channel, '') <> '{SCHEDULING}'"]
    params: list[Any] = [channel] if channel else []
    if not include_closed:
        where.append("(trigger_state IN ('active', 'lead') OR status = 'in_progress') AND status NOT IN ('won', 'lost', 'dismissed')")
    if territory:
        where.append("territory = ?")
        params.append(territory)
    if owner:
        where.append("owner = ?")
        params.append(owner)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = db.sql(
        f"SELECT data, status, trigger_state, resolved_on FROM opportunities {clause} ORDER BY priority DESC, id", params
    )
    out = []
    for data, status, state, resolved_on in rows:
        record = json.loads(data)
        record.update(status=status, trigger_state=state, resolved_on=resolved_on.isoformat() if resolved_on else None)
        out.append(record)
    return out


def set_status(db: MachineFile, opp_id: str, status: str) -> None:
    """Move an opportunity through its workflow (open, in_progress, won, lost, dismissed)."""
    if status not in STATUSES:
        raise SdiError(f"unknown status {status!r}", f"use one of {', '.join(STATUSES)}")
    if db.scalar("SELECT count(*) FROM opportunities WHERE id = ?", [opp_id]) == 0:
        raise SdiError(f"no opportunity {opp_id}", "list them with: sdi opportunities")
    with watch_opportunities(db, "id = ?", [opp_id]):
        db.execute("UPDATE opportunities SET status = ? WHERE id = ?", [status, opp_id])


def handoff_of(db: MachineFile, opp_id: str) -> dict[str, Any] | None:
    """Who handed the opportunity off to the CRM and when, or None."""
    raw = db.scalar("SELECT data->>'$.handoff' FROM opportunities WHERE id = ?", [opp_id])
    return json.loads(raw) if raw else None


def hand_off(db: MachineFile, opp_id: str, by: str, endpoints: int) -> tuple[dict[str, Any], bool]:
    """Mark an opportunity handed off to the CRM (in its data JSON) and log opportunity.handed_off in the same
    transaction; (the earlier hand-off, False) when it already was."""
    if db.scalar("SELECT count(*) FROM opportunities WHERE id = ?", [opp_id]) == 0:
        raise SdiError(f"no opportunity {opp_id}", "list them with: sdi opportunities")
    handoff = {"by": by, "at": now().isoformat(timespec="seconds") + "Z", "endpoints": endpoints}
    with db.transaction():
        done = db.sql("UPDATE opportunities SET data = json_merge_patch(data, ?)::VARCHAR "
                      "WHERE id = ? AND (data->'$.handoff') IS NULL RETURNING id", [json.dumps({"handoff": handoff}), opp_id])
        if done:
            record_events(db, [("opportunity.handed_off", opp_id, _handoff_payload(db, opp_id, handoff))])
    if not done:
        return handoff_of(db, opp_id) or {}, False
    return handoff, True


def _handoff_payload(db: MachineFile, opp_id: str, handoff: dict[str, Any]) -> dict[str, Any]:
    """What the CRM receives: the opportunity as other events show it, plus account, model and offers to quote."""
    cols = ", ".join(OPPORTUNITY_FIELDS)
    row = db.rows_as_dicts(f"SELECT {cols}, data FROM opportunities WHERE id = ?", [opp_id])[0]
    data = json.loads(row.pop("data"))
    extra = {k: data.get(k) for k in ("customer_id", "customer", "model", "offers")}
    return {"opportunity": row | extra, "handoff": handoff}


def get_opportunity(db: MachineFile, opp_id: str) -> dict[str, Any] | None:
    """One stored opportunity with its current status, or None."""
    row = db.one("SELECT data, status, trigger_state, resolved_on FROM opportunities WHERE id = ?", [opp_id])
    if not row:
        return None
    record = json.loads(row[0])
    record.update(status=row[1], trigger_state=row[2], resolved_on=row[3].isoformat() if row[3] else None)
    return record


def opportunities_for_machine(db: MachineFile, serial: str) -> list[dict[str, Any]]:
    """Active opportunities of one machine."""
    ids = [r[0] for r in db.sql(
        "SELECT id FROM opportunities WHERE serial = ? AND trigger_state IN ('active', 'lead') ORDER BY priority DESC", [serial])]
    return [o for o in (get_opportunity(db, i) for i in ids) if o]
