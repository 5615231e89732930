"""An opportunity in words: each condition as its rule's sentence, why its priority is what it is, who owns it and
why. Every sentence is a `Phrase`, so the web UI formats its numbers and dates in the user's locale."""

from __future__ import annotations

from typing import Any

from sdi.triggers.leads import RULE_ID as LEAD_RULE
from sdi.triggers.phrases import Phrase, join, money, num, phrase
from sdi.triggers.rules import RulesFile, lookup

FACTOR_LABELS = {"urgency": "urgency", "contract_value": "contract value", "fault_rate": "fault rate",
                 "age": "machine age", "service_history": "service history", "technician_lead": "technician's report"}
MEDIUM = 30.0  # high starts where routing sends a person on a visit (routing.visit_min_priority)
MIN_POINTS = 3.0  # a factor adding fewer priority points is not a reason worth a reader's time
MAX_REASONS = 3

def condition_phrase(cond: dict[str, Any], trigger: dict[str, Any]) -> Phrase:
    """One condition as a sentence with units, from its rule's own template (the raw form when it has none)."""
    if trigger.get("rule_id") == LEAD_RULE:
        return phrase("a technician reported: {value}", value=cond.get("value") or "an observation on site")
    rule = lookup(str(trigger.get("rule_id")))
    said = rule.describe(cond, trigger) if rule is not None and rule.describe is not None else None
    if said is not None:
        return said
    unit = f" {cond['unit']}" if cond.get("unit") else ""
    return phrase("{field} {operator} {threshold} (value {value}" + unit + ")", field=cond.get("field"),
                  operator=cond.get("operator"), threshold=cond.get("threshold"), value=cond.get("value"))


def with_sentences(trigger: dict[str, Any]) -> dict[str, Any]:
    """The trigger with `sentence` ({text, args, plain}) on each of its conditions."""
    for cond in [trigger.get("condition"), *(trigger.get("conditions") or [])]:
        if isinstance(cond, dict):
            cond["sentence"] = condition_phrase(cond, trigger).to_dict()
    return trigger


def _primary(opp: dict[str, Any]) -> dict[str, Any] | None:
    triggers = opp.get("triggers") or []
    return next((t for t in triggers if t.get("rule_id") == opp.get("primary_rule")), triggers[0] if triggers else None)


def _factor_phrase(name: str, factor: float, opp: dict[str, Any], rules: RulesFile,
                   contract: tuple[float, str | None] | None) -> Phrase | None:
    p = rules.priority
    capped = factor >= 1.0
    if name == "contract_value":
        if contract is not None:
            return phrase("a contract worth {value}", value=money(contract[0], contract[1]))
        return phrase("a contract worth " + ("at least " if capped else "about ") + "{value}",
                      value=num(round(factor * p.contract_value_cap, -2), 0))
    at_least = "at least " if capped else ""
    if name == "fault_rate":
        ratio = factor * p.fault_ratio_cap
        return (phrase(at_least + "{ratio}× the model's fault rate", ratio=num(ratio, 1)) if ratio >= 1.05 else None)
    if name == "age":
        return phrase(at_least + "{years} years old", years=num(factor * p.age_cap_years, 0))
    if name == "service_history":
        return phrase(at_least + "{n} service records in 3 years", n=num(round(factor * p.service_records_cap), 0))
    if name == "technician_lead":
        return phrase("a technician's report from the site")
    if name == "urgency":
        trig = _primary(opp)
        cond = (trig.get("conditions") or [trig.get("condition")])[0] if trig else None
        return condition_phrase(cond, trig).short() if cond else None
    return None


def priority_explained(opp: dict[str, Any], rules: RulesFile,
                       contract: tuple[float, str | None] | None = None) -> dict[str, Any]:
    """Level, one sentence ("high because: …") and per factor its 0..1 value, weight and priority points."""
    weights = rules.priority.weights
    priority = float(opp.get("priority") or 0)
    raw = opp.get("priority_factors") or {}
    factors = []
    for name, value in raw.items():
        weight = weights.get(name, priority if name == LEAD_RULE else 0.0)
        factors.append({"factor": name, "label": FACTOR_LABELS.get(name, name.replace("_", " ")),
                        "value": value, "weight": weight, "points": round(weight * value, 1)})
    factors.sort(key=lambda f: -f["points"])
    level = "high" if priority >= rules.routing.visit_min_priority else "medium" if priority >= MEDIUM else "low"
    reasons = [p for f in factors if f["points"] >= MIN_POINTS and f["value"] > 0
               for p in [_factor_phrase(f["factor"], f["value"], opp, rules, contract)] if p is not None][:MAX_REASONS]
    sentence = (join(reasons, before=f"{level} because: ") if reasons
                else Phrase(f"{level}: no factor stands out"))
    return {"level": level, "sentence": sentence.to_dict(), "factors": factors}


def routing_explained(opp: dict[str, Any], rules: RulesFile) -> dict[str, Any]:
    """Who owns the opportunity and why, in one sentence (the reason stored at routing time when there is one)."""
    stored = opp.get("routing_reason")
    if stored:
        text = str(stored).replace("{", "(").replace("}", ")")
        return {"sentence": Phrase(text[:1].upper() + text[1:]).to_dict(), "stored": True}
    owner, role, territory = opp.get("owner") or "nobody", opp.get("owner_role"), opp.get("territory") or "unknown"
    limit = rules.routing.technician_price_limit
    offer = next((o for o in opp.get("offers") or [] if o.get("rule_id") == opp.get("primary_rule")), None)
    currency = (offer or {}).get("currency")
    lead = opp.get("primary_rule") == LEAD_RULE
    if role == "service_team":
        said = phrase("A scheduling task for {owner}: the machine's contract already covers this work",
                      owner=owner)
    elif role == "technician":
        who = "the technician who reported it" if lead else "the technician who last serviced the machine"
        said = phrase("The offer {offer} costs {price}, under the {limit} limit, so it stays with {owner}, " + who,
                      offer=(offer or {}).get("name") or "", price=money((offer or {}).get("price") or 0, currency),
                      limit=money(limit, currency), owner=owner)
    elif owner.startswith("unassigned"):
        said = phrase("No sales rep is on record for territory {territory}, so it waits for one to be assigned",
                      territory=territory)
    else:
        why = ("no standard offer fits, so a sales rep sells it" if offer is None
               else "the offer costs {price}, not under the {limit} limit up to which technicians sell it")
        said = phrase("Routed to {owner}, the customer's account manager (territory {territory}): " + why, owner=owner,
                      territory=territory, limit=money(limit, currency),
                      price=money((offer or {}).get("price") or 0, currency))
    return {"sentence": said.to_dict(), "stored": False}
