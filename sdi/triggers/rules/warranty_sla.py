"""warranty_sla: a warranty ends within `days` of as-of — the moment to offer a service level agreement."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sdi.format import fmt
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import ContractParams, contract_expiry, window_urgency

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


def sql(rules: RulesFile, as_of: date) -> str:
    return contract_expiry(rules, "warranty_sla", as_of)


def finding(t: Trigger, ref: str) -> str:
    f, c = facts(t), t["condition"]
    return cite(f"The warranty {f.get('contract_id')} ends on {f.get('end_date')}, in {fmt(c['value'])} days, inside the "
                f"{fmt(c['threshold'])}-day window for a service level agreement offer", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    f = facts(t)
    return cite(f"Explain what changes when the warranty {f.get('contract_id')} ends on {f.get('end_date')}", ref)


def talking_point(t: Trigger, ref: str) -> str:
    f = facts(t)
    return cite(f"Your warranty {f.get('contract_id')} ends on {f.get('end_date')}; a service level agreement would keep "
                "response times agreed in writing", ref)


def contract_case(as_of: date) -> Case:
    """W1 ends in 30 days (inside 60), W2 in 61 (outside), W3 has no end date; RES's W4 ends in 30 days but its
    SLA S1 already runs."""

    def warranty(contract_id: str, serial: str, end: date | None) -> dict[str, Any]:
        return {"contract_id": contract_id, "serial": serial, "type": "warranty",
                "start_date": as_of - timedelta(days=700), "end_date": end}

    return Case(
        rows={"machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING, "RES")],
              "contract": [warranty("W1", POSITIVE, as_of + timedelta(days=30)),
                           warranty("W2", NEAR_MISS, as_of + timedelta(days=61)), warranty("W3", MISSING, None),
                           warranty("W4", "RES", as_of + timedelta(days=30)),
                           {"contract_id": "S1", "serial": "RES", "type": "sla", "start_date": as_of - timedelta(days=5),
                            "end_date": as_of + timedelta(days=700)}]},
        field="contract.end_date - as_of", value=30, source_ids=["contract:W1"], missing=["contract.end_date"],
        suppressed={"RES": ("resolved", "contract:S1")})


RULE = Rule(
    rule_id="warranty_sla", order=20, params=ContractParams, sql=sql, urgency=window_urgency,
    describe=sentences({
        'contract.end_date': 'the warranty {contract_id} ends in {value} days, on {end_date} — inside the {threshold}-day window for an SLA offer',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("a service level agreement of the machine (rules file `resolved_by`), started on or before as-of "
                "and running past the warranty's end (resolved)"),
    query_words="warranty service level agreement", contract_case=contract_case,
)
