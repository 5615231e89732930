"""The webhook outbox in the machine file: events fanned out per endpoint, what is due, attempt results, replay, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import pyarrow as pa

from sdi.config import WebhookEndpoint
from sdi.store import MachineFile
from sdi.store.events import now

# Events younger than this are re-checked against the outbox on every pass, so one whose transaction committed
# after a later event's (ids are drawn before commit) is still picked up; older ones are behind the endpoint's mark.
SETTLE = timedelta(hours=1)
RESULT_SCHEMA = pa.schema([
    ("event_id", pa.int64()), ("endpoint", pa.string()), ("webhook_id", pa.string()), ("attempt", pa.int32()),
    ("attempted_at", pa.timestamp("us")), ("status_code", pa.int32()), ("error", pa.string()),
    ("duration_ms", pa.float64()), ("state", pa.string()), ("next_attempt_at", pa.timestamp("us")),
])
WEBHOOK_ID = "'msg_' || left(sha256(e.id::VARCHAR || '|' || ?), 24)"  # stable per (event, endpoint): receivers de-duplicate


@dataclass(frozen=True)
class Due:
    """One delivery to attempt: the event, the endpoint and how often it was tried."""

    event_id: int
    endpoint: str
    webhook_id: str
    attempts: int
    type: str
    occurred_at: datetime
    payload: str


def _filter(endpoint: WebhookEndpoint) -> tuple[str, list[str]]:
    """SQL condition on e.type for the endpoint's event types ('*', 'lead.*', 'outcome.recorded')."""
    if "*" in endpoint.events:
        return "TRUE", []
    exact = [t for t in endpoint.events if not t.endswith(".*")]
    prefixes = [t[:-1] for t in endpoint.events if t.endswith(".*")]
    parts = [f"e.type IN ({', '.join('?' * len(exact))})"] if exact else []
    parts += ["starts_with(e.type, ?)"] * len(prefixes)
    return f"({' OR '.join(parts)})", exact + prefixes


def takes(endpoint: WebhookEndpoint, kind: str) -> bool:
    """Does the endpoint's event filter take this event type (the same test `_filter` makes in SQL)?"""
    return any(f == "*" or f == kind or (f.endswith(".*") and kind.startswith(f[:-1])) for f in endpoint.events)


def fan_out(db: MachineFile, endpoints: Sequence[WebhookEndpoint]) -> int:
    """Queue every new event for every configured endpoint (a new endpoint starts after the events already logged)."""
    queued = 0
    for ep in endpoints:
        cond, params = _filter(ep)
        with db.transaction():
            db.execute("INSERT OR IGNORE INTO webhook_endpoints SELECT ?, coalesce(max(id), 0), ?, NULL, NULL, NULL "
                       "FROM event_log", [ep.url, now()])
            mark = db.scalar("SELECT last_event_id FROM webhook_endpoints WHERE url = ?", [ep.url])
            queued += len(db.sql(  # RETURNING counts what went in (no count of the whole outbox, twice, every pass)
                f"INSERT INTO webhook_outbox SELECT e.id, ?, {WEBHOOK_ID}, 'pending', 0, ?, ?, NULL, NULL, NULL "
                f"FROM event_log e WHERE e.id > ? AND {cond} AND NOT EXISTS (SELECT 1 FROM webhook_outbox o "
                "WHERE o.endpoint = ? AND o.event_id = e.id AND o.event_id > ?) ORDER BY e.id RETURNING event_id",
                [ep.url, ep.url, now(), now(), mark, *params, ep.url, mark]))
            db.execute("UPDATE webhook_endpoints SET last_event_id = greatest(last_event_id, "
                       "(SELECT coalesce(max(id), 0) FROM event_log WHERE occurred_at < ?)) WHERE url = ?",
                       [now() - SETTLE, ep.url])
    return queued


def due(db: MachineFile, urls: Sequence[str], at: datetime, limit: int) -> list[Due]:
    """Pending deliveries whose time has come, to enabled and not paused endpoints, oldest first."""
    if not urls:
        return []
    rows = db.sql(
        "SELECT o.event_id, o.endpoint, o.webhook_id, o.attempts, e.type, e.occurred_at, e.payload "
        "FROM webhook_outbox o JOIN event_log e ON e.id = o.event_id JOIN webhook_endpoints p ON p.url = o.endpoint "
        f"WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.endpoint IN ({', '.join('?' * len(urls))}) "
        "AND p.disabled_at IS NULL AND (p.paused_until IS NULL OR p.paused_until <= ?) "
        "ORDER BY o.next_attempt_at, o.event_id LIMIT ?", [at, *urls, at, limit])
    return [Due(*r) for r in rows]


