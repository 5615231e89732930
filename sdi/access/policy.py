"""The role policy: which role may do which action, and which opportunities, machines and leads a user sees."""

from __future__ import annotations

from typing import Any, Protocol

from sdi.errors import SdiError
from sdi.store import MachineFile

ROLES = ("sales_rep", "technician", "compliance", "admin")

# action -> the roles that may take it (the API's route dependencies read this)
MAY: dict[str, tuple[str, ...]] = {
    "read": ROLES,  # every role reads, within its scope
    "write": ("sales_rep", "technician", "admin"),  # change an opportunity's status, record an outcome
    "draft": ("sales_rep", "technician", "admin"),  # why, ask, talking points
    "brief": ("technician", "sales_rep", "admin"),
    "report_lead": ("technician", "admin"),
    "audit": ("compliance", "admin"),
    "admin": ("admin",),  # users and data
}

# what the UI offers each role (its menu), in menu order
ABILITIES = {
    "sales_rep": ["opportunities", "why", "ask", "talking_points", "briefings", "machines", "outcomes", "leads_read"],
    "technician": ["opportunities", "why", "ask", "talking_points", "briefings", "machines", "outcomes", "leads"],
    "compliance": ["opportunities", "machines", "drafts", "audit", "leads_read"],
    "admin": ["opportunities", "why", "ask", "talking_points", "briefings", "machines", "outcomes", "leads",
              "drafts", "audit", "users", "data"],
}


class Person(Protocol):
    """What the policy reads of a signed-in user (sdi.access.users.User)."""

    @property
    def name(self) -> str: ...  # noqa: D102

    @property
    def role(self) -> str: ...  # noqa: D102

    @property
    def territory(self) -> str | None: ...  # noqa: D102


def may(user: Person, action: str) -> bool:
    """May this user's role take the action at all (scope aside)?"""
    return user.role in MAY[action]


def check_role_fields(role: str, territory: str | None, serials: list[str]) -> None:
    """A role's shape: reps have a territory, technicians assigned machines, nobody else either."""
    if role not in ROLES:
        raise SdiError(f"unknown role {role!r}", f"use one of {', '.join(ROLES)}")
    if role == "sales_rep" and not territory:
        raise SdiError("a sales rep needs a territory", "add --territory, e.g. --territory DE-North")
    if role != "sales_rep" and territory:
        raise SdiError(f"only sales reps have a territory (not {role})", "drop --territory")
    if role != "technician" and serials:
        raise SdiError(f"only technicians have assigned machines (not {role})", "drop --serial")


def _by_role(user: Person, rep: tuple[str, list[Any]], technician: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """Admins and compliance see everything, reps and technicians their own fragment, anyone else nothing."""
    if user.role in ("admin", "compliance"):
        return "TRUE", []
    if user.role == "sales_rep":
        return rep
    if user.role == "technician":
        return technician
    return "FALSE", []


def opportunity_clause(user: Person, alias: str = "o") -> tuple[str, list[Any]]:
    """WHERE fragment limiting opportunities to the user's scope."""
    a = f"{alias}." if alias else ""
    return _by_role(user, (f"{a}territory = ?", [user.territory]), (
        f"(({a}owner_role = 'technician' AND {a}owner = ?) OR {a}serial IN (SELECT serial FROM user_serials WHERE name = ?))",
        [user.name, user.name]))


def machine_clause(user: Person, alias: str = "m") -> tuple[str, list[Any]]:
    """WHERE fragment limiting machines to the user's scope (customer territory for reps, assignments for technicians)."""
    a = f"{alias}." if alias else ""
    return _by_role(user, (f"{a}customer_id IN (SELECT customer_id FROM customers WHERE territory = ?)", [user.territory]), (
        f"({a}serial IN (SELECT serial FROM user_serials WHERE name = ?) OR {a}serial IN "
        "(SELECT serial FROM opportunities WHERE owner_role = 'technician' AND owner = ?))",
        [user.name, user.name]))


def lead_clause(user: Person) -> tuple[str, list[Any]]:
    """WHERE fragment for leads (alias l, joined to opportunity o): their opportunity's scope, plus a technician's own reports."""
    scope, params = opportunity_clause(user)
    if user.role == "technician":
        return f"(l.reporter = ? OR {scope})", [user.name, *params]
    return scope, params


def reported_by(user: Person, lead: dict[str, Any]) -> bool:
    """A technician always sees the leads they reported, whoever owns the opportunity now."""
    return user.role == "technician" and lead["reporter"] == user.name


def can_see_machine(db: MachineFile, user: Person, serial: str) -> bool:
    """True when the machine exists and is in the user's scope."""
    clause, params = machine_clause(user)
    return bool(db.scalar(f"SELECT count(*) FROM machines m WHERE m.serial = ? AND {clause}", [serial, *params]))


def can_see_opportunity(db: MachineFile, user: Person, opportunity_id: str) -> bool:
    """True when the opportunity exists and is in the user's scope."""
    clause, params = opportunity_clause(user)
    return bool(db.scalar(f"SELECT count(*) FROM opportunities o WHERE o.id = ? AND {clause}", [opportunity_id, *params]))


def may_act_on(db: MachineFile, user: Person, opportunity_id: str) -> bool:
    """Who may change an opportunity they can see: reps in their territory, technicians only on those they own."""
    if user.role == "technician":
        return bool(db.scalar(
            "SELECT count(*) FROM opportunities WHERE id = ? AND owner_role = 'technician' AND owner = ?",
            [opportunity_id, user.name]))
    return user.role in ("sales_rep", "admin")


def shows_contacts(user: Person) -> bool:
    """Customer contact details are personal data: compliance reviewers see only what drafts cited."""
    return user.role != "compliance"
