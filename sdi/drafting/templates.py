"""Deterministic sentences built from the evidence: the fallback for every LLM sentence and the `template` backend.

Each rule writes its own three sentences (sdi/triggers/rules/<rule>.py); this module adds technician leads, the
recommendation and the offer, and a plain reading of the condition for a rule this process does not know (an
opportunity stored while a plug-in rule was still installed)."""

from __future__ import annotations

from typing import Any, Callable

from sdi.format import fmt as _fmt
from sdi.triggers.leads import RULE_ID as LEAD_RULE  # technician_lead: a pseudo-rule, a technician's report
from sdi.triggers.rules import lookup


def _condition_text(trigger: dict[str, Any]) -> str:
    c = trigger["condition"]
    unit = f" {c['unit']}" if c.get("unit") else ""
    return f"{c['field']} {c['operator']} {_fmt(c['threshold'])} (value {_fmt(c['value'])}{unit})"


def _per_rule(trigger: dict[str, Any], ref: str, template: str, lead: Callable[[], str],
              unknown: Callable[[], str]) -> str:
    """The rule's own template sentence; fixed text for a technician's lead or a rule no longer installed."""
    if trigger["rule_id"] == LEAD_RULE:
        return f"{lead()} [{ref}]."
    rule = lookup(trigger["rule_id"])
    return getattr(rule, template)(trigger, ref) if rule is not None else f"{unknown()} [{ref}]."


def trigger_sentence(trigger: dict[str, Any], ref: str) -> str:
    """What the trigger found, in plain words, citing its [T] source."""
    return _per_rule(trigger, ref, "finding", lambda: _lead_text(trigger),
                     lambda: f"{trigger['campaign']}: {_condition_text(trigger)}")


def _lead_text(trigger: dict[str, Any]) -> str:
    f = trigger["evidence"].get("facts") or {}
    observed = (f.get("observed") or "an observation on site").rstrip(".")
    wants = (f.get("customer_wants") or "").rstrip(".")
    return f"A technician reported: {observed}" + (f"; the customer wants: {wants}" if wants else "")


def recommendation_sentence(opp: dict[str, Any], ref: str) -> str:
    """The recommendation itself, citing the opportunity fact."""
    return (f"Recommended: {opp['campaign']} for machine {opp['serial']}, handled by {opp['owner']} "
            f"through a {opp['channel'].replace('_', ' ')} [{ref}].")


def offer_sentence(opp: dict[str, Any], ref: str) -> str | None:
    """The fitting standard offer, if any."""
    offer = next((o for o in opp.get("offers", []) if o["rule_id"] == opp["primary_rule"]), None)
    if not offer:
        return None
    return f"The fitting standard offer is {offer['name']} ({offer['offer_id']}) at {_fmt(offer['price'])} {offer['currency']} [{ref}]."


def check_sentence_for(trigger: dict[str, Any], ref: str) -> str:
    """What a technician should check on site for this trigger."""
    return _per_rule(trigger, ref, "check_on_site",
                     lambda: "Follow up on what the technician observed and what the customer asked for",
                     lambda: f"Check on site what the trigger found: {_condition_text(trigger)}")


def talking_point_for(trigger: dict[str, Any], ref: str) -> str:
    """An advisor's talking point for the customer (explains and offers help, never pushes)."""
    return _per_rule(trigger, ref, "talking_point",
                     lambda: "Our technician passed on what you asked about; we can prepare an offer that fits",
                     lambda: f"We can go through the {trigger['campaign']} with you")
