"""What a trigger rule is: one module per rule exports `RULE = Rule(...)` (README "Adding a rule").

A rule brings everything that differs from rule to rule: its params (validated from the rules file), its
set-based SQL, how pressing a trigger is, its three sentences (finding, check on site, talking point), the words
a technician would have written about it, and a tiny planted base that proves it (`contract_case`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ConfigDict

from sdi.triggers.phrases import Phrase, phrase

if TYPE_CHECKING:
    from sdi.triggers.rules.file import RulesFile

Trigger = dict[str, Any]
Rows = dict[str, list[dict[str, Any]]]

# The three machines of every contract case.
POSITIVE, NEAR_MISS, MISSING = "POS", "NEAR", "MISS"


class RuleParams(BaseModel):
    """Base of every rule's params: unknown keys are refused (a typo in the rules file is an error)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Case:
    """A tiny planted base for the rule contract test (tests/contracts/test_rule_contract.py).

    `rows` maps an entity (model, customer, machine, contract, telemetry, event, service_record, parts_order) to
    rows in its canonical fields (telemetry long: serial, timestamp, metric, value). Machine POS must fire with
    `field` and `value` as its first condition and exactly `source_ids` as evidence; NEAR must neither fire nor
    be not evaluable; MISS must be not evaluable, missing exactly `missing`. Each machine in `suppressed` would
    fire but is held back: it maps to (status 'resolved' | 'covered', the source id of the record that did it).
    `params`: the rule's params for the case, where the shipped ones cannot show it (a rule fitted per fleet).
    """

    rows: Rows
    field: str
    value: Any
    source_ids: list[str]
    missing: list[str]
    suppressed: dict[str, tuple[str, str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def low_urgency(trigger: Trigger) -> float:
    """The default urgency of a rule's trigger: nothing presses (0..1 scale)."""
    return 0.3


@dataclass(frozen=True)
class Rule:
    """One trigger rule. Build it with keyword arguments; `order` places it in runs and counts (shipped rules
    10..90, anything else after them), `origin` is filled in by the registry."""

    rule_id: str
    params: type[RuleParams]
    sql: Callable[["RulesFile", date], str]  # one set-based query; columns: see sdi/triggers/rules/sqlparts.py
    finding: Callable[[Trigger, str], str]  # what the trigger found, citing ref
    check_on_site: Callable[[Trigger, str], str]  # what a technician should check, citing ref
    talking_point: Callable[[Trigger, str], str]  # an advisor's point for the customer, citing ref
    query_words: str  # what a technician would have written when the situation came up (retrieval)
    # What resolves a trigger of this rule (its query then returns status 'resolved' or 'covered' with a
    # `suppressed_by` list in its facts), or why nothing does. Shown to admins next to suppressed triggers.
    resolution: str = ""
    urgency: Callable[[Trigger], float] = low_urgency
    # One condition of a trigger as a plain sentence with units ("44 error events in the last 365 days — more than
    # the model's average of 14.4"); build it with `sentences({...})`. None: field, operator and threshold as words.
    describe: Callable[[dict[str, Any], Trigger], Phrase | None] | None = None
    contract_case: Callable[[date], Case] | None = None
    order: int = 1000
    origin: str = ""


def facts(trigger: Trigger) -> dict[str, Any]:
    """The trigger's evidence facts (empty when it has none)."""
    return trigger["evidence"].get("facts") or {}


def condition(trigger: Trigger, field_start: str) -> dict[str, Any] | None:
    """The first condition whose field starts with field_start."""
    return next((c for c in trigger["conditions"] if c["field"].startswith(field_start)), None)


def cite(text: str, ref: str) -> str:
    """A sentence citing its source: `text [ref].`"""
    return f"{text} [{ref}]."


def sentences(templates: dict[str, str]) -> Callable[[dict[str, Any], Trigger], Phrase | None]:
    """A rule's condition sentences: the template whose key starts the condition's field, its {slots} filled from
    the condition (value, threshold — lo and hi for a range — and unit) and the trigger's facts."""

    def describe(cond: dict[str, Any], trigger: Trigger) -> Phrase | None:
        template = next((t for key, t in templates.items() if str(cond.get("field", "")).startswith(key)), None)
        if template is None:
            return None
        threshold = cond.get("threshold")
        lo, hi = (threshold + [None, None])[:2] if isinstance(threshold, list) else (None, None)
        plain_facts = {k: v for k, v in facts(trigger).items() if not isinstance(v, (dict, list)) or k == "codes"}
        return phrase(template, **{**plain_facts, "value": cond.get("value"), "threshold": threshold, "lo": lo,
                                   "hi": hi, "unit": cond.get("unit") or ""})

    return describe
