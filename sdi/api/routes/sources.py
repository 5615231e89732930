"""One cited source by its id: the record's text (for highlighting a span), a trigger's rule and threshold, a lead."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path

from sdi.triggers import leads as leads_service
from sdi.api.deps import Db, Reader, not_found
from sdi.api.machine_view import source_record
from sdi.api.opportunity_view import get_visible
from sdi.api.scope import can_see_machine, opportunity_clause
from sdi.store import MachineFile
from sdi.triggers.explain import with_sentences
from sdi.access.users import User

router = APIRouter(prefix="/api/sources", tags=["sources"])


def _trigger(db: MachineFile, user: User, trigger_id: str) -> dict[str, Any] | None:
    scope, params = opportunity_clause(user)
    rows = db.sql(f"SELECT o.data FROM opportunities o WHERE {scope} AND contains(CAST(o.data AS VARCHAR), ?) LIMIT 20",
                  [*params, json.dumps(trigger_id)])
    for (data,) in rows:
        opp = json.loads(data)
        for trig in opp.get("triggers") or []:
            if trig.get("trigger_id") == trigger_id:
                text = json.dumps(trig.get("conditions"), ensure_ascii=False)
                return {"source_id": f"trigger:{trigger_id}", "entity": "trigger", "key": trigger_id,
                        "serial": trig.get("serial"), "opportunity_id": opp["id"], "trigger": with_sentences(trig),
                        "text": text}
    return None


def _lead(db: MachineFile, user: User, lead_id: str) -> dict[str, Any] | None:
    lead = leads_service.get_lead(db, lead_id)
    if lead is None or get_visible(db, user, lead["opportunity_id"]) is None:
        return None
    public = leads_service.public(lead)
    text = f"Observed: {public['observed']}" + (f" Customer wants: {public['customer_wants']}" if public["customer_wants"] else "")
    return {"source_id": f"lead:{lead_id}", "entity": "lead", "key": lead_id, "serial": lead["serial"], "text": text,
            "record": public}


def _opportunity(db: MachineFile, user: User, opportunity_id: str) -> dict[str, Any] | None:
    opp = get_visible(db, user, opportunity_id)
    if opp is None:
        return None
    keys = ("id", "campaign", "priority", "owner", "owner_role", "channel", "offers", "linked_campaigns", "status")
    return {"source_id": f"opportunity:{opportunity_id}", "entity": "opportunity", "key": opportunity_id,
            "serial": opp["serial"], "text": "", "record": {k: opp.get(k) for k in keys}}


@router.get("/{source_id:path}")
def get_source(source_id: Annotated[str, Path(max_length=300)], user: Reader, db: Db) -> dict[str, Any]:
    """The stored record behind a citation (e.g. service_record:SR-000123#c0, contract:CT-1, trigger:wear:SERIAL)."""
    entity, _, key = source_id.partition(":")
    if entity == "trigger":
        found = _trigger(db, user, key)
    elif entity == "lead":
        found = _lead(db, user, key)
    elif entity == "opportunity":
        found = _opportunity(db, user, key)
    elif entity == "machine":
        found = source_record(db, user, source_id) if can_see_machine(db, user, key) else None
    else:
        found = source_record(db, user, source_id)
    if found is None:
        raise not_found("source")
    return found
