"""Audit records and drafts for compliance review (read-only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from sdi.api.deps import Auditor, State, not_found
from sdi.api.drafts_view import DraftFilter, draft_detail, list_drafts
from sdi.api.schemas import AuditEntry, AuditPage, DraftPage, Text

router = APIRouter(tags=["audit"])
Str = Annotated[Text | None, Query(max_length=200)]
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]


@router.get("/api/audit", response_model=AuditPage)
def audit_entries(
    user: Auditor, state: State, kind: Str = None, user_name: Annotated[Text | None, Query(alias="user", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Audit entries, newest first: drafts, human actions (leads, outcomes, status and user changes), runs."""
    items = [e for e in state.audit.list(kind) if user_name is None or e.get("user") == user_name]
    return {"total": len(items), "items": items[offset:offset + limit]}


@router.get("/api/audit/{entry_id}", response_model=AuditEntry)
def audit_entry(entry_id: Annotated[str, Path(max_length=40)], user: Auditor, state: State) -> dict[str, Any]:
    """One audit entry with its hash-chain fields."""
    entry = state.audit.get(entry_id)
    if entry is None:
        raise not_found("audit entry")
    return entry


@router.get("/api/drafts", response_model=DraftPage)
def drafts(
    user: Auditor, state: State,
    kind: Annotated[Literal["why", "ask", "brief", "talking_points"] | None, Query()] = None,
    serial: Str = None, opportunity_id: Str = None, user_name: Annotated[Text | None, Query(alias="user", max_length=200)] = None,
    model: Str = None, check: Annotated[Literal["clean", "flagged"] | None, Query()] = None,
    since: Day = None, until: Day = None, q: Str = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Every draft (newest first) with prompt version, model and check result; filter by kind, machine, user, check."""
    f = DraftFilter(kind, serial, opportunity_id, user_name, model, check, since, until, q, limit, offset)
    return list_drafts(state.audit, f)


@router.get("/api/drafts/{audit_id}")
def draft(audit_id: Annotated[str, Path(max_length=40)], user: Auditor, state: State) -> dict[str, Any]:
    """One draft's full record: prompt (template, version, rendered), model, sources with hashes, check, output."""
    found = draft_detail(state.audit, audit_id)
    if found is None:
        raise not_found("draft")
    return found
