"""Deterministic sentences built from the evidence: the fallback for every LLM sentence and the `template` backend."""

from __future__ import annotations

from typing import Any, Callable

from sdi.drafting.sources import _fmt


def _cond(trigger: dict[str, Any], field_start: str) -> dict[str, Any] | None:
    return next((c for c in trigger["conditions"] if c["field"].startswith(field_start)), None)


def trigger_sentence(trigger: dict[str, Any], ref: str) -> str:
    """What the trigger found, in plain words, citing its [T] source."""
    f = trigger["evidence"].get("facts") or {}
    c = trigger["condition"]
    rule = trigger["rule_id"]
    if rule == "technician_lead":
        return f"{_lead_text(trigger)} [{ref}]."
    if rule == "contract_renewal":
        text = f"Maintenance contract {f.get('contract_id')} ends on {f.get('end_date')}, {_fmt(c['value'])} days after {trigger['as_of']}, inside the {_fmt(c['threshold'])}-day renewal window"
    elif rule == "warranty_sla":
        text = f"The warranty {f.get('contract_id')} ends on {f.get('end_date')}, in {_fmt(c['value'])} days, inside the {_fmt(c['threshold'])}-day window for a service level agreement offer"
    elif rule == "modernization":
        errors = _cond(trigger, "error_events") or c
        text = (f"The machine is {_fmt(c['value'])} years old and logged {_fmt(errors['value'])} error events in the last "
                f"{_fmt(f.get('window_days'))} days, above its model average of {_fmt(f.get('model_average_events'))}")
    elif rule == "retrofit_age":
        text = f"The machine has been in service for {_fmt(c['value'])} years, past the {_fmt(c['threshold'])}-year retrofit threshold"
    elif rule == "maintenance_due":
        text = (f"It has run {_fmt(c['value'])} operating hours since the last maintenance on {f.get('last_maintenance')}, "
                f"at or above the {_fmt(c['threshold'])}-hour interval")
    elif rule == "error_pattern":
        codes = ", ".join(f.get("codes") or [])
        counts = [x for x in trigger["conditions"] if x["field"].startswith("count")]
        if counts:
            text = f"Error code(s) {codes} recurred {_fmt(counts[0]['value'])} times within {_fmt(f.get('window_days'))} days (threshold {_fmt(counts[0]['threshold'])})"
        else:
            text = f"A critical event with code {codes} was logged within the last {_fmt(f.get('window_days'))} days"
    elif rule == "wear":
        over = _cond(trigger, "mean(")
        rising = _cond(trigger, "slope(")
        bits = []
        if over:
            bits.append(f"vibration averaged {_fmt(over['value'])} mm/s recently, above the {_fmt(over['threshold'])} mm/s limit")
        if rising:
            bits.append(f"vibration is rising by {_fmt(rising['value'])} mm/s per 30 days")
        text = " and ".join(bits).capitalize()
    elif rule == "parts_reminder":
        if c["field"].startswith("months since"):
            text = f"The last spare-parts order was {_fmt(c['value'])} months ago, more than {_fmt(c['threshold'])} months"
        else:
            text = f"No spare-parts order is on record in {_fmt(c['value'])} months of service"
    else:  # end_of_life
        bits = []
        if f.get("end_of_life"):
            bits.append(f"the model reached end of life on {f['end_of_life']}")
        if f.get("successor"):
            bits.append(f"successor {f['successor']} is available")
        text = ("; ".join(bits) or "the model is in its end-of-life phase").capitalize() + ", and no service contract is active"
    return f"{text} [{ref}]."


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
    f = trigger["evidence"].get("facts") or {}
    c = trigger["condition"]
    rule = trigger["rule_id"]
    checks: dict[str, Callable[[], str]] = {
        "technician_lead": lambda: "Follow up on what the technician observed and what the customer asked for",
        "contract_renewal": lambda: f"Ask who decides on contract {f.get('contract_id')}, which ends on {f.get('end_date')}",
        "warranty_sla": lambda: f"Explain what changes when the warranty {f.get('contract_id')} ends on {f.get('end_date')}",
        "modernization": lambda: "Note which faults recur and which assemblies are worn, as input for a retrofit proposal",
        "retrofit_age": lambda: f"Check control, drives and safety equipment of a machine in service for {_fmt(c['value'])} years",
        "maintenance_due": lambda: f"Plan the {_fmt(c['threshold'])}-hour maintenance: {_fmt(c['value'])} hours have run since the last one",
        "error_pattern": lambda: f"Read out the fault log for code(s) {', '.join(f.get('codes') or [])} and look for the cause",
        "wear": lambda: "Measure vibration on site and inspect bearings and spindle for wear",
        "parts_reminder": lambda: "Check wear parts and the safety devices; no recent spare-parts order is on record",
        "end_of_life": lambda: "Ask how long the customer plans to run the machine and which spare parts they stock",
    }
    return f"{checks[rule]()} [{ref}]."


def talking_point_for(trigger: dict[str, Any], ref: str) -> str:
    """An advisor's talking point for the customer (explains and offers help, never pushes)."""
    f = trigger["evidence"].get("facts") or {}
    c = trigger["condition"]
    rule = trigger["rule_id"]
    points: dict[str, Callable[[], str]] = {
        "technician_lead": lambda: "Our technician passed on what you asked about; we can prepare an offer that fits",
        "contract_renewal": lambda: f"Your maintenance contract {f.get('contract_id')} runs until {f.get('end_date')}; we can go through the renewal options with you before then",
        "warranty_sla": lambda: f"Your warranty {f.get('contract_id')} ends on {f.get('end_date')}; a service level agreement would keep response times agreed in writing",
        "modernization": lambda: f"Your machine logged {_fmt((_cond(trigger, 'error_events') or c)['value'])} error events in the last year; we can look together at whether a retrofit would pay off",
        "retrofit_age": lambda: f"After {_fmt(c['value'])} years in service, a check of control and drives shows what a retrofit could bring",
        "maintenance_due": lambda: f"Your machine has run {_fmt(c['value'])} hours since its last maintenance on {f.get('last_maintenance')}; planning the next service now avoids an unplanned stop",
        "error_pattern": lambda: f"Code(s) {', '.join(f.get('codes') or [])} came up recently; we can find the cause before it stops production",
        "wear": lambda: "The vibration readings point to wear; a quick inspection shows which parts are due",
        "parts_reminder": lambda: "No spare-parts order is on record for a long time; a wear-parts check helps keep the machine safe",
        "end_of_life": lambda: "Your model is in its end-of-life phase; we can plan spare parts and the options for a successor with you",
    }
    return f"{points[rule]()} [{ref}]."
