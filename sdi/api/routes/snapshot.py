"""A read-only snapshot of the machine file for `sdi` commands run beside the server (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sdi.api.deps import Admin, Db, State
from sdi.api.local_cli import SNAPSHOT
from sdi.store.snapshot import write_snapshot

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/snapshot")
def snapshot(user: Admin, db: Db, state: State) -> dict[str, Any]:
    """A consistent copy of the machine file under SDI_HOME (the server holds the file itself open); the last copy
    again when nothing was written since."""
    target = state.settings.home / SNAPSHOT
    taken, kept = write_snapshot(db, target)
    return {"path": str(target.resolve()), "taken_at": taken.isoformat() + "Z", "unchanged_since": kept,
            "schema_version": db.schema_version()}
