"""end_of_life: the model reached end of life, its parts are discontinued or a successor exists — and the machine
has no active service contract."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, facts, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class EndOfLifeParams(RuleParams):
    active_contract_types: list[str] = Field(min_length=1)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "end_of_life")
    return f"""
    WITH x AS (
        SELECT b.serial, b.model, md.model AS catalog_model, md.end_of_life, md.parts_discontinued, md.successor,
               (SELECT count(*) FROM contracts c WHERE c.serial = b.serial AND list_contains({p('active_contract_types')}, c.type)
                  AND coalesce(c.start_date, {d(as_of)}) <= {d(as_of)} AND coalesce(c.status, '') <> 'cancelled'
                  AND c.end_date >= {d(as_of)}) AS active,
               (SELECT count(*) FROM contracts c WHERE c.serial = b.serial AND list_contains({p('active_contract_types')}, c.type)
                  AND c.end_date IS NULL AND coalesce(c.status, '') <> 'cancelled') AS undated
        FROM _base b LEFT JOIN models md ON md.model = b.model),
    sig AS (
        SELECT *, coalesce(end_of_life <= {d(as_of)}, FALSE) AS eol, coalesce(parts_discontinued, FALSE) AS disc,
               successor IS NOT NULL AS succ FROM x)
    SELECT serial, 'fired',
           to_json(list_filter(list_value(
               CASE WHEN eol THEN {cond('model.end_of_life', '<=', f"CAST({d(as_of)} AS VARCHAR)", 'CAST(end_of_life AS VARCHAR)')} END,
               CASE WHEN disc THEN {cond('model.parts_discontinued', '=', 'TRUE', 'TRUE')} END,
               CASE WHEN succ THEN {cond('model.successor', 'is', "'set'", 'successor')} END,
               {cond('active service contracts', '=', '0', 'active')}), lambda c: c IS NOT NULL)),
           CAST([] AS VARCHAR[]), list_value('model:' || model, 'machine:' || serial),
           json_object('end_of_life', end_of_life, 'successor', successor)
    FROM sig WHERE catalog_model IS NOT NULL AND (eol OR disc OR succ) AND active = 0 AND undated = 0
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS},
           list_value(CASE WHEN catalog_model IS NULL THEN 'model (catalog entry)' ELSE 'contract.end_date' END),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM sig WHERE catalog_model IS NULL OR ((eol OR disc OR succ) AND active = 0 AND undated > 0)
    """


def urgency(trigger: Trigger) -> float:
    return 0.6


def finding(t: Trigger, ref: str) -> str:
    f = facts(t)
    bits = []
    if f.get("end_of_life"):
        bits.append(f"the model reached end of life on {f['end_of_life']}")
    if f.get("successor"):
        bits.append(f"successor {f['successor']} is available")
    text = ("; ".join(bits) or "the model is in its end-of-life phase").capitalize() + ", and no service contract is active"
    return cite(text, ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite("Ask how long the customer plans to run the machine and which spare parts they stock", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite("Your model is in its end-of-life phase; we can plan spare parts and the options for a successor with you", ref)


def contract_case(as_of: date) -> Case:
    """Model OLD reached end of life 100 days ago (successor NEW). POS runs one without a contract, NEAR one with
    an active maintenance contract; MISS's model ZZZ is not in the catalog."""
    eol = as_of - timedelta(days=100)
    return Case(
        rows={
            "model": [{"model": "OLD", "end_of_life": eol, "successor": "NEW"}, {"model": "TL"}],
            "machine": [{"serial": POSITIVE, "model": "OLD"}, {"serial": NEAR_MISS, "model": "OLD"},
                        {"serial": MISSING, "model": "ZZZ"}],
            "contract": [{"contract_id": "K1", "serial": NEAR_MISS, "type": "maintenance",
                          "start_date": as_of - timedelta(days=100), "end_date": as_of + timedelta(days=200)}],
        },
        field="model.end_of_life", value=eol.isoformat(), source_ids=["model:OLD", "machine:POS"],
        missing=["model (catalog entry)"])


RULE = Rule(
    rule_id="end_of_life", order=90, params=EndOfLifeParams, sql=sql, urgency=urgency,
    describe=sentences({
        'model.end_of_life': 'the model reached its end of life on {value}',
        'model.parts_discontinued': 'spare parts for the model are discontinued',
        'model.successor': 'a successor model exists ({successor})',
        'active service contracts': 'no active maintenance or SLA contract',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("covered by construction: an active service contract (active_contract_types) is part of the "
                "condition, so a covered machine never fires; decommissioning takes the machine out of the base"),
    query_words="end of life successor trade-in replacement", contract_case=contract_case,
)
