"""The event log (every change to an opportunity, lead or outcome) and the webhook outbox, delivery log and endpoint state."""

from __future__ import annotations

from sdi.store.migrations.base import Db

NAME = "event log and webhooks"

EVENTS = """
CREATE SEQUENCE IF NOT EXISTS event_log_seq START 1;
CREATE TABLE IF NOT EXISTS event_log (
    id BIGINT PRIMARY KEY, type VARCHAR NOT NULL, entity_id VARCHAR, occurred_at TIMESTAMP NOT NULL, payload JSON);
"""

# No keys on the outbox and the delivery log: they are updated in place many times per row, and DuckDB's
# over-eager unique checks inside one transaction are not worth it for tables only SDI writes.
WEBHOOKS = """
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    url VARCHAR PRIMARY KEY, last_event_id BIGINT NOT NULL, added_at TIMESTAMP, paused_until TIMESTAMP,
    disabled_at TIMESTAMP, disabled_reason VARCHAR);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    event_id BIGINT NOT NULL, endpoint VARCHAR NOT NULL, webhook_id VARCHAR NOT NULL, state VARCHAR NOT NULL,
    attempts INTEGER NOT NULL, next_attempt_at TIMESTAMP, queued_at TIMESTAMP, delivered_at TIMESTAMP,
    last_status INTEGER, last_error VARCHAR);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id VARCHAR, event_id BIGINT, endpoint VARCHAR, attempt INTEGER, attempted_at TIMESTAMP,
    status_code INTEGER, error VARCHAR, duration_ms DOUBLE);
"""


def apply(db: Db) -> None:
    """Create the event log and the webhook tables."""
    db.execute(EVENTS)
    db.execute(WEBHOOKS)
