"""The typed objects detection hands on: fired triggers, data gaps and the opportunities built from them.

Frozen, and readable as mappings (`t["rule_id"]`, `dict(t)`) so JSON stays the same shape everywhere."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any


class _Record(Mapping[str, Any]):
    """Read-only mapping view of a frozen dataclass: its fields, in declaration order."""

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (nested records converted too)."""
        return {k: _plain(getattr(self, k)) for k in self._names()}


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=True)
class Trigger(_Record):
    """A rule that fired on one machine: which rule and version, the condition with its values, and the evidence."""

    trigger_id: str
    rule_id: str
    rule_version: int
    rules_file_version: str
    campaign: str
    serial: str
    model: str | None
    as_of: str
    status: str
    condition: dict[str, Any]
    conditions: list[dict[str, Any]]
    evidence: dict[str, Any]


@dataclass(frozen=True, eq=True)
class NotEvaluable(_Record):
    """A rule that could not be evaluated on one machine, and the inputs it lacked (a data gap)."""

    rule_id: str
    serial: str
    status: str
    missing: list[str]
    evidence: dict[str, Any]


@dataclass(frozen=True, eq=True)
class Opportunity(_Record):
    """One machine's triggers merged into an offer: campaign, priority with its factors, owner and channel."""

    id: str
    serial: str
    model: str | None
    customer_id: str | None
    customer: str | None
    territory: str | None
    campaign: str
    primary_rule: str
    linked_campaigns: list[str]
    rules: list[str]
    priority: float
    priority_factors: dict[str, float]
    owner_role: str
    owner: str
    channel: str
    offers: list[dict[str, Any]]
    as_of: str
    triggers: list[Trigger]
