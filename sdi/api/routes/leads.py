"""Technician lead capture: report a lead (becomes a routed opportunity), list leads with time to first action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import FileResponse

from sdi.triggers import leads as leads_service
from sdi.api.deps import Db, LeadReporter, Reader, State, audit_action, not_found
from sdi.api.opportunity_view import get_visible
from sdi.api.schemas import LeadCreate, LeadList, LeadPublic
from sdi.api.scope import can_see_machine, lead_clause, reported_by
from sdi.access.users import User

router = APIRouter(prefix="/api/leads", tags=["leads"])
LeadId = Annotated[str, Path(max_length=40)]


@router.post("", response_model=LeadPublic, status_code=status.HTTP_201_CREATED)
def report_lead(body: LeadCreate, user: LeadReporter, db: Db, state: State) -> dict[str, Any]:
    """Report a lead from a visit: machine, what you observed, what the customer wants, optional offer and photo.

    It becomes an opportunity routed to the right owner: standard offers under the price limit stay with you, the
    rest go to the account's sales rep if SDI shows them this machine, else to a sales rep who sees it, else to the
    admins; `routing_reason` says which and why. The time from this report to the owner's first action is tracked.
    """
    if not can_see_machine(db, user, body.serial):
        raise not_found("machine")
    photo = leads_service.decode_photo(body.photo.content_type, body.photo.data_base64) if body.photo else None
    lead = leads_service.create_lead(db, state.settings.home, user, body.serial, body.observed, body.customer_wants,
                                     body.offer_id, photo)
    audit_action(state, "lead", {k: lead[k] for k in ("id", "serial", "observed", "customer_wants", "offer_id",
                                                      "opportunity_id", "owner", "owner_role", "has_photo", "routing_reason")}, user)
    return lead


@router.get("", response_model=LeadList)
def list_leads(user: Reader, db: Db, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Leads in your scope (technicians: those they reported or own), newest first, with report-to-first-action figures."""
    where, params = lead_clause(user)
    items = leads_service.list_leads(db, where, params, limit)
    return {"items": items, "stats": leads_service.stats(items)}


def _visible_lead(db: Db, user: User, lead_id: str) -> dict[str, Any]:
    lead = leads_service.get_lead(db, lead_id)
    if lead is None:
        raise not_found("lead")
    if not reported_by(user, lead) and get_visible(db, user, lead["opportunity_id"]) is None:
        raise not_found("lead")
    return lead


@router.get("/{lead_id}", response_model=LeadPublic)
def get_lead(lead_id: LeadId, user: Reader, db: Db) -> dict[str, Any]:
    """One lead, with its opportunity's status."""
    lead = _visible_lead(db, user, lead_id)
    return leads_service.public(lead) | leads_service.opportunity_state(db, lead)


@router.get("/{lead_id}/photo", response_class=FileResponse, responses={200: {"content": {"image/*": {}}}})
def lead_photo(lead_id: LeadId, user: Reader, db: Db, state: State) -> FileResponse:
    """The photo sent with a lead."""
    path = leads_service.photo_path(state.settings.home, _visible_lead(db, user, lead_id))
    if path is None or not path.is_file():
        raise not_found("photo")
    return FileResponse(path)
