"""Who sees what: SQL filters per role, enforced server-side on every route that returns data."""

from __future__ import annotations

from typing import Any

from sdi.machine_file import MachineFile
from sdi.users import User

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
READ_ONLY_ROLES = ("compliance",)


def opportunity_clause(user: User, alias: str = "o") -> tuple[str, list[Any]]:
    """WHERE fragment limiting opportunities to the user's scope."""
    a = f"{alias}." if alias else ""
    if user.role in ("admin", "compliance"):
        return "TRUE", []
    if user.role == "sales_rep":
        return f"{a}territory = ?", [user.territory]
    if user.role == "technician":
        return (
            f"(({a}owner_role = 'technician' AND {a}owner = ?) "
            f"OR {a}serial IN (SELECT serial FROM user_serials WHERE name = ?))",
            [user.name, user.name],
        )
    return "FALSE", []


def machine_clause(user: User, alias: str = "m") -> tuple[str, list[Any]]:
    """WHERE fragment limiting machines to the user's scope (customer territory for reps, assignments for technicians)."""
    a = f"{alias}." if alias else ""
    if user.role in ("admin", "compliance"):
        return "TRUE", []
    if user.role == "sales_rep":
        return f"{a}customer_id IN (SELECT customer_id FROM customers WHERE territory = ?)", [user.territory]
    if user.role == "technician":
        return (
            f"({a}serial IN (SELECT serial FROM user_serials WHERE name = ?) OR {a}serial IN "
            "(SELECT serial FROM opportunities WHERE owner_role = 'technician' AND owner = ?))",
            [user.name, user.name],
        )
    return "FALSE", []


def can_see_machine(db: MachineFile, user: User, serial: str) -> bool:
    """True when the machine exists and is in the user's scope."""
    clause, params = machine_clause(user)
    return bool(db.scalar(f"SELECT count(*) FROM machines m WHERE m.serial = ? AND {clause}", [serial, *params]))


def can_see_opportunity(db: MachineFile, user: User, opportunity_id: str) -> bool:
    """True when the opportunity exists and is in the user's scope."""
    clause, params = opportunity_clause(user)
    return bool(db.scalar(f"SELECT count(*) FROM opportunities o WHERE o.id = ? AND {clause}", [opportunity_id, *params]))


def shows_contacts(user: User) -> bool:
    """Customer contact details are personal data: compliance reviewers see only what drafts cited."""
    return user.role != "compliance"


def redact_customer(user: User, customer: dict[str, Any] | None) -> dict[str, Any] | None:
    """A customer row without contact fields when the user may not see them."""
    if customer is None or shows_contacts(user):
        return customer
    return {k: v for k, v in customer.items() if k not in CONTACT_FIELDS}


def may_act_on(db: MachineFile, user: User, opportunity_id: str) -> bool:
    """Who may change an opportunity they can see: reps in their territory, technicians only on those they own."""
    if user.role == "technician":
        return bool(db.scalar(
            "SELECT count(*) FROM opportunities WHERE id = ? AND owner_role = 'technician' AND owner = ?",
            [opportunity_id, user.name]))
    return user.role in ("sales_rep", "admin")
