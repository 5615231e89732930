"""The rules file: versioned thresholds for every registered rule, per-model overrides, priority and routing."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from sdi.errors import SdiError
from sdi.triggers.rules.base import Rule
from sdi.triggers.rules.registry import PLUGIN_FOLDER, SHIPPED, rules_for

SHIPPED_PATH = "sdi/rules.yaml (shipped)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleEntry(_Strict):
    """One rule's entry in the rules file."""

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


def _context_rules(info: ValidationInfo) -> tuple[Rule, ...]:
    return (info.context or {}).get("registered") or SHIPPED


def _plugin_note(rules: Sequence[Rule]) -> str:
    plugins = [r.origin for r in rules if not r.origin.startswith("sdi/")]
    return (f"; the plug-in {', '.join(plugins)} needs an entry under rules: and in campaign_order of SDI_HOME/rules.yaml"
            " (start from a copy of sdi/rules.yaml)") if plugins else ""


class RulesFile(_Strict):
    version: str = Field(min_length=1)
    rules: dict[str, RuleEntry]
    models: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    campaign_order: list[str]
    priority: Priority
    routing: Routing
    sha256: str = ""
    path: str = ""
    added_from_shipped: list[str] = Field(default_factory=list, exclude=True)  # shipped rules the file predates
    _registered: tuple[Rule, ...] = PrivateAttr(default=SHIPPED)

    @field_validator("rules")
    @classmethod
    def _complete(cls, rules: dict[str, RuleEntry], info: ValidationInfo) -> dict[str, RuleEntry]:
        registered = _context_rules(info)
        ids = [r.rule_id for r in registered]
        unknown = set(rules) - set(ids)
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(sorted(unknown))}; rules are: {', '.join(ids)} "
                             f"(a rule of your own needs its module in SDI_HOME/{PLUGIN_FOLDER}/)")
        missing = [r for r in registered if r.rule_id not in rules]
        if missing:
            raise ValueError(f"missing rule(s) {', '.join(r.rule_id for r in missing)} (set enabled: false to switch one "
                             f"off){_plugin_note(missing)}")
        return rules

    @field_validator("campaign_order")
    @classmethod
    def _order(cls, order: list[str], info: ValidationInfo) -> list[str]:
        ids = [r.rule_id for r in _context_rules(info)]
        if sorted(order) != sorted(ids):
            raise ValueError(f"campaign_order must list every rule exactly once: {', '.join(ids)}")
        return order

    @property
    def registered(self) -> tuple[Rule, ...]:
        """The rules this file configures, in run order (shipped, then plug-ins)."""
        return self._registered

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Ids of the registered rules, in run order."""
        return tuple(r.rule_id for r in self._registered)

    def rule(self, rule_id: str) -> Rule:
        """The registered rule object of an id."""
        return next(r for r in self._registered if r.rule_id == rule_id)

    def params(self, rule_id: str, model: str | None = None) -> dict[str, Any]:
        """Effective params of a rule, with the model's overrides applied."""
        merged = dict(self.rules[rule_id].params)
        if model is not None:
            merged.update(self.models.get(model, {}).get(rule_id, {}))
        return merged

    def with_params(self, rule_id: str, params: dict[str, Any]) -> "RulesFile":
        """A copy with one rule's params replaced and the rule enabled (raises ValidationError on a bad value)."""
        self.rule(rule_id).params(**params)
        copy = self.model_copy(deep=True)
        copy.rules[rule_id] = copy.rules[rule_id].model_copy(update={"params": dict(params), "enabled": True})
        copy._registered = self._registered
        return copy

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


def _invalid(path: str, root: yaml.Node | None, exc: ValidationError, prefix: tuple[Any, ...] = ()) -> SdiError:
    err = exc.errors()[0]
    loc = (*prefix, *err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    return _fail(path, _node_line(root, loc), f"{'.'.join(map(str, loc)) or 'top level'}: {message}")


def parse_rules(text: str, path: str, registered: Sequence[Rule] | None = None) -> RulesFile:
    """Validate rules text against the registered rules (default: the shipped ones); any fault raises SdiError
    naming the line."""
    registered = tuple(registered or SHIPPED)
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _fail(path, mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise _fail(path, 1, "expected a mapping with version, rules, campaign_order, priority, routing")
    added = _add_new_shipped(raw, registered) if path != SHIPPED_PATH else []
    try:
        rules = RulesFile.model_validate(raw, context={"registered": registered})
    except ValidationError as exc:
        raise _invalid(path, root, exc) from exc
    rules._registered = registered
    for rule in registered:
        try:
            rule.params(**rules.params(rule.rule_id))
        except ValidationError as exc:
            raise _invalid(path, root, exc, ("rules", rule.rule_id, "params")) from exc
    for model, per_rule in rules.models.items():
        for rule_id in per_rule:
            if rule_id not in rules.rule_ids:
                raise _fail(path, _node_line(root, ("models", model, rule_id)), f"unknown rule {rule_id!r}")
            try:
                rules.rule(rule_id).params(**rules.params(rule_id, model))
            except ValidationError as exc:
                raise _invalid(path, root, exc, ("models", model, rule_id)) from exc
    rules.sha256 = hashlib.sha256(text.encode()).hexdigest()
    rules.path = path
    rules.added_from_shipped = added
    return rules


def _shipped_raw() -> dict[str, Any]:
    return yaml.safe_load(resources.files("sdi").joinpath("rules.yaml").read_text(encoding="utf-8"))


def _add_new_shipped(raw: dict[str, Any], registered: Sequence[Rule]) -> list[str]:
    """A rules file written before a shipped rule existed gets that rule's shipped entry, placed in campaign_order
    where the shipped file has it, so an upgrade keeps working; returns the ids added."""
    rules, order = raw.get("rules"), raw.get("campaign_order")
    if not isinstance(rules, dict) or not isinstance(order, list):
        return []
    shipped = _shipped_raw()
    ids = {r.rule_id for r in registered if r.origin.startswith("sdi/")}
    added = [r for r in shipped["campaign_order"] if r in ids and r not in rules and r not in order]
    for rule_id in added:
        rules[rule_id] = shipped["rules"][rule_id]
        later = shipped["campaign_order"][shipped["campaign_order"].index(rule_id) + 1:]
        at = next((order.index(r) for r in later if r in order), len(order))
        order.insert(at, rule_id)
    return added


def load_rules(home: Path | None = None) -> RulesFile:
    """SDI_HOME/rules.yaml if present, else the shipped rules; validated against the shipped rules plus the
    plug-ins in SDI_HOME/rules/."""
    registered = rules_for(home)
    override = home / "rules.yaml" if home else None
    if override is not None and override.is_file():
        return parse_rules(override.read_text(encoding="utf-8"), str(override), registered)
    text = resources.files("sdi").joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(text, SHIPPED_PATH, registered)


_current: dict[tuple[str, int], RulesFile] = {}


def current_rules(home: Path) -> RulesFile:
    """The rules file in force for a long-running process (the app): parsed again only when SDI_HOME/rules.yaml
    changes (a parse costs ~13 ms, too much for every list request)."""
    path = home / "rules.yaml"
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0)
    if key not in _current:
        _current.clear()
        _current[key] = load_rules(home)
    return _current[key]
