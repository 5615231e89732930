"""Performance: thin router (issue 13); the logic lives in sdi/loop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from sdi.access.users import User
from sdi.api.deps import Db, Reader, State
from sdi.api.scope import opportunity_clause
from sdi.loop.account_managers import account_manager_rating
from sdi.loop.performance import rule_performance
from sdi.loop.technicians import technician_recognition

router = APIRouter(prefix="/api/performance", tags=["performance"])


def _no_technicians(user: User) -> None:
    if user.role == "technician":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the technician role may not use this route: "
                            "see your own leads' results at /api/performance/technicians")


@router.get("/rules")
def rules(user: Reader, db: Db, state: State) -> dict[str, Any]:
    """Win rate by rule and by bands of each rule's inputs, with threshold suggestions (never applied).

    Admin and compliance see every closed opportunity, a sales rep those of their territory; technicians 403."""
    _no_technicians(user)
    return rule_performance(db, state.settings.home, opportunity_clause(user))


@router.get("/account-managers")
def account_managers(user: Reader, db: Db) -> dict[str, Any]:
    """Per account manager: awareness, discounting and partner hand-off, with the counts behind each.

    Admin and compliance see all, a sales rep their territory's accounts; technicians 403."""
    _no_technicians(user)
    scope = ("c.territory = ?", [user.territory]) if user.role == "sales_rep" else ("TRUE", [])
    return account_manager_rating(db, scope)


@router.get("/technicians")
def technicians(user: Reader, db: Db) -> dict[str, Any]:
    """The technicians' ranking by leads won; the leads in scope (a technician: their own, in full, as `your_leads`).

    Admin and compliance see every lead, a sales rep the leads of their territory's opportunities."""
    if user.role == "technician":
        return technician_recognition(db, "l.reporter = ?", [user.name], mine=user.name)
    where, params = opportunity_clause(user)
    return technician_recognition(db, where, params)
