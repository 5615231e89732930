"""Opportunities: list with filters, detail with triggers and evidence, status changes and outcomes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import JSONResponse

from sdi.triggers import leads as leads_service
from sdi.triggers import outcomes as outcome_service
from sdi.api.deps import Db, Reader, State, Writer, audit_action, not_found
from sdi.api.opportunity_view import OpportunityFilter, explained, facets, get_visible, list_visible
from sdi.api.schemas import OpportunityPage, OpportunityPublic, OutcomeCreate, OutcomePublic, StatusUpdate, Text
from sdi.api.scope import can_see_opportunity, may_act_on
from sdi.store import MachineFile
from sdi.loop.outbox import takes
from sdi.triggers.opportunities import SCHEDULING, hand_off, set_status
from sdi.triggers.rules import current_rules
from sdi.access.users import User

router = APIRouter(prefix="/api/opportunities", tags=["opportunities"])
Str = Annotated[Text | None, Query(max_length=200)]
OppPath = Annotated[str, Path(max_length=100)]
SCHEDULERS = ("technician", "admin")  # who sees the service team's scheduling tasks (technicians: their machines)


def _check_may_act(db: Db, user: Writer, opportunity_id: str) -> None:
    if not can_see_opportunity(db, user, opportunity_id):
        raise not_found("opportunity")
    if not may_act_on(db, user, opportunity_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the opportunity's owner or the territory's sales rep may change it")


@router.get("", response_model=OpportunityPage)
def list_opportunities(
    user: Reader, db: Db, app: State,
    state: Annotated[Literal["current", "all"], Query(description="current: open work; all: include closed")] = "current",
    status_: Annotated[Literal["open", "in_progress", "won", "lost", "dismissed", "resolved"] | None, Query(alias="status")] = None,
    territory: Str = None, owner: Str = None,
    owner_role: Annotated[Literal["sales_rep", "technician"] | None, Query()] = None,
    rule: Str = None, serial: Str = None, q: Str = None,
    min_priority: Annotated[float | None, Query(ge=0, le=100)] = None,
    source: Annotated[Literal["trigger", "lead"] | None, Query()] = None,
    channel: Annotated[Literal["field_visit", "email_sequence", "scheduling"] | None,
                       Query(description="default: the sales pipeline; scheduling: the service team's tasks")] = None,
    sort: Annotated[Literal["priority", "first_seen", "id"], Query()] = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Opportunities in your scope, best first; filter by rule, territory, owner, status, text, channel. Each says why
    its priority is what it is (`priority_explained`: level, sentence, factors)."""
    if channel == SCHEDULING and user.role not in SCHEDULERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "scheduling tasks are for the service team and admins")
    f = OpportunityFilter(state, status_, territory, owner, owner_role, rule, serial, q, min_priority, source, sort,
                          limit, offset, channel)
    return list_visible(db, user, f, current_rules(app.settings.home))


@router.get("/facets")
async def opportunity_facets(user: Reader, db: Db) -> dict[str, Any]:
    """Territories and rules present in your scope (for filter menus)."""
    return facets(db, user)


# `async`, unlike the list: its two point queries take about a millisecond, less than a hand-over to the thread
# pool costs; the list (several milliseconds) runs in the pool so it does not hold up the event loop.
@router.get("/{opportunity_id}", response_model=OpportunityPublic)
async def get_opportunity(opportunity_id: str, user: Reader, db: Db, state: State) -> dict[str, Any]:
    """One opportunity: triggers with rule, condition (field, operator, threshold, value, and `sentence` in words) and
    evidence ids; the priority and the routing explained; outcomes; lead."""
    return _detail(db, user, opportunity_id, state)


def _detail(db: MachineFile, user: User, opportunity_id: str, state: State) -> dict[str, Any]:
    opp = get_visible(db, user, opportunity_id)
    if opp is None:
        raise not_found("opportunity")
    explained(db, opp, current_rules(state.settings.home))
    opp["outcomes"] = outcome_service.outcomes_for(db, opportunity_id)
    if opp.get("lead_id"):
        lead = leads_service.get_lead(db, opp["lead_id"])
        opp["lead"] = leads_service.public(lead) if lead else None
    return opp


@router.post("/{opportunity_id}/status", response_model=OpportunityPublic)
def change_status(opportunity_id: str, body: StatusUpdate, user: Writer, db: Db, state: State) -> dict[str, Any]:
    """Move an opportunity to open, in_progress or dismissed (won/lost: record an outcome)."""
    _check_may_act(db, user, opportunity_id)
    set_status(db, opportunity_id, body.status)
    leads_service.record_action(db, opportunity_id, user.name, f"status:{body.status}")
    audit_action(state, "status", {"opportunity_id": opportunity_id, "status": body.status, "note": body.note}, user)
    return _detail(db, user, opportunity_id, state)


@router.post("/{opportunity_id}/outcome", response_model=OutcomePublic, status_code=status.HTTP_201_CREATED)
def record_outcome(opportunity_id: str, body: OutcomeCreate, user: Writer, db: Db, state: State) -> dict[str, Any]:
    """Record won, lost or lost to a partner, with discount given and reason; closes the opportunity."""
    _check_may_act(db, user, opportunity_id)
    outcome = outcome_service.record_outcome(
        db, opportunity_id, body.result, user.name, value=body.value, currency=body.currency,
        discount_pct=body.discount_pct, partner=body.partner, reason=body.reason,
    )
    audit_action(state, "outcome", outcome, user)
    return outcome


HANDED_OFF = "opportunity.handed_off"
NO_ENDPOINT = "recorded; no CRM endpoint configured — an admin sets SDI_WEBHOOK_URL"
HANDOFF_409 = {409: {"description": "Already handed off: `detail` and `handoff` {by, at, endpoints} say by whom and when."}}


@router.post("/{opportunity_id}/handoff", responses=HANDOFF_409)
def handoff(opportunity_id: OppPath, user: Writer, db: Db, state: State) -> Any:
    """Send to the CRM: mark the opportunity handed off (who, when; audited) and log an `opportunity.handed_off` event
    that the webhook deliverer sends to every configured endpoint; 409 when it already was."""
    _check_may_act(db, user, opportunity_id)
    endpoints = [e.url for e in state.settings.webhook_endpoints if takes(e, HANDED_OFF)]
    done, new = hand_off(db, opportunity_id, user.name, len(endpoints))
    if not new:
        return JSONResponse({"detail": f"already handed off to the CRM by {done.get('by')} on {done.get('at')}",
                             "handoff": done}, status.HTTP_409_CONFLICT)
    leads_service.record_action(db, opportunity_id, user.name, "handoff")
    audit_id = audit_action(state, "handoff", {"opportunity_id": opportunity_id, "handoff": done}, user)
    crm = f"queued for {len(endpoints)} webhook endpoint(s)" if endpoints else NO_ENDPOINT
    return {"opportunity_id": opportunity_id, "handoff": done, "audit_id": audit_id, "crm": crm}
