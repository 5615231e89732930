"""Data loads while the app runs (the machine file is open in this process, so the CLI cannot write to it)."""

from __future__ import annotations

from datetime import date, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sdi.api.deps import Admin, Db, State, audit_action
from sdi.api.import_jobs import ImportJobs, import_jobs, run_detection
from sdi.api.schemas import IngestRequest, WebhookEnableRequest, WebhookReplayRequest
from sdi.errors import SdiError

router = APIRouter(prefix="/api/admin", tags=["admin"])
Jobs = Annotated[ImportJobs, Depends(import_jobs)]


@router.post("/triggers")
def rerun_triggers(user: Admin, db: Db, state: State) -> dict[str, Any]:
    """Re-run trigger detection and sync opportunities (people's statuses and leads are kept)."""
    out = run_detection(state, db)
    audit_action(state, "triggers_run", {"as_of": out["as_of"], "opportunities": out["opportunities"]}, user)
    return out


@router.get("/triggers/suppressed")
def suppressed_triggers(user: Admin, db: Db, state: State, rule: str | None = None) -> dict[str, Any]:
    """Triggers held back at the data's as-of date (resolved or covered), each with the record that did it."""
    from sdi.triggers.engine import detect
    from sdi.triggers.rules import load_rules

    rules = load_rules(state.settings.home)
    run = detect(db, rules, db.data_as_of())
    items = [t.to_dict() for t in run.suppressed if rule is None or t.rule_id == rule]
    return {"as_of": run.as_of.isoformat(), "total": len(items), "items": items,
            "resolution": {r.rule_id: r.resolution for r in rules.registered}}


@router.post("/ingest")
def ingest(body: IngestRequest, user: Admin, db: Db, state: State, jobs: Jobs) -> dict[str, Any]:
    """Import export files through a mapping file on the server and wait for the report, then (by default) re-run
    detection; 409 while another import runs (POST /api/admin/imports runs one in the background instead)."""
    from connectors.ingest import ingest as run_ingest

    mapping = Path(body.mapping)
    if not mapping.is_file():
        raise SdiError(f"no mapping file at {mapping}", "give the path of a mapping YAML on the server")
    with jobs.exclusive():
        report = run_ingest(db, mapping, batch_rows=state.settings.ingest_batch_rows, started_by=user.name,
                            source="api")
        out: dict[str, Any] = {"report": report.to_dict()}
        if body.run_triggers:
            out["triggers"] = run_detection(state, db)
    audit_action(state, "ingest", report.audit_payload(), user)
    return out


@router.get("/backtest")
def backtest(
    user: Admin, db: Db, state: State, target_kind: str = "failure", target: str = "event", window: int = 14,
    start: date | None = Query(None, alias="from"), end: date | None = Query(None, alias="to"), step: int = 7,
) -> dict[str, Any]:
    """Replay past as-of dates and score every rule against the target (README "Back-test")."""
    from sdi.triggers.backtest import build_spec, run_backtest
    from sdi.triggers.rules import load_rules

    spec = build_spec(db, target_kind, target, window, start, end, step)
    return run_backtest(db, load_rules(state.settings.home), spec).to_dict()


@router.get("/webhooks")
def webhooks_status(user: Admin, db: Db, state: State, limit: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
    """Webhook endpoints (active, paused, disabled) with pending / delivered / failed counts, and the delivery log."""
    from sdi.loop.outbox import status

    return status(db, [e.url for e in state.settings.webhook_endpoints], limit)


@router.post("/webhooks/replay")
def webhooks_replay(body: WebhookReplayRequest, user: Admin, db: Db, state: State) -> dict[str, Any]:
    """Queue logged events since a time again for the configured endpoints (the server then delivers them)."""
    from sdi.loop.outbox import replay

    targets = [e for e in state.settings.webhook_endpoints if body.endpoint in (None, e.url)]
    if not targets:
        raise SdiError(f"no configured webhook endpoint {body.endpoint or ''}".strip(),
                       "an admin sets SDI_WEBHOOK_URL and SDI_WEBHOOK_SECRET (or webhooks: in the config file)")
    since = body.since.replace(tzinfo=None) if body.since.tzinfo is None else \
        body.since.astimezone(timezone.utc).replace(tzinfo=None)
    queued = replay(db, targets, since)
    audit_action(state, "webhooks_replay", {"since": since.isoformat(), "endpoints": [e.url for e in targets],
                                            "queued": queued}, user)
    return {"queued": queued, "endpoints": [e.url for e in targets]}


@router.post("/webhooks/enable")
def webhooks_enable(body: WebhookEnableRequest, user: Admin, db: Db, state: State) -> dict[str, Any]:
    """Re-enable an endpoint that answered 410 Gone; its queued deliveries go out again."""
    from sdi.loop.outbox import enable

    changed = enable(db, body.url)
    if changed:
        audit_action(state, "webhooks_enable", {"url": body.url}, user)
    return {"url": body.url, "enabled": changed}
