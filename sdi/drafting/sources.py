"""Numbered sources for a prompt: [T] facts from the machine file and triggers, [H] service-history chunks."""

from __future__ import annotations

from datetime import date
from typing import Any

from sdi.drafting.inert import data_text
from sdi.drafting.pii import Redactor
from sdi.drafting.types import Source
from sdi.format import fmt as _fmt
from sdi.store import MachineFile

MAX_H_CHARS = 320


def machine_fact(db: MachineFile, serial: str, as_of: date) -> tuple[str, list[str]] | None:
    """One sentence of master data for a machine and the records it comes from."""
    row = db.one(
        "SELECT m.serial, m.model, m.install_date, m.year_of_manufacture, m.site, m.operating_hours, c.customer_id, "
        "c.name, c.territory FROM machines m LEFT JOIN customers c USING (customer_id) WHERE m.serial = ?", [serial]
    )
    if not row:
        return None
    serial, model, installed, built, site, hours, customer_id, customer, territory = row
    parts = [f"Machine {serial}, model {model}"]
    if installed:
        parts.append(f"installed {installed.isoformat()}")
    elif built:
        parts.append(f"built {built}")
    if customer:
        parts.append(f"customer {customer} ({customer_id}), territory {territory}")
    if site:
        parts.append(f"site {site}")
    if hours is not None:
        parts.append(f"{_fmt(round(hours, 1))} operating hours on record")
    ids = [f"machine:{serial}"] + ([f"customer:{customer_id}"] if customer_id else [])
    contracts = db.sql(
        "SELECT contract_id, type, start_date, end_date, value, currency, status FROM contracts WHERE serial = ? "
        "AND coalesce(start_date, ?) <= ? ORDER BY end_date DESC NULLS LAST LIMIT 3", [serial, as_of, as_of]
    )
    for cid, ctype, _, end, value, currency, status in contracts:
        worth = f", value {_fmt(value)} {currency or ''}".rstrip() if value else ""
        parts.append(f"{ctype} contract {cid} ends {end.isoformat() if end else 'on an unknown date'}{worth} ({status or 'status unknown'})")
        ids.append(f"contract:{cid}")
    return "; ".join(parts) + ".", ids


def trigger_fact(trigger: dict[str, Any], finding: str) -> str:
    """A trigger as readable, checkable text: what it found (`finding`, uncited), the rule, its version, as-of date and records."""
    ids = trigger["evidence"]["source_ids"]
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return (f"{finding} (rule {trigger['rule_id']} v{trigger['rule_version']}, {trigger['campaign']}, "
            f"machine {trigger['serial']}, as of {trigger['as_of']}; records: {shown}).")


def opportunity_fact(opp: dict[str, Any]) -> str:
    """The opportunity's routing and offer as one sentence."""
    offer = next((o for o in opp.get("offers", []) if o["rule_id"] == opp["primary_rule"]), None)
    offer_text = f"; standard offer {offer['offer_id']} {offer['name']} at {_fmt(offer['price'])} {offer['currency']}" if offer else ""
    linked = f"; linked: {', '.join(opp['linked_campaigns'])}" if opp.get("linked_campaigns") else ""
    return (f"Opportunity {opp['id']}: {opp['campaign']} for machine {opp['serial']}, priority {_fmt(opp['priority'])} of 100, "
            f"owner {opp['owner']} ({opp['owner_role'].replace('_', ' ')}), channel {opp['channel'].replace('_', ' ')}{offer_text}{linked}.")


class SourceBook:
    """Collects numbered sources; every text goes through the redactor before a model sees it."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.items: list[Source] = []

    def add_fact(self, text: str, record_ids: list[str], source_id: str) -> Source:
        """Add a [T] source."""
        n = sum(1 for s in self.items if s.id.startswith("T")) + 1
        src = Source(f"T{n}", source_id, self.redactor.redact(data_text(text)), record_ids=record_ids)
        self.items.append(src)
        return src

    def add_history(self, source_id: str, header: str, text: str, span: tuple[int, int] | None, scope: str) -> Source:
        """Add an [H] source: a header (date, type, machine) and the chunk text, clipped for the token budget."""
        n = sum(1 for s in self.items if s.id.startswith("H")) + 1
        body = data_text(text)
        if len(body) > MAX_H_CHARS:
            body = body[:MAX_H_CHARS].rsplit(" ", 1)[0] + " …"
        src = Source(f"H{n}", source_id, self.redactor.redact(f"{header}: {body}"), scope=scope, span=span)
        self.items.append(src)
        return src

    def get(self, ref: str) -> Source:
        """The source with this id ([T1], [H2])."""
        return next(s for s in self.items if s.id == ref)

    def texts(self) -> dict[str, str]:
        """id -> text, for the checker."""
        return {s.id: s.text for s in self.items}

    def block(self, only: list[str] | None = None) -> str:
        """The sources as the prompt shows them (all, or only the given ids)."""
        return "\n".join(f"[{s.id}] {s.text}" for s in self.items if only is None or s.id in only)
