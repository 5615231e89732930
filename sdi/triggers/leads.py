"""Technician lead capture: a light-touch report that becomes an opportunity routed to the right owner, timed to first action."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.store.events import record as record_events
from sdi.triggers.opportunities import insert_lead_opportunity, opportunity_id
from sdi.triggers.phrases import money, plain_arg
from sdi.triggers.rules import load_rules
from sdi.access.policy import can_see_machine
from sdi.access.users import User, get_user

RULE_ID = "technician_lead"
CAMPAIGN = "technician lead"
LEAD_PRIORITY = 75.0  # a customer's stated wish outranks most analytics-only triggers
TRIGGER_STATE = "lead"  # trigger re-runs never resolve a lead (they only touch trigger_state 'active')
PHOTO_TYPES = {"image/jpeg": (b"\xff\xd8\xff", "jpg"), "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
               "image/webp": (b"RIFF", "webp")}
MAX_PHOTO_BYTES = 5 * 1024 * 1024

COLUMNS = ("id", "serial", "observed", "customer_wants", "offer_id", "photo", "reporter", "reported_at",
           "opportunity_id", "owner", "owner_role", "first_action_at", "first_action_by", "first_action")


@dataclass(frozen=True)
class Photo:
    """An uploaded photo, checked against its declared type."""

    content_type: str
    data: bytes


def decode_photo(content_type: str, data_base64: str) -> Photo:
    """Decode and check a base64 photo (JPEG, PNG or WebP, at most 5 MB)."""
    if content_type not in PHOTO_TYPES:
        raise SdiError(f"photo type {content_type!r} is not accepted", "send image/jpeg, image/png or image/webp")
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SdiError("photo is not valid base64", "send the file's bytes base64-encoded") from exc
    if len(data) > MAX_PHOTO_BYTES:
        raise SdiError("photo is larger than 5 MB", "send a smaller picture")
    if not data.startswith(PHOTO_TYPES[content_type][0]):
        raise SdiError(f"photo content is not {content_type}", "send the picture file itself")
    return Photo(content_type, data)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _context(db: MachineFile, serial: str) -> dict[str, Any]:
    row = db.one(
        "SELECT m.model, m.customer_id, c.name, c.territory, c.account_manager FROM machines m "
        "LEFT JOIN customers c USING (customer_id) WHERE m.serial = ?", [serial])
    if row is None:
        raise SdiError(f"no machine {serial}", "check the serial on the type plate")
    return {"serial": serial, **dict(zip(("model", "customer_id", "customer", "territory", "account_manager"), row))}


def _offer(db: MachineFile, offer_id: str | None) -> dict[str, Any] | None:
    if not offer_id:
        return None
    row = db.one("SELECT offer_id, name, price, currency FROM service_offers WHERE offer_id = ?", [offer_id])
    if row is None:
        raise SdiError(f"no service offer {offer_id}", "pick an offer from the sign-up sheet or leave it empty")
    return dict(zip(("offer_id", "name", "price", "currency"), row))


ADMINS = "admins"  # the owner of a lead nobody else in SDI could see: every admin sees every opportunity


def _money(value: float, currency: str | None) -> str:
    return plain_arg(money(value, currency))


def _rep_of(territory: str | None) -> str:
    return f"sales rep for territory {territory}" if territory else "sales rep"


def _sales_reps(db: MachineFile, serial: str) -> list[User]:
    """Sales reps in SDI who can see this machine (the policy's own scope check), by name."""
    found = [get_user(db, name) for (name,) in db.sql("SELECT name FROM users WHERE role = 'sales_rep' ORDER BY name")]
    return [u for u in found if u is not None and can_see_machine(db, u, serial)]


def route_lead(db: MachineFile, home: Path, ctx: dict[str, Any], reporter: User, offer: dict[str, Any] | None) -> dict[str, str]:
    """Owner, channel and the reason in words: a standard offer under the technician price limit stays with the
    reporting technician; the rest go to whoever sells for the account (see _seller)."""
    limit = load_rules(home).routing.technician_price_limit
    price, currency = (offer["price"], offer["currency"]) if offer else (None, None)
    if price is not None and price < limit and reporter.role == "technician":
        reason = (f"{_money(price, currency)} is under the {_money(limit, currency)} limit, so it stays with "
                  f"{reporter.name}, the technician who reported it")
        return {"owner_role": "technician", "owner": reporter.name, "channel": "on_site", "routing_reason": reason}
    if price is None:
        why = "no standard offer was picked"
    elif price >= limit:
        why = f"{_money(price, currency)} is {'over' if price > limit else 'at'} the {_money(limit, currency)} limit"
    else:
        why = f"{reporter.name} reported it as {reporter.role.replace('_', ' ')}, not as a technician"
    role, owner, whom = _seller(db, ctx)
    sep = ": " if whom.startswith("routed") else "; "  # a fallback's phrase has its own colon
    return {"owner_role": role, "owner": owner, "channel": "field_visit", "routing_reason": f"{why}{sep}{whom}"}


def _seller(db: MachineFile, ctx: dict[str, Any]) -> tuple[str, str, str]:
    """(role, owner, phrase): the account manager if SDI shows them this machine, else the first sales rep who sees
    it, else the admins, so a lead never waits with someone who cannot see it."""
    am, territory = ctx["account_manager"], ctx["territory"]
    if not db.scalar("SELECT count(*) FROM users"):
        # no accounts yet (a batch import, the demo's replay): nobody to check; the CRM export carries the owner
        if am:
            return "sales_rep", am, f"routed to the account manager {am}"
        return ("sales_rep", f"unassigned sales rep ({territory or 'unknown territory'})",
                f"no account manager is on record, so it waits for a sales rep of {territory or 'an unknown territory'}")
    reps = _sales_reps(db, ctx["serial"])
    if am and am in {u.name for u in reps}:
        return "sales_rep", am, f"routed to {am}, the account manager ({_rep_of(territory)})"
    if not am:
        missing = "no account manager is on record"
    elif get_user(db, am) is None:
        missing = f"the account manager {am} is not an SDI user"
    else:
        missing = f"the account manager {am} cannot see this machine in SDI"
    if reps:
        return "sales_rep", reps[0].name, f"{missing}, so it goes to {reps[0].name}, {_rep_of(territory)}"
    nobody = f"there is no active sales rep for territory {territory}" if territory else "the customer has no territory"
    return "admin", ADMINS, f"{missing} and {nobody}: routed to the admins"


def _opportunity(lead: dict[str, Any], ctx: dict[str, Any], routing: dict[str, str], offer: dict[str, Any] | None) -> dict[str, Any]:
    today = lead["reported_at"].date().isoformat()
    condition = {"field": "technician report", "operator": "reported", "threshold": None,
                 "value": lead["customer_wants"] or lead["observed"], "unit": None}
    trigger = {
        "trigger_id": f"{RULE_ID}:{lead['id']}", "rule_id": RULE_ID, "rule_version": 1, "rules_file_version": None,
        "campaign": CAMPAIGN, "serial": lead["serial"], "model": ctx["model"], "as_of": today, "status": "fired",
        "condition": condition, "conditions": [condition],
        "evidence": {"source_ids": [f"lead:{lead['id']}"],
                     "facts": {"observed": lead["observed"], "customer_wants": lead["customer_wants"],
                               "reporter": lead["reporter"], "offer_id": lead["offer_id"]}},
    }
    return {
        "id": lead["opportunity_id"], "serial": lead["serial"], "model": ctx["model"], "customer_id": ctx["customer_id"],
        "customer": ctx["customer"], "territory": ctx["territory"], "campaign": CAMPAIGN, "primary_rule": RULE_ID,
        "linked_campaigns": [], "rules": [RULE_ID], "priority": LEAD_PRIORITY,
        "priority_factors": {"technician_lead": 1.0}, **routing,
        "offers": [offer | {"rule_id": RULE_ID}] if offer else [], "as_of": today, "triggers": [trigger],
        "lead_id": lead["id"], "status": "open", "trigger_state": TRIGGER_STATE, "first_seen": today,
        "last_seen": today, "resolved_on": None,
    }


def create_lead(
    db: MachineFile, home: Path, reporter: User, serial: str, observed: str, customer_wants: str = "",
    offer_id: str | None = None, photo: Photo | None = None, at: datetime | None = None,
) -> dict[str, Any]:
    """Store the lead (reported at `at`, default now), create its opportunity with the right owner, return the lead."""
    if not (observed or "").strip():
        raise SdiError("say what you observed", "one sentence is enough, e.g. 'hydraulic hose weeping at cylinder 2'")
    ctx = _context(db, serial)
    offer = _offer(db, offer_id)
    number = db.scalar("SELECT nextval('lead_seq')")
    lead_id = f"LD-{number:06d}"
    photo_name = None
    if photo is not None:
        folder = home / "leads"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        photo_name = f"{lead_id}.{PHOTO_TYPES[photo.content_type][1]}"
        (folder / photo_name).write_bytes(photo.data)
        (folder / photo_name).chmod(0o600)
    routing = route_lead(db, home, ctx, reporter, offer)
    lead = {"id": lead_id, "serial": serial, "observed": observed.strip(), "customer_wants": (customer_wants or "").strip(),
            "offer_id": offer["offer_id"] if offer else None, "photo": photo_name, "reporter": reporter.name,
            "reported_at": at or _now(), "opportunity_id": opportunity_id(serial, f"lead:{lead_id}"),
            "owner": routing["owner"], "owner_role": routing["owner_role"],
            "first_action_at": None, "first_action_by": None, "first_action": None}
    opp = _opportunity(lead, ctx, routing, offer)
    with db.transaction():
        db.execute(f"INSERT INTO leads ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", [lead[c] for c in COLUMNS])
        insert_lead_opportunity(
            db, opportunity_id=opp["id"], serial=serial, campaign=CAMPAIGN, trigger_state=TRIGGER_STATE,
            priority=LEAD_PRIORITY, territory=ctx["territory"], owner=routing["owner"], owner_role=routing["owner_role"],
            channel=routing["channel"], seen_on=lead["reported_at"].date(), record=opp,
        )
        record_events(db, [("lead.reported", lead_id, {"lead": _public(lead)}),
                           ("lead.routed", lead_id, {"lead_id": lead_id, "opportunity_id": opp["id"], **routing})])
    return _public(lead) | {"routing_reason": routing["routing_reason"]}


def _public(lead: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in lead.items()}
    out["has_photo"] = bool(out.pop("photo"))
    if lead.get("first_action_at") and lead.get("reported_at"):
        out["hours_to_first_action"] = round((lead["first_action_at"] - lead["reported_at"]).total_seconds() / 3600, 2)
    else:
        out["hours_to_first_action"] = None
    return out


def record_action(db: MachineFile, opportunity_id: str, user: str, action: str, at: datetime | None = None) -> bool:
    """Stamp the first human action on a lead's opportunity (status change, outcome); True if this was the first."""
    at = at or _now()
    with db.transaction():
        updated = db.sql(
            "UPDATE leads SET first_action_at = ?, first_action_by = ?, first_action = ? "
            "WHERE opportunity_id = ? AND first_action_at IS NULL RETURNING id",
            [at, user, action, opportunity_id],
        )
        record_events(db, [("lead.first_action", lead_id, {"lead_id": lead_id, "opportunity_id": opportunity_id,
                            "first_action_at": at.isoformat(), "first_action_by": user, "first_action": action})
                           for (lead_id,) in updated])
    return bool(updated)


def get_lead(db: MachineFile, lead_id: str) -> dict[str, Any] | None:
    """One lead (raw row, photo file name included) by id."""
    row = db.one(f"SELECT {', '.join(COLUMNS)} FROM leads WHERE id = ?", [lead_id])
    return dict(zip(COLUMNS, row)) if row else None


def public(lead: dict[str, Any]) -> dict[str, Any]:
    """The API view of a stored lead."""
    return _public(lead)


def list_leads(db: MachineFile, where: str = "TRUE", params: list[Any] | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Leads newest first; `where` may reference l (lead) and o (its opportunity)."""
    cols = ", ".join(f"l.{c}" for c in COLUMNS)
    rows = db.sql(
        f"SELECT {cols}, o.status, o.data->>'$.routing_reason' FROM leads l LEFT JOIN opportunities o ON o.id = l.opportunity_id "
        f"WHERE {where} ORDER BY l.reported_at DESC, l.id DESC LIMIT ?", [*(params or []), limit])
    return [_public(dict(zip(COLUMNS, r[:-2]))) | {"status": r[-2], "routing_reason": r[-1]} for r in rows]


def opportunity_state(db: MachineFile, lead: dict[str, Any]) -> dict[str, Any]:
    """The lead's opportunity's status now and the reason it was routed as it was (None for leads older than reasons)."""
    row = db.one("SELECT status, data->>'$.routing_reason' FROM opportunities WHERE id = ?", [lead["opportunity_id"]])
    return {"status": row[0] if row else None, "routing_reason": row[1] if row else None}


def stats(leads: list[dict[str, Any]]) -> dict[str, Any]:
    """Report-to-first-action figures over a list of leads."""
    hours = [lead["hours_to_first_action"] for lead in leads if lead["hours_to_first_action"] is not None]
    return {"leads": len(leads), "acted_on": len(hours), "waiting": len(leads) - len(hours),
            "median_hours_to_first_action": round(median(hours), 2) if hours else None,
            "max_hours_to_first_action": max(hours) if hours else None}


def photo_path(home: Path, lead: dict[str, Any]) -> Path | None:
    """Where a lead's photo is stored, if it has one."""
    return home / "leads" / lead["photo"] if lead.get("photo") else None
