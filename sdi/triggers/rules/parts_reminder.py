"""parts_reminder: no spare-parts order for more than `months` (or never, on a machine in service longer)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from sdi.format import fmt
from sdi.triggers.facts import d
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE, Case, Rule, RuleParams, Trigger, cite, sentences
from sdi.triggers.rules.sqlparts import NO_CONDITIONS, NO_FACTS, Params, cond

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile


class PartsParams(RuleParams):
    months: int = Field(gt=0, le=240)


def sql(rules: RulesFile, as_of: date) -> str:
    p = Params(rules, "parts_reminder")
    return f"""
    WITH o AS (
        SELECT b.serial, max(po.date) AS last_date, arg_max(po.order_id, (po.date, po.order_id)) AS order_id
        FROM _base b JOIN parts_orders po ON po.serial = b.serial WHERE po.date <= {d(as_of)} GROUP BY b.serial),
    x AS (
        SELECT b.serial, b.age_years, o.last_date, o.order_id, {p('months')} AS months,
               round(date_diff('day', o.last_date, {d(as_of)}) / 30.44, 1) AS months_since
        FROM _base b LEFT JOIN o USING (serial))
    SELECT serial, 'fired',
           to_json(list_value(CASE WHEN last_date IS NOT NULL
               THEN {cond('months since last parts order', '>', 'months', 'months_since', 'months')}
               ELSE {cond('months in service without any parts order', '>', 'months', 'round(age_years * 12, 1)', 'months')} END)),
           CAST([] AS VARCHAR[]),
           CASE WHEN order_id IS NOT NULL THEN list_value('parts_order:' || order_id) ELSE list_value('machine:' || serial) END,
           json_object('last_order_date', last_date)
    FROM x WHERE (last_date IS NOT NULL AND last_date < {d(as_of)} - to_months(CAST(months AS INTEGER)))
              OR (last_date IS NULL AND age_years * 12 > months)
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('parts_order.date or machine.install_date'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM x WHERE last_date IS NULL AND age_years IS NULL
    """


def finding(t: Trigger, ref: str) -> str:
    c = t["condition"]
    if c["field"].startswith("months since"):
        return cite(f"The last spare-parts order was {fmt(c['value'])} months ago, more than {fmt(c['threshold'])} months", ref)
    return cite(f"No spare-parts order is on record in {fmt(c['value'])} months of service", ref)


def check_on_site(t: Trigger, ref: str) -> str:
    return cite("Check wear parts and the safety devices; no recent spare-parts order is on record", ref)


def talking_point(t: Trigger, ref: str) -> str:
    return cite("No spare-parts order is on record for a long time; a wear-parts check helps keep the machine safe", ref)


def contract_case(as_of: date) -> Case:
    """POS last ordered parts 25 months ago, NEAR 23 months ago; MISS has no order and no install date."""
    return Case(
        rows={
            "machine": [{"serial": s, "model": "TL"} for s in (POSITIVE, NEAR_MISS, MISSING)],
            "parts_order": [
                {"order_id": "O1", "serial": POSITIVE, "date": as_of - timedelta(days=int(25 * 30.44)), "part_number": "4471-220"},
                {"order_id": "O2", "serial": NEAR_MISS, "date": as_of - timedelta(days=int(23 * 30.44)), "part_number": "4471-220"}],
        },
        field="months since last parts order", value=25.0, source_ids=["parts_order:O1"],
        missing=["parts_order.date or machine.install_date"])


RULE = Rule(
    rule_id="parts_reminder", order=80, params=PartsParams, sql=sql,
    describe=sentences({
        'months since': '{value} months since the last spare-parts order on {last_order_date} — more than {threshold} months',
        'months in service': '{value} months in service without any spare-parts order — more than {threshold} months',
    }),
    finding=finding, check_on_site=check_on_site, talking_point=talking_point,
    resolution=("a later parts order resolves it by construction: months count from the last order dated on or before "
                "as-of"),
    query_words="wear parts kit spare parts replaced", contract_case=contract_case,
)
