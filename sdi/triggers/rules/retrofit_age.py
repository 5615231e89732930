"""retrofit_age: more than `min_age_years` since installation (else build year, else reported age)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class AgeParams(RuleParams):
    min_age_years: float = Field(gt=0)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "retrofit_age")
    return f"""
    SELECT serial, 'fired', to_json(list_value({cond('age_years', '>', p('min_age_years'), 'age_years', 'years')})),
           CAST([] AS VARCHAR[]), list_value('machine:' || serial),
           json_object('age_basis', age_basis, 'install_date', install_date, 'year_of_manufacture', year_of_manufacture)
    FROM _base b WHERE age_years > {p('min_age_years')}
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('machine.install_date'), CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base WHERE age_years IS NULL
    """


def finding(t: Trigger, ref: str) -> str:
    c = t["condition"]
    return cite(f"The machine has been in service for {fmt(c['value'])} years, past the {fmt(c['threshold'])}-year "
                "retrofit threshold", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite(f"Check control, drives and safety equipment of a machine in service for {fmt(t['condition']['value'])} years", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite(f"After {fmt(t['condition']['value'])} years in service, a check of control and drives shows what a "
                "retrofit could bring", ref)


def contract_case(as_of: date) -> Case:
    """POS was installed 11 years ago, NEAR 9.9; MISS has no install date, build year or age."""
    ages = {POSITIVE: 11, NEAR_MISS: 9.9, MISSING: None}
    return Case(
        rows={"machine": [{"serial": s, "model": "TL",
                           "install_date": as_of - timedelta(days=round(age * 365.25)) if age else None}
                          for s, age in ages.items()]},
        field="age_years", value=11.0, source_ids=["machine:POS"], missing=["machine.install_date"])


RULE = Rule(
    rule_id="retrofit_age", order=40, params=AgeParams, sql=sql,
    describe=sentences({
        'age_years': 'the machine is {value} years old — more than the {threshold} years after which a retrofit is offered',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("none: age does not go back; a retrofit shows only as free text in a service note, and a machine that "
                "is replaced is decommissioned, which takes it out of the base"),
    query_words="retrofit old machine control spare parts hard to source", contract_case=contract_case,
)
