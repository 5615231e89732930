"""The event log: one row per change to an opportunity, lead or outcome, written in the change's own transaction."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from sdi.store.machine_file import MachineFile

EVENT_TYPES = ("opportunity.created", "opportunity.updated", "opportunity.resolved", "opportunity.reopened",
               "opportunity.handed_off", "lead.reported", "lead.routed", "lead.first_action", "outcome.recorded")
# What a receiver sees of an opportunity; last_seen is left out of the comparison so a re-run that changes nothing
# else writes no event.
OPPORTUNITY_FIELDS = ("id", "serial", "campaign", "status", "trigger_state", "priority", "territory", "owner",
                      "owner_role", "channel", "first_seen", "last_seen", "resolved_on")
COMPARED = ("campaign", "status", "trigger_state", "priority", "owner", "owner_role", "channel", "resolved_on")


def now() -> datetime:
    """The event clock: UTC without zone, like every other timestamp in the machine file."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record(db: MachineFile, events: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Append events given as (type, entity id, payload)."""
    if not events:
        return
    at = now()
    db.executemany("INSERT INTO event_log VALUES (nextval('event_log_seq'), ?, ?, ?, ?)",
                   [[kind, entity, at, json.dumps(payload, sort_keys=True, default=str)] for kind, entity, payload in events])


def _object(alias: str) -> str:
    return "json_object(" + ", ".join(f"'{c}', {alias}.{c}" for c in OPPORTUNITY_FIELDS) + ")"


@contextmanager
def watch_opportunities(db: MachineFile, where: str = "TRUE", params: Sequence[Any] = ()) -> Iterator[None]:
    """Write one event per opportunity (matching `where`) that the block creates or changes; set-based, so a trigger
    run's sync of thousands costs two statements."""
    before = f"_opps_before_{uuid.uuid4().hex[:12]}"
    cols = ", ".join(OPPORTUNITY_FIELDS)
    changed = " OR ".join(f"b.{c} IS DISTINCT FROM a.{c}" for c in COMPARED)
    with db.transaction():  # joins the caller's; a failure rolls the snapshot back with the change
        db.execute(f"CREATE TEMP TABLE {before} AS SELECT {cols} FROM opportunities WHERE {where}", list(params))
        yield
        db.execute(
            f"INSERT INTO event_log SELECT nextval('event_log_seq'), CASE "
            "WHEN b.id IS NULL THEN 'opportunity.created' "
            "WHEN b.trigger_state <> 'resolved' AND a.trigger_state = 'resolved' THEN 'opportunity.resolved' "
            "WHEN b.trigger_state = 'resolved' AND a.trigger_state <> 'resolved' THEN 'opportunity.reopened' "
            f"ELSE 'opportunity.updated' END, a.id, ?, "
            f"json_object('opportunity', {_object('a')}, 'previous', CASE WHEN b.id IS NULL THEN NULL ELSE {_object('b')} END) "
            f"FROM (SELECT {cols} FROM opportunities WHERE {where}) a LEFT JOIN {before} b ON a.id = b.id "
            f"WHERE b.id IS NULL OR {changed}",
            [now(), *params])
        db.execute(f"DROP TABLE {before}")


def list_events(db: MachineFile, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Events after an event id, oldest first, payloads parsed."""
    rows = db.rows_as_dicts("SELECT id, type, entity_id, occurred_at, payload FROM event_log WHERE id > ? "
                            "ORDER BY id LIMIT ?", [after, limit])
    return [r | {"payload": json.loads(r["payload"])} for r in rows]
