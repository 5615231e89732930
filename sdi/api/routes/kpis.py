"""KPIs: thin router (issue 13); the logic lives in sdi/loop."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from sdi.access.users import User
from sdi.api.deps import Db, Reader, State
from sdi.api.scope import lead_clause, machine_clause, opportunity_clause
from sdi.loop.kpis import Scope, compute

router = APIRouter(prefix="/api/kpis", tags=["kpis"])


def scope_of(user: User) -> Scope:
    """The role policy's scope: reps their territory, technicians their machines and their own leads, others all."""
    if user.role in ("admin", "compliance"):
        return Scope()
    leads = ("l.reporter = ?", [user.name]) if user.role == "technician" else lead_clause(user)
    label = f"territory {user.territory}" if user.role == "sales_rep" else f"{user.role} {user.name}"
    return Scope(label, machine_clause(user), opportunity_clause(user), leads)


@router.get("")
def get_kpis(user: Reader, db: Db, state: State,
             as_of: Annotated[date | None, Query(description="Reference date (default: the data's as_of).")] = None,
             ) -> dict[str, Any]:
    """Coverage, renewal rate, win rate, pipeline, lead turnaround, revenue and plan vs actual in your scope, each
    as {id, name, value, unit, numerator, denominator, definition, by, note}."""
    return compute(db, as_of or db.data_as_of(), scope_of(user), state.settings.kpi_plan)
