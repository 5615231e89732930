"""The rules file: versioned thresholds for every trigger, per-model overrides, priority and routing settings."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sdi.errors import SdiError

RULE_IDS = (
    "contract_renewal",
    "warranty_sla",
    "modernization",
    "retrofit_age",
    "maintenance_due",
    "error_pattern",
    "wear",
    "parts_reminder",
    "end_of_life",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContractParams(_Strict):
    days: int = Field(gt=0, le=3650)
    contract_types: list[str] = Field(min_length=1)


class ModernizationParams(_Strict):
    min_age_years: float = Field(ge=0)
    max_age_years: float = Field(gt=0)
    window_days: int = Field(gt=0, le=3650)
    event_kinds: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> "ModernizationParams":
        if self.max_age_years < self.min_age_years:
            raise ValueError("max_age_years must be at least min_age_years")
        return self


class AgeParams(_Strict):
    min_age_years: float = Field(gt=0)


class MaintenanceParams(_Strict):
    interval_hours: float | None = Field(None, gt=0)
    metric: str


class ErrorPatternParams(_Strict):
    window_days: int = Field(gt=0, le=3650)
    min_count: int = Field(ge=2)
    critical_severities: list[str]
    event_kinds: list[str] = Field(min_length=1)


class WearParams(_Strict):
    metric: str
    threshold: float = Field(gt=0)
    recent_days: int = Field(gt=0, le=365)
    trend_days: int = Field(ge=14, le=3650)
    min_slope_per_30d: float = Field(gt=0)
    min_r2: float = Field(ge=0, le=1)


class PartsParams(_Strict):
    months: int = Field(gt=0, le=240)


class EndOfLifeParams(_Strict):
    active_contract_types: list[str] = Field(min_length=1)


PARAMS: dict[str, type[_Strict]] = {
    "contract_renewal": ContractParams,
    "warranty_sla": ContractParams,
    "modernization": ModernizationParams,
    "retrofit_age": AgeParams,
    "maintenance_due": MaintenanceParams,
    "error_pattern": ErrorPatternParams,
    "wear": WearParams,
    "parts_reminder": PartsParams,
    "end_of_life": EndOfLifeParams,
}


class Rule(_Strict):
    version: int = Field(ge=1)
    campaign: str = Field(min_length=1)
    enabled: bool = True
    params: dict[str, Any]


class Priority(_Strict):
    weights: dict[str, float]
    contract_value_cap: float = Field(gt=0)
    age_cap_years: float = Field(gt=0)
    fault_ratio_cap: float = Field(gt=0)
    service_records_cap: float = Field(gt=0)

    @model_validator(mode="after")
    def _known_weights(self) -> "Priority":
        expected = {"contract_value", "age", "fault_rate", "service_history", "urgency"}
        if set(self.weights) != expected:
            raise ValueError(f"weights must name exactly: {', '.join(sorted(expected))}")
        return self


class Routing(_Strict):
    technician_price_limit: float = Field(ge=0)
    visit_min_priority: float = Field(ge=0, le=100)
    visit_min_contract_value: float = Field(ge=0)


class RulesFile(_Strict):
    version: str = Field(min_length=1)
    rules: dict[str, Rule]
    models: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    campaign_order: list[str]
    priority: Priority
    routing: Routing
    sha256: str = ""
    path: str = ""

    @field_validator("rules")
    @classmethod
    def _complete(cls, rules: dict[str, Rule]) -> dict[str, Rule]:
        unknown = set(rules) - set(RULE_IDS)
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(sorted(unknown))}; rules are: {', '.join(RULE_IDS)}")
        missing = [r for r in RULE_IDS if r not in rules]
        if missing:
            raise ValueError(f"missing rule(s) {', '.join(missing)} (set enabled: false to switch one off)")
        return rules

    @field_validator("campaign_order")
    @classmethod
    def _order(cls, order: list[str]) -> list[str]:
        if sorted(order) != sorted(RULE_IDS):
            raise ValueError(f"campaign_order must list every rule exactly once: {', '.join(RULE_IDS)}")
        return order

    def params(self, rule_id: str, model: str | None = None) -> dict[str, Any]:
        """Effective params of a rule, with the model's overrides applied."""
        merged = dict(self.rules[rule_id].params)
        if model is not None:
            merged.update(self.models.get(model, {}).get(rule_id, {}))
        return merged

    def overrides(self, rule_id: str, name: str) -> dict[str, Any]:
        """Model -> overridden value of one param."""
        return {m: o[rule_id][name] for m, o in sorted(self.models.items()) if name in o.get(rule_id, {})}


def _node_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node, line = root, None
    for key in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


def _fail(path: str, line: int | None, message: str) -> SdiError:
    where = f"{path}, line {line}" if line else path
    return SdiError(f"rules file {where}: {message}", "fix the rules file; the shipped sdi/rules.yaml shows every rule")


def parse_rules(text: str, path: str) -> RulesFile:
    """Validate rules text; any fault raises SdiError naming the line."""
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _fail(path, mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise _fail(path, 1, "expected a mapping with version, rules, campaign_order, priority, routing")
    try:
        rules = RulesFile(**raw)
        for rule_id in RULE_IDS:
            PARAMS[rule_id](**rules.params(rule_id))
        for model, per_rule in rules.models.items():
            for rule_id in per_rule:
                if rule_id not in RULE_IDS:
                    raise _fail(path, _node_line(root, ("models", model, rule_id)), f"unknown rule {rule_id!r}")
                try:
                    PARAMS[rule_id](**rules.params(rule_id, model))
                except ValidationError as exc:
                    err = exc.errors()[0]
                    loc = ("models", model, rule_id, *err["loc"])
                    raise _fail(path, _node_line(root, loc), f"{'.'.join(map(str, loc))}: {err['msg']}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        if exc.title in {c.__name__ for c in PARAMS.values()}:
            rule_id = next(r for r in RULE_IDS if PARAMS[r].__name__ == exc.title)
            loc = ("rules", rule_id, "params", *loc)
        line = _node_line(root, loc)
        raise _fail(path, line, f"{'.'.join(map(str, loc)) or 'top level'}: {err['msg'].removeprefix('Value error, ')}") from exc
    rules.sha256 = hashlib.sha256(text.encode()).hexdigest()
    rules.path = path
    return rules


def load_rules(home: Path | None = None) -> RulesFile:
    """SDI_HOME/rules.yaml if present, else the shipped rules."""
    override = home / "rules.yaml" if home else None
    if override is not None and override.is_file():
        return parse_rules(override.read_text(encoding="utf-8"), str(override))
    text = resources.files("sdi").joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(text, "sdi/rules.yaml (shipped)")