def next_due(db: MachineFile, urls: Sequence[str]) -> datetime | None:
    """When the next pending delivery to an enabled endpoint is due (None when nothing is pending)."""
    if not urls:
        return None
    return db.scalar(
        "SELECT min(greatest(o.next_attempt_at, coalesce(p.paused_until, o.next_attempt_at))) FROM webhook_outbox o "
        f"JOIN webhook_endpoints p ON p.url = o.endpoint WHERE o.state = 'pending' AND p.disabled_at IS NULL "
        f"AND o.endpoint IN ({', '.join('?' * len(urls))})", list(urls))


def record_attempts(db: MachineFile, results: list[dict[str, Any]], gone: dict[str, str],
                    paused: dict[str, datetime]) -> None:
    """Store a batch of attempts: the delivery log, each outbox row's new state, disabled (410) and paused endpoints."""
    table = pa.Table.from_pylist(results, schema=RESULT_SCHEMA)
    with db.transaction(), db.registered("_attempts", table):
        db.execute("INSERT INTO webhook_deliveries SELECT webhook_id, event_id, endpoint, attempt, attempted_at, "
                   "status_code, error, duration_ms FROM _attempts")
        db.execute(
            "UPDATE webhook_outbox o SET state = a.state, attempts = a.attempt, next_attempt_at = a.next_attempt_at, "
            "delivered_at = CASE WHEN a.state = 'delivered' THEN a.attempted_at END, last_status = a.status_code, "
            "last_error = a.error FROM _attempts a WHERE o.event_id = a.event_id AND o.endpoint = a.endpoint")
        for url, reason in gone.items():
            db.execute("UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE url = ?", [now(), reason, url])
        for url, until in paused.items():
            db.execute("UPDATE webhook_endpoints SET paused_until = greatest(coalesce(paused_until, ?), ?) WHERE url = ?",
                       [until, until, url])


def enable(db: MachineFile, url: str) -> bool:
    """Re-enable an endpoint disabled by a 410; its queued deliveries resume. True if it was disabled."""
    return bool(db.sql("UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, paused_until = NULL "
                       "WHERE url = ? AND disabled_at IS NOT NULL RETURNING url", [url]))


def replay(db: MachineFile, endpoints: Sequence[WebhookEndpoint], since: datetime) -> int:
    """Queue again every logged event since a time (same webhook-id, attempts from zero); returns how many."""
    total = 0
    at = now()
    fan_out(db, endpoints)  # so every endpoint has its state row
    for ep in endpoints:
        cond, params = _filter(ep)
        with db.transaction():
            total += len(db.sql(
                "UPDATE webhook_outbox o SET state = 'pending', attempts = 0, next_attempt_at = ?, queued_at = ? "
                f"FROM event_log e WHERE e.id = o.event_id AND o.endpoint = ? AND e.occurred_at >= ? AND {cond} "
                "RETURNING o.event_id", [at, at, ep.url, since, *params]))
            total += len(db.sql(
                f"INSERT INTO webhook_outbox SELECT e.id, ?, {WEBHOOK_ID}, 'pending', 0, ?, ?, NULL, NULL, NULL "
                f"FROM event_log e WHERE e.occurred_at >= ? AND {cond} AND NOT EXISTS (SELECT 1 FROM webhook_outbox o "
                "WHERE o.endpoint = ? AND o.event_id = e.id) RETURNING event_id",
                [ep.url, ep.url, at, at, since, *params, ep.url]))
    return total


def status(db: MachineFile, configured: Sequence[str], limit: int = 20) -> dict[str, Any]:
    """Per endpoint: pending / delivered / failed counts, disabled or paused; the last attempts of the delivery log."""
    rows = db.rows_as_dicts(
        "SELECT p.url, p.added_at, p.paused_until, p.disabled_at, p.disabled_reason, "
        "count(o.event_id) FILTER (WHERE o.state = 'pending') AS pending, "
        "count(o.event_id) FILTER (WHERE o.state = 'delivered') AS delivered, "
        "count(o.event_id) FILTER (WHERE o.state = 'failed') AS failed, "
        "min(o.queued_at) FILTER (WHERE o.state = 'pending') AS oldest_pending, max(o.delivered_at) AS last_delivered "
        "FROM webhook_endpoints p LEFT JOIN webhook_outbox o ON o.endpoint = p.url GROUP BY ALL ORDER BY p.url")
    known = {r["url"] for r in rows}
    rows += [{"url": u, "pending": 0, "delivered": 0, "failed": 0} for u in configured if u not in known]
    for r in rows:
        r["configured"] = r["url"] in configured
        r["state"] = "disabled" if r.get("disabled_at") else ("paused" if (r.get("paused_until") or now()) > now() else "active")
    log = db.rows_as_dicts(
        "SELECT d.attempted_at, d.endpoint, d.webhook_id, d.event_id, e.type, d.attempt, d.status_code, d.error, "
        "d.duration_ms FROM webhook_deliveries d LEFT JOIN event_log e ON e.id = d.event_id "
        "ORDER BY d.attempted_at DESC LIMIT ?", [limit])
    events = db.scalar("SELECT count(*) FROM event_log")
    return {"events": events, "endpoints": rows, "deliveries": log}
