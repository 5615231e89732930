"""SQL parts the rules share. Every rule's query returns, per machine it concerns:
serial, status ('fired' | 'not_evaluable' | 'resolved' | 'covered'), conditions (JSON array), missing (VARCHAR[]),
source_ids (VARCHAR[]), facts (JSON object). The engine runs it over temp tables `_base` (machines in service) and
`_conn` (connected). A 'resolved' or 'covered' row is a trigger held back by a record dated on or before as-of: its
facts carry `suppressed_by`, a list of {source_id, date, reason} (see `suppressed_by`), and its source ids include
those records."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field

from sdi.store.duck import sql_literal
from sdi.triggers.facts import d
from sdi.triggers.rules.base import RuleParams

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile

NO_CONDITIONS = "CAST('[]' AS JSON)"
NO_FACTS = "CAST('{}' AS JSON)"


def literal(value: Any) -> str:
    """A SQL literal for a param value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "list_value(" + ", ".join(literal(v) for v in value) + ")" if value else "CAST([] AS VARCHAR[])"
    return sql_literal(value)


class Params:
    """SQL for a rule's params, resolving per-model overrides with a CASE on the machine's model."""

    def __init__(self, rules: RulesFile, rule_id: str, model_col: str = "b.model") -> None:
        self.rules, self.rule_id, self.model_col = rules, rule_id, model_col

    def __call__(self, name: str) -> str:
        default = literal(self.value(name))
        overrides = self.rules.overrides(self.rule_id, name)
        if not overrides:
            return default
        whens = " ".join(f"WHEN {literal(m)} THEN {literal(v)}" for m, v in overrides.items())
        return f"(CASE {self.model_col} {whens} ELSE {default} END)"

    def value(self, name: str) -> Any:
        """The rules file's default value of a param."""
        given = self.rules.rules[self.rule_id].params
        if name in given:
            return given[name]
        # a rules file written before the param existed: the params model's default
        return self.rules.rule(self.rule_id).params(**given).model_dump()[name]


def cond(field: str, operator: str, threshold: str, value: str, unit: str | None = None) -> str:
    """A JSON condition {field, operator, threshold, value[, unit]} built in SQL."""
    extra = f", 'unit', {literal(unit)}" if unit else ""
    return f"json_object('field', {literal(field)}, 'operator', {literal(operator)}, 'threshold', {threshold}, 'value', {value}{extra})"


def model_join(rules: RulesFile, rule_id: str, *params: str) -> str:
    """Join telemetry `t` to machine models (as `bm`) only when a per-model override needs them (the scan is the
    hot path)."""
    if any(rules.overrides(rule_id, name) for name in params):
        return "JOIN _base bm ON bm.serial = t.serial"
    return ""


def suppressed_by(source_id: str, day: str, reason: str) -> str:
    """One entry of a held-back trigger's `suppressed_by` list, built in SQL."""
    return f"json_object('source_id', {source_id}, 'date', {day}, 'reason', {reason})"


class ContractParams(RuleParams):
    """contract_renewal / warranty_sla; `resolved_by`: contract types whose newer contract resolves the trigger
    (empty: the rule's own contract_types)."""

    days: int = Field(gt=0, le=3650)
    contract_types: list[str] = Field(min_length=1)
    resolved_by: list[str] = Field(default_factory=list)


def contract_expiry(rules: RulesFile, rule_id: str, as_of: date) -> str:
    """contract_renewal / warranty_sla: a contract of the given types ends within `days` of as_of; resolved when a
    newer contract (of the `resolved_by` types) started on or before as_of and runs past the window."""
    p = Params(rules, rule_id)
    by = p("resolved_by") if p.value("resolved_by") else p("contract_types")
    return f"""
    WITH c AS (
        SELECT b.serial, c.contract_id, c.type, c.start_date, c.end_date, {p('days')} AS lim,
               date_diff('day', {d(as_of)}, c.end_date) AS days_left
        FROM _base b JOIN contracts c ON c.serial = b.serial
        WHERE list_contains({p('contract_types')}, c.type) AND coalesce(c.start_date, {d(as_of)}) <= {d(as_of)}
          AND coalesce(c.status, '') <> 'cancelled'),
    due AS (
        SELECT * FROM c WHERE days_left >= 0 AND days_left < lim
        QUALIFY row_number() OVER (PARTITION BY serial ORDER BY days_left, contract_id) = 1),
    newer AS (
        SELECT f.serial, arg_min(n.contract_id, (n.start_date, n.contract_id)) AS new_id,
               min(n.start_date) AS new_start
        FROM due f JOIN contracts n ON n.serial = f.serial AND n.contract_id <> f.contract_id
        WHERE list_contains({by}, n.type) AND coalesce(n.status, '') <> 'cancelled'
          AND n.start_date <= {d(as_of)} AND n.start_date >= coalesce(f.start_date, n.start_date)
          AND date_diff('day', {d(as_of)}, n.end_date) >= f.lim  -- one ending inside the window needs renewing too
        GROUP BY f.serial),
    fired AS (SELECT due.*, newer.new_id, newer.new_start FROM due LEFT JOIN newer USING (serial))
    SELECT serial, CASE WHEN new_id IS NULL THEN 'fired' ELSE 'resolved' END AS status,
           to_json(list_value({cond('contract.end_date - as_of', '<', 'lim', 'days_left', 'days')})) AS conditions,
           CAST([] AS VARCHAR[]) AS missing,
           CASE WHEN new_id IS NULL THEN list_value('contract:' || contract_id)
                ELSE list_value('contract:' || contract_id, 'contract:' || new_id) END AS source_ids,
           CASE WHEN new_id IS NULL
                THEN json_object('contract_id', contract_id, 'contract_type', type, 'end_date', end_date)
                ELSE json_object('contract_id', contract_id, 'contract_type', type, 'end_date', end_date,
                                 'suppressed_by', list_value({suppressed_by("'contract:' || new_id", 'new_start',
                                                                            "'newer contract ' || new_id")}))
           END AS facts
    FROM fired
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('contract.end_date'),
           list_sort(list('contract:' || contract_id)), {NO_FACTS}
    FROM c WHERE end_date IS NULL AND serial NOT IN (SELECT serial FROM due)
    GROUP BY serial
    """


def window_urgency(trigger: Any) -> float:
    """For a contract-expiry rule: the share of its window already gone (1 = ends today)."""
    c = trigger["condition"]
    return round(1 - c["value"] / c["threshold"], 3)
