"""contract_renewal: a maintenance contract ends within `days` of as-of."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sdi.format import fmt
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import ContractParams, contract_expiry, window_urgency

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


def sql(rules: RulesFile, as_of: date) -> str:
    return contract_expiry(rules, "contract_renewal", as_of)


def finding(t: Trigger, ref: str) -> str:
    f, c = facts(t), t["condition"]
    return cite(f"Maintenance contract {f.get('contract_id')} ends on {f.get('end_date')}, {fmt(c['value'])} days after "
                f"{t['as_of']}, inside the {fmt(c['threshold'])}-day renewal window", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    f = facts(t)
    return cite(f"Ask who decides on contract {f.get('contract_id')}, which ends on {f.get('end_date')}", ref)


def talking_point(t: Trigger, ref: str) -> str:
    f = facts(t)
    return cite(f"Your maintenance contract {f.get('contract_id')} runs until {f.get('end_date')}; we can go through "
                "the renewal options with you before then", ref)


def contract_case(as_of: date) -> Case:
    """K1 ends in 28 days (inside 90), K2 in 95 (outside), K3 has no end date; RES's K4 ends in 20 days but the
    newer K5 started 10 days ago; POS's renewal K7 starts only after as-of, and SOON's newer K9 ends inside the
    window too, so neither is resolved."""

    def contract(contract_id: str, serial: str, end: date | None, start: int = -300) -> dict[str, Any]:
        return {"contract_id": contract_id, "serial": serial, "type": "maintenance",
                "start_date": as_of + timedelta(days=start), "end_date": end}

    return Case(
        rows={"machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING, "RES", "SOON")],
              "contract": [contract("K1", POSITIVE, as_of + timedelta(days=28)),
                           contract("K2", NEAR_MISS, as_of + timedelta(days=95)), contract("K3", MISSING, None),
                           contract("K4", "RES", as_of + timedelta(days=20)),
                           contract("K5", "RES", as_of + timedelta(days=400), start=-10),
                           contract("K7", POSITIVE, as_of + timedelta(days=400), start=29),
                           contract("K8", "SOON", as_of + timedelta(days=20)),
                           contract("K9", "SOON", as_of + timedelta(days=50), start=-5)]},
        field="contract.end_date - as_of", value=28, source_ids=["contract:K1"], missing=["contract.end_date"],
        suppressed={"RES": ("resolved", "contract:K5")})


RULE = Rule(
    rule_id="contract_renewal", order=10, params=ContractParams, sql=sql, urgency=window_urgency,
    describe=sentences({
        'contract.end_date': 'the maintenance contract {contract_id} ends in {value} days, on {end_date} — inside the {threshold}-day renewal window',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("a newer maintenance or full-service contract of the machine, started on or before as-of and "
                "running past the renewal window (resolved); a renewal starting after as-of does not count yet "
                "(contracts carry no signing date, so a later start could be a later signature)"),
    query_words="maintenance contract service agreement", contract_case=contract_case,
)
