"""The audit trail for compliance: entries with filters, chain verification, bundle export, draft review."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sdi.api.deps import Auditor, Db, State, audit_action, not_found
from sdi.api.drafts_view import DraftFilter, draft_detail, list_drafts
from sdi.api.schemas import AuditEntry, AuditPage, DraftPage, ReviewCreate, ReviewPublic, Text, VerifyPublic
from sdi.audit.bundle import archive, export_recorded
from sdi.audit.log import AuditDamaged
from sdi.audit.query import AuditQuery, record_review, reviews, search

router = APIRouter(tags=["audit"])
Str = Annotated[Text | None, Query(max_length=200)]
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
Since = Annotated[date | None, Query(description="First day (YYYY-MM-DD, UTC), inclusive.")]
Until = Annotated[date | None, Query(description="Last day (YYYY-MM-DD, UTC), inclusive.")]
UserName = Annotated[Text | None, Query(alias="user", max_length=200)]


@router.get("/api/audit", response_model=AuditPage)
def audit_entries(
    user: Auditor, state: State, db: Db, kind: Str = None, user_name: UserName = None,
    serial: Annotated[Text | None, Query(max_length=80, description="Entries about this machine (its opportunities too).")] = None,
    since: Since = None, until: Until = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Audit entries, newest first, of every kind; filter by kind, user, machine (serial) and date range."""
    opportunity_ids = frozenset(r[0] for r in db.sql("SELECT id FROM opportunities WHERE serial = ?", [serial])) if serial else frozenset()
    query = AuditQuery(kind, user_name, serial, opportunity_ids, since, until)
    return search(state.audit, query, limit, offset)


@router.post("/api/audit/verify", response_model=VerifyPublic)
def verify(user: Auditor, state: State) -> dict[str, Any]:
    """Re-walk the hash chain and its head anchor; the check itself is recorded (`audit_verify`)."""
    result = state.audit.verify()
    if result.ok:
        message = f"intact: {result.entries} entries; chain, hashes and head anchor verified"
    else:
        message = f"broken at {result.first_bad}: {result.reason} ({result.entries} entries read before the break)"
    try:
        audit_id = audit_action(state, "audit_verify", {"ok": result.ok, "entries": result.entries,
                                                        "first_bad": result.first_bad, "reason": result.reason}, user)
    except AuditDamaged:
        audit_id = None  # a damaged log takes no new entry; the answer says what is wrong with it
    return {"ok": result.ok, "entries": result.entries, "first_bad_entry": result.first_bad, "message": message,
            "note": result.note, "audit_id": audit_id}


@router.get("/api/audit/export", response_class=FileResponse,
            responses={200: {"content": {"application/gzip": {}}, "description": "The bundle as a .tar.gz"}})
def export(user: Auditor, state: State, since: Since = None, until: Until = None) -> FileResponse:
    """The bundle `sdi audit export` writes (log, head, cited source texts, manifest), as a .tar.gz download;
    since/until export the entries of those days. The export is recorded (`audit_export`)."""
    AuditQuery(since=since, until=until)  # refuses a range that ends before it starts
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"sdi-audit-bundle-{stamp}" + (f"-{since or 'start'}-to-{until or 'now'}" if since or until else "")
    scratch = FsPath(tempfile.mkdtemp(prefix="sdi-export-"))
    try:
        manifest, warnings = export_recorded(state.audit, scratch / name, user.name, since, until, via="api")
        target = archive(scratch / name, scratch / f"{name}.tar.gz")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    headers = {"X-SDI-Entries": str(manifest["entries"]), "X-SDI-Audit-Id": str(manifest.get("audit_id") or "")}
    if warnings:
        headers["X-SDI-Warning"] = "; ".join(warnings)[:500].encode("ascii", "replace").decode()
    return FileResponse(target, media_type="application/gzip", filename=target.name, headers=headers,
                        background=BackgroundTask(shutil.rmtree, scratch, True))


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
    serial: Str = None, opportunity_id: Str = None, user_name: UserName = None,
    model: Str = None, check: Annotated[Literal["clean", "flagged"] | None, Query()] = None,
    since: Day = None, until: Day = None, q: Str = None,
    reviewed: Annotated[Literal["yes", "no", "all"], Query(description="Reviewed drafts, not yet reviewed, or all.")] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Every draft (newest first) with prompt version, model, check result and reviews; filter by kind, machine,
    user, check, review state."""
    done = None if reviewed == "all" else reviewed == "yes"
    f = DraftFilter(kind, serial, opportunity_id, user_name, model, check, since, until, q, done, limit, offset)
    return list_drafts(state.audit, f)


@router.get("/api/drafts/{audit_id}")
def draft(audit_id: Annotated[str, Path(max_length=40)], user: Auditor, state: State) -> dict[str, Any]:
    """One draft's full record: prompt (template, version, rendered), model, sources with hashes, check, output,
    reviews."""
    found = draft_detail(state.audit, audit_id)
    if found is None:
        raise not_found("draft")
    return found


@router.post("/api/drafts/{audit_id}/review", response_model=ReviewPublic, status_code=201)
def review(audit_id: Annotated[str, Path(max_length=40)], body: ReviewCreate, user: Auditor, state: State) -> dict[str, Any]:
    """Mark a draft reviewed (optional note): a new `draft_review` audit entry naming the draft and its hash."""
    entry = state.audit.get(audit_id)
    if entry is None or entry.get("kind") != "draft":
        raise not_found("draft")
    made = record_review(state.audit, entry, body.note, user.name)
    return {"audit_id": made["id"], "draft": audit_id, "reviews": reviews(state.audit.entries()).get(audit_id, [])}
