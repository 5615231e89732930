"""The machine file: machines in scope, one machine's contracts, history and telemetry summary."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from sdi.api.deps import Db, Reader, State, not_found
from sdi.api.machine_view import list_machines, machine_file, telemetry_summary
from sdi.api.schemas import MachinePage, Text
from sdi.api.scope import can_see_machine
from sdi.triggers.rules import current_rules

router = APIRouter(prefix="/api/machines", tags=["machines"])
SerialPath = Annotated[str, Path(max_length=100)]


@router.get("", response_model=MachinePage)
def machines(
    user: Reader, db: Db, state: State,
    q: Annotated[Text | None, Query(max_length=200, description="Part of serial, model, site or customer.")] = None,
    sort: Annotated[Literal["urgency", "next_due", "serial"], Query(
        description="urgency: the best open opportunity's priority first, then the next due date; next_due: the "
                    "earliest contract end or estimated maintenance date first; serial.")] = "urgency",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Machines in your scope, each with its most urgent open opportunity (`top_opportunity`) and what falls due next
    (`next_due`: a contract end, or maintenance estimated from operating hours; the data has no planned visits)."""
    return list_machines(db, user, q, limit, offset, current_rules(state.settings.home), sort)


@router.get("/{serial}")
def machine(serial: SerialPath, user: Reader, db: Db, state: State) -> dict[str, Any]:
    """The machine file: machine, model, customer, contracts, events, service history, parts orders, and telemetry
    summaries with unit, label and the rules' threshold lines, plus `chart_markers` (error events, service visits)."""
    found = machine_file(db, user, serial, current_rules(state.settings.home))
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
