"""The admin's status page data (issue 14): model, queue, index, last trigger run, last import, machine file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sdi.api.deps import Admin, Db, State

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/status")
def admin_status(user: Admin, db: Db, state: State) -> dict[str, Any]:
    """Data health: the model's name, file, size and sha256, the drafting queue, search-index progress, the last
    trigger run and import, the machine file's schema version and size."""
    from sdi.api.status_view import status

    return status(state, db)
