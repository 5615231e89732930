"""Who sees what, as the API applies it: the role policy's scope filters, and customer rows without contacts."""

from __future__ import annotations

from typing import Any

from sdi.access.policy import (can_see_machine, can_see_opportunity, lead_clause, machine_clause, may_act_on,
                               opportunity_clause, reported_by, shows_contacts)
from sdi.access.users import User

__all__ = ["can_see_machine", "can_see_opportunity", "lead_clause", "machine_clause", "may_act_on", "opportunity_clause",
           "redact_customer", "reported_by", "shows_contacts"]

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")


def redact_customer(user: User, customer: dict[str, Any] | None) -> dict[str, Any] | None:
    """A customer row without contact fields when the user may not see them."""
    if customer is None or shows_contacts(user):
        return customer
    return {k: v for k, v in customer.items() if k not in CONTACT_FIELDS}
