"""Outcomes on an opportunity (won, lost, lost to a partner; discount given; reason): the feedback loop's input."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.store.events import record as record_events
from sdi.triggers.leads import record_action
from sdi.triggers.opportunities import set_status

RESULTS = ("won", "lost", "lost_to_partner")
STATUS_OF = {"won": "won", "lost": "lost", "lost_to_partner": "lost"}

COLUMNS = ("id", "opportunity_id", "result", "value", "currency", "discount_pct", "partner", "reason", "recorded_by",
           "recorded_at")
# The latest outcome of each opportunity, as a subquery with the table's columns: the last one recorded (a re-recorded
# outcome replaces the earlier one; the opportunity's status follows it).
LATEST = "(SELECT * FROM outcomes QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY id DESC) = 1)"


def record_outcome(
    db: MachineFile, opportunity_id: str, result: str, user: str, *, value: float | None = None,
    currency: str | None = None, discount_pct: float | None = None, partner: str | None = None, reason: str = "",
    recorded_at: datetime | None = None,
) -> dict[str, Any]:
    """Store an outcome (at recorded_at, default now), close the opportunity as won or lost and stamp a technician
    lead's first action on it (if it had none); returns the outcome."""
    if result not in RESULTS:
        raise SdiError(f"unknown result {result!r}", f"use one of {', '.join(RESULTS)}")
    if discount_pct is not None and not 0 <= discount_pct <= 100:
        raise SdiError("discount_pct must be between 0 and 100", "give the discount as a percentage of list price")
    if value is not None and value < 0:
        raise SdiError("value must not be negative", "give the order value in the offer's currency")
    reason = (reason or "").strip()
    if result != "won" and not reason:
        raise SdiError("say why it was lost", "one line is enough, e.g. 'price', 'chose a local partner'")
    if result == "lost_to_partner" and not (partner or "").strip():
        raise SdiError("name the partner it was lost to", "e.g. 'local service partner Müller GmbH'")
    row = [db.scalar("SELECT nextval('outcome_seq')"), opportunity_id, result, value, currency, discount_pct,
           (partner or "").strip() or None, reason or None, user, recorded_at or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)]
    with db.transaction():
        set_status(db, opportunity_id, STATUS_OF[result])
        db.execute(f"INSERT INTO outcomes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", row)
        record_events(db, [("outcome.recorded", str(row[0]), {"outcome": _public(dict(zip(COLUMNS, row)))})])
        record_action(db, opportunity_id, user, f"outcome:{result}", at=recorded_at)
    return _public(dict(zip(COLUMNS, row)))


def _public(outcome: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in outcome.items()}


def outcomes_for(db: MachineFile, opportunity_id: str) -> list[dict[str, Any]]:
    """Every outcome recorded on an opportunity, latest first."""
    rows = db.sql(f"SELECT {', '.join(COLUMNS)} FROM outcomes WHERE opportunity_id = ? ORDER BY id DESC", [opportunity_id])
    return [_public(dict(zip(COLUMNS, r))) for r in rows]


def list_outcomes(db: MachineFile) -> list[dict[str, Any]]:
    """All outcomes, oldest first (for KPIs and the back-test)."""
    return [_public(dict(zip(COLUMNS, r))) for r in db.sql(f"SELECT {', '.join(COLUMNS)} FROM outcomes ORDER BY id")]
