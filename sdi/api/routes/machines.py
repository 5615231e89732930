"""The machine file: machines in scope, one machine's contracts, history and telemetry summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from sdi.api.deps import Db, Reader, not_found
from sdi.api.machine_view import list_machines, machine_file, telemetry_summary
from sdi.api.schemas import Page, Text
from sdi.api.scope import can_see_machine

router = APIRouter(prefix="/api/machines", tags=["machines"])
SerialPath = Annotated[str, Path(max_length=100)]


@router.get("", response_model=Page)
def machines(
    user: Reader, db: Db,
    q: Annotated[Text | None, Query(max_length=200, description="Part of serial, model, site or customer.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Machines in your scope, those with open opportunities first."""
    return list_machines(db, user, q, limit, offset)


@router.get("/{serial}")
def machine(serial: SerialPath, user: Reader, db: Db) -> dict[str, Any]:
    """The machine file: machine, model, customer, contracts, events, service history, parts orders, telemetry summary."""
    found = machine_file(db, user, serial)
    if found is None:
        raise not_found("machine")
    return found


@router.get("/{serial}/telemetry")
def telemetry(
    serial: SerialPath, user: Reader, db: Db, days: Annotated[int, Query(ge=1, le=3650)] = 365,
) -> list[dict[str, Any]]:
    """Per metric: summary figures and a daily-mean series for a trend plot."""
    if not can_see_machine(db, user, serial):
        raise not_found("machine")
    return telemetry_summary(db, serial, days)
